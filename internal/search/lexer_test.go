package search

import (
	"strings"
	"testing"
)

// TestLex pins the token kinds the grammar relies on and that the tokens'
// texts give the input back.
func TestLex(t *testing.T) {
	names := map[tokKind]string{kSpace: "_", kIdent: "id", kString: "str", kNumber: "num", kParen: "paren",
		kOp: "op", kComment: "comment", kSemi: ";", kOther: "other"}
	tests := []struct{ in, want string }{
		{"metrics.acc > 0.5", "id _ op _ num"},
		{"tags.`a b.c` LIKE 'x''y\\'z'", "id _ id _ str"},
		{`params."q k"='v'`, "id op str"},
		{"run_id NOT IN ('a', 'b)c')", "id _ id _ id _ paren"},
		{"x = -2.5e-3 AND y=.5", "id _ op _ num _ id _ id op num"},
		{"x = 0x1F", "id _ op _ other"},
		{"x = 1.2.3", "id _ op _ other"},
		{"x = 1.", "id _ op _ num"},
		{"a-1", "id num"},
		{"a-b", "id other id"},
		{"a- b", "id other _ id"},
		{"x = 'open", "id _ op _ other id"},
		{"x IN ('a'", "id _ id _ other str"},
		{"metrics.", "id other"},
		{"`open", "other id"},
		{"a; -- c\nb /* d */", "id ; _ comment _ id _ comment"},
		{"a >>> b", "id _ op _ id"},
		{"é.ü = 1", "id _ op _ num"},
	}
	for _, tt := range tests {
		toks := lex(tt.in)
		var kinds []string
		var back strings.Builder
		for _, tok := range toks {
			kinds = append(kinds, names[tok.kind])
			back.WriteString(tok.text)
		}
		if got := strings.Join(kinds, " "); got != tt.want {
			t.Errorf("lex(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if back.String() != tt.in {
			t.Errorf("lex(%q) texts give %q", tt.in, back.String())
		}
	}
}

// TestGroup pins which token runs become comparisons.
func TestGroup(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a = 1 AND b != 'x'", "[a = 1] _ AND _ [b != 'x']"},
		{"a = 1 b = 2", "[a = 1] _ [b = 2]"},
		{"a not   like 'x'", "[a not like 'x']"},
		{"a NOT IN ('x')", "[a NOT IN ('x')]"},
		{"a NOT = 1", "a _ NOT _ = _ 1"},
		{"a IS NULL", "a _ IS _ NULL"},
		{"a = OR", "a _ = _ OR"},
		{"a = b = c", "[a = b] _ = _ c"},
		{"'x' = a", "['x' = a]"},
		{"(a = 1)", "(a = 1)"},
		{"a =", "a _ ="},
	}
	for _, tt := range tests {
		var parts []string
		for _, it := range group(lex(tt.in)) {
			switch {
			case it.comp:
				parts = append(parts, "["+it.operand[0].text+" "+it.op+" "+it.operand[1].text+"]")
			case it.tok.kind == kSpace:
				parts = append(parts, "_")
			default:
				parts = append(parts, it.tok.text)
			}
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("group(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
