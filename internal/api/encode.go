package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// encoded is an answer already encoded as JSON; writeJSON sends it as is.
type encoded []byte

// The run encoder writes exactly what encoding/json writes for mlflow.Run
// (field order, omitempty, escaping with EscapeHTML off), by hand for the
// lists that make a run big (metrics, params, tags): a run with 500 params
// and 500 metrics spent more time in reflection than in the database.
// TestRunEncoder compares both.

func appendRun(b []byte, r *mlflow.Run) []byte {
	b = append(b, `{"data":{`...)
	sep := false
	if len(r.Data.Metrics) > 0 {
		b = append(b, `"metrics":[`...)
		for i := range r.Data.Metrics {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMetricCompact(b, &r.Data.Metrics[i])
		}
		b = append(b, ']')
		sep = true
	}
	for _, kv := range []struct {
		name string
		tags []mlflow.Tag
	}{{"params", r.Data.Params}, {"tags", r.Data.Tags}} {
		if len(kv.tags) == 0 {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, kv.name...)
		b = append(b, `":`...)
		b = appendTags(b, kv.tags)
		sep = true
	}
	b = append(b, `},"info":`...)
	b = appendMarshal(b, &r.Info)
	b = append(b, `,"inputs":`...)
	b = appendMarshal(b, &r.Inputs)
	if r.Outputs != nil {
		b = append(b, `,"outputs":`...)
		b = appendMarshal(b, r.Outputs)
	}
	return append(b, '}')
}

func appendTags(b []byte, tags []mlflow.Tag) []byte {
	b = append(b, '[')
	for i := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendString(b, tags[i].Key)
		b = append(b, `,"value":`...)
		b = appendString(b, tags[i].Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendMetricCompact(b []byte, m *mlflow.Metric) []byte {
	b = append(b, '{')
	if m.DatasetDigest != "" {
		b = append(b, `"dataset_digest":`...)
		b = appendString(b, m.DatasetDigest)
		b = append(b, ',')
	}
	if m.DatasetName != "" {
		b = append(b, `"dataset_name":`...)
		b = appendString(b, m.DatasetName)
		b = append(b, ',')
	}
	b = append(b, `"key":`...)
	b = appendString(b, m.Key)
	if m.ModelID != "" {
		b = append(b, `,"model_id":`...)
		b = appendString(b, m.ModelID)
	}
	if m.RunID != "" {
		b = append(b, `,"run_id":`...)
		b = appendString(b, m.RunID)
	}
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, m.Step, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, m.Timestamp, 10)
	b = append(b, `,"value":`...)
	b = m.Value.AppendJSON(b)
	return append(b, '}')
}

// appendString writes s as encoding/json does with EscapeHTML off: plain
// printable ASCII directly, anything else through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendMarshal(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendMarshal appends v encoded by encoding/json with EscapeHTML off.
func appendMarshal(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
