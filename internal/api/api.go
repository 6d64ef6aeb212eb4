package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// API serves MLflow's REST API from the stores.
type API struct {
	Tracking     store.Tracking
	Registry     store.Registry
	LoggedModels store.LoggedModels
	Traces       store.Traces
	Datasets     store.Datasets
	Scorers      store.Scorers
	// Artifacts resolves the artifact URIs of runs, model versions and
	// logged models for the endpoints that read artifacts through them.
	Artifacts *artifact.Resolver
	// Webhooks serves the webhooks/ endpoints; nil leaves them out.
	Webhooks *Webhooks
}

// jsonHandler answers a JSON value or an error; wrap turns it into an
// http.HandlerFunc.
type jsonHandler func(r *http.Request) (any, error)

func wrap(h jsonHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, v)
	}
}

// route is one endpoint under /api/2.0/mlflow/ (and /ajax-api/2.0/mlflow/).
type route struct {
	method, path string
	h            http.Handler
}

// empty is MLflow's answer to most writes: {}.
type empty struct{}

// Register adds every MLflow REST route of the API to mux, under both
// /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/.
func (a *API) Register(mux *http.ServeMux) {
	var routes []route
	routes = append(routes, a.experimentRoutes()...)
	routes = append(routes, a.runRoutes()...)
	routes = append(routes, a.metricRoutes()...)
	routes = append(routes, a.registryRoutes()...)
	routes = append(routes, a.loggedModelRoutes()...)
	routes = append(routes, a.artifactLinkRoutes()...)
	routes = append(routes, a.webhookRoutes()...)
	traces2, traces3 := a.traceRoutes()
	routes = append(routes, traces2...)
	routes = append(routes, route{"GET", "server-features", wrap(serverFeatures)})
	methods := map[string][]string{} // path -> methods, for 405 answers
	for _, prefix := range []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"} {
		prefixRoutes := routes
		if prefix == "/ajax-api/2.0/mlflow/" {
			prefixRoutes = append(slices.Clip(routes), a.ajaxRoutes()...)
		}
		for _, rt := range prefixRoutes {
			mux.Handle(rt.method+" "+prefix+rt.path, rt.h)
			methods[prefix+rt.path] = append(methods[prefix+rt.path], rt.method)
		}
		mux.Handle(prefix, notFound(methods))
	}
	// MLflow 3's endpoints (service.proto's `since` 3.0) under /api/3.0/:
	// traces, evaluation datasets and scorers.
	routes3 := append(traces3, a.datasetRoutes()...)
	routes3 = append(routes3, a.scorerRoutes()...)
	for _, prefix := range []string{"/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"} {
		for _, rt := range routes3 {
			mux.Handle(rt.method+" "+prefix+rt.path, rt.h)
			methods[prefix+rt.path] = append(methods[prefix+rt.path], rt.method)
		}
		mux.Handle(prefix, notFound(methods))
	}
	mux.Handle("POST /v1/traces", http.HandlerFunc(a.otlpTraces))
	a.registerMltrack(mux)
}

// notFound answers paths no route has: 405 with Allow when the path exists
// for other methods (the catch-all pattern would otherwise hide the mux's
// own 405), else ENDPOINT_NOT_FOUND.
func notFound(methods map[string][]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ms, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", strings.Join(ms, ", "))
			writeJSONStatus(w, http.StatusMethodNotAllowed, errorBody{mlflow.BadRequest, "The method is not allowed for the requested URL."})
			return
		}
		writeJSONStatus(w, http.StatusNotFound, errorBody{mlflow.EndpointNotFound, "No API endpoint at " + r.Method + " " + r.URL.Path})
	}
}

// getAndPost registers a route for both GET (query string) and POST (JSON).
func getAndPost(path string, h jsonHandler) []route {
	return []route{{"GET", path, wrap(h)}, {"POST", path, wrap(h)}}
}

// serverFeatures answers what MLflow 3.6 answers: no workspaces.
func serverFeatures(r *http.Request) (any, error) {
	return struct {
		WorkspacesEnabled bool `json:"workspaces_enabled"`
	}{false}, nil
}
