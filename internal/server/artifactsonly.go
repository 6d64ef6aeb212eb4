package server

import (
	"net/http"
)

// registerArtifactsOnly answers the tracking API of an artifacts-only
// server (--artifacts-only) as MLflow does: 503 and the reason, in the
// text/html of a bare Flask Response (mlflow/server/handlers.py,
// _disable_if_artifacts_only). The artifact proxy's routes are registered
// beside these.
func registerArtifactsOnly(mux *http.ServeMux) {
	disabled := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Endpoint: " + r.URL.Path + " disabled due to the mlflow server running in `--artifacts-only` mode. " +
			"To enable tracking server functionality, run `mlflow server` without `--artifacts-only`"))
	})
	for _, prefix := range []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/", "/get-artifact", "/model-versions/get-artifact"} {
		mux.Handle(prefix, disabled)
	}
}
