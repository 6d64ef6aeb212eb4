package auth_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/auth"
)

// muxPatterns lists every pattern registered on a ServeMux. ServeMux has no
// API for that, so this reads its routing index by reflection; the checks
// below fail loudly if the standard library's layout changes.
func muxPatterns(t *testing.T, mux *http.ServeMux) []string {
	t.Helper()
	idx := reflect.ValueOf(mux).Elem().FieldByName("index")
	if !idx.IsValid() {
		t.Fatal("http.ServeMux has no index field any more: update muxPatterns")
	}
	seen := map[string]bool{}
	add := func(p reflect.Value) {
		str := p.Elem().FieldByName("str")
		if !str.IsValid() {
			t.Fatal("http pattern has no str field any more: update muxPatterns")
		}
		seen[str.String()] = true
	}
	it := idx.FieldByName("segments").MapRange()
	for it.Next() {
		for i := 0; i < it.Value().Len(); i++ {
			add(it.Value().Index(i))
		}
	}
	multis := idx.FieldByName("multis")
	for i := 0; i < multis.Len(); i++ {
		add(multis.Index(i))
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestEveryRouteHasARule walks every route of the real server (API, artifact
// proxy, downloads, UI, health, auth endpoints) and fails on any route the
// permission table does not cover, and on rules for routes that do not
// exist.
func TestEveryRouteHasARule(t *testing.T) {
	s := startServer(t, "sqlite:///"+t.TempDir()+"/auth.db", "READ")
	patterns := muxPatterns(t, auth.MuxOf(s.svc))
	for _, want := range []string{"GET /health", "POST /api/2.0/mlflow/experiments/create", "GET /api/2.0/mlflow-artifacts/artifacts/{path...}", "/"} {
		if !slices.Contains(patterns, want) {
			t.Fatalf("mux walk did not find %q among %d patterns: update muxPatterns", want, len(patterns))
		}
	}
	for _, p := range patterns {
		if !auth.HasRule(s.svc, p) {
			t.Errorf("route %q has no permission rule in internal/auth/rules.go", p)
		}
	}
	// Every rule names a real route.
	for _, p := range auth.RulePatterns(s.svc) {
		if !slices.Contains(patterns, p) {
			t.Errorf("rule %q names no registered route", p)
		}
	}
	t.Logf("%d routes, all covered", len(patterns))
}

// matrixExempt are the routes TestAuthorizationMatrix does not send,
// because anyone may call them (their rule must say so): the probes, the
// sign-in flow (TestCookieSignInAndCSRF), the UI's pages and assets, and
// the API's catch-all that answers 404/405 for unknown paths.
var matrixExempt = map[string]string{
	"GET /health":                       "public",
	"GET /version":                      "public",
	"GET /ready":                        "public",
	"GET /signin":                       "public",
	"POST /signin":                      "public",
	"POST /api/2.0/mltrack/auth/login":  "public",
	"POST /api/2.0/mltrack/auth/logout": "public",
	"/":                                 "ui",
	"/api/2.0/mlflow/":                  "signed-in",
	"/ajax-api/2.0/mlflow/":             "signed-in",
	"/api/3.0/mlflow/":                  "signed-in",
	"/ajax-api/3.0/mlflow/":             "signed-in",
}

// TestMatrixCoversEveryRoute fails when a route is registered that the
// authorization matrix does not send: a new endpoint needs a matrix case
// (or, if anyone may call it, an entry in matrixExempt). Routes under the
// /ajax-api/ mount must have the same rule as their /api/ twin, which the
// matrix sends.
func TestMatrixCoversEveryRoute(t *testing.T) {
	s := startServer(t, "sqlite:///"+t.TempDir()+"/auth.db", "READ")
	mux := auth.MuxOf(s.svc)
	f := fixture{exp: "1", expName: "e", run: "r1", loggedModel: "m-1", model: "model", hook: "h1", trace: "tr-1", assessment: "a-1", dataset: "d-1"}
	sent := map[string]bool{}
	for _, c := range matrixCases {
		path := expand(c.path, f, "someone")
		if !strings.HasPrefix(path, "/") {
			path = "/api/2.0/mlflow/" + path
		}
		req := httptest.NewRequest(c.method, path, nil)
		_, pattern := mux.Handler(req)
		if pattern == "" || pattern == "/api/2.0/mlflow/" || pattern == "/api/3.0/mlflow/" || pattern == "/" {
			t.Errorf("matrix case %s %s reaches no endpoint (pattern %q)", c.method, c.path, pattern)
		}
		sent[pattern] = true
	}
	patterns := muxPatterns(t, mux)
	covered := 0
	for _, p := range patterns {
		switch {
		case sent[p]:
			covered++
		case matrixExempt[p] != "":
			if got := auth.RuleAccess(s.svc, p); got != matrixExempt[p] {
				t.Errorf("route %q is exempt from the matrix as %s, but its rule is %q", p, matrixExempt[p], got)
			}
		case strings.Contains(p, "/ajax-api/"):
			twin := strings.Replace(p, "/ajax-api/", "/api/", 1)
			if !sent[twin] {
				t.Errorf("route %q: its twin %q is not in the matrix", p, twin)
			} else if !auth.SameRule(s.svc, p, twin) {
				t.Errorf("route %q has another rule than %q", p, twin)
			} else {
				covered++
			}
		default:
			t.Errorf("route %q is not in the authorization matrix: add a case to matrixCases (matrix_test.go)", p)
		}
	}
	t.Logf("%d routes: %d sent by the matrix (directly or as an /ajax-api/ twin), %d public, UI or catch-all", len(patterns), covered, len(patterns)-covered)
}
