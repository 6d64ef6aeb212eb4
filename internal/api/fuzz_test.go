package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// Fuzz targets of JSON request decoding: readParams and its accessors, each
// endpoint's decoder through the real handlers, and the logged-models page
// token. The property is always the same: no panic, and a client's garbage
// is the client's error (4xx), never a 5xx.

// checkClientError fails unless err is nil or an *mlflow.Error with a 4xx
// status.
func checkClientError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := mlflow.AsError(err)
	if !ok || e.HTTPStatus() < 400 || e.HTTPStatus() >= 500 || e.Message == "" {
		t.Fatalf("%s: %#v, want an *mlflow.Error with a 4xx status", what, err)
	}
}

func FuzzReadParams(f *testing.F) {
	for _, s := range []string{
		`{"run_id": "abc", "key": "k", "value": 1.5, "timestamp": 1, "step": 2}`,
		`{"metrics": [{"key": "a", "value": NaN, "timestamp": 1, "step": 0}], "params": [{"key": "p", "value": "v"}], "tags": []}`,
		`{"max_results": "10", "experiment_ids": "1", "order_by": ["a DESC"], "page_token": null}`,
		`{"value": -Infinity, "step": 1e300, "timestamp": 1.5}`,
		`{"a": "\ud800", "b": "NaN", "c": ["NaN"], "d": {"x": Infinity}}`,
		`[1, 2]`, `"str"`, `null`, ``, `{`, `{"a": 1}{"b": 2}`,
	} {
		f.Add(true, "application/json", []byte(s))
	}
	f.Add(false, "", []byte("run_id=abc&max_results=10&experiment_ids=1&experiment_ids=2"))
	f.Add(true, "text/plain", []byte(`{}`))
	f.Fuzz(func(t *testing.T, isPost bool, contentType string, body []byte) {
		var r *http.Request
		if isPost {
			r = httptest.NewRequest("POST", "/x", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentType)
		} else {
			r = httptest.NewRequest("GET", "/x", nil)
			r.URL.RawQuery = string(body)
		}
		p, err := readParams(r)
		checkClientError(t, "readParams", err)
		if err != nil {
			return
		}
		names := []string{"run_id", "max_results", "experiment_ids", "metrics"}
		for k := range p.body {
			names = append(names, k)
		}
		for k := range p.query {
			names = append(names, k)
		}
		for _, n := range names {
			_, err := p.str(n)
			checkClientError(t, "str", err)
			_, err = p.requiredStr(n)
			checkClientError(t, "requiredStr", err)
			_, _, err = p.int64Field(n)
			checkClientError(t, "int64Field", err)
			_, err = p.strList(n)
			checkClientError(t, "strList", err)
			var objs []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			}
			checkClientError(t, "decode", p.decode(n, &objs))
		}
	})
}

func FuzzDecodeLoggedModelToken(f *testing.F) {
	f.Add("")
	f.Add(encodeLoggedModelToken([]string{"1"}, "name = 'x'", nil, 25))
	f.Add("eyJvZmZzZXQiOiAtMX0=") // {"offset": -1}
	f.Add("eyJvZmZzZXQiOiAxZTk5OX0=")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, token string) {
		n, err := decodeLoggedModelToken(token)
		checkClientError(t, "decodeLoggedModelToken", err)
		if err == nil && n < 0 {
			t.Fatalf("negative offset %d accepted", n)
		}
		if err == nil && token != "" {
			if m, err := decodeLoggedModelToken(encodeLoggedModelToken(nil, token, nil, n)); err != nil || m != n {
				t.Fatalf("round trip of offset %d: %d, %v", n, m, err)
			}
		}
	})
}

// handlerFuzz is a real API over a SQLite store, with an experiment, a run,
// a registered model with a version and a logged model that requests can
// name (the placeholders EXPID, RUNID, MODELID).
type handlerFuzz struct {
	mux       *http.ServeMux
	routes    []route
	apiRoutes int // routes[apiRoutes:] exist under /ajax-api/ only
	ids       *strings.Replacer
}

func newHandlerFuzz(f *testing.F) *handlerFuzz {
	dir := f.TempDir()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:///"+filepath.Join(dir, "mlflow.db"), sqlstore.Options{DefaultArtifactRoot: "mlflow-artifacts:"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	proxy, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		f.Fatal(err)
	}
	a := &API{Tracking: st, Registry: st, LoggedModels: st, Artifacts: &artifact.Resolver{Proxy: proxy, Roots: map[string]artifact.Repository{}}}
	h := &handlerFuzz{mux: http.NewServeMux()}
	a.Register(h.mux)
	a.RegisterDownloads(h.mux)
	RegisterArtifactProxy(h.mux, proxy, ArtifactProxyOptions{})
	for _, rs := range [][]route{a.experimentRoutes(), a.runRoutes(), a.metricRoutes(), a.registryRoutes(), a.loggedModelRoutes(), a.artifactLinkRoutes()} {
		h.routes = append(h.routes, rs...)
	}
	h.apiRoutes = len(h.routes)
	h.routes = append(h.routes, a.ajaxRoutes()...) // under /ajax-api/ only
	call := func(method, path, body string, out any) {
		code, b := h.do(method, path, body)
		if code != 200 {
			f.Fatalf("%s %s: %d %s", method, path, code, b)
		}
		if out != nil {
			_ = json.Unmarshal(b, out)
		}
	}
	var exp struct {
		ID string `json:"experiment_id"`
	}
	call("POST", "/api/2.0/mlflow/experiments/create", `{"name": "fuzz"}`, &exp)
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	call("POST", "/api/2.0/mlflow/runs/create", `{"experiment_id": "`+exp.ID+`"}`, &run)
	call("POST", "/api/2.0/mlflow/runs/log-metric", `{"run_id": "`+run.Run.Info.RunID+`", "key": "m", "value": 1, "timestamp": 1, "step": 1}`, nil)
	call("POST", "/api/2.0/mlflow/registered-models/create", `{"name": "model"}`, nil)
	call("POST", "/api/2.0/mlflow/model-versions/create", `{"name": "model", "source": "mlflow-artifacts:/x", "run_id": "`+run.Run.Info.RunID+`"}`, nil)
	var lm struct {
		Model struct {
			Info struct {
				ModelID string `json:"model_id"`
			} `json:"info"`
		} `json:"model"`
	}
	call("POST", "/api/2.0/mlflow/logged-models", `{"experiment_id": "`+exp.ID+`", "name": "lm"}`, &lm)
	h.ids = strings.NewReplacer("EXPID", exp.ID, "RUNID", run.Run.Info.RunID, "MODELID", lm.Model.Info.ModelID)
	return h
}

// do serves one request in-process, so that a panic in a handler fails the
// fuzz target at once.
func (h *handlerFuzz) do(method, path, body string) (int, []byte) {
	var r *http.Request
	if method == "GET" {
		r = httptest.NewRequest(method, "/", nil)
		r.URL.RawQuery = body
	} else {
		r = httptest.NewRequest(method, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.URL.Path = path
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, b
}

// FuzzAPIHandlers sends arbitrary bodies (query strings for GET routes) to
// every JSON endpoint of the API: the answer must never be a 5xx, and an
// error must be MLflow's error body.
func FuzzAPIHandlers(f *testing.F) {
	h := newHandlerFuzz(f)
	seeds := []string{
		``, `{}`, `null`, `[]`,
		`{"run_id": "RUNID", "key": "k", "value": 1, "timestamp": 1, "step": 1}`,
		`{"run_id": "RUNID", "metrics": [{"key": "a", "value": NaN, "timestamp": 1, "step": 0}], "params": [{"key": "p", "value": "v"}], "tags": [{"key": "t", "value": "v"}]}`,
		`{"experiment_ids": ["EXPID"], "filter": "metrics.m > 0 and params.p = 'v'", "max_results": 10, "order_by": ["metrics.m DESC"]}`,
		`{"experiment_id": "EXPID", "name": "n", "tags": [{"key": "k", "value": "v"}]}`,
		`{"name": "model", "version": "1", "stage": "Production", "alias": "a", "key": "k", "value": "v"}`,
		`{"model_id": "MODELID", "params": [{"key": "k", "value": "v"}], "tags": [{"key": "k", "value": "v"}], "status": "LOGGED_MODEL_READY"}`,
		`{"run_id": "RUNID", "max_results": 1e309, "page_token": "eyJvZmZzZXQiOiAyfQ==", "step": -Infinity}`,
		`{"experiment_id": "EXPID", "run_id": "RUNID", "key": "'; DROP TABLE runs; --", "value": "' OR 1=1 --"}`,
		`run_id=RUNID&metric_key=m&max_results=10`,
		`experiment_id=EXPID&run_id=RUNID&name=model&version=1&path=a/../b`,
		`{"filter_string": "name LIKE '%' OR 1=1", "max_results": "5", "experiment_ids": "EXPID"}`,
		`run_id=RUNID&run_id=x&metric_key=m&max_results=-1&artifact_file_path=MLmodel`,
		`{"experiment_id": "EXPID", "prompt_template": "t {{ x }}", "prompt_parameters": [{"key": "x", "value": 1}], "model_route": "r", "model_input": "i", "model_output": null, "mlflow_version": "3", "tags": [{"key": "k", "value": "v"}], "start_time": "5"}`,
	}
	// Every seed with every route would be over a thousand inputs, which
	// a short CI run spends reading its baseline and never fuzzes: each
	// route gets the empty bodies and two of the others, each of those goes
	// to several routes, and the fuzzer mutates the route index too.
	for i := range h.routes {
		f.Add(uint16(i), seeds[0])
		f.Add(uint16(i), seeds[1])
		f.Add(uint16(i), seeds[2+i%(len(seeds)-2)])
		f.Add(uint16(i), seeds[2+(i+5)%(len(seeds)-2)])
	}
	f.Fuzz(func(t *testing.T, idx uint16, body string) {
		i := int(idx) % len(h.routes)
		rt := h.routes[i]
		prefix := "/api/2.0/mlflow/"
		if i >= h.apiRoutes {
			prefix = "/ajax-api/2.0/mlflow/"
		}
		path := prefix + strings.NewReplacer("{model_id}", "MODELID", "{tag_key...}", "k").Replace(rt.path)
		code, b := h.do(rt.method, h.ids.Replace(path), h.ids.Replace(body))
		if code >= 500 && code != http.StatusNotImplemented {
			t.Fatalf("%s %s with %q: %d %s", rt.method, path, body, code, b)
		}
		if code != 200 {
			var e struct {
				ErrorCode string `json:"error_code"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.ErrorCode == "" {
				t.Fatalf("%s %s with %q: %d without MLflow's error body: %s", rt.method, path, body, code, b)
			}
		}
	})
}
