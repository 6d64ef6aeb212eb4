package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

func (a *API) experimentRoutes() []route {
	rs := []route{
		{"POST", "experiments/create", wrap(a.createExperiment)},
		{"GET", "experiments/get", wrap(a.getExperiment)},
		{"GET", "experiments/get-by-name", wrap(a.getExperimentByName)},
		{"POST", "experiments/update", wrap(a.updateExperiment)},
		{"POST", "experiments/delete", wrap(a.deleteExperiment)},
		{"POST", "experiments/restore", wrap(a.restoreExperiment)},
		{"POST", "experiments/set-experiment-tag", wrap(a.setExperimentTag)},
		{"POST", "experiments/delete-experiment-tag", wrap(a.deleteExperimentTag)},
	}
	rs = append(rs, route{"GET", "experiments/list", wrap(a.listExperiments)})
	return append(rs, getAndPost("experiments/search", a.searchExperiments)...)
}

// listExperiments is MLflow 1.x's experiments/list, removed in MLflow 2 but
// still called by older REST clients (the npm mlflow package): every
// experiment of the view type, paged like search (docs/compatibility.md).
func (a *API) listExperiments(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	view, err := viewType(p, "view_type")
	if err != nil {
		return nil, err
	}
	maxResults, _, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if maxResults <= 0 || maxResults > mlflow.MaxResultsSearchExperim {
		maxResults = mlflow.MaxResultsSearchExperim
	}
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	q := store.ExperimentQuery{ViewType: view, Page: store.Page{MaxResults: int(maxResults)}}
	if q.Page.Offset, err = search.DecodeOffsetToken(token); err != nil {
		return nil, err
	}
	exps, next, err := a.Tracking.SearchExperiments(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return struct {
		Experiments   []mlflow.Experiment `json:"experiments,omitempty"`
		NextPageToken string              `json:"next_page_token,omitempty"`
	}{exps, next}, nil
}

func (a *API) createExperiment(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	loc, err := p.str("artifact_location")
	if err != nil {
		return nil, err
	}
	var tags []mlflow.Tag
	if err := p.decode("tags", &tags); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateExperimentName(name); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateArtifactLocation(loc); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := mlflow.ValidateExperimentTagValue(t.Value); err != nil {
			return nil, err
		}
	}
	// A relative local path is stored absolute, against the server's
	// working directory, as MLflow's store does.
	if loc, err = resolveArtifactLocation(loc); err != nil {
		return nil, err
	}
	id, err := a.Tracking.CreateExperiment(r.Context(), name, loc, tags)
	if err != nil {
		return nil, err
	}
	return struct {
		ExperimentID string `json:"experiment_id"`
	}{id}, nil
}

type experimentResponse struct {
	Experiment *mlflow.Experiment `json:"experiment"`
}

func (a *API) getExperiment(r *http.Request) (any, error) {
	id, err := requiredParam(r, readParams, "experiment_id")
	if err != nil {
		return nil, err
	}
	e, err := a.Tracking.GetExperiment(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return experimentResponse{e}, nil
}

func (a *API) getExperimentByName(r *http.Request) (any, error) {
	name, err := requiredParam(r, readParams, "experiment_name")
	if err != nil {
		return nil, err
	}
	e, err := a.Tracking.GetExperimentByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return experimentResponse{e}, nil
}

func (a *API) updateExperiment(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("experiment_id")
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("new_name")
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateExperimentName(name); err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.RenameExperiment(r.Context(), id, name)
}

func (a *API) deleteExperiment(r *http.Request) (any, error) {
	return a.experimentAction(r, a.Tracking.DeleteExperiment)
}

func (a *API) restoreExperiment(r *http.Request) (any, error) {
	return a.experimentAction(r, a.Tracking.RestoreExperiment)
}

func (a *API) experimentAction(r *http.Request, act func(ctx context.Context, id string) error) (any, error) {
	id, err := requiredParam(r, readParams, "experiment_id")
	if err != nil {
		return nil, err
	}
	return empty{}, act(r.Context(), id)
}

func (a *API) setExperimentTag(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("experiment_id")
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	value, err := p.str("value")
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateTagKey(key); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateExperimentTagValue(value); err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.SetExperimentTag(r.Context(), id, mlflow.Tag{Key: key, Value: value})
}

func (a *API) deleteExperimentTag(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("experiment_id")
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Tracking.DeleteExperimentTag(r.Context(), id, key)
}

func (a *API) searchExperiments(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	maxResults, _, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	// MLflow requires max_results here (its default is 0, which it rejects).
	if maxResults <= 0 {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer", maxResults)
	}
	if maxResults > mlflow.MaxResultsSearchExperim {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be at most %d", maxResults, mlflow.MaxResultsSearchExperim)
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
	view, err := viewType(p, "view_type")
	if err != nil {
		return nil, err
	}
	q := store.ExperimentQuery{ViewType: view, Page: store.Page{MaxResults: int(maxResults)}}
	if q.Filter, err = search.ParseExperimentFilter(filter); err != nil {
		return nil, err
	}
	if q.OrderBy, err = search.ParseExperimentOrderBy(orderBy); err != nil {
		return nil, err
	}
	if q.Page.Offset, err = search.DecodeOffsetToken(token); err != nil {
		return nil, err
	}
	exps, next, err := a.Tracking.SearchExperiments(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return struct {
		Experiments   []mlflow.Experiment `json:"experiments,omitempty"`
		NextPageToken string              `json:"next_page_token,omitempty"`
	}{exps, next}, nil
}

// viewType reads a ViewType field given by name or number.
func viewType(p *params, name string) (store.ViewType, error) {
	v, ok := p.raw(name)
	if !ok {
		return store.ActiveOnly, nil
	}
	vt, ok := parseViewType(v)
	if !ok {
		return 0, typeError(name, v)
	}
	return vt, nil
}

// parseViewType reads a ViewType given by name ("ACTIVE_ONLY") or number.
func parseViewType(v json.RawMessage) (store.ViewType, bool) {
	s := string(v)
	if v[0] == '"' {
		_ = json.Unmarshal(v, &s)
	}
	switch s {
	case "ACTIVE_ONLY", "1":
		return store.ActiveOnly, true
	case "DELETED_ONLY", "2":
		return store.DeletedOnly, true
	case "ALL", "3":
		return store.All, true
	}
	return store.ActiveOnly, false
}
