package search

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// EncodeOffsetToken is MLflow's page token: base64 of the JSON
// {"offset": N} as Python's json.dumps writes it.
func EncodeOffsetToken(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"offset": ` + strconv.Itoa(offset) + `}`))
}

// DecodeOffsetToken is SearchUtils.parse_start_offset_from_page_token:
// "" is offset 0; garbage gets MLflow's INVALID_PARAMETER_VALUE messages.
// Like MLflow it accepts negative offsets and rejects {"offset": 0}.
// Where MLflow fails with a 500 (a JSON value that is not an object, an
// offset of a type int() refuses), this answers 400.
func DecodeOffsetToken(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, ok := pyB64Decode(token)
	if !ok {
		return 0, invalid("Invalid page token, could not base64-decode")
	}
	var parsed any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&parsed); err != nil || dec.More() {
		return 0, invalid("Invalid page token, decoded value=%s", pyBytesRepr(raw))
	}
	obj, isObj := parsed.(map[string]any)
	if !isObj {
		return 0, invalid("Invalid page token, parsed value=%s", pyJSONRepr(parsed))
	}
	off := obj["offset"]
	if pyFalsy(off) {
		return 0, invalid("Invalid page token, parsed value=%s", pyJSONRepr(parsed))
	}
	switch v := off.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return int(n), nil
		}
		// A number beyond int64 (Python's int takes it) would wrap around
		// in the conversion, a huge offset becoming a negative one that
		// answers the first page again: refused instead.
		if f, err := v.Float64(); err == nil && f > math.MinInt64 && f < math.MaxInt64 {
			return int(math.Trunc(f)), nil
		}
		return 0, invalid("Invalid page token, offset %s is out of range", string(v))
	case string:
		if n, err := strconv.ParseInt(strings.ReplaceAll(pyStrip(v), "_", ""), 10, 64); err == nil {
			return int(n), nil
		}
		return 0, invalid("Invalid page token, not stringable %s", v)
	case bool:
		return 1, nil // int(True)
	}
	return 0, invalid("Invalid page token, not stringable %s", pyJSONRepr(off))
}

// pyB64Decode is base64.b64decode without validation (CPython's
// binascii.a2b_base64 in non-strict mode): characters outside the
// alphabet are skipped, decoding stops at complete padding, and a partial
// final quantum is an error.
func pyB64Decode(s string) ([]byte, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	quad, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			pads++
			if quad >= 2 && quad+pads >= 4 {
				return out, true
			}
			continue
		}
		v := strings.IndexByte(alphabet, c)
		if v < 0 {
			continue
		}
		b := byte(v)
		switch quad {
		case 0:
			quad, left = 1, b
		case 1:
			quad = 2
			out = append(out, left<<2|b>>4)
			left = b & 0x0f
		case 2:
			quad = 3
			out = append(out, left<<4|b>>2)
			left = b & 0x03
		case 3:
			quad = 0
			out = append(out, left<<6|b)
			left = 0
		}
	}
	return out, quad == 0
}

func pyFalsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// pyJSONRepr is Python's repr() of a value json.loads returned.
func pyJSONRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyRepr(x)
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			if f, err := x.Float64(); err == nil {
				r := strconv.FormatFloat(f, 'g', -1, 64)
				if !strings.ContainsAny(r, ".e") {
					r += ".0"
				}
				return r
			}
		}
		return s
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyJSONRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		// Go maps lose key order; sort-free rendering in key order of the
		// input is not available, so keys are listed sorted.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyJSONRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "None"
}
