package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// params reads a request's fields the way MLflow's handlers do: from the
// query string of a GET, from the JSON body otherwise. Type errors carry
// MLflow's "Invalid value ... Hint: Value was of type ..." message.
type params struct {
	body  map[string]json.RawMessage
	query map[string][]string
}

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 32 << 20

func readParams(r *http.Request) (*params, error) {
	p := &params{}
	if r.Method == http.MethodGet || r.Method == http.MethodDelete && r.ContentLength <= 0 {
		p.query = r.URL.Query()
		if err := checkRawQuery(p.query); err != nil {
			return nil, err
		}
		return p, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && r.Method != http.MethodDelete {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return nil, mlflow.InvalidParam("Bad Request. Content-Type must be one of ['application/json'].")
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return nil, mlflow.Errorf(mlflow.BadRequest, "could not read the request body: %v", err)
	}
	if len(b) > maxJSONBody {
		return nil, &mlflow.Error{Code: mlflow.BadRequest, Message: "request body too large", Status: http.StatusRequestEntityTooLarge}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		p.body = map[string]json.RawMessage{}
		return p, nil
	}
	if err := checkRawBody(b); err != nil {
		return nil, err
	}
	b = replaceBareNaN(b)
	if err := json.Unmarshal(b, &p.body); err != nil {
		// MLflow reads a malformed body as empty (and then misses a
		// required field) or fails with a 500 for a non-object; both are
		// this 400 here.
		return nil, mlflow.InvalidParam("Malformed request body: it must be a JSON object (%v)", err)
	}
	if p.body == nil {
		p.body = map[string]json.RawMessage{}
	}
	return p, nil
}

// replaceBareNaN turns the bare literals NaN, Infinity and -Infinity, which
// Python's json writes and MLflow reads, into their quoted forms.
func replaceBareNaN(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		}
		for _, lit := range []string{"NaN", "-Infinity", "Infinity"} {
			if bytes.HasPrefix(b[i:], []byte(lit)) {
				out.WriteString(`"` + lit + `"`)
				i += len(lit) - 1
				goto next
			}
		}
		out.WriteByte(c)
	next:
	}
	return out.Bytes()
}

func (p *params) raw(name string) (json.RawMessage, bool) {
	if p.query != nil {
		v, ok := p.query[name]
		if !ok || len(v) == 0 {
			return nil, false
		}
		b, _ := json.Marshal(v[0])
		return b, true
	}
	v, ok := p.body[name]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// pythonType names a JSON value's type as Python's json would load it.
func pythonType(v json.RawMessage) string {
	switch v[0] {
	case '"':
		return "str"
	case '{':
		return "dict"
	case '[':
		return "list"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(v, ".eE") {
		return "float"
	}
	return "int"
}

func typeError(name string, v json.RawMessage) *mlflow.Error {
	var compact bytes.Buffer
	if json.Compact(&compact, v) != nil {
		compact.Write(v)
	}
	return mlflow.InvalidParam("Invalid value %s for parameter '%s' supplied:  Hint: Value was of type '%s'. See the API docs for more information about request parameters.", compact.String(), name, pythonType(v))
}

// str returns a string field ("" when absent).
func (p *params) str(name string) (string, error) {
	v, ok := p.raw(name)
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", typeError(name, v)
	}
	return s, nil
}

// requiredStr returns a string field that must be present and non-empty.
// requiredParam reads a request that names one thing by a required string
// field (experiment_id, name, ...), with read (readParams or
// readRegistryParams, which differ in their messages).
func requiredParam(r *http.Request, read func(*http.Request) (*params, error), name string) (string, error) {
	p, err := read(r)
	if err != nil {
		return "", err
	}
	return p.requiredStr(name)
}

func (p *params) requiredStr(name string) (string, error) {
	s, err := p.str(name)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", mlflow.MissingParam(name)
	}
	return s, nil
}

// int64Field returns an integer field; present reports whether it was given.
// As protobuf JSON, a numeric string is accepted.
func (p *params) int64Field(name string) (n int64, present bool, err error) {
	v, ok := p.raw(name)
	if !ok {
		return 0, false, nil
	}
	if v[0] == '"' {
		var s string
		_ = json.Unmarshal(v, &s)
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, true, typeError(name, v)
		}
		return n, true, nil
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, true, nil
	}
	var f float64
	// The bounds are symmetric in float64: -2^63 is refused as 2^63 is,
	// since a literal below -2^63 (-9223372036854775809) rounds to it.
	if err := json.Unmarshal(v, &f); err != nil || f >= 1<<63 || f <= -(1<<63) {
		return 0, true, typeError(name, v) // not a number, or no int64
	}
	// MLflow stores a fractional step as 0 (see docs/compatibility.md); the
	// integral part is what a client means.
	return int64(f), true, nil
}

// strList returns a repeated string field: a JSON array, or a repeated
// query parameter. A single JSON string counts as a one-element list, as
// MLflow accepts it.
func (p *params) strList(name string) ([]string, error) {
	if p.query != nil {
		return p.query[name], nil
	}
	v, ok := p.raw(name)
	if !ok {
		return nil, nil
	}
	if v[0] == '"' {
		var s string
		_ = json.Unmarshal(v, &s)
		return []string{s}, nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, typeError(name, v)
	}
	return out, nil
}

// decode unmarshals a structured field (lists of objects) into dst.
func (p *params) decode(name string, dst any) error {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return typeError(name, v)
	}
	return nil
}
