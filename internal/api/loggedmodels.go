package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// loggedModelRoutes lists the MLflow 3 logged-models endpoints. A GET of
// logged-models/search reaches the get route and answers "model 'search'
// not found", as MLflow does. Listing a model's artifact folders
// (GET logged-models/{id}/artifacts/directories) belongs with the artifact
// endpoints.
func (a *API) loggedModelRoutes() []route {
	return []route{
		{"POST", "logged-models", wrap(a.createLoggedModel)},
		{"POST", "logged-models/search", wrap(a.searchLoggedModels)},
		{"GET", "logged-models/{model_id}", wrap(a.getLoggedModel)},
		{"PATCH", "logged-models/{model_id}", wrap(a.finalizeLoggedModel)},
		{"DELETE", "logged-models/{model_id}", wrap(a.deleteLoggedModel)},
		{"POST", "logged-models/{model_id}/params", wrap(a.logLoggedModelParams)},
		{"PATCH", "logged-models/{model_id}/tags", wrap(a.setLoggedModelTags)},
		{"DELETE", "logged-models/{model_id}/tags/{tag_key...}", wrap(a.deleteLoggedModelTag)},
	}
}

type loggedModelResponse struct {
	Model *mlflow.LoggedModel `json:"model"`
}

func (a *API) createLoggedModel(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var c store.CreateLoggedModel
	if c.ExperimentID, err = p.requiredStr("experiment_id"); err != nil {
		return nil, err
	}
	for field, dst := range map[string]*string{"name": &c.Name, "model_type": &c.ModelType, "source_run_id": &c.SourceRunID} {
		if *dst, err = p.str(field); err != nil {
			return nil, err
		}
	}
	// As MLflow, keys of a new model's params and tags are not checked.
	if err := p.decode("params", &c.Params); err != nil {
		return nil, err
	}
	if err := p.decode("tags", &c.Tags); err != nil {
		return nil, err
	}
	m, err := a.LoggedModels.CreateLoggedModel(r.Context(), c)
	if err != nil {
		return nil, err
	}
	return loggedModelResponse{m}, nil
}

func (a *API) getLoggedModel(r *http.Request) (any, error) {
	m, err := a.LoggedModels.GetLoggedModel(r.Context(), r.PathValue("model_id"))
	if err != nil {
		return nil, err
	}
	return loggedModelResponse{m}, nil
}

// bodyModelID reads the model_id MLflow requires in the body of finalize and
// log-params; the path's id is the one used.
func bodyModelID(p *params) error {
	_, err := p.requiredStr("model_id")
	return err
}

func (a *API) finalizeLoggedModel(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	if err := bodyModelID(p); err != nil {
		return nil, err
	}
	raw, ok := p.raw("status")
	if !ok {
		return nil, mlflow.MissingParam("status")
	}
	var v string
	if raw[0] == '"' {
		_ = json.Unmarshal(raw, &v)
	} else {
		v = string(raw)
	}
	status, ok := mlflow.ParseLoggedModelStatus(v)
	if !ok {
		return nil, typeError("status", raw)
	}
	if status == mlflow.LoggedModelStatusUnspecified {
		return nil, mlflow.MissingParam("status")
	}
	m, err := a.LoggedModels.FinalizeLoggedModel(r.Context(), r.PathValue("model_id"), status)
	if err != nil {
		return nil, err
	}
	return loggedModelResponse{m}, nil
}

func (a *API) deleteLoggedModel(r *http.Request) (any, error) {
	return empty{}, a.LoggedModels.DeleteLoggedModel(r.Context(), r.PathValue("model_id"))
}

func (a *API) logLoggedModelParams(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	if err := bodyModelID(p); err != nil {
		return nil, err
	}
	var params []mlflow.Tag
	if err := p.decode("params", &params); err != nil {
		return nil, err
	}
	return empty{}, a.LoggedModels.LogLoggedModelParams(r.Context(), r.PathValue("model_id"), params)
}

func (a *API) setLoggedModelTags(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var tags []mlflow.Tag
	if err := p.decode("tags", &tags); err != nil {
		return nil, err
	}
	return empty{}, a.LoggedModels.SetLoggedModelTags(r.Context(), r.PathValue("model_id"), tags)
}

func (a *API) deleteLoggedModelTag(r *http.Request) (any, error) {
	return empty{}, a.LoggedModels.DeleteLoggedModelTag(r.Context(), r.PathValue("model_id"), r.PathValue("tag_key"))
}

// Logged model search limits (MLflow's defaults).
const (
	defaultLoggedModelResults = 100
	maxLoggedModelResults     = 50000
)

// loggedModelOrder is one order_by entry on the wire; ascending defaults to true.
type loggedModelOrder struct {
	FieldName     string `json:"field_name"`
	Ascending     *bool  `json:"ascending,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

func (a *API) searchLoggedModels(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var q store.LoggedModelQuery
	if q.ExperimentIDs, err = p.strList("experiment_ids"); err != nil {
		return nil, err
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, mlflow.MissingParam("experiment_ids")
	}
	filter, err := p.str("filter")
	if err != nil {
		return nil, err
	}
	if q.Filter, err = search.ParseLoggedModelFilter(filter); err != nil {
		return nil, err
	}
	var datasets []struct {
		DatasetName   string `json:"dataset_name"`
		DatasetDigest string `json:"dataset_digest"`
	}
	if err := p.decode("datasets", &datasets); err != nil {
		return nil, err
	}
	for _, d := range datasets {
		if d.DatasetName == "" {
			return nil, mlflow.InvalidParam("`dataset_name` in the `datasets` clause must be specified.")
		}
		q.Datasets = append(q.Datasets, store.LoggedModelDataset{DatasetName: d.DatasetName, DatasetDigest: d.DatasetDigest})
	}
	var orders []loggedModelOrder
	if err := p.decode("order_by", &orders); err != nil {
		return nil, err
	}
	for _, o := range orders {
		if o.FieldName == "" {
			return nil, mlflow.MissingParam("order_by.field_name")
		}
		key := strings.TrimPrefix(strings.TrimPrefix(o.FieldName, "attributes."), "attribute.")
		if !strings.HasPrefix(key, "metrics.") && !loggedModelOrderFields[key] {
			return nil, mlflow.InvalidParam("Invalid order by field name: %s", o.FieldName)
		}
		q.OrderBy = append(q.OrderBy, store.LoggedModelOrder{FieldName: o.FieldName, Ascending: o.Ascending == nil || *o.Ascending,
			DatasetName: o.DatasetName, DatasetDigest: o.DatasetDigest})
	}
	n, present, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if !present || n == 0 {
		n = defaultLoggedModelResults
	}
	if n < 0 || n > maxLoggedModelResults {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be at most %d, and at least 1.", n, maxLoggedModelResults)
	}
	q.Page.MaxResults = int(n)
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	if q.Page.Offset, err = decodeLoggedModelToken(token); err != nil {
		return nil, err
	}
	models, more, err := a.LoggedModels.SearchLoggedModels(r.Context(), q)
	if err != nil {
		return nil, err
	}
	next := ""
	if more {
		next = encodeLoggedModelToken(q.ExperimentIDs, filter, orders, q.Page.Offset+len(models))
	}
	return struct {
		Models        []mlflow.LoggedModel `json:"models,omitempty"`
		NextPageToken string               `json:"next_page_token,omitempty"`
	}{models, next}, nil
}

// encodeLoggedModelToken writes MLflow's logged-models page token: base64 of
// {"experiment_ids": [...], "filter_string": ..., "order_by": ..., "offset": N}
// with Python's json separators.
func encodeLoggedModelToken(expIDs []string, filter string, orders []loggedModelOrder, offset int) string {
	var b bytes.Buffer
	pyJSON := func(v any) {
		raw, _ := json.Marshal(v)
		var out bytes.Buffer
		inString, escaped := false, false
		for _, c := range raw {
			out.WriteByte(c)
			switch {
			case inString && escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case c == '"':
				inString = !inString
			case !inString && (c == ',' || c == ':'):
				out.WriteByte(' ')
			}
		}
		b.Write(out.Bytes())
	}
	b.WriteString(`{"experiment_ids": `)
	pyJSON(expIDs)
	b.WriteString(`, "filter_string": `)
	if filter == "" {
		b.WriteString("null")
	} else {
		pyJSON(filter)
	}
	b.WriteString(`, "order_by": `)
	if len(orders) == 0 {
		b.WriteString("null")
	} else {
		pyJSON(orders)
	}
	b.WriteString(`, "offset": `)
	pyJSON(offset)
	b.WriteString("}")
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// decodeLoggedModelToken reads the offset of a logged-models page token.
// MLflow answers a token it cannot read with a 500; it is the client's
// mistake, so mltrack answers 400.
func decodeLoggedModelToken(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return 0, mlflow.InvalidParam("Invalid page token, could not base64-decode")
	}
	var v struct {
		Offset *int `json:"offset"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Offset == nil || *v.Offset < 0 {
		return 0, mlflow.InvalidParam("Invalid page token")
	}
	return *v.Offset, nil
}

// loggedModelOrderFields are the attributes logged-models/search may order
// by (with the timestamp aliases MLflow accepts).
var loggedModelOrderFields = map[string]bool{
	"model_id": true, "name": true, "model_type": true, "status": true, "source_run_id": true,
	"experiment_id": true, "creation_timestamp": true, "creation_time": true,
	"last_updated_timestamp": true, "last_updated_time": true,
}
