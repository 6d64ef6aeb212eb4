package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/testdb"
)

// The rest of MLflow's own REST suite (tests/tracking/test_rest_tracking.py
// of MLflow 3.6), ported case by case over real HTTP on SQLite and
// PostgreSQL: relative artifact locations, local model version sources,
// model versions recorded on logged models, logged model search by
// dataset, the UI-only endpoints and the order of artifact path checks.

// rest is a client of one test server.
type rest struct {
	t    *testing.T
	base string
}

type restResp struct {
	status int
	header http.Header
	body   []byte
}

func (r restResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %q", r.status, r.body)
	}
	return m
}

// send sends a request; a map or slice body goes as JSON, []byte as is.
func (c rest) send(method, path string, body any) restResp {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return restResp{resp.StatusCode, resp.Header, b}
}

// ok sends a request that must succeed and returns its JSON answer.
func (c rest) ok(method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.send(method, path, body)
	if r.status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	return r.json(c.t)
}

// wantError checks an MLflow error answer: status, code and a message
// containing msg.
func (c rest) wantError(r restResp, status int, code, msg string) {
	c.t.Helper()
	if r.status != status {
		c.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.json(c.t)
	if m["error_code"] != code || !strings.Contains(m["message"].(string), msg) {
		c.t.Fatalf("got %s %q, want %s containing %q", m["error_code"], m["message"], code, msg)
	}
}

func (c rest) experiment(name string) string {
	return c.ok("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": name})["experiment_id"].(string)
}

func (c rest) run(exp string) (id, artifactURI string) {
	info := c.ok("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)
	return info["run_id"].(string), info["artifact_uri"].(string)
}

func (c rest) loggedModel(exp string) (id, location string) {
	info := c.ok("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp})["model"].(map[string]any)["info"].(map[string]any)
	return info["model_id"].(string), info["artifact_uri"].(string)
}

// startFileRootServer serves runs whose artifacts are in a local folder
// (file:// URIs), as MLflow's test server does, without the proxy.
func startFileRootServer(t *testing.T, backend string) (rest, string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		BackendStoreURI:     backend,
		DefaultArtifactRoot: "file://" + root,
		AllowedHosts:        server.DefaultAllowedHosts(),
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return rest{t, ts.URL}, root
}

func startProxyServer(t *testing.T, backend string) rest {
	return rest{t, startServerWith(t, backend, filepath.Join(t.TempDir(), "mlartifacts"))}
}

// TestRESTRelativeArtifactLocation is test_create_get_search_experiment: a
// relative local artifact_location is stored absolute against the
// server's working directory (a plain path stays plain, a file: URI stays
// a URI); other locations are kept as given.
func TestRESTRelativeArtifactLocation(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		cases := []struct{ given, want string }{
			{"my_location", cwd + "/my_location"},
			{"./a//b/./c/", cwd + "/a/b/c"},
			{"my%20location", cwd + "/my location"},
			{"file:rel/dir", "file://" + cwd + "/rel/dir"},
			{"/abs/location", "/abs/location"},
			{"file:///abs/location", "file:///abs/location"},
			{"file://localhost/abs", "file://localhost/abs"},
			{"mlflow-artifacts:/custom", "mlflow-artifacts:/custom"},
			{"s3://bucket/prefix", "s3://bucket/prefix"},
		}
		for i, tc := range cases {
			id := c.ok("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "loc-" + string(rune('a'+i)), "artifact_location": tc.given})["experiment_id"].(string)
			exp := c.ok("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+id, nil)["experiment"].(map[string]any)
			if exp["artifact_location"] != tc.want {
				t.Errorf("artifact_location %q stored as %q, want %q", tc.given, exp["artifact_location"], tc.want)
			}
		}
		c.wantError(c.send("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "remote", "artifact_location": "file://otherhost/x"}),
			400, "INVALID_PARAMETER_VALUE", "file://otherhost/x is not a valid remote uri")
	})
}

// TestRESTModelVersionLocalSources is test_create_model_version_with_path_source,
// test_create_model_version_with_file_uri and the model_id side of
// _validate_source_model.
func TestRESTModelVersionLocalSources(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c, root := startFileRootServer(t, uri)
		const create = "/api/2.0/mlflow/model-versions/create"
		const notLocal = "To use a local path as a model version"
		c.ok("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "model"})
		exp := c.experiment("test")
		run, artifactURI := c.run(exp)
		if !strings.HasPrefix(artifactURI, "file://"+root) {
			t.Fatalf("run artifact URI %s", artifactURI)
		}
		dir := strings.TrimPrefix(artifactURI, "file://")

		// Plain paths.
		c.ok("POST", create, map[string]any{"name": "model", "source": dir, "run_id": run})
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": dir}), 400, "INVALID_PARAMETER_VALUE",
			"Invalid model version source: '"+dir+"'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.")
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": "/tmp", "run_id": run}), 400, "INVALID_PARAMETER_VALUE",
			"Invalid model version source: '/tmp'. "+notLocal)
		// file: URIs, inside the run's folder or not.
		for _, src := range []string{artifactURI, artifactURI + "/model", artifactURI + "/.", artifactURI + "/model/.."} {
			c.ok("POST", create, map[string]any{"name": "model", "source": src, "run_id": run})
		}
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": artifactURI}), 400, "INVALID_PARAMETER_VALUE", notLocal)
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": "file:///tmp"}), 400, "INVALID_PARAMETER_VALUE", "Invalid model version source: 'file:///tmp'. "+notLocal)
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": artifactURI + "/../..", "run_id": run}), 400, "INVALID_PARAMETER_VALUE", notLocal)
		// A file: URI of another host: MLflow's message (its 500 is a 400 here).
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": "file://123.456.789.123/path/to/source", "run_id": run}),
			400, "INVALID_PARAMETER_VALUE", "file://123.456.789.123/path/to/source is not a valid remote uri")
		// A link inside the run's folder that leads out of it is followed.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		outside := t.TempDir()
		if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
			t.Fatal(err)
		}
		// The message names the path without following the link: it tells
		// nothing about the server's files.
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": dir + "/escape/model", "run_id": run}), 400, "INVALID_PARAMETER_VALUE",
			"Invalid model version source: '"+dir+"/escape/model'. "+notLocal)
		// ".." applies after the link is followed, as pathlib resolves:
		// escape/../x is beside the link's target, not in the run's folder.
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": "file://" + dir + "/escape/../model", "run_id": run}), 400, "INVALID_PARAMETER_VALUE",
			"Invalid model version source: '"+dir+"/model'. "+notLocal)
		c.ok("POST", create, map[string]any{"name": "model", "source": dir + "/missing/../model", "run_id": run})
		// An unknown run is looked up, as MLflow does: 404.
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": dir, "run_id": "00000000000000000000000000000000"}), 404, "RESOURCE_DOES_NOT_EXIST", "")
		// With model_id, the logged model's folder counts.
		model, location := c.loggedModel(exp)
		c.ok("POST", create, map[string]any{"name": "model", "source": location, "model_id": model})
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": dir, "model_id": model}), 400, "INVALID_PARAMETER_VALUE",
			"the model_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the model_id.")
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": location, "model_id": "m-00000000000000000000000000000000"}), 404, "RESOURCE_DOES_NOT_EXIST", "")
		// Remote sources with relative parts stay refused.
		c.wantError(c.send("POST", create, map[string]any{"name": "model", "source": "s3://bucket/a/..%2f..%2fb"}), 400, "INVALID_PARAMETER_VALUE", "without relative path references")
	})
}

// TestRESTModelVersionOnLoggedModel is test_create_model_version_model_id.
func TestRESTModelVersionOnLoggedModel(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		c.ok("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "model"})
		exp := c.experiment("test")
		model, location := c.loggedModel(exp)
		tag := func() any {
			m := c.ok("GET", "/api/2.0/mlflow/logged-models/"+model, nil)["model"].(map[string]any)["info"].(map[string]any)
			for _, tg := range asList(m["tags"]) {
				if tg.(map[string]any)["key"] == "mlflow.modelVersions" {
					return tg.(map[string]any)["value"]
				}
			}
			return nil
		}
		c.ok("POST", "/api/2.0/mlflow/model-versions/create", map[string]any{"name": "model", "source": location, "model_id": model})
		if got := tag(); got != `[{"name": "model", "version": 1}]` {
			t.Fatalf("after version 1: %v", got)
		}
		c.ok("POST", "/api/2.0/mlflow/model-versions/create", map[string]any{"name": "model", "source": location, "model_id": model})
		if got := tag(); got != `[{"name": "model", "version": 1}, {"name": "model", "version": 2}]` {
			t.Fatalf("after version 2: %v", got)
		}
	})
}

// TestRESTSearchLoggedModelsByDataset is the datasets part of
// test_search_logged_models: only the model with a metric on the dataset.
func TestRESTSearchLoggedModelsByDataset(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		exp := c.experiment("create_logged_model")
		model1, _ := c.loggedModel(exp)
		model2, _ := c.loggedModel(exp)
		run, _ := c.run(exp)
		c.ok("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "metric", "value": 1, "timestamp": 1, "step": 0,
			"dataset_name": "dataset", "dataset_digest": "123", "model_id": model1})
		c.ok("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "metric", "value": 5, "timestamp": 2, "step": 0, "model_id": model2})
		ids := func(body map[string]any) []string {
			t.Helper()
			var out []string
			for _, m := range asList(c.ok("POST", "/api/2.0/mlflow/logged-models/search", body)["models"]) {
				out = append(out, m.(map[string]any)["info"].(map[string]any)["model_id"].(string))
			}
			return out
		}
		if got := ids(map[string]any{"experiment_ids": []string{exp}, "datasets": []map[string]string{{"dataset_name": "dataset", "dataset_digest": "123"}}}); !reflect.DeepEqual(got, []string{model1}) {
			t.Fatalf("by dataset: %v, want [%s]", got, model1)
		}
		if got := ids(map[string]any{"experiment_ids": []string{exp}, "filter": "metrics.metric > 2"}); !reflect.DeepEqual(got, []string{model2}) {
			t.Fatalf("by metric: %v, want [%s]", got, model2)
		}
		if got := ids(map[string]any{"experiment_ids": []string{exp}}); len(got) != 2 {
			t.Fatalf("unfiltered: %v", got)
		}
	})
}

// TestRESTInvalidPathBeforeLookup is test_path_validation: "../path"
// answers 400 "Invalid path" before the run or version is looked up (here
// they do not even exist).
func TestRESTInvalidPathBeforeLookup(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		exp := c.experiment("tags validation")
		run, _ := c.run(exp)
		bad := url.QueryEscape("../path")
		for _, runID := range []string{run, "00000000000000000000000000000000"} {
			for _, p := range []string{
				"/api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + bad,
				"/ajax-api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + bad,
				"/get-artifact?run_id=" + runID + "&path=" + bad,
				"/get-artifact?run_uuid=" + runID + "&path=" + bad,
			} {
				c.wantError(c.send("GET", p, nil), 400, "INVALID_PARAMETER_VALUE", "Invalid path")
			}
		}
		// MLflow's test sends this one with a doubled slash; the redirect
		// to the clean path is followed.
		for _, p := range []string{"/model-versions/get-artifact", "//model-versions/get-artifact"} {
			c.wantError(c.send("GET", p+"?name=model&version=1&path="+bad, nil), 400, "INVALID_PARAMETER_VALUE", "Invalid path")
		}
		c.wantError(c.send("GET", "/ajax-api/2.0/mlflow/logged-models/m-00000000000000000000000000000000/artifacts/files?artifact_file_path="+bad, nil),
			400, "INVALID_PARAMETER_VALUE", "Invalid path")
		c.wantError(c.send("GET", "/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000/artifacts/directories?artifact_directory_path="+bad, nil),
			400, "INVALID_PARAMETER_VALUE", "Invalid path")
		// A valid path of an unknown run is the run's 404.
		c.wantError(c.send("GET", "/get-artifact?run_id=00000000000000000000000000000000&path=x", nil), 404, "RESOURCE_DOES_NOT_EXIST", "")
	})
}

// TestRESTMetricHistoryBulk is test_get_metric_history_bulk_rejects_invalid_requests,
// ..._returns_expected_metrics_in_expected_order and ..._respects_max_results.
func TestRESTMetricHistoryBulk(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		const bulk = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
		c.wantError(c.send("GET", bulk+"?metric_key=key", nil), 400, "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request must specify at least one run_id.")
		many := url.Values{"metric_key": {"key"}}
		for i := range 1000 {
			many.Add("run_id", "id_"+string(rune('a'+i%26)))
		}
		c.wantError(c.send("GET", bulk+"?"+many.Encode(), nil), 400, "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 1000 run_ids.")
		c.wantError(c.send("GET", bulk+"?run_id=123", nil), 400, "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request must specify a metric_key.")
		c.wantError(c.send("GET", bulk+"?run_id=123&metric_key=k&max_results=abc", nil), 400, "INVALID_PARAMETER_VALUE", "max_results")
		// Only under /ajax-api/, as MLflow.
		if r := c.send("GET", "/api/2.0/mlflow/metrics/get-history-bulk?run_id=1&metric_key=k", nil); r.status != 404 {
			t.Fatalf("under /api/: %d", r.status)
		}

		exp := c.experiment("get metric history bulk")
		run1, _ := c.run(exp)
		run2, _ := c.run(exp)
		run3, _ := c.run(exp)
		type point struct {
			Key       string  `json:"key"`
			Timestamp int64   `json:"timestamp"`
			Step      int64   `json:"step"`
			Value     float64 `json:"value"`
			RunID     string  `json:"run_id"`
		}
		historyA := []point{{"metricA", 1, 2, 10, ""}, {"metricA", 1, 3, 11, ""}, {"metricA", 1, 3, 12, ""}, {"metricA", 2, 3, 12, ""}}
		historyB := []point{{"metricB", 7, -2, -100, ""}, {"metricB", 8, 0, 0, ""}, {"metricB", 8, 0, 1, ""}, {"metricB", 9, 1, 12, ""}}
		for _, h := range [][]point{historyA, historyB} {
			for _, p := range h {
				c.ok("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run1, "key": p.Key, "value": p.Value, "timestamp": p.Timestamp, "step": p.Step})
				c.ok("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run2, "key": p.Key, "value": p.Value + 1, "timestamp": p.Timestamp, "step": p.Step})
			}
		}
		get := func(q url.Values) []point {
			t.Helper()
			r := c.send("GET", bulk+"?"+q.Encode(), nil)
			if r.status != 200 {
				t.Fatalf("%v: %d %s", q, r.status, r.body)
			}
			var out struct{ Metrics []point }
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			return out.Metrics
		}
		of := func(h []point, run string, add float64) []point {
			out := make([]point, len(h))
			for i, p := range h {
				p.RunID, p.Value = run, p.Value+add
				out[i] = p
			}
			return out
		}
		if got, want := get(url.Values{"run_id": {run1}, "metric_key": {"metricA"}}), of(historyA, run1, 0); !reflect.DeepEqual(got, want) {
			t.Fatalf("run1 metricA:\n%v\nwant\n%v", got, want)
		}
		if got, want := get(url.Values{"run_id": {run2}, "metric_key": {"metricB"}}), of(historyB, run2, 1); !reflect.DeepEqual(got, want) {
			t.Fatalf("run2 metricB:\n%v\nwant\n%v", got, want)
		}
		first, second := of(historyA, run1, 0), of(historyA, run2, 1)
		if run2 < run1 {
			first, second = second, first
		}
		if got, want := get(url.Values{"run_id": {run2, run1, "unknown-run"}, "metric_key": {"metricA"}}), append(first, second...); !reflect.DeepEqual(got, want) {
			t.Fatalf("run1+run2 metricA (by run id):\n%v\nwant\n%v", got, want)
		}
		if got := get(url.Values{"run_id": {run3}, "metric_key": {"metricB"}}); len(got) != 0 {
			t.Fatalf("run3: %v", got)
		}
		if got, want := get(url.Values{"run_id": {run1}, "metric_key": {"metricA"}, "max_results": {"2"}}), of(historyA, run1, 0)[:2]; !reflect.DeepEqual(got, want) {
			t.Fatalf("max_results 2: %v", got)
		}
		if r := c.send("GET", bulk+"?run_id="+run3+"&metric_key=metricB", nil); strings.TrimSpace(string(r.body)) != `{"metrics":[]}` && strings.TrimSpace(string(r.body)) != `{"metrics": []}` {
			t.Fatalf("empty answer: %s", r.body)
		}
	})
}

// TestRESTSearchDatasets is test_search_dataset_handler_rejects_invalid_requests
// and ..._returns_expected_results.
func TestRESTSearchDatasets(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		const search = "/ajax-api/2.0/mlflow/experiments/search-datasets"
		c.wantError(c.send("POST", search, map[string]any{}), 400, "INVALID_PARAMETER_VALUE", "SearchDatasets request must specify at least one experiment_id.")
		c.wantError(c.send("POST", search, map[string]any{"experiment_ids": []string{}}), 400, "INVALID_PARAMETER_VALUE", "SearchDatasets request must specify at least one experiment_id.")
		var many []string
		for range 1000 {
			many = append(many, "id_1")
		}
		c.wantError(c.send("POST", search, map[string]any{"experiment_ids": many}), 400, "INVALID_PARAMETER_VALUE", "SearchDatasets request cannot specify more than 20 experiment_ids. Received 1000 experiment_ids.")
		c.wantError(c.send("POST", search, []byte(`{"experiment_ids": ["1"]}`)), 400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing.")

		exp := c.experiment("log inputs test")
		run, _ := c.run(exp)
		c.ok("POST", "/api/2.0/mlflow/runs/log-inputs", map[string]any{"run_id": run, "datasets": []any{map[string]any{
			"dataset": map[string]any{"name": "name1", "digest": "digest1", "source_type": "source_type1", "source": "source1"},
			"tags":    []any{map[string]any{"key": "mlflow.data.context", "value": "training"}},
		}}})
		got := c.ok("POST", search, map[string]any{"experiment_ids": []string{exp}})
		want := map[string]any{"dataset_summaries": []any{map[string]any{"experiment_id": exp, "name": "name1", "digest": "digest1", "context": "training"}}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

// TestRESTUploadArtifact is test_upload_artifact_handler_rejects_invalid_requests
// and test_upload_artifact_handler.
func TestRESTUploadArtifact(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		const upload = "/ajax-api/2.0/mlflow/upload-artifact"
		exp := c.experiment("upload_artifacts_test")
		run, _ := c.run(exp)
		c.wantError(c.send("POST", upload, nil), 400, "INVALID_PARAMETER_VALUE", "Request must specify run_uuid.")
		c.wantError(c.send("POST", upload+"?run_uuid="+run, nil), 400, "INVALID_PARAMETER_VALUE", "Request must specify path.")
		c.wantError(c.send("POST", upload+"?run_uuid="+run+"&path=", nil), 400, "INVALID_PARAMETER_VALUE", "Request must specify path.")
		c.wantError(c.send("POST", upload+"?run_uuid="+run+"&path=../test.txt", nil), 400, "INVALID_PARAMETER_VALUE", "Invalid path")
		c.wantError(c.send("POST", upload+"?run_uuid="+run+"&path=test.txt", nil), 400, "INVALID_PARAMETER_VALUE", "Request must specify data.")
		c.wantError(c.send("POST", upload+"?run_uuid="+run+"&path=big.bin", bytes.Repeat([]byte("x"), 10<<20+1)), 400, "INVALID_PARAMETER_VALUE", "Artifact size is too large. Max size is 10MB.")
		c.wantError(c.send("POST", upload+"?run_uuid=00000000000000000000000000000000&path=test.txt", []byte("x")), 404, "RESOURCE_DOES_NOT_EXIST", "")

		r := c.send("POST", upload+"?run_uuid="+run+"&path=test.txt", []byte("hello world"))
		if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("upload: %d %q %s", r.status, r.body, r.header.Get("Content-Type"))
		}
		c.ok("POST", upload+"?run_uuid="+run+"&path=dir/nested.txt", []byte("nested"))
		for p, want := range map[string]string{"test.txt": "hello world", "dir/nested.txt": "nested"} {
			if r := c.send("GET", "/get-artifact?run_uuid="+run+"&path="+url.QueryEscape(p), nil); r.status != 200 || string(r.body) != want {
				t.Fatalf("get-artifact %s: %d %q", p, r.status, r.body)
			}
		}
	})
}

// TestRESTCreatePromptlabRun is test_create_promptlab_run_handler_rejects_invalid_requests
// and ..._returns_expected_results.
func TestRESTCreatePromptlabRun(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		const create = "/ajax-api/2.0/mlflow/runs/create-promptlab-run"
		body := map[string]any{}
		for _, step := range []struct{ field, value string }{
			{"experiment_id", "123"}, {"prompt_template", "my_prompt_template"}, {"prompt_parameters", ""},
			{"model_route", "my_route"}, {"model_input", "my_input"}, {"mlflow_version", "1.0.0"},
		} {
			c.wantError(c.send("POST", create, body), 400, "INVALID_PARAMETER_VALUE", "CreatePromptlabRun request must specify "+step.field+".")
			if step.field == "prompt_parameters" {
				body[step.field] = []any{map[string]any{"key": "my_key", "value": "my_value"}}
			} else {
				body[step.field] = step.value
			}
		}
		c.wantError(c.send("POST", create, []byte(`{}`)), 400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing.")

		exp := c.experiment("log inputs test")
		got := c.ok("POST", create, map[string]any{
			"experiment_id":           exp,
			"run_name":                "my_run_name",
			"prompt_template":         "my_prompt_template",
			"prompt_parameters":       []any{map[string]any{"key": "my_key", "value": "my_value"}},
			"model_route":             "my_route",
			"model_parameters":        []any{map[string]any{"key": "temperature", "value": "0.1"}},
			"model_input":             "my_input",
			"model_output":            "my_output",
			"model_output_parameters": []any{map[string]any{"key": "latency", "value": "100"}},
			"mlflow_version":          "1.0.0",
			"user_id":                 "username",
			"start_time":              456,
		})["run"].(map[string]any)
		info, data := got["info"].(map[string]any), got["data"].(map[string]any)
		if info["run_name"] != "my_run_name" || info["experiment_id"] != exp || info["user_id"] != "username" || info["status"] != "FINISHED" || info["start_time"] != 456.0 {
			t.Fatalf("run info %v", info)
		}
		params, tags := kv(data["params"]), kv(data["tags"])
		if params["model_route"] != "my_route" || params["prompt_template"] != "my_prompt_template" || params["temperature"] != "0.1" {
			t.Fatalf("params %v", params)
		}
		if tags["mlflow.loggedArtifacts"] != `[{"path": "eval_results_table.json", "type": "table"}]` || tags["mlflow.runSourceType"] != "PROMPT_ENGINEERING" {
			t.Fatalf("tags %v", tags)
		}
		run := info["run_id"].(string)
		table := c.send("GET", "/get-artifact?run_uuid="+run+"&path=eval_results_table.json", nil)
		if want := `{"columns": ["my_key", "prompt", "output", "latency"], "data": [["my_value", "my_input", "my_output", "100"]]}`; string(table.body) != want {
			t.Fatalf("eval_results_table.json: %d %s", table.status, table.body)
		}
		params2 := c.send("GET", "/get-artifact?run_uuid="+run+"&path=model/parameters.yaml", nil)
		if !strings.Contains(string(params2.body), `prompt_template: "my_prompt_template"`) {
			t.Fatalf("parameters.yaml: %d %s", params2.status, params2.body)
		}
		if r := c.send("GET", "/get-artifact?run_uuid="+run+"&path=model/MLmodel", nil); r.status != 200 || !strings.Contains(string(r.body), "loader_module: mlflow.prompt.promptlab_model") {
			t.Fatalf("MLmodel: %d %s", r.status, r.body)
		}
	})
}

// TestRESTLoggedModelArtifactFile is test_get_logged_model_artifact: a
// logged model's file through the UI's download route.
func TestRESTLoggedModelArtifactFile(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		c := startProxyServer(t, uri)
		exp := c.experiment("lm-files")
		model, location := c.loggedModel(exp)
		proxyPath := strings.TrimPrefix(location, "mlflow-artifacts:/")
		if r := c.send("PUT", "/api/2.0/mlflow-artifacts/artifacts/"+proxyPath+"/MLmodel", []byte("model_id: "+model+"\n")); r.status != 200 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		const files = "/ajax-api/2.0/mlflow/logged-models/"
		r := c.send("GET", files+model+"/artifacts/files?artifact_file_path=MLmodel", nil)
		if r.status != 200 || !strings.Contains(string(r.body), model) || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d %s %v", r.status, r.body, r.header)
		}
		listing := c.ok("GET", "/ajax-api/2.0/mlflow/logged-models/"+model+"/artifacts/directories", nil)
		if l := asList(listing["files"]); len(l) != 1 || l[0].(map[string]any)["path"] != "MLmodel" {
			t.Fatalf("listing %v", listing)
		}
		c.wantError(c.send("GET", files+model+"/artifacts/files", nil), 400, "BAD_REQUEST", `Request must include the "artifact_file_path" query parameter.`)
		c.wantError(c.send("GET", files+"m-00000000000000000000000000000000/artifacts/files?artifact_file_path=MLmodel", nil), 404, "RESOURCE_DOES_NOT_EXIST", "")
		c.wantError(c.send("GET", files+model+"/artifacts/files?artifact_file_path=missing", nil), 404, "RESOURCE_DOES_NOT_EXIST", "")
		if r := c.send("GET", "/api/2.0/mlflow/logged-models/"+model+"/artifacts/files?artifact_file_path=MLmodel", nil); r.status != 404 {
			t.Fatalf("under /api/: %d", r.status)
		}
	})
}
