package auth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUIRoutesScope checks MLflow's UI-only routes beyond the matrix's
// yes/no: search-datasets answers only the readable experiments' datasets,
// get-history-bulk refuses when one run is unreadable, and upload-artifact
// takes its run from the query string (the body is the file) and needs
// EDIT.
func TestUIRoutesScope(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "READ")
		owner := s.createUser("owner", passwordOf("owner"))
		other := s.createUser("other", passwordOf("other"))
		var exps, runs []string
		for _, name := range []string{"open", "closed"} {
			exp := s.must(owner, "POST", "experiments/create", map[string]any{"name": name})["experiment_id"].(string)
			run := s.must(owner, "POST", "runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
			s.must(owner, "POST", "runs/log-inputs", map[string]any{"run_id": run, "datasets": []any{map[string]any{
				"dataset": map[string]any{"name": "ds-" + name, "digest": "d", "source_type": "local", "source": "{}"}}}})
			s.must(owner, "POST", "runs/log-metric", map[string]any{"run_id": run, "key": "m", "value": 1, "timestamp": 1, "step": 0})
			exps, runs = append(exps, exp), append(runs, run)
		}
		s.grantExperiment(exps[1], "other", "NO_PERMISSIONS")

		r := s.do(other, "POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", map[string]any{"experiment_ids": exps})
		var got struct {
			Summaries []struct{ Name string } `json:"dataset_summaries"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil || len(got.Summaries) != 1 || got.Summaries[0].Name != "ds-open" {
			t.Fatalf("search-datasets over a readable and an unreadable experiment: %d %s", r.status, r.body)
		}
		if r := s.do(other, "POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", map[string]any{"experiment_ids": exps[1:]}); r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("search-datasets over an unreadable experiment only: %d %s", r.status, r.body)
		}
		bulk := "/ajax-api/2.0/mlflow/metrics/get-history-bulk?metric_key=m&run_id=" + runs[0]
		if r := s.do(other, "GET", bulk, nil); r.status != http.StatusOK {
			t.Fatalf("get-history-bulk of a readable run: %d %s", r.status, r.body)
		}
		if r := s.do(other, "GET", bulk+"&run_id="+runs[1], nil); r.status != http.StatusForbidden {
			t.Fatalf("get-history-bulk with an unreadable run: %d %s", r.status, r.body)
		}
		upload := "/ajax-api/2.0/mlflow/upload-artifact?path=x.txt&run_uuid="
		if r := s.do(other, "POST", upload+runs[0], []byte("not json")); r.status != http.StatusForbidden {
			t.Fatalf("upload-artifact with READ: %d %s", r.status, r.body)
		}
		if r := s.do(owner, "POST", upload+runs[0], []byte("not json")); r.status != http.StatusOK {
			t.Fatalf("upload-artifact by the owner: %d %s", r.status, r.body)
		}
		if r := s.do(owner, "POST", "/ajax-api/2.0/mlflow/upload-artifact?path=x.txt", []byte("x")); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Request must specify run_uuid.") {
			t.Fatalf("upload-artifact without run_uuid: %d %s", r.status, r.body)
		}
	})
}
