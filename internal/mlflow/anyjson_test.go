package mlflow

import (
	"encoding/json"
	"testing"
)

var anyJSONSeeds = []string{
	`"tr-7c48"`, `{"q": "bread"}`, `["doc bread", 1, 2.5, true, null]`, `{"a": {"b": [1, {"c": "\u00e9\n"}]}}`,
	`1`, `-3`, `1.0`, `1e400`, `9223372036854775808`, `"esc \"quoted\" \\ \t"`, `[]`, `{}`, `NaN`,
}

// FuzzAnyValueJSON checks that the streaming converter answers what
// converting the parsed value answers, for any valid JSON.
func FuzzAnyValueJSON(f *testing.F) {
	for _, s := range anyJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		v, err := ParseOrderedJSON(s)
		if err != nil {
			return
		}
		want := string(AnyValueJSON(nil, v))
		got, rest, err := appendAnyFromJSON(nil, []byte(s))
		if err != nil || len(skipSpace(rest)) != 0 {
			t.Fatalf("%q: %v, rest %q", s, err, rest)
		}
		if string(got) != want {
			t.Fatalf("%q:\n got  %s\n want %s", s, got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("%q: invalid output %s", s, got)
		}
	})
}
