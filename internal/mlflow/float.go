package mlflow

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// MaxFloat is what MLflow stores for +Inf (and its negation for -Inf): it
// clamps infinities on write, so they read back as finite numbers.
const MaxFloat = math.MaxFloat64

// Float is a metric value. On the wire MLflow (protobuf JSON) writes NaN as
// the string "NaN" and accepts "NaN", "Infinity" and "-Infinity" as strings,
// as well as numbers and numeric strings.
type Float float64

// MarshalJSON writes NaN and infinities as protobuf JSON does.
func (f Float) MarshalJSON() ([]byte, error) {
	return f.AppendJSON(make([]byte, 0, 24)), nil
}

// AppendJSON appends f as MarshalJSON writes it, without allocating: the
// metric streams (get-history) write hundreds of thousands of values.
func (f Float) AppendJSON(b []byte) []byte {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return appendFloat(b, v)
}

// appendFloat writes v as Python's json does (repr: shortest round-trip,
// exponent form for large and small magnitudes, ".0" never added).
func appendFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e16 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	abs := math.Abs(v)
	if abs >= 1e16 || abs < 1e-4 {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// UnmarshalJSON accepts numbers, numeric strings and the special strings.
func (f *Float) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = Float(math.NaN())
			return nil
		case "Infinity":
			*f = Float(math.Inf(1))
			return nil
		case "-Infinity":
			*f = Float(math.Inf(-1))
			return nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return &json.UnmarshalTypeError{Value: "string", Type: floatType}
		}
		*f = Float(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

var floatType = reflect.TypeFor[float64]()
