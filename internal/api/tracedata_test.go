package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/api"
	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// TestTraceArtifact downloads traces.json over HTTP
// (/ajax-api/2.0/mlflow/get-trace-artifact): from the artifact store for
// a trace whose spans live there (written through the artifact proxy, as
// the client does), from the spans table for one whose spans are stored,
// and MLflow's errors otherwise.
func TestTraceArtifact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlstore.Open(ctx, "sqlite:///"+filepath.Join(dir, "mlflow.db"), sqlstore.Options{DefaultArtifactRoot: "mlflow-artifacts:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	proxy, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&api.API{Tracking: s, Traces: s, Artifacts: &artifact.Resolver{Proxy: proxy, Roots: map[string]artifact.Repository{}}}).Register(mux)
	api.RegisterArtifactProxy(mux, proxy, api.ArtifactProxyOptions{})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL
	get := base + "/ajax-api/2.0/mlflow/get-trace-artifact?request_id="

	exp, err := s.CreateExperiment(ctx, "data", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A v2 trace: its spans go to <location>/traces/<id>/artifacts/traces.json.
	v2, err := s.StartTraceV2(ctx, exp, 1000, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := v2.TraceID
	r := send(t, "GET", get+id, nil)
	if m := r.json(t); r.status != 404 || m["error_code"] != "NOT_FOUND" || m["message"] != "Trace data not found for path=traces.json" {
		t.Fatalf("no data: %d %s", r.status, r.body)
	}
	loc, err := artifact.ProxyPath(artifact.AppendToURI(v2.Tags[mlflow.TraceTagArtifactLocation], "traces.json"))
	if err != nil {
		t.Fatal(err)
	}
	put := base + "/api/2.0/mlflow-artifacts/artifacts/" + loc
	data := `{"spans":[{"name":"root","span_id":"AQ=="}],"request":"{\"q\": 1}"}`
	if r := send(t, "PUT", put, []byte(data)); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	r = send(t, "GET", get+id, nil)
	want := `{"spans": [{"name": "root", "span_id": "AQ=="}], "request": "{\"q\": 1}"}`
	if r.status != 200 || string(r.body) != want || r.header.Get("Content-Type") != "application/json" ||
		r.header.Get("Content-Disposition") != "attachment; filename=traces.json" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("artifact data: %d %v %s", r.status, r.header, r.body)
	}
	if r := send(t, "PUT", put, []byte(`not json`)); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	r = send(t, "GET", get+id, nil)
	if m := r.json(t); r.status != 500 || m["error_code"] != "INVALID_STATE" {
		t.Fatalf("corrupted: %d %s", r.status, r.body)
	}
	// A location tag that is not the trace's own folder is refused.
	if err := s.SetTraceTag(ctx, id, mlflow.TraceTagArtifactLocation, "mlflow-artifacts:/"+exp); err != nil {
		t.Fatal(err)
	}
	r = send(t, "GET", get+id, nil)
	if m := r.json(t); r.status != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(m["message"].(string), "is not its own folder") {
		t.Fatalf("foreign folder: %d %s", r.status, r.body)
	}

	// A trace whose spans are in the spans table: TraceData.to_dict of them.
	end := int64(20)
	sp := mlflow.Span{TraceID: "tr-db", SpanID: "s1", Name: "root", Status: "OK", Start: 10, End: &end, Content: `{"name":"root","span_id":"s1"}`}
	if err := s.LogSpans(ctx, exp, []store.SpanBatch{{TraceID: "tr-db", Spans: []mlflow.Span{sp}}}); err != nil {
		t.Fatal(err)
	}
	r = send(t, "GET", get+"tr-db", nil)
	if r.status != 200 || string(r.body) != `{"spans": [{"name": "root", "span_id": "s1"}]}` {
		t.Fatalf("db data: %d %s", r.status, r.body)
	}

	for _, tc := range []struct {
		url       string
		status    int
		code, msg string
	}{
		{base + "/ajax-api/2.0/mlflow/get-trace-artifact", 400, "BAD_REQUEST", `Request must include the "request_id" query parameter.`},
		{get + "nope", 404, "RESOURCE_DOES_NOT_EXIST", "Trace with ID nope is not found."},
	} {
		r := send(t, "GET", tc.url, nil)
		if m := r.json(t); r.status != tc.status || m["error_code"] != tc.code || m["message"] != tc.msg {
			t.Errorf("%s: %d %s", tc.url, r.status, r.body)
		}
	}
}
