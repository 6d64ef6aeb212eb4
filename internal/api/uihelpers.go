package api

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// The endpoints MLflow serves for its own web UI, outside its REST API's
// proto services: Flask routes that exist only under /ajax-api/2.0/mlflow/
// (mlflow/server/__init__.py), with the validation and messages of their
// handlers in mlflow/server/handlers.py.

const (
	maxHistoryBulkResults = 25000 // get-history-bulk's MAX_HISTORY_RESULTS
	maxHistoryBulkRuns    = 100   // get-history-bulk's MAX_RUN_IDS_PER_REQUEST
	maxDatasetsExperiment = 20    // search-datasets' MAX_EXPERIMENT_IDS_PER_REQUEST
	maxUploadArtifact     = 10 << 20
)

// ajaxRoutes are mounted under /ajax-api/2.0/mlflow/ only, as MLflow does.
func (a *API) ajaxRoutes() []route {
	return []route{
		{"GET", "logged-models/{model_id}/artifacts/files", http.HandlerFunc(a.getLoggedModelArtifact)},
		{"GET", "metrics/get-history-bulk", wrap(a.getMetricHistoryBulk)},
		{"POST", "experiments/search-datasets", wrap(a.searchDatasets)},
		{"POST", "upload-artifact", http.HandlerFunc(a.uploadArtifact)},
		{"POST", "runs/create-promptlab-run", wrap(a.createPromptlabRun)},
		{"GET", "get-trace-artifact", http.HandlerFunc(a.getTraceArtifact)},
	}
}

// getLoggedModelArtifact downloads one file of a logged model; the path is
// checked before the model is looked up.
func (a *API) getLoggedModelArtifact(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("artifact_file_path")
	if p == "" {
		writeError(w, r, mlflow.Errorf(mlflow.BadRequest, `Request must include the "artifact_file_path" query parameter.`))
		return
	}
	p, err := artifact.ValidatePath(p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, err := a.LoggedModels.GetLoggedModel(r.Context(), r.PathValue("model_id"))
	if err == nil {
		err = checkLoggedModelFolder(m)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	a.download(w, r, m.Info.ArtifactURI, p)
}

// getMetricHistoryBulk answers one metric of up to 100 runs, every point
// in (run id, timestamp, step, value) order, at most max_results points in
// all (25000 by default and at most). Unknown runs have no points.
func (a *API) getMetricHistoryBulk(r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := checkRawQuery(q); err != nil {
		return nil, err
	}
	runIDs := q["run_id"]
	if len(runIDs) == 0 {
		return nil, mlflow.InvalidParam("GetMetricHistoryBulk request must specify at least one run_id.")
	}
	if len(runIDs) > maxHistoryBulkRuns {
		return nil, mlflow.InvalidParam("GetMetricHistoryBulk request cannot specify more than %d run_ids. Received %d run_ids.", maxHistoryBulkRuns, len(runIDs))
	}
	keys, ok := q["metric_key"]
	if !ok || len(keys) == 0 {
		return nil, mlflow.InvalidParam("GetMetricHistoryBulk request must specify a metric_key.")
	}
	limit := maxHistoryBulkResults
	if v, ok := q["max_results"]; ok && len(v) > 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
		if err != nil {
			return nil, mlflow.InvalidParam("Invalid value '%s' for parameter 'max_results': it must be an integer", v[0])
		}
		if n < 0 {
			return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results': it must not be negative", n)
		}
		limit = int(min(n, maxHistoryBulkResults))
	}
	ids := slices.Clone(runIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := []mlflow.Metric{}
	for _, id := range ids {
		if len(out) >= limit {
			break
		}
		err := a.Tracking.MetricHistory(r.Context(), store.HistoryQuery{RunID: id, Key: keys[0], Limit: limit - len(out)}, func(m mlflow.Metric) error {
			m.RunID = id
			out = append(out, m)
			return nil
		})
		if e, ok := mlflow.AsError(err); ok && e.Code == mlflow.ResourceDoesNotExist {
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return struct {
		Metrics []mlflow.Metric `json:"metrics"`
	}{out}, nil
}

// requireJSONBody is MLflow's _validate_content_type for the UI's POST
// endpoints: the header must be there and say application/json.
func requireJSONBody(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return mlflow.InvalidParam("Bad Request. Content-Type header is missing.")
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		return mlflow.InvalidParam("Bad Request. Content-Type must be one of ['application/json'].")
	}
	return nil
}

// searchDatasets lists the datasets logged to runs of up to 20 experiments.
func (a *API) searchDatasets(r *http.Request) (any, error) {
	if err := requireJSONBody(r); err != nil {
		return nil, err
	}
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	ids, err := p.strList("experiment_ids")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, mlflow.InvalidParam("SearchDatasets request must specify at least one experiment_id.")
	}
	if len(ids) > maxDatasetsExperiment {
		return nil, mlflow.InvalidParam("SearchDatasets request cannot specify more than %d experiment_ids. Received %d experiment_ids.", maxDatasetsExperiment, len(ids))
	}
	sums, err := a.Tracking.SearchDatasets(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	return struct {
		DatasetSummaries []mlflow.DatasetSummary `json:"dataset_summaries,omitempty"`
	}{sums}, nil
}

// uploadArtifact stores the request body (at most 10 MB) as the file path
// of the run run_uuid, both given in the query string. MLflow answers an
// empty 200.
func (a *API) uploadArtifact(w http.ResponseWriter, r *http.Request) {
	if err := a.upload(r); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
}

func (a *API) upload(r *http.Request) error {
	q := r.URL.Query()
	runID := q.Get("run_uuid")
	if runID == "" {
		return mlflow.InvalidParam("Request must specify run_uuid.")
	}
	p := q.Get("path")
	if p == "" {
		return mlflow.InvalidParam("Request must specify path.")
	}
	p, err := artifact.ValidatePath(p)
	if err != nil {
		return err
	}
	if p == "" {
		return artifact.ErrInvalidPath
	}
	tooLarge := mlflow.InvalidParam("Artifact size is too large. Max size is 10MB.")
	if r.ContentLength > maxUploadArtifact {
		return tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxUploadArtifact+1))
	if err != nil {
		return mlflow.Errorf(mlflow.BadRequest, "could not read the request body: %v", err)
	}
	if len(data) > maxUploadArtifact {
		return tooLarge
	}
	if len(data) == 0 {
		return mlflow.InvalidParam("Request must specify data.")
	}
	run, err := a.Tracking.GetRun(r.Context(), runID)
	if err != nil {
		return err
	}
	if err := checkRunFolder(run); err != nil {
		return err
	}
	repo, base, err := a.resolve(run.Info.ArtifactURI)
	if err != nil {
		return err
	}
	return fromArtifactStore(repo.Put(r.Context(), artifact.JoinPath(base, p), bytes.NewReader(data), int64(len(data))))
}
