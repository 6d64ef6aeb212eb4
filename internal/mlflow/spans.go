package mlflow

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// TraceIDFromOTel is MLflow's trace id for an OpenTelemetry trace id:
// "tr-" and its 32 hex digits.
func TraceIDFromOTel(id []byte) string { return "tr-" + hex.EncodeToString(id) }

// SpanFromOTLP translates an OTLP span as MLflow's Span.from_otel_proto and
// translate_span_when_storing do, into the spans row MLflow writes: the
// attributes are dumped as JSON once (an attribute the client already
// dumped is kept as it came), mlflow.traceRequestId first.
func SpanFromOTLP(p *tracepb.Span) (Span, error) {
	if len(p.TraceId) != 16 || len(p.SpanId) != 8 || (len(p.ParentSpanId) != 0 && len(p.ParentSpanId) != 8) {
		return Span{}, InvalidParam("invalid trace or span id length")
	}
	traceID := TraceIDFromOTel(p.TraceId)
	attrs := []orderedAttr{{SpanAttrRequestID, pyDumps(traceID)}}
	for _, kv := range p.Attributes {
		v := sanitizeAttribute(pyDumps(anyValue(kv.Value)))
		if kv.Key == SpanAttrRequestID {
			attrs[0].value = v
			continue
		}
		replaced := false
		for i := range attrs {
			if attrs[i].key == kv.Key {
				attrs[i].value, replaced = v, true
			}
		}
		if !replaced {
			attrs = append(attrs, orderedAttr{kv.Key, v})
		}
	}
	sp := Span{
		TraceID: traceID,
		SpanID:  hex.EncodeToString(p.SpanId),
		Name:    p.Name,
		Start:   int64(p.StartTimeUnixNano),
		Status:  "UNSET",
	}
	end := int64(p.EndTimeUnixNano)
	sp.End = &end
	if len(p.ParentSpanId) == 8 && !bytes.Equal(p.ParentSpanId, make([]byte, 8)) {
		sp.ParentSpanID = hex.EncodeToString(p.ParentSpanId)
	}
	code := "STATUS_CODE_UNSET"
	switch p.GetStatus().GetCode() {
	case tracepb.Status_STATUS_CODE_OK:
		sp.Status, code = "OK", "STATUS_CODE_OK"
	case tracepb.Status_STATUS_CODE_ERROR:
		sp.Status, code = "ERROR", "STATUS_CODE_ERROR"
	}
	for _, a := range attrs {
		if a.key == SpanAttrType {
			var t string
			if json.Unmarshal([]byte(a.value), &t) == nil {
				sp.Type = &t
			}
		}
	}
	// The content: Span.to_dict with the sanitized attributes.
	var b []byte
	b = append(b, `{"trace_id": `...)
	b = appendPyText(b, base64.StdEncoding.EncodeToString(p.TraceId))
	b = append(b, `, "span_id": `...)
	b = appendPyText(b, base64.StdEncoding.EncodeToString(p.SpanId))
	b = append(b, `, "parent_span_id": `...)
	if sp.ParentSpanID != "" {
		b = appendPyText(b, base64.StdEncoding.EncodeToString(p.ParentSpanId))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `, "name": `...)
	b = appendPyText(b, p.Name)
	b = append(b, `, "start_time_unix_nano": `...)
	b = strconv.AppendUint(b, p.StartTimeUnixNano, 10)
	b = append(b, `, "end_time_unix_nano": `...)
	b = strconv.AppendUint(b, p.EndTimeUnixNano, 10)
	b = append(b, `, "events": [`...)
	for i, e := range p.Events {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"name": `...)
		b = appendPyText(b, e.Name)
		b = append(b, `, "time_unix_nano": `...)
		b = strconv.AppendUint(b, e.TimeUnixNano, 10)
		b = append(b, `, "attributes": {`...)
		for j, kv := range e.Attributes {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendPyText(b, kv.Key)
			b = append(b, ": "...)
			b = append(b, pyDumps(anyValue(kv.Value))...)
		}
		b = append(b, "}}"...)
	}
	b = append(b, `], "status": {"code": "`+code+`", "message": `...)
	b = appendPyText(b, p.GetStatus().GetMessage())
	b = append(b, `}, "attributes": {`...)
	for i, a := range attrs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPyText(b, a.key)
		b = append(b, ": "...)
		b = appendPyText(b, a.value)
	}
	b = append(b, "}}"...)
	sp.Content = string(b)
	return sp, nil
}

type orderedAttr struct{ key, value string }

// SpanPreview is the request or response preview MLflow derives from a
// root span's inputs or outputs attribute (its stored JSON text, cut to
// 1000 characters with "..."); ok is false when the span has none.
func SpanPreview(content, key string) (string, bool) {
	var c struct {
		Attributes map[string]string `json:"attributes"`
	}
	if json.Unmarshal([]byte(content), &c) != nil {
		return "", false
	}
	v, ok := c.Attributes[key]
	if !ok || v == "" {
		return "", false
	}
	if utf8.RuneCountInString(v) <= MaxTracePreview {
		return v, true
	}
	r := []rune(v)
	return string(r[:MaxTracePreview-3]) + "...", true
}

// sanitizeAttribute is MLflow's sanitize_attributes for one value: an
// attribute the client already dumped (a JSON string holding JSON text of
// a string or an object) is kept dumped once.
func sanitizeAttribute(v string) string {
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return v
	}
	var inner any
	if json.Unmarshal([]byte(s), &inner) != nil {
		return v
	}
	switch inner.(type) {
	case string, map[string]any:
		return s
	}
	return v
}

// anyValue decodes an OTLP AnyValue as MLflow's _decode_otel_proto_anyvalue.
func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		out := make(pyDict, 0, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			out = append(out, orderedAny{kv.Key, anyValue(kv.Value)})
		}
		return out
	}
	return nil
}

type orderedAny struct {
	key   string
	value any
}

// pyDict is a Python dict: keys in insertion order.
type pyDict []orderedAny

// pyDumps writes v as Python's json.dumps(v, ensure_ascii=False).
func pyDumps(v any) string { return string(appendPy(nil, v)) }

func appendPy(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case string:
		return appendPyText(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendPyFloat(b, x)
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return append(b, x...)
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return appendPyFloat(b, f)
	case []byte:
		// MLflow's encoder writes bytes as base64 text.
		return appendPyText(b, base64.StdEncoding.EncodeToString(x))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPy(b, e)
		}
		return append(b, ']')
	case pyDict:
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyText(b, e.key)
			b = append(b, ": "...)
			b = appendPy(b, e.value)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendPyFloat writes a float as Python's repr (json.dumps of a float).
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	a := math.Abs(f)
	if a != 0 && (a >= 1e16 || a < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+16 / e-05 as Python does, but mantissas like "1e+16" too.
		return append(b, s...)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b = append(b, s...)
	if !bytes.ContainsAny([]byte(s), ".") {
		b = append(b, ".0"...)
	}
	return b
}

// appendPyText writes s as Python's json.dumps with ensure_ascii=False.
func appendPyText(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch r {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		default:
			if r < 0x20 {
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
			} else if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = utf8.AppendRune(b, r)
			}
		}
	}
	return append(b, '"')
}

// ParseOrderedJSON reads JSON text as Python's json.loads would, objects
// keeping their key order (as pyDict) and numbers as json.Number.
func ParseOrderedJSON(text string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	v, err := readOrdered(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, InvalidParam("extra data after JSON value")
	}
	return v, nil
}

func readOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			out := []any{}
			for dec.More() {
				v, err := readOrdered(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		case '{':
			out := pyDict{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readOrdered(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, orderedAny{k.(string), v})
			}
			_, err := dec.Token()
			return out, err
		}
	}
	return tok, nil
}

// PyDumpsJSON rewrites JSON text as Python's json.dumps writes it (", " and
// ": " separators), which is how MLflow stores JSON values.
func PyDumpsJSON(text string) (string, error) {
	v, err := ParseOrderedJSON(text)
	if err != nil {
		return "", err
	}
	return pyDumps(v), nil
}

// AnyValueJSON writes a JSON value as the OTLP AnyValue MLflow's
// _set_otel_proto_anyvalue makes of it, in protobuf JSON with proto field
// names (as MLflow's message_to_json).
func AnyValueJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "{}"...)
	case bool:
		if x {
			return append(b, `{"bool_value": true}`...)
		}
		return append(b, `{"bool_value": false}`...)
	case string:
		b = append(b, `{"string_value": `...)
		return append(appendPyText(b, x), '}')
	case float64:
		return appendDouble(b, x)
	case json.Number:
		s := string(x)
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return append(append(append(b, `{"int_value": `...), s...), '}')
		}
		f, _ := strconv.ParseFloat(s, 64)
		return appendDouble(b, f)
	case []any:
		b = append(b, `{"array_value": {"values": [`...)
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AnyValueJSON(b, e)
		}
		return append(b, "]}}"...)
	case pyDict:
		b = append(b, `{"kvlist_value": {"values": [`...)
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"key": `...)
			b = appendPyText(b, e.key)
			b = append(b, `, "value": `...)
			b = AnyValueJSON(b, e.value)
			b = append(b, '}')
		}
		return append(b, "]}}"...)
	}
	return append(b, "{}"...)
}

// storedSpan is a spans.content document (Span.to_dict).
type storedSpan struct {
	TraceID      string          `json:"trace_id"`
	SpanID       string          `json:"span_id"`
	ParentSpanID *string         `json:"parent_span_id"`
	Name         string          `json:"name"`
	Start        json.Number     `json:"start_time_unix_nano"`
	End          *json.Number    `json:"end_time_unix_nano"`
	Events       json.RawMessage `json:"events"`
	Status       struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Attributes json.RawMessage `json:"attributes"`
}

// SpanOTelJSON writes a stored span (spans.content) as the OTLP span
// MLflow's Span.to_otel_proto answers in get_trace and batchGet: ids in
// base64, each attribute's stored JSON read back into an AnyValue.
func SpanOTelJSON(b []byte, content string) ([]byte, error) {
	s, err := readStoredSpan([]byte(content))
	if err != nil {
		// Not the plain shape (say, written by another version): the
		// general decoder.
		s = storedSpan{}
		dec := json.NewDecoder(bytes.NewReader([]byte(content)))
		dec.UseNumber()
		if err := dec.Decode(&s); err != nil {
			return nil, err
		}
	}
	b = append(b, `{"trace_id": `...)
	b = appendPyText(b, s.TraceID)
	b = append(b, `, "span_id": `...)
	b = appendPyText(b, s.SpanID)
	if s.ParentSpanID != nil && *s.ParentSpanID != "" {
		b = append(b, `, "parent_span_id": `...)
		b = appendPyText(b, *s.ParentSpanID)
	}
	b = append(b, `, "name": `...)
	b = appendPyText(b, s.Name)
	b = append(b, `, "start_time_unix_nano": `...)
	b = append(b, s.Start...)
	if s.End != nil && *s.End != "" && *s.End != "0" {
		b = append(b, `, "end_time_unix_nano": `...)
		b = append(b, *s.End...)
	}
	if len(s.Attributes) > 0 && string(s.Attributes) != "null" {
		mark := len(b)
		var ok bool
		if b, ok = appendAttributesJSON(b, s.Attributes); !ok {
			b = b[:mark]
		}
	}
	if len(s.Events) > 0 && string(s.Events) != "null" && string(s.Events) != "[]" {
		evs, err := ParseOrderedJSON(string(s.Events))
		if err != nil {
			return nil, err
		}
		if list, ok := evs.([]any); ok && len(list) > 0 {
			b = append(b, `, "events": [`...)
			for i, e := range list {
				if i > 0 {
					b = append(b, ", "...)
				}
				b = appendEvent(b, e)
			}
			b = append(b, ']')
		}
	}
	b = append(b, `, "status": {`...)
	code := s.Status.Code
	if code == "" || code == "UNSET" {
		code = "STATUS_CODE_UNSET"
	} else if code == "OK" || code == "ERROR" {
		code = "STATUS_CODE_" + code
	}
	if s.Status.Message != "" {
		b = append(b, `"message": `...)
		b = appendPyText(b, s.Status.Message)
		b = append(b, ", "...)
	}
	b = append(b, `"code": "`+code+`"}}`...)
	return b, nil
}

func appendEvent(b []byte, e any) []byte {
	d, _ := e.(pyDict)
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ", "...)
		}
		first = false
	}
	for _, kv := range d {
		switch kv.key {
		case "time_unix_nano":
			if n, ok := kv.value.(json.Number); ok {
				sep()
				b = append(b, `"time_unix_nano": `...)
				b = append(b, n...)
			}
		case "name":
			if s, ok := kv.value.(string); ok {
				sep()
				b = append(b, `"name": `...)
				b = appendPyText(b, s)
			}
		case "attributes":
			if a, ok := kv.value.(pyDict); ok && len(a) > 0 {
				sep()
				b = append(b, `"attributes": [`...)
				for i, at := range a {
					if i > 0 {
						b = append(b, ", "...)
					}
					b = append(b, `{"key": `...)
					b = appendPyText(b, at.key)
					b = append(b, `, "value": `...)
					b = AnyValueJSON(b, at.value)
					b = append(b, '}')
				}
				b = append(b, ']')
			}
		}
	}
	return append(b, '}')
}
