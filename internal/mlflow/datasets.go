package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Prefixes of MLflow's evaluation dataset and dataset record ids.
const (
	DatasetIDPrefix       = "d-"
	DatasetRecordIDPrefix = "dr-"
	// DatasetRecordWrappedOutputKey wraps a record's outputs in the
	// outputs column, as MLflow stores them.
	DatasetRecordWrappedOutputKey = "mlflow_wrapped"
)

// EvaluationDataset is an MLflow 3 evaluation dataset (without records).
// Schema and Profile are JSON texts, empty when not yet computed; Tags keep
// their insertion order.
type EvaluationDataset struct {
	DatasetID      string
	Name           string
	Tags           []Tag
	Schema         string
	Profile        string
	Digest         string
	CreatedTime    int64
	LastUpdateTime int64
	CreatedBy      string
	LastUpdatedBy  string
}

// DatasetRecord is one record of an evaluation dataset, its JSON fields
// as stored (Python json.dumps text). Outputs is the unwrapped value.
type DatasetRecord struct {
	DatasetRecordID string
	DatasetID       string
	Inputs          string
	Outputs         string
	Expectations    string
	Tags            string
	Source          string
	SourceID        string
	SourceType      string
	CreatedTime     int64
	LastUpdateTime  int64
	CreatedBy       string
	LastUpdatedBy   string
}

// DatasetNotFound is get_dataset's error for an unknown id.
func DatasetNotFound(id string) *Error {
	return NotFound("Evaluation dataset with id '%s' not found", id)
}

// DatasetRecordSourceTypes are MLflow's DatasetRecordSourceType values.
var DatasetRecordSourceTypes = []string{"TRACE", "HUMAN", "DOCUMENT", "CODE"}

// DatasetDigestInput is what MLflow's dataset digest hashes: the digest
// is the first 8 hex digits of sha256("<name>:<last_update_time>").
func DatasetDigestInput(name string, lastUpdate int64) string {
	return name + ":" + strconv.FormatInt(lastUpdate, 10)
}

// Member is one key of a JSON object, its value as raw JSON.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Object is a JSON object whose key order is kept, as a Python dict keeps it.
type Object []Member

// ParseObject reads a JSON object keeping its key order; any other JSON
// value gives isObject false.
func ParseObject(raw json.RawMessage) (obj Object, isObject bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	if raw[0] != '{' {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	obj = Object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, err
		}
		obj.Set(k, v)
	}
	return obj, true, nil
}

// Get returns the value of key.
func (o Object) Get(key string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Set sets key as Python's d[key] = v: in place when present, else at the end.
func (o *Object) Set(key string, v json.RawMessage) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, Member{key, v})
}

// Update is Python's dict.update.
func (o *Object) Update(other Object) {
	for _, m := range other {
		o.Set(m.Key, m.Value)
	}
}

// MarshalJSON writes the object as compact JSON in key order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		b.Write(k)
		b.WriteByte(':')
		if len(m.Value) == 0 {
			b.WriteString("null")
		} else {
			b.Write(m.Value)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// PyDumps writes raw JSON as Python's json.dumps does: ", " and ": "
// separators, non-ASCII as \uXXXX, keys sorted when sortKeys. Numbers keep
// their text.
func PyDumps(raw json.RawMessage, sortKeys bool) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	if err := pyValue(dec, &b, sortKeys); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("trailing data after JSON value")
	}
	return b.String(), nil
}

func pyValue(dec *json.Decoder, b *strings.Builder, sortKeys bool) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := pyValue(dec, b, sortKeys); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			b.WriteByte(']')
			return err
		}
		// an object: collect members, sort when asked
		type kv struct {
			k string
			v string
		}
		var ms []kv
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			var sb strings.Builder
			if err := pyValue(dec, &sb, sortKeys); err != nil {
				return err
			}
			k := kt.(string)
			replaced := false
			for i := range ms {
				if ms[i].k == k {
					ms[i].v, replaced = sb.String(), true
				}
			}
			if !replaced {
				ms = append(ms, kv{k, sb.String()})
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		if sortKeys {
			slices.SortStableFunc(ms, func(a, b kv) int { return comparePyStr(a.k, b.k) })
		}
		b.WriteByte('{')
		for i, m := range ms {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, m.k)
			b.WriteString(": ")
			b.WriteString(m.v)
		}
		b.WriteByte('}')
	case string:
		pyString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
	return nil
}

// comparePyStr orders strings by code point, as Python sorts str.
func comparePyStr(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	return slices.Compare(ra, rb)
}

// JSONFieldType is MLflow's _infer_field_type of a raw JSON value.
func JSONFieldType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "float"
	}
	return "integer"
}
