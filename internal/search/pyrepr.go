package search

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string { return mlflow.PyRepr(s) }

// pyBytesRepr is Python's repr() of a bytes object.
func pyBytesRepr(p []byte) string {
	q := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for _, c := range p {
		switch {
		case c == '\\' || c == q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyStrList is repr() of a list of str.
func pyStrList(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = pyRepr(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyIsLower is Python's str.islower().
func pyIsLower(s string) bool {
	cased := false
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return false
		}
		if unicode.IsLower(r) {
			cased = true
		}
	}
	return cased
}

type pyKind int

const (
	pyStr pyKind = iota
	pyInt
	pyFloat
	pyConst // True, False, None
	pyTuple
)

// pyValue is the subset of Python literals MLflow's lists can hold.
type pyValue struct {
	kind  pyKind
	s     string // str value, or the literal text of numbers/constants
	items []pyValue
}

func (v pyValue) repr() string {
	switch v.kind {
	case pyStr:
		return pyRepr(v.s)
	case pyTuple:
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			parts[i] = it.repr()
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return v.s
}

type pyParser struct {
	s   []rune
	pos int
}

var errPySyntax = fmt.Errorf("invalid Python literal")

// pyLiteralEval evaluates the subset of ast.literal_eval that MLflow's IN
// lists use: str literals (with implicit concatenation), numbers, True,
// False, None and (nested) tuples. Anything else is an error (MLflow
// reports a SyntaxError as an ill-formed list and lets other failures
// escape as a 500).
func pyLiteralEval(src string) (pyValue, error) {
	p := &pyParser{s: []rune(src)}
	p.skip()
	v, err := p.expr()
	if err != nil {
		return pyValue{}, err
	}
	p.skip()
	if p.pos != len(p.s) {
		return pyValue{}, errPySyntax
	}
	return v, nil
}

func (p *pyParser) hasPrefix(w string) bool {
	rs := []rune(w)
	if len(p.s)-p.pos < len(rs) {
		return false
	}
	for i, r := range rs {
		if p.s[p.pos+i] != r {
			return false
		}
	}
	return true
}

func (p *pyParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r' || p.s[p.pos] == '\f') {
		p.pos++
	}
}

func (p *pyParser) expr() (pyValue, error) {
	if p.pos >= len(p.s) {
		return pyValue{}, errPySyntax
	}
	switch r := p.s[p.pos]; {
	case r == '(':
		p.pos++
		var items []pyValue
		trailingComma := false
		for {
			p.skip()
			if p.pos < len(p.s) && p.s[p.pos] == ')' {
				p.pos++
				break
			}
			v, err := p.expr()
			if err != nil {
				return pyValue{}, err
			}
			items = append(items, v)
			p.skip()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
				trailingComma = true
				continue
			}
			trailingComma = false
			if p.pos < len(p.s) && p.s[p.pos] == ')' {
				p.pos++
				break
			}
			return pyValue{}, errPySyntax
		}
		if len(items) == 1 && !trailingComma {
			return items[0], nil
		}
		return pyValue{kind: pyTuple, items: items}, nil
	case r == '\'' || r == '"':
		var b strings.Builder
		for p.pos < len(p.s) && (p.s[p.pos] == '\'' || p.s[p.pos] == '"') {
			s, err := p.str()
			if err != nil {
				return pyValue{}, err
			}
			b.WriteString(s)
			p.skip()
		}
		return pyValue{kind: pyStr, s: b.String()}, nil
	case r == '-' || r == '+' || r == '.' || (r >= '0' && r <= '9'):
		start := p.pos
		if r == '-' || r == '+' {
			p.pos++
			p.skip()
		}
		numStart := p.pos
		for p.pos < len(p.s) && strings.ContainsRune("0123456789._eE", p.s[p.pos]) {
			p.pos++
		}
		text := strings.ReplaceAll(string(p.s[numStart:p.pos]), "_", "")
		sign := ""
		if r == '-' {
			sign = "-"
		}
		if text != "" && strings.Trim(text, "0123456789") == "" {
			if sign == "-" && strings.Trim(text, "0") != "" {
				text = "-" + text
			}
			return pyValue{kind: pyInt, s: text}, nil
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			if sign == "-" {
				f = -f
			}
			return pyValue{kind: pyFloat, s: strconv.FormatFloat(f, 'g', -1, 64)}, nil
		}
		p.pos = start
		return pyValue{}, errPySyntax
	default:
		for _, c := range []string{"True", "False", "None"} {
			if p.hasPrefix(c) {
				p.pos += len(c)
				return pyValue{kind: pyConst, s: c}, nil
			}
		}
	}
	return pyValue{}, errPySyntax
}

// str reads one quoted Python string literal (no prefixes, no triple
// quotes) and processes its escapes.
func (p *pyParser) str() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		r := p.s[p.pos]
		p.pos++
		switch {
		case r == q:
			return b.String(), nil
		case r == '\n':
			return "", errPySyntax
		case r == '\\' && p.pos < len(p.s):
			e := p.s[p.pos]
			p.pos++
			switch e {
			case '\\', '\'', '"':
				b.WriteRune(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\n':
			case 'x', 'u', 'U':
				n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[e]
				if p.pos+n > len(p.s) {
					return "", errPySyntax
				}
				c, err := strconv.ParseUint(string(p.s[p.pos:p.pos+n]), 16, 32)
				if err != nil {
					return "", errPySyntax
				}
				b.WriteRune(rune(c))
				p.pos += n
			default:
				b.WriteByte('\\')
				b.WriteRune(e)
			}
		default:
			b.WriteRune(r)
		}
	}
	return "", errPySyntax
}

func sortStrings(xs []string) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// pyIsSpace is Python's str.isspace() for one character.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }
