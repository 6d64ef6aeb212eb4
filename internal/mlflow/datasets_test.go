package mlflow

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// TestPyDumps checks the text against Python 3's json.dumps (with and
// without sort_keys) and the input hash MLflow stores, for the same values.
func TestPyDumps(t *testing.T) {
	cases := []struct {
		in, plain, sorted, hash string
	}{
		{`{"q":"bread","a":1}`, `{"q": "bread", "a": 1}`, `{"a": 1, "q": "bread"}`,
			"2e574145434cd1993f5324493eafa96715010bf5348d887415b2713a19feb9f1"},
		{`{"é":"naïve 😀","b":[1,2.5,{"z":null,"a":true}],"ctl":"\u0001\t\n\"\\/"}`,
			`{"\u00e9": "na\u00efve \ud83d\ude00", "b": [1, 2.5, {"z": null, "a": true}], "ctl": "\u0001\t\n\"\\/"}`,
			`{"b": [1, 2.5, {"a": true, "z": null}], "ctl": "\u0001\t\n\"\\/", "\u00e9": "na\u00efve \ud83d\ude00"}`,
			"320155be39e1ca92b49cc1c989452fb5d4fce6217d09903f570df22b20f19662"},
	}
	for _, c := range cases {
		plain, err := PyDumps(json.RawMessage(c.in), false)
		if err != nil || plain != c.plain {
			t.Errorf("%s: %s (%v), want %s", c.in, plain, err, c.plain)
		}
		sorted, err := PyDumps(json.RawMessage(c.in), true)
		if err != nil || sorted != c.sorted {
			t.Errorf("%s sorted: %s (%v), want %s", c.in, sorted, err, c.sorted)
		}
		sum := sha256.Sum256([]byte(sorted))
		if h := hex.EncodeToString(sum[:]); h != c.hash {
			t.Errorf("%s: hash %s, want %s", c.in, h, c.hash)
		}
	}
	for _, bad := range []string{`{"a":`, `{"a":1} x`, `[1,]`} {
		if _, err := PyDumps(json.RawMessage(bad), false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestObjectUpdateKeepsOrder(t *testing.T) {
	o, _, err := ParseObject(json.RawMessage(`{"b": 1, "a": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	n, _, _ := ParseObject(json.RawMessage(`{"a": 3, "c": 4}`))
	o.Update(n)
	b, _ := o.MarshalJSON()
	if string(b) != `{"b":1,"a":3,"c":4}` {
		t.Fatalf("%s", b)
	}
}
