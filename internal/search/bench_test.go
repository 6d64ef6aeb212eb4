package search

import (
	"strings"
	"testing"
)

// BenchmarkParseRunFilter measures an ordinary filter and 64 KiB inputs
// built to make a naive lexer quadratic (unclosed quotes and parentheses).
// Target: linear in the input; 64 KiB well under 100 ms.
func BenchmarkParseRunFilter(b *testing.B) {
	const n = 64 << 10
	inputs := map[string]string{
		"ordinary":         "metrics.acc > 0.4 AND params.opt = 'adam' AND attributes.run_id IN ('a', 'b')",
		"unclosed-parens":  strings.Repeat("(", n),
		"paren-quote":      strings.Repeat("('", n/2),
		"quoted-parens":    strings.Repeat("\"(", n/2),
		"word-parens":      strings.Repeat("x(", n/2),
		"escaped-quotes":   strings.Repeat("\\'(", n/3),
		"long-in-list":     "attributes.run_id IN (" + strings.Repeat("'a',", n/4) + ")",
		"many-comparisons": strings.Repeat("metrics.a > 1 AND ", n/18) + "metrics.a > 1",
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				ParseRunFilter(in)
			}
		})
	}
}
