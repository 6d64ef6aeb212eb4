package server

import (
	"net/http"
)

// DefaultBackendStoreURI is the backend store of `mlflow server` and
// `mltrack server` when none is given.
const DefaultBackendStoreURI = "sqlite:///mlflow.db"

// registerArtifactsOnly answers the tracking API of an artifacts-only
// server (--artifacts-only) as MLflow does: 503 and a plain-text reason.
// The artifact proxy's routes are registered beside these.
func registerArtifactsOnly(mux *http.ServeMux) {
	disabled := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusServiceUnavailable, "Endpoint: "+r.URL.Path+" disabled due to the mlflow server running in `--artifacts-only` mode. "+
			"To enable tracking server functionality, run `mlflow server` without `--artifacts-only`")
	})
	for _, prefix := range []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/", "/get-artifact", "/model-versions/get-artifact"} {
		mux.Handle(prefix, disabled)
	}
}
