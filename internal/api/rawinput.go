package api

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// checkRawBody refuses bodies that encoding/json would silently alter or
// that a database cannot store: invalid UTF-8 (which json turns into
// U+FFFD; MLflow's server refuses it) and NUL characters (\u0000), which
// PostgreSQL cannot store in text and SQLite would store on one backend only.
func checkRawBody(b []byte) error {
	if !utf8.Valid(b) {
		return mlflow.InvalidParam("Malformed request body: it is not valid UTF-8")
	}
	if hasNULEscape(b) {
		return mlflow.InvalidParam("Invalid value: NUL characters (\\u0000) are not accepted")
	}
	if esc, ok := loneSurrogate(b); ok {
		return mlflow.InvalidParam("Invalid value: the JSON string escape %s is half of a UTF-16 surrogate pair, not a character; it cannot be stored", esc)
	}
	return nil
}

// loneSurrogate finds a \uD800-\uDFFF escape inside a JSON string that is
// not half of a pair (a high surrogate followed by a low one). encoding/json
// would store it as U+FFFD; Python's json accepts it and MLflow then fails
// to encode it for the database. Either way the value is not what was sent.
func loneSurrogate(b []byte) (string, bool) {
	if !bytes.Contains(b, []byte(`\u`)) && !bytes.Contains(b, []byte(`\U`)) {
		return "", false
	}
	unit := func(i int) (rune, bool) { // the \uXXXX escape at b[i:]
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range b[i+2 : i+6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c|0x20 >= 'a' && c|0x20 <= 'f':
				r = r<<4 | rune(c|0x20-'a'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b):
			r, ok := unit(i)
			if !ok {
				i++ // the escaped character
				continue
			}
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				if lo, ok := unit(i + 6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11 // the pair
					continue
				}
				return string(b[i : i+6]), true
			case r >= 0xDC00 && r <= 0xDFFF:
				return string(b[i : i+6]), true
			}
			i += 5
		}
	}
	return "", false
}

// checkRawQuery is checkRawBody for the values of a query string.
func checkRawQuery(q map[string][]string) error {
	for k, vs := range q {
		for _, v := range append([]string{k}, vs...) {
			if !utf8.ValidString(v) {
				return mlflow.InvalidParam("Malformed query string: it is not valid UTF-8")
			}
			if strings.IndexByte(v, 0) >= 0 {
				return mlflow.InvalidParam("Invalid value: NUL characters are not accepted")
			}
		}
	}
	return nil
}

// hasNULEscape reports a \u0000 escape inside a JSON string (a raw NUL byte
// is invalid JSON already).
func hasNULEscape(b []byte) bool {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return false
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b):
			if b[i+1] == 'u' && bytes.HasPrefix(b[i+2:], []byte("0000")) {
				return true
			}
			i++ // the escaped character
		}
	}
	return false
}
