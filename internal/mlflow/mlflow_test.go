package mlflow

import (
	"encoding/json"
	"math"
	"testing"
)

func TestValidateKey(t *testing.T) {
	cases := []struct {
		key     string
		wantErr string
	}{
		{"loss", ""},
		{"system/gpu_0_utilization_percentage", ""},
		{"my key.with-dots:and/slash", ""},
		{"ünïcode", ""},
		{"bad*key", `Invalid value "bad*key" for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`},
		{"../escape", `Invalid value "../escape" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../escape'`},
		{"a/../b", `Invalid value "a/../b" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to 'b'`},
		{"/abs", `Invalid value "/abs" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '/abs'`},
		{"a//b", `Invalid value "a//b" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to 'a/b'`},
		{".", `Invalid value "." for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '.'`},
	}
	for _, c := range cases {
		err := ValidateKey(c.key, "key")
		got := ""
		if err != nil {
			got = err.(*Error).Message
		}
		if got != c.wantErr {
			t.Errorf("ValidateKey(%q) = %q, want %q", c.key, got, c.wantErr)
		}
	}
}

func TestFloatJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{
		{`1.5`, 1.5}, {`"2.5"`, 2.5}, {`"NaN"`, math.NaN()}, {`"Infinity"`, math.Inf(1)}, {`"-Infinity"`, math.Inf(-1)}, {`-3`, -3},
	} {
		var f Float
		if err := json.Unmarshal([]byte(c.in), &f); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if g := float64(f); g != c.want && !(math.IsNaN(g) && math.IsNaN(c.want)) {
			t.Errorf("%s -> %v, want %v", c.in, g, c.want)
		}
	}
	var f Float
	if err := json.Unmarshal([]byte(`"abc"`), &f); err == nil {
		t.Error(`"abc" was accepted as a metric value`)
	}
	for _, c := range []struct {
		v    float64
		want string
	}{
		{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {0.25, `0.25`}, {967, `967`}, {1.7976931348623157e308, `1.7976931348623157e+308`}, {5e-324, `5e-324`},
	} {
		b, _ := json.Marshal(Float(c.v))
		if string(b) != c.want {
			t.Errorf("marshal %v = %s, want %s", c.v, b, c.want)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	for code, want := range map[ErrorCode]int{
		InvalidParameterValue: 400, ResourceDoesNotExist: 404, ResourceAlreadyExists: 400, InternalError: 500,
		InvalidState: 500, PermissionDenied: 403, Unauthenticated: 401, TemporarilyUnavailable: 503, NotImplemented: 501,
	} {
		if got := (&Error{Code: code}).HTTPStatus(); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
	if got := (&Error{Code: InvalidState, Status: 400}).HTTPStatus(); got != 400 {
		t.Errorf("status override: %d", got)
	}
}
