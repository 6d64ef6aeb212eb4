package mlflow

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// A small JSON reader that writes a JSON value straight out as an OTLP
// AnyValue (AnyValueJSON without building the value first): reading a
// 1,000-span trace spends most of its time here.

var errBadJSON = errors.New("bad JSON")

func skipSpace(in []byte) []byte {
	for len(in) > 0 && (in[0] == ' ' || in[0] == '\n' || in[0] == '\r' || in[0] == '\t') {
		in = in[1:]
	}
	return in
}

// readJSONString reads a JSON string at the start of in.
func readJSONString(in []byte) (string, []byte, error) {
	if len(in) == 0 || in[0] != '"' {
		return "", nil, errBadJSON
	}
	escaped := false
	for i := 1; i < len(in); i++ {
		switch in[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return string(in[1:i]), in[i+1:], nil
			}
			var s string
			if err := json.Unmarshal(in[:i+1], &s); err != nil {
				return "", nil, err
			}
			return s, in[i+1:], nil
		}
	}
	return "", nil, errBadJSON
}

// appendAnyFromJSON converts the JSON value at the start of in.
func appendAnyFromJSON(b, in []byte) ([]byte, []byte, error) {
	in = skipSpace(in)
	if len(in) == 0 {
		return nil, nil, errBadJSON
	}
	switch c := in[0]; {
	case c == '"':
		s, rest, err := readJSONString(in)
		if err != nil {
			return nil, nil, err
		}
		b = append(b, `{"string_value": `...)
		return append(appendPyText(b, s), '}'), rest, nil
	case c == '{':
		b = append(b, `{"kvlist_value": {"values": [`...)
		in = skipSpace(in[1:])
		first := true
		for len(in) > 0 && in[0] != '}' {
			if !first {
				if in[0] != ',' {
					return nil, nil, errBadJSON
				}
				in = skipSpace(in[1:])
				b = append(b, ", "...)
			}
			first = false
			k, rest, err := readJSONString(in)
			if err != nil {
				return nil, nil, err
			}
			rest = skipSpace(rest)
			if len(rest) == 0 || rest[0] != ':' {
				return nil, nil, errBadJSON
			}
			b = append(b, `{"key": `...)
			b = appendPyText(b, k)
			b = append(b, `, "value": `...)
			if b, in, err = appendAnyFromJSON(b, rest[1:]); err != nil {
				return nil, nil, err
			}
			b = append(b, '}')
			in = skipSpace(in)
		}
		if len(in) == 0 {
			return nil, nil, errBadJSON
		}
		return append(b, "]}}"...), in[1:], nil
	case c == '[':
		b = append(b, `{"array_value": {"values": [`...)
		in = skipSpace(in[1:])
		first := true
		for len(in) > 0 && in[0] != ']' {
			if !first {
				if in[0] != ',' {
					return nil, nil, errBadJSON
				}
				in = in[1:]
				b = append(b, ", "...)
			}
			first = false
			var err error
			if b, in, err = appendAnyFromJSON(b, in); err != nil {
				return nil, nil, err
			}
			in = skipSpace(in)
		}
		if len(in) == 0 {
			return nil, nil, errBadJSON
		}
		return append(b, "]}}"...), in[1:], nil
	case len(in) >= 4 && string(in[:4]) == "true":
		return append(b, `{"bool_value": true}`...), in[4:], nil
	case len(in) >= 5 && string(in[:5]) == "false":
		return append(b, `{"bool_value": false}`...), in[5:], nil
	case len(in) >= 4 && string(in[:4]) == "null":
		return append(b, "{}"...), in[4:], nil
	case len(in) >= 3 && string(in[:3]) == "NaN", len(in) >= 8 && string(in[:8]) == "Infinity", len(in) >= 9 && string(in[:9]) == "-Infinity":
		n := 3
		if in[0] == 'I' {
			n = 8
		} else if in[0] == '-' {
			n = 9
		}
		f := math.NaN()
		if in[0] != 'N' {
			f = math.Inf(1)
			if in[0] == '-' {
				f = math.Inf(-1)
			}
		}
		return appendDouble(b, f), in[n:], nil
	case c == '-' || c >= '0' && c <= '9':
		i := 0
		isInt := true
		for i < len(in) && (in[i] == '-' || in[i] == '+' || in[i] >= '0' && in[i] <= '9' || in[i] == '.' || in[i] == 'e' || in[i] == 'E') {
			if in[i] == '.' || in[i] == 'e' || in[i] == 'E' {
				isInt = false
			}
			i++
		}
		num := in[:i]
		if isInt {
			if _, err := strconv.ParseInt(string(num), 10, 64); err == nil {
				return append(append(append(b, `{"int_value": `...), num...), '}'), in[i:], nil
			}
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, nil, errBadJSON
		}
		return appendDouble(b, f), in[i:], nil
	}
	return nil, nil, errBadJSON
}

// appendDouble writes an AnyValue double as protobuf JSON does: NaN and
// the infinities quoted.
func appendDouble(b []byte, f float64) []byte {
	b = append(b, `{"double_value": `...)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, '"')
		b = appendPyFloat(b, f)
		return append(b, `"}`...)
	}
	return append(appendPyFloat(b, f), '}')
}

// appendAttributesJSON writes a stored attributes object ({key: dumped
// JSON}) as OTLP KeyValues, each value loaded as MLflow does; a value that
// is not JSON stays a string.
func appendAttributesJSON(b, in []byte) ([]byte, bool) {
	in = skipSpace(in)
	if len(in) == 0 || in[0] != '{' {
		return b, false
	}
	in = skipSpace(in[1:])
	if len(in) > 0 && in[0] == '}' {
		return b, false
	}
	b = append(b, `, "attributes": [`...)
	first := true
	for len(in) > 0 && in[0] != '}' {
		if !first {
			if in[0] != ',' {
				return b, false
			}
			in = skipSpace(in[1:])
			b = append(b, ", "...)
		}
		first = false
		k, rest, err := readJSONString(in)
		if err != nil {
			return b, false
		}
		rest = skipSpace(rest)
		if len(rest) == 0 || rest[0] != ':' {
			return b, false
		}
		rest = skipSpace(rest[1:])
		b = append(b, `{"key": `...)
		b = appendPyText(b, k)
		b = append(b, `, "value": `...)
		if len(rest) > 0 && rest[0] == '"' {
			s, after, err := readJSONString(rest)
			if err != nil {
				return b, false
			}
			if nb, tail, err := appendAnyFromJSON(b, []byte(s)); err == nil && len(skipSpace(tail)) == 0 {
				b = nb
			} else {
				b = append(b, `{"string_value": `...)
				b = append(appendPyText(b, s), '}')
			}
			rest = after
		} else {
			var err error
			if b, rest, err = appendAnyFromJSON(b, rest); err != nil {
				return b, false
			}
		}
		b = append(b, '}')
		in = skipSpace(rest)
	}
	return append(b, ']'), true
}

// skipJSONValue returns in after the JSON value at its start.
func skipJSONValue(in []byte) ([]byte, error) {
	in = skipSpace(in)
	if len(in) == 0 {
		return nil, errBadJSON
	}
	if in[0] == '"' {
		_, rest, err := readJSONString(in)
		return rest, err
	}
	if in[0] != '{' && in[0] != '[' {
		i := 0
		for i < len(in) && in[i] != ',' && in[i] != '}' && in[i] != ']' && in[i] != ' ' && in[i] != '\n' {
			i++
		}
		return in[i:], nil
	}
	depth := 0
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '"':
			_, rest, err := readJSONString(in[i:])
			if err != nil {
				return nil, err
			}
			i = len(in) - len(rest) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return in[i+1:], nil
			}
		}
	}
	return nil, errBadJSON
}

// readStoredSpan reads a spans.content document (one object of plain
// fields) without reflection; anything unexpected is an error and the
// caller falls back to encoding/json.
func readStoredSpan(in []byte) (storedSpan, error) {
	var s storedSpan
	in = skipSpace(in)
	if len(in) == 0 || in[0] != '{' {
		return s, errBadJSON
	}
	in = skipSpace(in[1:])
	first := true
	for len(in) > 0 && in[0] != '}' {
		if !first {
			if in[0] != ',' {
				return s, errBadJSON
			}
			in = skipSpace(in[1:])
		}
		first = false
		k, rest, err := readJSONString(in)
		if err != nil {
			return s, err
		}
		rest = skipSpace(rest)
		if len(rest) == 0 || rest[0] != ':' {
			return s, errBadJSON
		}
		rest = skipSpace(rest[1:])
		after, err := skipJSONValue(rest)
		if err != nil {
			return s, err
		}
		val := rest[:len(rest)-len(after)]
		switch k {
		case "trace_id", "span_id", "name":
			v, _, err := readJSONString(val)
			if err != nil {
				return s, err
			}
			switch k {
			case "trace_id":
				s.TraceID = v
			case "span_id":
				s.SpanID = v
			default:
				s.Name = v
			}
		case "parent_span_id":
			if string(val) != "null" {
				v, _, err := readJSONString(val)
				if err != nil {
					return s, err
				}
				s.ParentSpanID = &v
			}
		case "start_time_unix_nano":
			s.Start = json.Number(val)
		case "end_time_unix_nano":
			if string(val) != "null" {
				n := json.Number(val)
				s.End = &n
			}
		case "events":
			s.Events = val
		case "attributes":
			s.Attributes = val
		case "status":
			if err := json.Unmarshal(val, &s.Status); err != nil {
				return s, err
			}
		}
		in = skipSpace(after)
	}
	if len(in) == 0 {
		return s, errBadJSON
	}
	return s, nil
}
