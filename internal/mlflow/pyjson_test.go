package mlflow

import "testing"

// TestAddModelVersion checks the mlflow.modelVersions tag against the text
// Python's json.dumps writes for the same list.
func TestAddModelVersion(t *testing.T) {
	cases := []struct {
		current, name string
		version       int64
		want          string
	}{
		{"", "model", 1, `[{"name": "model", "version": 1}]`},
		{`[{"name": "model", "version": 1}]`, "model", 2, `[{"name": "model", "version": 1}, {"name": "model", "version": 2}]`},
		// Already listed (also as 1.0, which Python finds equal): unchanged.
		{`[{"name": "model", "version": 1}]`, "model", 1, `[{"name": "model", "version": 1}]`},
		{`[{"name":"model","version":1.0}]`, "model", 1, `[{"name": "model", "version": 1.0}]`},
		// A string version is another entry, as in Python.
		{`[{"name": "model", "version": "1"}]`, "model", 1, `[{"name": "model", "version": "1"}, {"name": "model", "version": 1}]`},
		// ensure_ascii: non-ASCII and control characters escaped, quotes and backslashes too.
		{"", "mödel \"q\" \\ \t\x7f 😀", 3, `[{"name": "m\u00f6del \"q\" \\ \t\u007f \ud83d\ude00", "version": 3}]`},
		// Not a list: starts over.
		{"garbage", "m", 1, `[{"name": "m", "version": 1}]`},
		{`{"name": "m"}`, "m", 1, `[{"name": "m", "version": 1}]`},
		{`[1, true, null, {"b": 1, "a": [2]}]`, "m", 1, `[1, true, null, {"a": [2], "b": 1}, {"name": "m", "version": 1}]`},
	}
	for _, c := range cases {
		if got := AddModelVersion(c.current, c.name, c.version); got != c.want {
			t.Errorf("AddModelVersion(%q, %q, %d) = %s, want %s", c.current, c.name, c.version, got, c.want)
		}
	}
}
