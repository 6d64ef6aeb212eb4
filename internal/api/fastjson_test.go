package api

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// slowMetrics is the general path fastMetrics stands in for.
func slowMetrics(raw string) ([]mlflow.Metric, error) {
	p := &params{body: map[string]json.RawMessage{"metrics": json.RawMessage(raw)}}
	objs, err := objectList(p, "metrics")
	if err != nil {
		return nil, err
	}
	out := make([]mlflow.Metric, len(objs))
	for i, o := range objs {
		if out[i], err = metricFields(o, fmt.Sprintf("metrics[%d].", i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TestFastMetrics checks that the fast log-batch reader gives what the
// general path gives, and leaves to it every case it does not handle
// exactly (errors, escapes, nulls, duplicates, odd numbers).
func TestFastMetrics(t *testing.T) {
	cases := []struct {
		raw  string
		fast bool
	}{
		{`[]`, true},
		{` [ ] `, true},
		{`[{"key": "a", "value": 1.5, "timestamp": 10, "step": 2}]`, true},
		{`[{"key":"a","value":-1e-7,"timestamp":10},{"timestamp": 3, "value": "NaN", "key": "b/c", "extra": {"x": [1, "}"]}}]`, true},
		{`[{"key": "a", "value": "Infinity", "timestamp": "10", "step": 2}]`, false},
		{`[{"key": "a", "value": 1, "timestamp": 10, "step": 2.5}]`, false},
		{`[{"key": "a", "value": 1, "timestamp": 10, "model_id": "m-1", "dataset_name": "d", "dataset_digest": "x"}]`, true},
		{`[{"key": "a\"b", "value": 1, "timestamp": 10}]`, false},
		{`[{"key": "a", "value": 1, "timestamp": 10, "key": "b"}]`, false},
		{`[{"key": "a", "value": null, "timestamp": 10}]`, false},
		{`[{"key": "a", "timestamp": 10}]`, false},
		{`[{"key": "", "value": 1, "timestamp": 10}]`, false},
		{`[{"key": "../x", "value": 1, "timestamp": 10}]`, false},
		{`[{"key": "a", "value": 1e999, "timestamp": 10}]`, false},
		{`[{"key": "a", "value": true, "timestamp": 10}]`, false},
		{`[1, 2]`, false},
		{`{"key": "a"}`, false},
		{`"x"`, false},
		{`[{}]`, false},
	}
	for _, c := range cases {
		got, fast := fastMetrics(json.RawMessage(c.raw))
		if fast != c.fast {
			t.Errorf("%s: fast = %v, want %v", c.raw, fast, c.fast)
			continue
		}
		if !fast {
			continue
		}
		want, err := slowMetrics(c.raw)
		if err != nil {
			t.Errorf("%s: the general path refuses it (%v) but the fast one took it", c.raw, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n fast    %v\n general %v", c.raw, got, want)
		}
	}
}
