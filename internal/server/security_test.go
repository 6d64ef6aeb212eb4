package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestXFrameOptions(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, c := range []struct{ flag, want string }{
		{"", "SAMEORIGIN"}, // MLflow's default
		{"deny", "DENY"},
		{"SAMEORIGIN", "SAMEORIGIN"},
		{"none", ""}, // no header: the UI may be embedded anywhere
		{"NONE", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "localhost:5000"
		security(ok, DefaultAllowedHosts(), nil, c.flag).ServeHTTP(w, r)
		got, set := w.Header()["X-Frame-Options"]
		if c.want == "" && set || c.want != "" && (len(got) != 1 || got[0] != c.want) {
			t.Errorf("--x-frame-options %q: header %q, want %q", c.flag, got, c.want)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("--x-frame-options %q: no nosniff", c.flag)
		}
	}
}

func TestSecurityMiddleware(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := security(ok, DefaultAllowedHosts(), []string{"https://ml.example.com", "https://*.corp.example"}, "")
	cases := []struct {
		name, method, path, host, origin string
		preflight                        bool
		status                           int
		acao                             string
	}{
		{"localhost host", "GET", "/api/2.0/mlflow/experiments/get", "localhost:5000", "", false, 200, ""},
		{"private network host", "GET", "/api/2.0/mlflow/experiments/get", "10.1.2.3:5000", "", false, 200, ""},
		{"rebinding host refused", "GET", "/api/2.0/mlflow/experiments/get", "evil.example", "", false, 403, ""},
		{"health is exempt", "GET", "/health", "evil.example", "", false, 200, ""},
		{"foreign POST blocked", "POST", "/api/2.0/mlflow/experiments/create", "localhost:5000", "http://evil.example", false, 403, ""},
		{"foreign GET: no CORS answer", "GET", "/api/2.0/mlflow/experiments/get", "localhost:5000", "http://evil.example", false, 200, ""},
		{"localhost origin POST", "POST", "/api/2.0/mlflow/experiments/create", "localhost:5000", "http://localhost:3000", false, 200, "http://localhost:3000"},
		{"allowed origin", "POST", "/api/2.0/mlflow/runs/create", "localhost:5000", "https://ml.example.com", false, 200, "https://ml.example.com"},
		{"allowed origin pattern", "GET", "/api/2.0/mlflow/runs/get", "localhost:5000", "https://a.corp.example", false, 200, "https://a.corp.example"},
		{"preflight from foreign origin", "OPTIONS", "/api/2.0/mlflow/experiments/create", "localhost:5000", "http://evil.example", true, 200, ""},
		{"preflight from localhost", "OPTIONS", "/api/2.0/mlflow/experiments/create", "localhost:5000", "http://127.0.0.1:8080", true, 200, "http://127.0.0.1:8080"},
		{"UI is not an API path", "POST", "/", "localhost:5000", "http://evil.example", false, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.path, nil)
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if c.preflight {
				r.Header.Set("Access-Control-Request-Method", "POST")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != c.acao {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, c.acao)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("missing X-Content-Type-Options")
			}
		})
	}
}

func TestUnknownAPIPathIsNotTheUI(t *testing.T) {
	h := uiHandler(fstest.MapFS{"index.html": {Data: []byte("<html>ui</html>")}}, nil)
	for _, p := range []string{"/ajax-api/2.0/mltrack/nope", "/api/2.0/mlflow-artifacts/x", "/api/3.0/mlflow/traces"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 404 || !strings.Contains(w.Body.String(), "ENDPOINT_NOT_FOUND") {
			t.Errorf("%s: %d %s", p, w.Code, w.Body.String())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/experiments/1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "ui") {
		t.Errorf("SPA fallback: %d %s", w.Code, w.Body.String())
	}
}
