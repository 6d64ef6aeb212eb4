package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The filter grammar, as MLflow's clients write it:
//
//	filter     = statement [";" ...]         (MLflow allows one statement)
//	statement  = { comparison | "AND" | other }
//	comparison = operand op operand
//	operand    = identifier | string | number | "(" ... ")"
//	identifier = part { "." part }            part = word | `text` | "text"
//	op         = run of < > = ! ~ | [NOT] LIKE | [NOT] ILIKE | [NOT] IN
//
// MLflow rejects a statement holding anything besides comparisons and AND,
// printing each offending top-level token, so the lexer keeps every token's
// text as written and the grouping below never fails: what does not form a
// comparison stays a token of its own.

type tokKind int

const (
	kSpace   tokKind = iota // run of white space
	kIdent                  // identifier, possibly dotted and quoted
	kString                 // '...' (text keeps the quotes and escapes)
	kNumber                 // decimal number, optionally signed
	kParen                  // balanced "(...)" group, kept as raw text
	kOp                     // run of comparison characters
	kComment                // -- to end of line, or /* ... */
	kSemi                   // ;
	kOther                  // any other character, or a malformed literal
)

type token struct {
	kind tokKind
	text string
	// bare is set for a kIdent that is a single unquoted word.
	bare bool
}

// word is the upper-cased text of a bare word, or "".
func (t token) word() string {
	if t.kind != kIdent || !t.bare {
		return ""
	}
	return strings.ToUpper(t.text)
}

// reserved words of the grammar are never operands.
var reserved = set("AND", "OR", "NOT", "IS", "IN", "LIKE", "ILIKE")

// isOperand reports whether t can stand on either side of a comparator.
func (t token) isOperand() bool {
	switch t.kind {
	case kString, kNumber, kParen:
		return true
	case kIdent:
		return !reserved[t.word()]
	}
	return false
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// lex splits s into tokens; concatenating their texts gives s back. It
// runs in linear time: filters come straight from requests.
func lex(s string) []token {
	l := &lexer{s: s}
	out := make([]token, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		kind, end := kOther, i+w
		switch {
		case unicode.IsSpace(r):
			kind, end = kSpace, scanWhile(s, i, unicode.IsSpace)
		case strings.HasPrefix(s[i:], "--"):
			kind, end = kComment, len(s)
			if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
				end = i + n
			}
		case strings.HasPrefix(s[i:], "/*"):
			kind, end = kComment, len(s)
			if n := strings.Index(s[i+2:], "*/"); n >= 0 {
				end = i + 2 + n + 2
			}
		case r == '\'':
			if e := l.quoted(i); e > 0 {
				kind, end = kString, e
			}
		case r == '(':
			if e := l.paren(i); e > 0 {
				kind, end = kParen, e
			}
		case r == ';':
			kind = kSemi
		case strings.ContainsRune("<>=!~", r):
			kind, end = kOp, scanWhile(s, i, func(r rune) bool { return strings.ContainsRune("<>=!~", r) })
		case startsNumber(s, i):
			kind, end = scanNumber(s, i)
		case r == '_' || unicode.IsLetter(r) || r == '`' || r == '"':
			if e, bare := l.ident(i); e > 0 {
				out = append(out, token{kind: kIdent, text: s[i:e], bare: bare})
				i = e
				continue
			}
		}
		out = append(out, token{kind: kind, text: s[i:end]})
		i = end
	}
	return out
}

func scanWhile(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !f(r) {
			break
		}
		i += w
	}
	return i
}

// lexer memoises the ends of quoted texts and parenthesised groups, so
// that inputs full of unclosed quotes or parentheses stay linear.
type lexer struct {
	s string
	// quoteEnd[q][p] is the end of a text quoted with q whose body starts
	// at p, or -1 when it is never closed; built on first use.
	quoteEnd map[byte][]int
	// parenEnd[p] is the end of the group opening at p: 0 unknown, -1
	// never closed.
	parenEnd []int
}

// quoted returns the end of the quoted text starting at s[i] (one of
// ' " `), or -1 when it is not closed. Inside, a backslash escapes the next
// character (not between backticks) and a doubled quote stands for itself.
func (l *lexer) quoted(i int) int {
	q, s := l.s[i], l.s
	ends := l.quoteEnd[q]
	if ends == nil {
		n := len(s)
		ends = make([]int, n+2)
		ends[n], ends[n+1] = -1, -1
		for p := n - 1; p >= 0; p-- {
			switch {
			case s[p] == '\\' && q != '`':
				ends[p] = ends[p+2]
			case s[p] == q && p+1 < n && s[p+1] == q:
				ends[p] = ends[p+2]
			case s[p] == q:
				ends[p] = p + 1
			default:
				ends[p] = ends[p+1]
			}
		}
		if l.quoteEnd == nil {
			l.quoteEnd = map[byte][]int{}
		}
		l.quoteEnd[q] = ends
	}
	return ends[i+1]
}

// paren returns the end of the balanced group opening at s[i], or -1.
// Quoted text inside does not count; an unclosed quote is an ordinary
// character. Every group met on the way is remembered.
func (l *lexer) paren(i int) int {
	s := l.s
	if l.parenEnd == nil {
		l.parenEnd = make([]int, len(s))
	}
	if e := l.parenEnd[i]; e != 0 {
		return e
	}
	var open []int
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			if e := l.parenEnd[j]; e > 0 {
				j = e - 1
				continue
			} else if e < 0 {
				// Unclosed from j, so unclosed from every group around it.
				j = len(s)
				continue
			}
			open = append(open, j)
		case ')':
			top := open[len(open)-1]
			open = open[:len(open)-1]
			l.parenEnd[top] = j + 1
			if len(open) == 0 {
				return j + 1
			}
		case '\'', '"', '`':
			if e := l.quoted(j); e > 0 {
				j = e - 1
			}
		}
	}
	for _, p := range open {
		l.parenEnd[p] = -1
	}
	return -1
}

// startsNumber: a digit, or "." or "-" leading to one.
func startsNumber(s string, i int) bool {
	j := i
	if s[j] == '-' {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
	}
	return j < len(s) && isDigit(s[j])
}

// scanNumber reads [-] digits [. digits] [e [+-] digits]. A number running
// straight into letters, digits or dots (0x1F, 1.2.3, 3abc) is one
// malformed token rather than a number and a word.
func scanNumber(s string, i int) (tokKind, int) {
	j := i
	if s[j] == '-' {
		j++
	}
	digits := func() {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	digits()
	if j < len(s) && s[j] == '.' {
		j++
		digits()
	}
	if j+1 < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if s[k] == '+' || s[k] == '-' {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			j = k
			digits()
		}
	}
	if e := scanWhile(s, j, func(r rune) bool { return isWordRune(r) || r == '.' }); e > j {
		return kOther, e
	}
	return kNumber, j
}

// ident reads dotted parts, each a word or quoted with ` or ". It
// returns -1 when the first part is an unclosed quote; a dot not followed
// by a part ends the identifier before the dot.
func (l *lexer) ident(i int) (end int, bare bool) {
	s := l.s
	part := func(j int, first bool) int {
		if j >= len(s) {
			return -1
		}
		if s[j] == '`' || s[j] == '"' {
			return l.quoted(j)
		}
		r, _ := utf8.DecodeRuneInString(s[j:])
		if !isWordRune(r) || (first && unicode.IsDigit(r)) {
			return -1
		}
		return scanWhile(s, j, isWordRune)
	}
	end = part(i, true)
	if end < 0 {
		return -1, false
	}
	bare = s[i] != '`' && s[i] != '"'
	for end < len(s) && s[end] == '.' {
		e := part(end+1, false)
		if e < 0 {
			break
		}
		end, bare = e, false
	}
	return end, bare
}

// splitStatements cuts the tokens after each ";" and drops the pieces that
// are only white space.
func splitStatements(toks []token) [][]token {
	var out [][]token
	start := 0
	keep := func(stmt []token) {
		for _, t := range stmt {
			if t.kind != kSpace {
				out = append(out, stmt)
				return
			}
		}
	}
	for i, t := range toks {
		if t.kind == kSemi {
			keep(toks[start : i+1])
			start = i + 1
		}
	}
	keep(toks[start:])
	return out
}

// item is a top-level piece of a statement: a comparison or a single token.
type item struct {
	comp    bool
	tok     token    // when !comp
	operand [2]token // when comp: left and right
	op      string   // when comp: the comparator as written
}

// text is what MLflow prints for a clause it rejects.
func (it item) text() string { return it.tok.text }

// group finds the comparisons among a statement's tokens, left to right.
func group(toks []token) []item {
	out := make([]item, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.isOperand() {
			if op, j := comparator(toks, skipSpace(toks, i+1)); op != "" {
				if k := skipSpace(toks, j); k < len(toks) && toks[k].isOperand() {
					out = append(out, item{comp: true, operand: [2]token{t, toks[k]}, op: op})
					i = k
					continue
				}
			}
		}
		out = append(out, item{tok: t})
	}
	return out
}

func skipSpace(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == kSpace {
		i++
	}
	return i
}

// comparator reads a comparator at toks[i]: its text (words joined by one
// space, case kept) and the index after it; "" when there is none.
func comparator(toks []token, i int) (string, int) {
	if i >= len(toks) {
		return "", i
	}
	t := toks[i]
	switch t.word() {
	case "LIKE", "ILIKE", "IN":
		return t.text, i + 1
	case "NOT":
		j := skipSpace(toks, i+1)
		if j > i+1 && j < len(toks) {
			switch toks[j].word() {
			case "LIKE", "ILIKE", "IN":
				return t.text + " " + toks[j].text, j + 1
			}
		}
		return "", i
	}
	if t.kind == kOp {
		return t.text, i + 1
	}
	return "", i
}
