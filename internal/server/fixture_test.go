package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/testdb"
	"github.com/mltrack/mltrack/internal/testshared"
)

// TestMLflowWrittenDatabases serves the databases and artifact folders a
// real MLflow 3.6 server wrote (SQLite, and PostgreSQL restored from its
// dump) and checks that their rows come back through the API as MLflow
// serves them: special values, statuses, nested runs, datasets, histories,
// artifacts and logged models.
func TestMLflowWrittenDatabases(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "mlflow.db")
		b, err := os.ReadFile(testshared.Path(t, "mlflow-db", "mlflow-3.6.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(db, b, 0o644); err != nil {
			t.Fatal(err)
		}
		checkFixture(t, startServerWith(t, "sqlite:///"+db, untar(t, dir, "mlflow-3.6-sqlite-artifacts.tar.gz")))
	})
	t.Run("postgres", func(t *testing.T) {
		uri := testdb.PostgresURI(t)
		dump, err := os.ReadFile(testshared.Path(t, "mlflow-db", "mlflow-3.6-postgres.sql"))
		if err != nil {
			t.Fatal(err)
		}
		// psql older than 15.14 does not know pg_dump's \restrict lines.
		dump = regexp.MustCompile(`(?m)^\\(un)?restrict .*$`).ReplaceAll(dump, nil)
		cmd := exec.Command("psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri)
		cmd.Stdin = bytes.NewReader(dump)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("restore the MLflow dump: %v\n%s", err, out)
		}
		checkFixture(t, startServerWith(t, uri, untar(t, t.TempDir(), "mlflow-3.6-postgres-artifacts.tar.gz")))
	})
}

func untar(t *testing.T, dir, name string) string {
	t.Helper()
	if out, err := exec.Command("tar", "-xzf", testshared.Path(t, "mlflow-db", name), "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", name, err, out)
	}
	return filepath.Join(dir, "artifacts")
}

type api struct {
	t    *testing.T
	base string
}

func (a api) call(method, path string, body any) map[string]any {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		a.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return out
}

func (a api) raw(path string) string {
	a.t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// kv turns [{"key":k,"value":v}...] into a map.
func kv(list any) map[string]any {
	out := map[string]any{}
	for _, x := range asList(list) {
		m := x.(map[string]any)
		out[m["key"].(string)] = m["value"]
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func checkFixture(t *testing.T, base string) {
	a := api{t, base}
	const mlflowAPI = "/api/2.0/mlflow/"

	exps := a.call("POST", mlflowAPI+"experiments/search", map[string]any{"max_results": 100, "view_type": "ALL"})
	names := map[string]string{}
	for _, e := range asList(exps["experiments"]) {
		m := e.(map[string]any)
		names[m["name"].(string)] = m["lifecycle_stage"].(string)
	}
	for name, stage := range map[string]string{"Default": "active", "food11-classifier": "active", "fixture-extras": "active",
		"fixture-deleted-experiment": "deleted", "fixture-renamed": "active"} {
		if names[name] != stage {
			t.Errorf("experiment %s: stage %q, want %q (all: %v)", name, names[name], stage, names)
		}
	}
	extras := a.call("GET", mlflowAPI+"experiments/get-by-name?experiment_name=fixture-extras", nil)["experiment"].(map[string]any)
	if tags := kv(extras["tags"]); tags["team"] != "mltrack" || tags["key with spaces"] == nil {
		t.Errorf("fixture-extras tags: %v", tags)
	}
	expID := extras["experiment_id"].(string)

	runs := map[string]map[string]any{}
	res := a.call("POST", mlflowAPI+"runs/search", map[string]any{"experiment_ids": []string{expID}, "run_view_type": "ALL", "max_results": 100})
	for _, r := range asList(res["runs"]) {
		m := r.(map[string]any)
		runs[m["info"].(map[string]any)["run_name"].(string)] = m
	}
	info := func(name string) map[string]any { return runs[name]["info"].(map[string]any) }
	for name, want := range map[string][2]string{"failed-run": {"FAILED", "active"}, "killed-run": {"KILLED", "active"},
		"running-run": {"RUNNING", "active"}, "deleted-run": {"FINISHED", "deleted"}, "special-values": {"FINISHED", "active"}} {
		if runs[name] == nil {
			t.Fatalf("run %s missing from search (have %d runs)", name, len(runs))
		}
		if got := [2]string{info(name)["status"].(string), info(name)["lifecycle_stage"].(string)}; got != want {
			t.Errorf("run %s: %v, want %v", name, got, want)
		}
	}
	if _, ok := info("running-run")["end_time"]; ok {
		t.Error("a running run has no end_time")
	}
	if parent := kv(runs["child-run"]["data"].(map[string]any)["tags"])["mlflow.parentRunId"]; parent != info("parent-run")["run_id"] {
		t.Errorf("child's parent %v, want %v", parent, info("parent-run")["run_id"])
	}

	special := a.call("GET", mlflowAPI+"runs/get?run_id="+info("special-values")["run_id"].(string), nil)["run"].(map[string]any)
	data := special["data"].(map[string]any)
	metrics := kv(data["metrics"]) // latest values
	for key, want := range map[string]any{"nan_metric": "NaN", "pos_inf_metric": 1.7976931348623157e308, "neg_inf_metric": -1.7976931348623157e308,
		"zero_metric": 0.0, "negative_metric": -12.5, "big_metric": 1.5e300, "tiny_metric": 5e-324, "history": 0.55} {
		if metrics[key] != want {
			t.Errorf("metric %s = %v, want %v", key, metrics[key], want)
		}
	}
	params := kv(data["params"])
	if params["unicode"] != "grüße ✓ 日本" || params["empty"] != "" || len(params["long_value"].(string)) != 5000 ||
		params["layers"] != "[64, 32]" || params["slash/key"] != "s" || params["key with spaces"] != "ok" {
		t.Errorf("params: %v", params)
	}
	inputs := asList(special["inputs"].(map[string]any)["dataset_inputs"])
	var datasets []string
	for _, in := range inputs {
		datasets = append(datasets, in.(map[string]any)["dataset"].(map[string]any)["name"].(string))
	}
	if strings.Join(datasets, ",") != "iris-mini,iris-mini-eval" && strings.Join(datasets, ",") != "iris-mini-eval,iris-mini" {
		t.Errorf("datasets: %v", datasets)
	}

	// The history as MLflow serves it: by time, step 2 twice, NaN at 5.
	h := a.call("GET", mlflowAPI+"metrics/get-history?max_results=25000&metric_key=history&run_id="+info("special-values")["run_id"].(string), nil)
	var steps []string
	for _, p := range asList(h["metrics"]) {
		m := p.(map[string]any)
		b, _ := json.Marshal(m["value"])
		steps = append(steps, string(b)+"@"+jsonNum(m["step"]))
	}
	if got := strings.Join(steps, " "); got != `0@0 0.1@1 0.2@2 0.30000000000000004@3 0.4@4 9@2 "NaN"@5 0.55@6` {
		t.Errorf("history: %s", got)
	}

	// Artifacts MLflow wrote: a run's text file and a logged model's files.
	food := a.call("GET", mlflowAPI+"experiments/get-by-name?experiment_name=food11-classifier", nil)["experiment"].(map[string]any)
	fr := a.call("POST", mlflowAPI+"runs/search", map[string]any{"experiment_ids": []string{food["experiment_id"].(string)}, "max_results": 10})
	run0 := asList(fr["runs"])[0].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	list := a.call("GET", mlflowAPI+"artifacts/list?run_id="+run0, nil)
	if files := asList(list["files"]); len(files) == 0 || files[0].(map[string]any)["path"] != "gpu-info.txt" {
		t.Errorf("run artifacts: %v", list)
	}
	if txt := a.raw("/get-artifact?path=gpu-info.txt&run_uuid=" + url.QueryEscape(run0)); txt == "" {
		t.Error("gpu-info.txt is empty")
	}
	lms := a.call("POST", mlflowAPI+"logged-models/search", map[string]any{"experiment_ids": []string{food["experiment_id"].(string)}})
	model := asList(lms["models"])[0].(map[string]any)["info"].(map[string]any)
	if model["status"] != "LOGGED_MODEL_READY" || model["name"] != "food11" {
		t.Errorf("logged model: %v", model)
	}
	dirs := a.call("GET", mlflowAPI+"logged-models/"+model["model_id"].(string)+"/artifacts/directories", nil)
	var got []string
	for _, f := range asList(dirs["files"]) {
		got = append(got, f.(map[string]any)["path"].(string))
	}
	if !strings.Contains(strings.Join(got, ","), "MLmodel") {
		t.Errorf("logged model files: %v", got)
	}
	if mlmodel := a.raw("/api/2.0/mlflow-artifacts/artifacts/" + strings.TrimPrefix(model["artifact_uri"].(string), "mlflow-artifacts:/") + "/MLmodel"); !strings.Contains(mlmodel, "pytorch") {
		t.Errorf("MLmodel: %.200s", mlmodel)
	}

	// The registry as MLflow left it.
	mv := a.call("GET", mlflowAPI+"registered-models/alias?name=fixture-classifier&alias=champion", nil)["model_version"].(map[string]any)
	if mv["version"] != "2" || mv["current_stage"] != "Production" {
		t.Errorf("champion: %v", mv)
	}
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }
