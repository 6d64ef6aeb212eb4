package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// runRoutes lists the runs/ endpoints.
func (a *API) runRoutes() []route {
	return []route{
		{"POST", "runs/create", wrap(a.createRun)},
		{"GET", "runs/get", wrap(a.getRun)},
		{"POST", "runs/update", wrap(a.updateRun)},
		{"POST", "runs/delete", wrap(a.deleteRun)},
		{"POST", "runs/restore", wrap(a.restoreRun)},
		{"POST", "runs/log-metric", wrap(a.logMetric)},
		{"POST", "runs/log-parameter", wrap(a.logParam)},
		{"POST", "runs/set-tag", wrap(a.setTag)},
		{"POST", "runs/delete-tag", wrap(a.deleteTag)},
		{"POST", "runs/log-batch", wrap(a.logBatch)},
		{"POST", "runs/log-inputs", wrap(a.logInputs)},
		{"POST", "runs/outputs", wrap(a.logOutputs)},
		{"POST", "runs/search", wrap(a.searchRuns)},
		{"POST", "runs/log-model", wrap(a.logModel)},
	}
}

// runID reads run_id, or the deprecated run_uuid MLflow still accepts.
func runID(p *params) (string, error) {
	id, err := p.str("run_id")
	if err != nil || id != "" {
		return id, err
	}
	id, err = p.str("run_uuid")
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", mlflow.MissingParam("run_id")
	}
	return id, nil
}

type runResponse struct {
	Run *mlflow.Run `json:"run"`
}

func (a *API) createRun(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var c store.CreateRun
	// MLflow answers a missing experiment_id with a 400 carrying SQL text;
	// mltrack names the missing field (docs/compatibility.md).
	if c.ExperimentID, err = p.requiredStr("experiment_id"); err != nil {
		return nil, err
	}
	if c.UserID, err = p.str("user_id"); err != nil {
		return nil, err
	}
	if c.RunName, err = p.str("run_name"); err != nil {
		return nil, err
	}
	if c.StartTime, _, err = p.int64Field("start_time"); err != nil {
		return nil, err
	}
	if err := p.decode("tags", &c.Tags); err != nil {
		return nil, err
	}
	run, err := a.Tracking.CreateRun(r.Context(), c)
	if err != nil {
		return nil, err
	}
	return runResponse{run}, nil
}

func (a *API) getRun(r *http.Request) (any, error) {
	_, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	run, err := a.Tracking.GetRun(r.Context(), id)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"run":`...)
	b = appendRun(b, run)
	return encoded(append(b, '}')), nil
}

// runStatus reads a RunStatus given by name or number; an unknown value is
// ignored, as MLflow ignores it.
func runStatus(p *params) *string {
	v, ok := p.raw("status")
	if !ok {
		return nil
	}
	var s string
	if v[0] == '"' {
		_ = json.Unmarshal(v, &s)
	} else {
		s = string(v)
	}
	names := map[string]string{"1": mlflow.RunRunning, "2": mlflow.RunScheduled, "3": mlflow.RunFinished, "4": mlflow.RunFailed, "5": mlflow.RunKilled}
	if n, ok := names[s]; ok {
		s = n
	}
	switch s {
	case mlflow.RunRunning, mlflow.RunScheduled, mlflow.RunFinished, mlflow.RunFailed, mlflow.RunKilled:
		return &s
	}
	return nil
}

func (a *API) updateRun(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	u := store.UpdateRun{Status: runStatus(p)}
	if u.RunID, err = runID(p); err != nil {
		return nil, err
	}
	end, hasEnd, err := p.int64Field("end_time")
	if err != nil {
		return nil, err
	}
	if hasEnd {
		u.EndTime = &end
	}
	name, err := p.str("run_name")
	if err != nil {
		return nil, err
	}
	if name != "" {
		u.RunName = &name
	}
	info, err := a.Tracking.UpdateRun(r.Context(), u)
	if err != nil {
		return nil, err
	}
	return struct {
		RunInfo *mlflow.RunInfo `json:"run_info"`
	}{info}, nil
}

func (a *API) deleteRun(r *http.Request) (any, error) {
	_, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.DeleteRun(r.Context(), id)
}

func (a *API) restoreRun(r *http.Request) (any, error) {
	_, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.RestoreRun(r.Context(), id)
}

// metricFields reads one metric's fields from a JSON object (the request
// itself for log-metric, an element for log-batch); prefix names the
// fields in messages ("" or "metrics[3].").
func metricFields(fields map[string]json.RawMessage, prefix string) (mlflow.Metric, error) {
	var m mlflow.Metric
	get := func(name string) (json.RawMessage, bool) {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return nil, false
		}
		return v, true
	}
	key, ok := get("key")
	if ok {
		if err := json.Unmarshal(key, &m.Key); err != nil {
			return m, typeError(prefix+"key", key)
		}
	}
	if m.Key == "" {
		return m, mlflow.MissingParam(prefix + "key")
	}
	value, ok := get("value")
	if !ok {
		return m, mlflow.MissingParam(prefix + "value")
	}
	if err := json.Unmarshal(value, &m.Value); err != nil {
		return m, typeError(prefix+"value", value)
	}
	ts, ok := get("timestamp")
	if !ok {
		return m, mlflow.MissingParam(prefix + "timestamp")
	}
	var err error
	if m.Timestamp, err = intValue(prefix+"timestamp", ts); err != nil {
		return m, err
	}
	if step, ok := get("step"); ok {
		if m.Step, err = stepValue(prefix+"step", step); err != nil {
			return m, err
		}
	}
	// MLflow 3 ties a metric to a logged model and a dataset.
	for field, dst := range map[string]*string{"model_id": &m.ModelID, "dataset_name": &m.DatasetName, "dataset_digest": &m.DatasetDigest} {
		if v, ok := get(field); ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return m, typeError(prefix+field, v)
			}
		}
	}
	name := "name"
	if prefix != "" {
		name = prefix + "name"
	}
	return m, mlflow.ValidateMetricKey(m.Key, name)
}

// intValue reads an int64 given as a number or a numeric string.
func intValue(name string, v json.RawMessage) (int64, error) {
	p := &params{body: map[string]json.RawMessage{name: v}}
	n, _, err := p.int64Field(name)
	return n, err
}

// stepValue reads a metric step. MLflow stores a fractional step (3.5) as 0
// (its int64 field parses the float as zero), and mltrack does the same so
// that both read back alike.
func stepValue(name string, v json.RawMessage) (int64, error) {
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, nil
	}
	if v[0] != '"' {
		var f float64
		if err := json.Unmarshal(v, &f); err == nil && f < 1<<63 && f > -(1<<63) {
			if f == float64(int64(f)) {
				return int64(f), nil
			}
			return 0, nil
		}
	}
	return intValue(name, v)
}

func (a *API) logMetric(r *http.Request) (any, error) {
	p, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	m, err := metricFields(p.body, "")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.LogBatch(r.Context(), id, []mlflow.Metric{m}, nil, nil)
}

// readRunParams reads a request that names a run by run_id (or run_uuid).
func readRunParams(r *http.Request) (*params, string, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, "", err
	}
	id, err := runID(p)
	return p, id, err
}

// runKeyValue reads the run_id, key and value of log-parameter and set-tag.
func runKeyValue(r *http.Request) (id, key, value string, err error) {
	p, id, err := readRunParams(r)
	if err != nil {
		return "", "", "", err
	}
	if key, err = p.requiredStr("key"); err != nil {
		return "", "", "", err
	}
	value, err = p.str("value")
	return id, key, value, err
}

func (a *API) logParam(r *http.Request) (any, error) {
	id, key, value, err := runKeyValue(r)
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateParamKey(key, "key"); err != nil {
		return nil, err
	}
	param := mlflow.Tag{Key: key, Value: mlflow.Truncate(value, mlflow.MaxParamValueLength)}
	err = a.Tracking.LogBatch(r.Context(), id, nil, []mlflow.Tag{param}, nil)
	var changed *mlflow.ParamChangeError
	if errors.As(err, &changed) {
		return nil, changed.Single()
	}
	return empty{}, err
}

func (a *API) setTag(r *http.Request) (any, error) {
	id, key, value, err := runKeyValue(r)
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateRunTagKey(key, "key"); err != nil {
		return nil, err
	}
	tag := mlflow.Tag{Key: key, Value: mlflow.Truncate(value, mlflow.MaxTagValueLength)}
	return empty{}, a.Tracking.LogBatch(r.Context(), id, nil, nil, []mlflow.Tag{tag})
}

func (a *API) deleteTag(r *http.Request) (any, error) {
	p, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.DeleteTag(r.Context(), id, key)
}

// objectList reads a field holding a list of JSON objects.
func objectList(p *params, name string) ([]map[string]json.RawMessage, error) {
	v, ok := p.raw(name)
	if !ok {
		return nil, nil
	}
	var out []map[string]json.RawMessage
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, typeError(name, v)
	}
	return out, nil
}

// keyValues reads log-batch params or tags: each needs a key; values are
// strings (absent is "").
func keyValues(p *params, name string) ([]mlflow.Tag, error) {
	objs, err := objectList(p, name)
	if err != nil {
		return nil, err
	}
	out := make([]mlflow.Tag, len(objs))
	for i, o := range objs {
		item := &params{body: o}
		field := fmt.Sprintf("%s[%d].", name, i)
		if out[i].Key, err = item.str("key"); err != nil {
			return nil, typeError(field+"key", o["key"])
		}
		if out[i].Key == "" {
			return nil, mlflow.MissingParam(field + "key")
		}
		if out[i].Value, err = item.str("value"); err != nil {
			return nil, typeError(field+"value", o["value"])
		}
	}
	return out, nil
}

func (a *API) logBatch(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("run_id")
	if err != nil {
		return nil, err
	}
	metrics, fast := fastMetrics(p.body["metrics"])
	var mobjs []map[string]json.RawMessage
	if !fast {
		if mobjs, err = objectList(p, "metrics"); err != nil {
			return nil, err
		}
	}
	params, err := keyValues(p, "params")
	if err != nil {
		return nil, err
	}
	tags, err := keyValues(p, "tags")
	if err != nil {
		return nil, err
	}
	if !fast {
		metrics = make([]mlflow.Metric, len(mobjs))
	}
	if err := mlflow.BatchLimits(len(metrics), len(params), len(tags)); err != nil {
		return nil, err
	}
	for i, o := range mobjs {
		if metrics[i], err = metricFields(o, fmt.Sprintf("metrics[%d].", i)); err != nil {
			return nil, err
		}
	}
	for i := range params {
		if err := mlflow.ValidateParamKey(params[i].Key, fmt.Sprintf("params[%d].key", i)); err != nil {
			return nil, err
		}
		params[i].Value = mlflow.Truncate(params[i].Value, mlflow.MaxParamValueLength)
	}
	if err := mlflow.UniqueParamKeys(params); err != nil {
		return nil, err
	}
	for i := range tags {
		if err := mlflow.ValidateRunTagKey(tags[i].Key, fmt.Sprintf("tags[%d].key", i)); err != nil {
			return nil, err
		}
		tags[i].Value = mlflow.Truncate(tags[i].Value, mlflow.MaxTagValueLength)
	}
	return empty{}, a.Tracking.LogBatch(r.Context(), id, metrics, params, tags)
}

func (a *API) logInputs(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("run_id")
	if err != nil {
		return nil, err
	}
	var datasets []mlflow.DatasetInput
	if err := p.decode("datasets", &datasets); err != nil {
		return nil, err
	}
	var models []mlflow.ModelInput
	if err := p.decode("models", &models); err != nil {
		return nil, err
	}
	if len(datasets) > mlflow.MaxDatasetsPerBatch {
		return nil, mlflow.InvalidParam("A batch logging request can contain at most %d datasets. Got %d datasets. Please split up datasets across multiple requests and try again.", mlflow.MaxDatasetsPerBatch, len(datasets))
	}
	for _, d := range datasets {
		if err := mlflow.ValidateDataset(d.Dataset); err != nil {
			return nil, err
		}
		for _, t := range d.Tags {
			if err := mlflow.ValidateInputTag(t); err != nil {
				return nil, err
			}
		}
	}
	return empty{}, a.Tracking.LogInputs(r.Context(), id, datasets, models)
}

func (a *API) logOutputs(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("run_id")
	if err != nil {
		return nil, err
	}
	var models []mlflow.ModelOutput
	if err := p.decode("models", &models); err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.LogOutputs(r.Context(), id, models)
}

// runViewType reads run_view_type; ok is false for a name MLflow does not
// know (it then answers an empty result, where experiments/search answers
// a 400).
func runViewType(p *params) (store.ViewType, bool) {
	v, present := p.raw("run_view_type")
	if !present {
		return store.ActiveOnly, true
	}
	return parseViewType(v)
}

type searchRunsResponse struct {
	Runs          []mlflow.Run `json:"runs,omitempty"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}

func (a *API) searchRuns(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	exps, err := p.strList("experiment_ids")
	if err != nil {
		return nil, err
	}
	filter, err := p.str("filter")
	if err != nil {
		return nil, err
	}
	orderBy, err := p.strList("order_by")
	if err != nil {
		return nil, err
	}
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	maxResults, present, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if !present {
		maxResults = mlflow.DefaultSearchRunsResults
	}
	if maxResults <= 0 {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer", maxResults)
	}
	if maxResults > mlflow.MaxResultsSearchRuns {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.", maxResults)
	}
	view, known := runViewType(p)
	q := store.RunQuery{ExperimentIDs: exps, ViewType: view, Page: store.Page{MaxResults: int(maxResults)}}
	// Parsed together: MLflow checks the filter's syntax, then order_by,
	// then the filter's comparators, and reports the first error.
	if q.Filter, q.OrderBy, err = search.ParseRunSearch(filter, orderBy); err != nil {
		return nil, err
	}
	if q.Page.Offset, err = search.DecodeOffsetToken(token); err != nil {
		return nil, err
	}
	q.After = search.DecodeRunCursor(token)
	if !known || len(exps) == 0 {
		return searchRunsResponse{}, nil
	}
	runs, next, err := a.Tracking.SearchRuns(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return encodeSearchRuns(runs, next), nil
}

// encodeSearchRuns encodes a runs/search answer as searchRunsResponse.
func encodeSearchRuns(runs []mlflow.Run, next string) encoded {
	b := make([]byte, 0, 1024+len(runs)*1024)
	b = append(b, '{')
	if len(runs) > 0 {
		b = append(b, `"runs":[`...)
		for i := range runs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRun(b, &runs[i])
		}
		b = append(b, ']')
	}
	if next != "" {
		if len(runs) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"next_page_token":`...)
		b = appendString(b, next)
	}
	return append(b, '}')
}

// logModel is the legacy runs/log-model: the model's MLmodel description is
// recorded in the run's mlflow.log-model.history tag.
func (a *API) logModel(r *http.Request) (any, error) {
	p, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	modelJSON, err := p.requiredStr("model_json")
	if err != nil {
		return nil, err
	}
	var model map[string]json.RawMessage
	if json.Unmarshal([]byte(modelJSON), &model) != nil {
		return nil, mlflow.InvalidParam("Malformed model info. \n %s \n is not a valid JSON.", modelJSON)
	}
	return empty{}, a.Tracking.LogModelHistory(r.Context(), id, json.RawMessage(modelJSON))
}
