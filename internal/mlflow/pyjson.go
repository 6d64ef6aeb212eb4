package mlflow

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// TagModelVersions is the logged model tag where MLflow lists the registry
// versions created from the model: a JSON list of {"name", "version"}.
const TagModelVersions = "mlflow.modelVersions"

// AddModelVersion returns the value of a logged model's
// mlflow.modelVersions tag after version of registered model name was
// created from it, as MLflow's set_model_versions_tags writes it: the
// current list with {"name": name, "version": version} appended unless
// already there, in the text Python's json.dumps gives (", " and ": "
// separators, non-ASCII as \u escapes). A current value that is not a JSON
// list starts a new one, as the run's model history does.
func AddModelVersion(current, name string, version int64) string {
	var list []any
	if current != "" {
		d := json.NewDecoder(bytes.NewReader([]byte(current)))
		d.UseNumber()
		if d.Decode(&list) != nil || d.More() {
			list = nil
		}
	}
	for _, it := range list {
		if isModelVersionEntry(it, name, version) {
			return PyJSON(list)
		}
	}
	entry := PyObject{Keys: []string{"name", "version"}, Vals: []any{name, json.Number(strconv.FormatInt(version, 10))}}
	return PyJSON(append(list, entry))
}

// isModelVersionEntry is Python's == between a decoded list element and
// {"name": name, "version": version}: an object with exactly those keys,
// the version numerically equal.
func isModelVersionEntry(v any, name string, version int64) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 2 {
		return false
	}
	if n, ok := m["name"].(string); !ok || n != name {
		return false
	}
	num, ok := m["version"].(json.Number)
	if !ok {
		return false
	}
	if i, err := num.Int64(); err == nil {
		return i == version
	}
	f, err := num.Float64()
	return err == nil && f == float64(version)
}

// PyObject is a JSON object whose keys keep their order, as a Python dict.
type PyObject struct {
	Keys []string
	Vals []any
}

// PyJSON is v as Python's json.dumps writes it with its defaults. v holds
// nil, bool, string, json.Number, []any, PyObject and map[string]any (whose
// keys, having lost their order, are written sorted).
func PyJSON(v any) string {
	return string(appendPyJSON(nil, v))
}

func appendPyJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case json.Number:
		return append(b, x...)
	case string:
		return appendPyString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyJSON(b, e)
		}
		return append(b, ']')
	case PyObject:
		b = append(b, '{')
		for i, k := range x.Keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyString(b, k)
			b = append(b, ": "...)
			b = appendPyJSON(b, x.Vals[i])
		}
		return append(b, '}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := PyObject{Keys: keys}
		for _, k := range keys {
			o.Vals = append(o.Vals, x[k])
		}
		return appendPyJSON(b, o)
	}
	return append(b, "null"...)
}

// appendPyString writes s as json.dumps does with ensure_ascii: ASCII
// control characters and everything beyond ASCII as \u escapes (UTF-16
// surrogate pairs above the BMP).
func appendPyString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || r > 0x7e:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			units := []rune{r}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				units = []rune{r1, r2}
			}
			for _, u := range units {
				b = append(b, '\\', 'u', hex[u>>12&0xf], hex[u>>8&0xf], hex[u>>4&0xf], hex[u&0xf])
			}
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}
