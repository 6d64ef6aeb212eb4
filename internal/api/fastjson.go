package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// fastMetrics reads log-batch's metrics array without a map per element:
// a log-batch of 1000 metrics spent more time in encoding/json than in the
// database. It handles the plain case only (numbers, strings without
// escapes, every required field present and valid) and reports false for
// anything else, so that the general path (objectList and metricFields)
// reads the request again and answers MLflow's exact error. raw was
// already checked to be valid JSON by readParams.
func fastMetrics(raw json.RawMessage) ([]mlflow.Metric, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if raw[0] != '[' {
		return nil, false
	}
	out := make([]mlflow.Metric, 0, bytes.Count(raw, []byte("{")))
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, true
	}
	for i < len(raw) {
		if raw[i] != '{' {
			return nil, false
		}
		m, next, ok := fastMetric(raw, i)
		if !ok {
			return nil, false
		}
		out = append(out, m)
		i = skipSpace(raw, next)
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return out, true
		default:
			return nil, false
		}
	}
	return nil, false
}

// fastMetric reads the object at raw[i] ('{') and returns the index after it.
func fastMetric(raw []byte, i int) (mlflow.Metric, int, bool) {
	var (
		m                         mlflow.Metric
		seen                      uint8 // bits: key, value, timestamp, step, model_id, dataset_name, dataset_digest
		hasKey, hasValue, hasTime bool
	)
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return m, 0, false // no key: the general path names the missing field
	}
	for i < len(raw) {
		name, next, ok := plainString(raw, i)
		if !ok {
			return m, 0, false
		}
		i = skipSpace(raw, next)
		if i >= len(raw) || raw[i] != ':' {
			return m, 0, false
		}
		i = skipSpace(raw, i+1)
		end, ok := skipValue(raw, i)
		if !ok {
			return m, 0, false
		}
		v := raw[i:end]
		if string(v) == "null" {
			return m, 0, false
		}
		bit := uint8(0)
		switch name {
		case "key":
			bit = 1
			if m.Key, _, ok = plainString(raw, i); !ok {
				return m, 0, false
			}
			hasKey = true
		case "value":
			bit = 2
			if v[0] == '"' {
				if m.Value.UnmarshalJSON(v) != nil {
					return m, 0, false
				}
			} else {
				f, err := strconv.ParseFloat(string(v), 64)
				if err != nil {
					return m, 0, false
				}
				m.Value = mlflow.Float(f)
			}
			hasValue = true
		case "timestamp":
			bit = 4
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return m, 0, false
			}
			m.Timestamp, hasTime = n, true
		case "step":
			bit = 8
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return m, 0, false
			}
			m.Step = n
		case "model_id", "dataset_name", "dataset_digest":
			bit = map[string]uint8{"model_id": 16, "dataset_name": 32, "dataset_digest": 64}[name]
			str, _, ok := plainString(raw, i)
			if !ok {
				return m, 0, false
			}
			switch name {
			case "model_id":
				m.ModelID = str
			case "dataset_name":
				m.DatasetName = str
			default:
				m.DatasetDigest = str
			}
		}
		if seen&bit != 0 { // a field given twice: the general path keeps the last
			return m, 0, false
		}
		seen |= bit
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return m, 0, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			if !hasKey || !hasValue || !hasTime || m.Key == "" || mlflow.ValidateMetricKey(m.Key, "") != nil {
				return m, 0, false
			}
			return m, i + 1, true
		default:
			return m, 0, false
		}
	}
	return m, 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string without escapes at b[i]; ok is false for
// anything else.
func plainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			return "", 0, false
		case '"':
			return string(b[i+1 : j]), j + 1, true
		}
	}
	return "", 0, false
}

// skipValue returns the end of the (valid) JSON value at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	depth := 0
	inString := false
	for j := i; j < len(b); j++ {
		c := b[j]
		if inString {
			switch c {
			case '\\':
				j++
			case '"':
				inString = false
				if depth == 0 {
					return j + 1, true
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, true // end of a scalar right before the closer
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j, true
			}
		}
	}
	return 0, false
}
