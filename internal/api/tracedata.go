package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// traceDataFile is the file of a trace's spans in its artifact folder
// (MLflow's TRACE_DATA_FILE_NAME).
const traceDataFile = "traces.json"

// maxTraceData bounds the traces.json read into memory to re-encode it.
const maxTraceData = 256 << 20

// getTraceArtifact is MLflow's get_trace_artifact_handler (UI only, under
// /ajax-api/2.0/mlflow/): a trace's spans as traces.json,
// {"spans": [...]}, from the spans table when the trace's spans are stored
// there, else from the trace's own artifact folder.
func (a *API) getTraceArtifact(w http.ResponseWriter, r *http.Request) {
	body, err := a.traceData(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", "attachment; filename="+traceDataFile)
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

func (a *API) traceData(r *http.Request) ([]byte, error) {
	id := r.URL.Query().Get("request_id")
	if id == "" {
		return nil, mlflow.Errorf(mlflow.BadRequest, `Request must include the "request_id" query parameter.`)
	}
	ts, err := a.Traces.GetTraces(r.Context(), []string{id})
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, mlflow.NotFound("Trace with ID %s is not found.", id)
	}
	t := &ts[0]
	if t.Info.Tags[mlflow.TraceTagSpansLocation] == mlflow.SpansLocationStore {
		// TraceData.to_dict of the stored spans (partial traces too, so
		// the UI shows traces in progress), dumped by json.dumps.
		spans := make([]json.RawMessage, len(t.Spans))
		for i, sp := range t.Spans {
			spans[i] = json.RawMessage(sp.Content)
		}
		return dumpTraceData(spans)
	}
	uri, ok := t.Info.Tags[mlflow.TraceTagArtifactLocation]
	if !ok {
		return nil, mlflow.Errorf(mlflow.InternalError, "Unable to determine trace artifact location.")
	}
	// As for runs: only the trace's own folder
	// (<experiment location>/traces/<trace_id>/artifacts), never a tag
	// that points elsewhere.
	if !mlflow.IsEntityFolder(uri, "", "traces", t.Info.TraceID, mlflow.RunArtifactsFolder) {
		return nil, notOwnFolder("trace", t.Info.TraceID, uri)
	}
	repo, base, err := a.resolve(uri)
	if err != nil {
		return nil, err
	}
	rc, err := repo.Get(r.Context(), artifact.JoinPath(base, traceDataFile), 0, -1)
	if err != nil {
		if mlflow.IsNotFound(err) {
			return nil, mlflow.Errorf(mlflow.NotFoundCode, "Trace data not found for path=%s", traceDataFile)
		}
		return nil, fromArtifactStore(err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxTraceData+1))
	if err != nil {
		return nil, fromArtifactStore(err)
	}
	// try_read_trace_data: a JSON object, else corrupted.
	var data map[string]json.RawMessage
	if len(raw) > maxTraceData || json.Unmarshal(raw, &data) != nil || data == nil {
		return nil, mlflow.Errorf(mlflow.InvalidState, "Trace data is corrupted for path=%s", traceDataFile)
	}
	s, err := mlflow.PyDumpsJSON(string(raw))
	if err != nil {
		return nil, mlflow.Errorf(mlflow.InvalidState, "Trace data is corrupted for path=%s", traceDataFile)
	}
	return []byte(s), nil
}

func dumpTraceData(spans []json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(map[string][]json.RawMessage{"spans": spans})
	if err != nil {
		return nil, errors.New("api: encode trace data: " + err.Error())
	}
	s, err := mlflow.PyDumpsJSON(string(b))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}
