package api

import (
	"net/http"

	"github.com/mltrack/mltrack/internal/store"
)

// scorerRoutes lists MLflow 3's registered scorer endpoints (under
// /api/3.0/mlflow/).
func (a *API) scorerRoutes() []route {
	return []route{
		{"POST", "scorers/register", wrap(a.registerScorer)},
		{"GET", "scorers/list", wrap(a.listScorers)},
		{"GET", "scorers/versions", wrap(a.listScorerVersions)},
		{"GET", "scorers/get", wrap(a.getScorer)},
		{"DELETE", "scorers/delete", wrap(a.deleteScorer)},
	}
}

// scorerJSON is MLflow's Scorer message.
type scorerJSON struct {
	CreationTime     int64  `json:"creation_time"`
	ExperimentID     int64  `json:"experiment_id"`
	ScorerID         string `json:"scorer_id"`
	ScorerName       string `json:"scorer_name"`
	ScorerVersion    int64  `json:"scorer_version"`
	SerializedScorer string `json:"serialized_scorer"`
}

func toScorerJSON(v store.ScorerVersion) scorerJSON {
	return scorerJSON{v.CreationTime, v.ExperimentID, v.ScorerID, v.ScorerName, v.ScorerVersion, v.SerializedScorer}
}

type scorersResponse struct {
	Scorers []scorerJSON `json:"scorers,omitempty"`
}

func toScorersResponse(vs []store.ScorerVersion) scorersResponse {
	var out scorersResponse
	for _, v := range vs {
		out.Scorers = append(out.Scorers, toScorerJSON(v))
	}
	return out
}

func (a *API) registerScorer(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var f [3]string
	for i, name := range []string{"experiment_id", "name", "serialized_scorer"} {
		if f[i], err = p.requiredStr(name); err != nil {
			return nil, err
		}
	}
	v, err := a.Scorers.RegisterScorer(r.Context(), f[0], f[1], f[2])
	if err != nil {
		return nil, err
	}
	return struct {
		CreationTime     int64  `json:"creation_time"`
		ExperimentID     string `json:"experiment_id"`
		Name             string `json:"name"`
		ScorerID         string `json:"scorer_id"`
		SerializedScorer string `json:"serialized_scorer"`
		Version          int64  `json:"version"`
	}{v.CreationTime, f[0], v.ScorerName, v.ScorerID, v.SerializedScorer, v.ScorerVersion}, nil
}

func (a *API) listScorers(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	exp, err := p.requiredStr("experiment_id")
	if err != nil {
		return nil, err
	}
	vs, err := a.Scorers.ListScorers(r.Context(), exp)
	if err != nil {
		return nil, err
	}
	return toScorersResponse(vs), nil
}

// scorerParams reads experiment_id and name (required) and version (optional).
func scorerParams(r *http.Request) (exp, name string, version *int64, err error) {
	p, err := readParams(r)
	if err != nil {
		return "", "", nil, err
	}
	if exp, err = p.requiredStr("experiment_id"); err != nil {
		return "", "", nil, err
	}
	if name, err = p.requiredStr("name"); err != nil {
		return "", "", nil, err
	}
	v, present, err := p.int64Field("version")
	if err != nil {
		return "", "", nil, err
	}
	if present {
		version = &v
	}
	return exp, name, version, nil
}

func (a *API) listScorerVersions(r *http.Request) (any, error) {
	exp, name, _, err := scorerParams(r)
	if err != nil {
		return nil, err
	}
	vs, err := a.Scorers.ListScorerVersions(r.Context(), exp, name)
	if err != nil {
		return nil, err
	}
	return toScorersResponse(vs), nil
}

func (a *API) getScorer(r *http.Request) (any, error) {
	exp, name, version, err := scorerParams(r)
	if err != nil {
		return nil, err
	}
	v, err := a.Scorers.GetScorer(r.Context(), exp, name, version)
	if err != nil {
		return nil, err
	}
	return struct {
		Scorer scorerJSON `json:"scorer"`
	}{toScorerJSON(*v)}, nil
}

func (a *API) deleteScorer(r *http.Request) (any, error) {
	exp, name, version, err := scorerParams(r)
	if err != nil {
		return nil, err
	}
	return empty{}, a.Scorers.DeleteScorer(r.Context(), exp, name, version)
}
