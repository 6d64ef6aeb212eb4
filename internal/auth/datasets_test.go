package auth_test

import (
	"slices"
	"sort"
	"testing"
)

// TestDatasetSearchFiltered: with NO_PERMISSIONS as the default, a user
// searching datasets sees only those whose experiments they may read (and
// those linked to no experiment, as MLflow checks none); naming an
// experiment they may not read answers nothing.
func TestDatasetSearchFiltered(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "NO_PERMISSIONS")
		owner := s.createUser("owner", passwordOf("owner"))
		reader := s.createUser("reader", passwordOf("reader"))
		var exps []string
		for _, n := range []string{"open", "closed"} {
			exps = append(exps, s.must(owner, "POST", "experiments/create", map[string]any{"name": n})["experiment_id"].(string))
		}
		s.grantExperiment(exps[0], "reader", "READ")
		mk := func(name string, exps ...string) {
			s.must(owner, "POST", "/api/3.0/mlflow/datasets/create", map[string]any{"name": name, "experiment_ids": exps})
		}
		mk("in-open", exps[0])
		mk("in-closed", exps[1])
		mk("in-both", exps[0], exps[1])
		mk("in-none")
		names := func(body map[string]any) []string {
			var out []string
			ds, _ := body["datasets"].([]any)
			for _, d := range ds {
				out = append(out, d.(map[string]any)["name"].(string))
			}
			sort.Strings(out)
			return out
		}
		got := names(s.must(reader, "POST", "/api/3.0/mlflow/datasets/search", map[string]any{}))
		if want := []string{"in-none", "in-open"}; !slices.Equal(got, want) {
			t.Errorf("reader sees %v, want %v", got, want)
		}
		// Pages refill: one dataset per page still finds both.
		got = nil
		token := ""
		for range 10 {
			body := map[string]any{"max_results": 1}
			if token != "" {
				body["page_token"] = token
			}
			r := s.must(reader, "POST", "/api/3.0/mlflow/datasets/search", body)
			got = append(got, names(r)...)
			token, _ = r["next_page_token"].(string)
			if token == "" {
				break
			}
		}
		sort.Strings(got)
		if want := []string{"in-none", "in-open"}; !slices.Equal(got, want) {
			t.Errorf("reader pages %v, want %v", got, want)
		}
		if got := names(s.must(reader, "POST", "/api/3.0/mlflow/datasets/search", map[string]any{"experiment_ids": []string{exps[1]}})); len(got) != 0 {
			t.Errorf("reader sees %v in the closed experiment", got)
		}
		if got := names(s.must(owner, "POST", "/api/3.0/mlflow/datasets/search", map[string]any{})); len(got) != 4 {
			t.Errorf("owner sees %v", got)
		}
		// An unknown dataset is a 404 before any permission question.
		if r := s.do(reader, "GET", "/api/3.0/mlflow/datasets/d-0000", nil); r.status != 404 {
			t.Errorf("unknown dataset: %d %s", r.status, r.body)
		}
	})
}
