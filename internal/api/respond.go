// Package api holds MLflow's REST handlers: each decodes a request, validates
// it with the rules in package mlflow, calls one store or artifact method and
// encodes the answer or the error as MLflow's server does.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// writeJSON answers v as JSON with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	writeJSONStatus(w, http.StatusOK, v)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	if e, ok := v.(encoded); ok {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(e)+1))
		w.WriteHeader(status)
		_, _ = w.Write(append(e, '\n'))
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error_code": "INTERNAL_ERROR", "message": "could not encode the response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorBody is MLflow's error envelope.
type errorBody struct {
	ErrorCode mlflow.ErrorCode `json:"error_code"`
	Message   string           `json:"message"`
}

// artifactStoreError marks an error of the artifact store (fromArtifactStore),
// so that an unreachable store is not reported as the database.
type artifactStoreError struct{ err error }

func (e *artifactStoreError) Error() string { return e.err.Error() }
func (e *artifactStoreError) Unwrap() error { return e.err }

// fromArtifactStore marks err as coming from the artifact store; MLflow
// errors (bad paths, missing files) pass as they are.
func fromArtifactStore(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := mlflow.AsError(err); ok {
		return err
	}
	return &artifactStoreError{err}
}

// writeError answers err in MLflow's format. An *mlflow.Error keeps its code
// and status; an unreachable database (store.IsUnavailable) is a retryable
// 503 TEMPORARILY_UNAVAILABLE; anything else is logged and answered as a generic 500 so that
// no internal detail (SQL text, paths) leaks to the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := mlflow.AsError(err); ok {
		writeJSONStatus(w, e.HTTPStatus(), errorBody{e.Code, e.Message})
		return
	}
	var ae *artifactStoreError
	if errors.As(err, &ae) && store.IsUnavailable(err) {
		slog.WarnContext(r.Context(), "artifact store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSONStatus(w, http.StatusServiceUnavailable, errorBody{mlflow.TemporarilyUnavailable, "The artifact store is temporarily unavailable; retry later."})
		return
	}
	if store.IsUnavailable(err) {
		slog.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSONStatus(w, http.StatusServiceUnavailable, errorBody{mlflow.TemporarilyUnavailable, "The database is temporarily unavailable; retry later."})
		return
	}
	slog.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSONStatus(w, http.StatusInternalServerError, errorBody{mlflow.InternalError, "Internal server error"})
}
