package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

func newGenAIServer(t *testing.T) string {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateExperiment(context.Background(), "e", "", nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{Tracking: s, Registry: s, LoggedModels: s, Datasets: s, Scorers: s}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/3.0/mlflow/"
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, url, b)
	}
	return resp.StatusCode, m
}

// TestDatasetAndScorerAPI drives the endpoints over HTTP: the answers the
// client reads and MLflow's 4xx (never a 5xx) for unknown ids and bad input.
func TestDatasetAndScorerAPI(t *testing.T) {
	base := newGenAIServer(t)
	st, m := call(t, "POST", base+"datasets/create", `{"name": "ds", "experiment_ids": ["1"], "tags": "{\"k\": \"v\", \"n\": 3, \"b\": true}"}`)
	if st != 200 {
		t.Fatalf("create: %d %v", st, m)
	}
	d := m["dataset"].(map[string]any)
	id := d["dataset_id"].(string)
	if d["tags"] != `{"k": "v", "n": "3", "b": "True"}` || d["experiment_ids"].([]any)[0] != "1" {
		t.Fatalf("created %v", d)
	}
	st, m = call(t, "POST", base+"datasets/"+id+"/records", `{"records": "[{\"inputs\": {\"q\": \"caf\u00e9\"}, \"expectations\": {\"a\": 1}, \"source\": {\"source_type\": \"TRACE\", \"source_data\": {\"trace_id\": \"tr-9\"}}}]"}`)
	if st != 200 || m["inserted_count"] != 1.0 || m["updated_count"] != 0.0 {
		t.Fatalf("upsert: %d %v", st, m)
	}
	st, m = call(t, "GET", base+"datasets/"+id+"/records?max_results=10", "")
	want := `"inputs": {"q": "caf\u00e9"}, "expectations": {"a": 1}, "tags": {}, "source": {"source_type": "TRACE", "source_data": {"trace_id": "tr-9"}}, "source_id": "tr-9", "source_type": "TRACE", "created_time": `
	if st != 200 || !strings.Contains(m["records"].(string), want) || !strings.HasSuffix(m["records"].(string), `, "outputs": {}}]`) {
		t.Fatalf("records: %d %v\nwant inside: %s", st, m, want)
	}
	st, m = call(t, "GET", base+"datasets/"+id+"/experiment-ids", "")
	if st != 200 || len(m["experiment_ids"].([]any)) != 1 {
		t.Fatalf("experiment ids: %d %v", st, m)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code, msg          string
	}{
		{"GET", "datasets/d-nope", "", 404, "RESOURCE_DOES_NOT_EXIST", "Evaluation dataset with id 'd-nope' not found"},
		{"POST", "datasets/d-nope/records", `{"records": "[]"}`, 404, "RESOURCE_DOES_NOT_EXIST", "Could not find evaluation dataset with ID d-nope"},
		{"GET", "datasets/d-nope/records", "", 404, "RESOURCE_DOES_NOT_EXIST", "Could not find evaluation dataset with ID d-nope"},
		{"PATCH", "datasets/d-nope/tags", `{"tags": "{}"}`, 404, "RESOURCE_DOES_NOT_EXIST", "Could not find evaluation dataset"},
		{"POST", "datasets/d-nope/add-experiments", `{"experiment_ids": ["1"]}`, 404, "RESOURCE_DOES_NOT_EXIST", "Dataset 'd-nope' not found"},
		{"POST", "datasets/" + id + "/add-experiments", `{"experiment_ids": ["77"]}`, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=77"},
		{"POST", "datasets/create", `{"experiment_ids": ["1"]}`, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'"},
		{"POST", "datasets/create", `{"name": "x", "tags": "not json"}`, 400, "INVALID_PARAMETER_VALUE", "'tags'"},
		{"POST", "datasets/create", `{"name": "x", "tags": "[1]"}`, 400, "INVALID_PARAMETER_VALUE", "'tags'"},
		{"POST", "datasets/" + id + "/records", `{}`, 400, "INVALID_PARAMETER_VALUE", "'records'"},
		{"POST", "datasets/" + id + "/records", `{"records": "nope"}`, 400, "INVALID_PARAMETER_VALUE", "'records'"},
		{"POST", "datasets/" + id + "/records", `{"records": "[1]"}`, 400, "INVALID_PARAMETER_VALUE", "index 0"},
		{"POST", "datasets/" + id + "/records", `{"records": "[{\"inputs\": \"q\"}]"}`, 400, "INVALID_PARAMETER_VALUE", "'inputs' must be a JSON object"},
		{"POST", "datasets/" + id + "/records", `{"records": "[{\"inputs\": {}, \"source\": {\"source_type\": \"ALIEN\"}}]"}`, 400, "INVALID_PARAMETER_VALUE", "source_type"},
		{"POST", "datasets/" + id + "/records", `{"records": 5}`, 400, "INVALID_PARAMETER_VALUE", "records"},
		{"GET", "datasets/" + id + "/records?page_token=%25%25", "", 400, "INVALID_PARAMETER_VALUE", "Invalid page token"},
		{"GET", "datasets/" + id + "/records?max_results=abc", "", 400, "INVALID_PARAMETER_VALUE", "max_results"},
		{"POST", "datasets/search", `{"filter_string": "bogus = 1"}`, 400, "INVALID_PARAMETER_VALUE", "Invalid attribute key 'bogus'"},
		{"POST", "datasets/search", `{"order_by": ["tags.k"]}`, 400, "INVALID_PARAMETER_VALUE", "Invalid order_by entity"},
		{"POST", "datasets/search", `{"page_token": "garbage"}`, 400, "INVALID_PARAMETER_VALUE", ""},
		{"POST", "scorers/register", `{"experiment_id": "1", "name": "s"}`, 400, "INVALID_PARAMETER_VALUE", "serialized_scorer"},
		{"POST", "scorers/register", `{"experiment_id": "99", "name": "s", "serialized_scorer": "{}"}`, 404, "RESOURCE_DOES_NOT_EXIST", ""},
		{"GET", "scorers/get?experiment_id=1&name=none", "", 404, "RESOURCE_DOES_NOT_EXIST", "Scorer with name 'none' not found for experiment 1."},
		{"GET", "scorers/get?experiment_id=1&name=none&version=x", "", 400, "INVALID_PARAMETER_VALUE", "version"},
		{"DELETE", "scorers/delete", `{"experiment_id": "1", "name": "none"}`, 404, "RESOURCE_DOES_NOT_EXIST", "Scorer with name 'none' not found"},
		{"GET", "datasets/nothing/here/at/all", "", 404, "ENDPOINT_NOT_FOUND", ""},
	} {
		st, m := call(t, c.method, base+c.path, c.body)
		if st != c.status || m["error_code"] != c.code || !strings.Contains(m["message"].(string), c.msg) {
			t.Errorf("%s %s %s: %d %v, want %d %s %q", c.method, c.path, c.body, st, m, c.status, c.code, c.msg)
		}
	}
	// Scorers: two versions, the latest by default, then one deleted.
	for _, s := range []string{`{"type": "a"}`, `{"type": "b"}`} {
		body, _ := json.Marshal(map[string]string{"experiment_id": "1", "name": "rel", "serialized_scorer": s})
		if st, m := call(t, "POST", base+"scorers/register", string(body)); st != 200 || m["name"] != "rel" || m["experiment_id"] != "1" {
			t.Fatalf("register: %d %v", st, m)
		}
	}
	st, m = call(t, "GET", base+"scorers/get?experiment_id=1&name=rel", "")
	if sc := m["scorer"].(map[string]any); st != 200 || sc["scorer_version"] != 2.0 || sc["experiment_id"] != 1.0 || sc["serialized_scorer"] != `{"type": "b"}` {
		t.Fatalf("get latest: %d %v", st, m)
	}
	if st, m = call(t, "DELETE", base+"scorers/delete", `{"experiment_id": "1", "name": "rel", "version": 2}`); st != 200 {
		t.Fatalf("delete version: %d %v", st, m)
	}
	st, m = call(t, "GET", base+"scorers/list?experiment_id=1", "")
	if l := m["scorers"].([]any); st != 200 || len(l) != 1 || l[0].(map[string]any)["scorer_version"] != 1.0 {
		t.Fatalf("list: %d %v", st, m)
	}
	if st, m = call(t, "DELETE", base+"datasets/"+id, ""); st != 200 {
		t.Fatalf("delete: %d %v", st, m)
	}
	if st, m = call(t, "DELETE", base+"datasets/"+id, ""); st != 200 {
		t.Fatalf("delete again: %d %v", st, m)
	}
}
