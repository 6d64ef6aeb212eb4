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
	return nil
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
