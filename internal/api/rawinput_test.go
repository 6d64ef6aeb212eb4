package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRawInput: bodies and queries that JSON decoding would silently alter
// or a database could not store are refused with 400; look-alikes pass.
func TestRawInput(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{"{\"key\": \"k\xff\"}", false},
		{"{\"key\": \"\xed\xa0\x80\"}", false}, // a UTF-16 surrogate in UTF-8
		{`{"key": "a\u0000b"}`, false},
		{`{"a\u0000": "v"}`, false},
		{`{"key": "a\\u0000b"}`, true}, // an escaped backslash, then text
		{`{"key": "\"\\\"\u0000"}`, false},
		{`{"key": "caf\u00e9 ☕"}`, true},
	} {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/json")
		_, err := readParams(r)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.body, err, c.ok)
		}
		if err != nil {
			checkClientError(t, c.body, err)
		}
	}
	for _, q := range []string{"run_id=%FF", "run_id=a%00b", "a%00=1"} {
		r := httptest.NewRequest("GET", "/x?"+q, nil)
		if _, err := readParams(r); err == nil {
			t.Errorf("query %q accepted", q)
		}
	}
}

// TestInt64Overflow: a number beyond int64 is a type error, not a wrapped
// value (9223372036854775808 was stored as -9223372036854775808).
func TestInt64Overflow(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"n": 9223372036854775807}`:    true,
		`{"n": -9223372036854775808}`:   true,
		`{"n": 9223372036854775808}`:    false,
		`{"n": 1e19}`:                   false,
		`{"n": -1e19}`:                  false,
		`{"n": -9223372036854775809}`:   false,
		`{"n": "-9223372036854775809"}`: false,
		`{"n": "9223372036854775808"}`:  false,
		`{"n": 12.7}`:                   true,
	} {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		p, err := readParams(r)
		if err != nil {
			t.Fatal(err)
		}
		n, _, err := p.int64Field("n")
		if (err == nil) != ok {
			t.Errorf("%s: %d %v, want ok=%v", body, n, err, ok)
		}
	}
}

// TestStepOverflow: a step beyond int64 is refused, not stored as 0.
func TestStepOverflow(t *testing.T) {
	for v, want := range map[string]int64{"3": 3, "3.5": 0, "-2.0": -2, "9223372036854775807": 1<<63 - 1} {
		if n, err := stepValue("step", []byte(v)); err != nil || n != want {
			t.Errorf("step %s: %d %v, want %d", v, n, err, want)
		}
	}
	for _, v := range []string{"9223372036854775808", "-9223372036854775809", "1e19", "-1e300"} {
		if n, err := stepValue("step", []byte(v)); err == nil {
			t.Errorf("step %s accepted as %d", v, n)
		}
	}
}

// TestLoneSurrogate: a \udfff escape without its pair is refused (json
// would store U+FFFD); pairs and other escapes pass.
func TestLoneSurrogate(t *testing.T) {
	for body, bad := range map[string]bool{
		`{"v": "\udfff"}`:            true,
		`{"v": "a\ud800b"}`:          true,
		`{"v": "\ud800\u0041"}`:      true,
		`{"v": "\uDBFF"}`:            true,
		`{"v": "\ud83d\ude00"}`:      false,
		`{"v": "\\udfff"}`:           false,
		`{"v": "\u00e9\"\\\udc00"}`:  true,
		`{"v": "ok", "w": "\u20ac"}`: false,
		`{"\udfff": "key"}`:          true,
	} {
		err := checkRawBody([]byte(body))
		if (err != nil) != bad {
			t.Errorf("%s: %v, want refused=%v", body, err, bad)
		}
	}
}
