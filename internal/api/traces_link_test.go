package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// TestTraceLinkToRun links traces to a run over HTTP
// (/api/2.0/mlflow/traces/link-to-run) and finds them with traces/search's
// run_id filter, with MLflow's errors for bad requests.
func TestTraceLinkToRun(t *testing.T) {
	url, s := newTraceServer(t)
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "links", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1, UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	runID := run.Info.RunID
	for i := range 3 {
		if _, err := s.StartTrace(ctx, mlflow.TraceInfo{TraceID: fmt.Sprintf("tr-%d", i), ExperimentID: exp, RequestTime: int64(1000 + i), State: mlflow.TraceStateOK}); err != nil {
			t.Fatal(err)
		}
	}
	link := url + "/api/2.0/mlflow/traces/link-to-run"
	for _, tc := range []struct {
		body   string
		status int
		code   string
		msg    string
	}{
		{`{"run_id": "` + runID + `"}`, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'trace_ids'"},
		{`{"trace_ids": ["tr-0"]}`, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'"},
		{`{"trace_ids": ["tr-0"], "run_id": "nope"}`, 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=nope not found"},
		{`{"trace_ids": [` + strings.Repeat(`"x",`, 100) + `"x"], "run_id": "` + runID + `"}`, 400, "INVALID_PARAMETER_VALUE", "Cannot link more than 100 traces"},
	} {
		r := send(t, "POST", link, []byte(tc.body))
		m := r.json(t)
		if r.status != tc.status || m["error_code"] != tc.code || !strings.Contains(fmt.Sprint(m["message"]), tc.msg) {
			t.Errorf("%s: %d %s", tc.body, r.status, r.body)
		}
	}
	for _, u := range []string{link, strings.Replace(link, "/api/", "/ajax-api/", 1)} {
		r := send(t, "POST", u, []byte(`{"trace_ids": ["tr-0", "tr-2"], "run_id": "`+runID+`"}`))
		if r.status != 200 || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("link: %d %s", r.status, r.body)
		}
	}
	r := send(t, "POST", url+"/api/3.0/mlflow/traces/search", []byte(`{"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "`+exp+`"}}], "filter": "run_id = '`+runID+`'"}`))
	var ids []string
	for _, tr := range r.json(t)["traces"].([]any) {
		ids = append(ids, tr.(map[string]any)["trace_id"].(string))
	}
	if strings.Join(ids, ",") != "tr-2,tr-0" {
		t.Fatalf("search run_id: %s", r.body)
	}
}
