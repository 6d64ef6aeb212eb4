package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
)

// TestTraceV2 runs MLflow 2's trace API over HTTP: start (POST traces),
// end (PATCH traces/{request_id}), traces/{request_id}/info and the GET
// traces search, with TraceInfoV2's shape and MLflow's errors.
func TestTraceV2(t *testing.T) {
	base, s := newTraceServer(t)
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "v2", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.GetExperiment(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	api := base + "/api/2.0/mlflow/"
	r := send(t, "POST", api+"traces", []byte(`{"experiment_id": "`+exp+`", "timestamp_ms": 1000,
		"request_metadata": [{"key": "mlflow.traceInputs", "value": "{}"}], "tags": [{"key": "app", "value": "x"}]}`))
	var started struct {
		TraceInfo struct {
			RequestID       string            `json:"request_id"`
			ExperimentID    string            `json:"experiment_id"`
			TimestampMs     int64             `json:"timestamp_ms"`
			ExecutionTimeMs *int64            `json:"execution_time_ms"`
			Status          string            `json:"status"`
			RequestMetadata []json.RawMessage `json:"request_metadata"`
			Tags            []struct{ Key, Value string }
		} `json:"trace_info"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &started) != nil {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	ti := started.TraceInfo
	id := ti.RequestID
	tags := map[string]string{}
	for _, kv := range ti.Tags {
		tags[kv.Key] = kv.Value
	}
	if len(id) != 32 || ti.ExperimentID != exp || ti.TimestampMs != 1000 || ti.ExecutionTimeMs != nil || ti.Status != "IN_PROGRESS" ||
		len(ti.RequestMetadata) != 1 || tags["app"] != "x" || tags["mlflow.artifactLocation"] != artifact.AppendToURI(e.ArtifactLocation, "traces", id, "artifacts") {
		t.Fatalf("start: %s", r.body)
	}
	r = send(t, "PATCH", api+"traces/"+id, []byte(`{"timestamp_ms": 1300, "status": "ERROR", "tags": [{"key": "done", "value": "1"}]}`))
	ended := r.json(t)["trace_info"].(map[string]any)
	if r.status != 200 || ended["execution_time_ms"] != 300.0 || ended["status"] != "ERROR" {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	r = send(t, "GET", api+"traces/"+id+"/info", nil)
	info := r.json(t)["trace_info"].(map[string]any)
	if r.status != 200 || info["request_id"] != id || !strings.Contains(fmt.Sprint(info["tags"]), "map[key:done value:1]") {
		t.Fatalf("info: %d %s", r.status, r.body)
	}
	// v3 sees the same trace.
	r = send(t, "GET", base+"/api/3.0/mlflow/traces/"+id, nil)
	if r.status != 200 || r.json(t)["trace"].(map[string]any)["trace_info"].(map[string]any)["state"] != "ERROR" {
		t.Fatalf("v3 info: %d %s", r.status, r.body)
	}
	second := send(t, "POST", api+"traces", []byte(`{"experiment_id": "`+exp+`", "timestamp_ms": 2000}`)).json(t)["trace_info"].(map[string]any)["request_id"].(string)
	q := url.Values{"experiment_ids": {exp}, "max_results": {"1"}}
	r = send(t, "GET", api+"traces?"+q.Encode(), nil)
	m := r.json(t)
	if r.status != 200 || fmt.Sprint(m["traces"].([]any)[0].(map[string]any)["request_id"]) != second || m["next_page_token"] == nil {
		t.Fatalf("search page 1: %d %s", r.status, r.body)
	}
	q.Set("page_token", m["next_page_token"].(string))
	r = send(t, "GET", api+"traces?"+q.Encode(), nil)
	if m = r.json(t); r.status != 200 || m["traces"].([]any)[0].(map[string]any)["request_id"] != id {
		t.Fatalf("search page 2: %d %s", r.status, r.body)
	}
	q.Del("page_token")
	q.Set("filter", "trace.status = 'ERROR'")
	q.Set("max_results", "10")
	r = send(t, "GET", api+"traces?"+q.Encode(), nil)
	m = r.json(t)
	if r.status != 200 || len(m["traces"].([]any)) != 1 || m["traces"].([]any)[0].(map[string]any)["request_id"] != id {
		t.Fatalf("search filtered: %d %s", r.status, r.body)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		code, msg          string
	}{
		{"POST", "traces", `{"experiment_id": "999999", "timestamp_ms": 1}`, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999999 exists"},
		{"POST", "traces", `{"experiment_id": "` + exp + `", "tags": [{"value": "v"}]}`, 400, "INVALID_PARAMETER_VALUE", "tags"},
		{"PATCH", "traces/nope", `{"timestamp_ms": 1, "status": "OK"}`, 404, "RESOURCE_DOES_NOT_EXIST", "Trace with ID 'nope' not found."},
		{"PATCH", "traces/" + id, `{"timestamp_ms": 1, "status": "DONE"}`, 400, "INVALID_PARAMETER_VALUE", "status"},
		{"GET", "traces/nope/info", "", 404, "RESOURCE_DOES_NOT_EXIST", "Trace with ID 'nope' not found."},
		{"GET", "traces", "", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_ids'"},
		{"GET", "traces?experiment_ids=" + exp + "&max_results=501", "", 400, "INVALID_PARAMETER_VALUE", "max_results"},
		{"GET", "traces?experiment_ids=" + exp + "&filter=bogus", "", 400, "INVALID_PARAMETER_VALUE", ""},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		r := send(t, tc.method, api+tc.path, body)
		m := r.json(t)
		if r.status != tc.status || m["error_code"] != tc.code || !strings.Contains(fmt.Sprint(m["message"]), tc.msg) {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.status, r.body)
		}
	}
}
