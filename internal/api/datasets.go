package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// datasetRoutes lists MLflow 3's evaluation dataset endpoints (under
// /api/3.0/mlflow/).
func (a *API) datasetRoutes() []route {
	return []route{
		{"POST", "datasets/create", wrap(a.createDataset)},
		{"POST", "datasets/search", wrap(a.searchEvaluationDatasets)},
		{"GET", "datasets/search", wrap(a.searchEvaluationDatasets)},
		{"GET", "datasets/{dataset_id}", wrap(a.getDataset)},
		{"DELETE", "datasets/{dataset_id}", wrap(a.deleteDataset)},
		{"PATCH", "datasets/{dataset_id}/tags", wrap(a.setDatasetTags)},
		{"DELETE", "datasets/{dataset_id}/tags/{key...}", wrap(a.deleteDatasetTag)},
		{"POST", "datasets/{dataset_id}/records", wrap(a.upsertDatasetRecords)},
		{"GET", "datasets/{dataset_id}/records", wrap(a.getDatasetRecords)},
		{"GET", "datasets/{dataset_id}/experiment-ids", wrap(a.getDatasetExperimentIDs)},
		{"POST", "datasets/{dataset_id}/add-experiments", wrap(a.addDatasetToExperiments)},
		{"POST", "datasets/{dataset_id}/remove-experiments", wrap(a.removeDatasetFromExperiments)},
	}
}

// datasetJSON is MLflow's Dataset message; tags, schema and profile are
// JSON texts.
type datasetJSON struct {
	CreatedBy      string   `json:"created_by,omitempty"`
	CreatedTime    int64    `json:"created_time"`
	DatasetID      string   `json:"dataset_id"`
	Digest         string   `json:"digest,omitempty"`
	ExperimentIDs  []string `json:"experiment_ids,omitempty"`
	LastUpdateTime int64    `json:"last_update_time"`
	LastUpdatedBy  string   `json:"last_updated_by,omitempty"`
	Name           string   `json:"name"`
	Profile        string   `json:"profile,omitempty"`
	Schema         string   `json:"schema,omitempty"`
	Tags           string   `json:"tags"`
}

func toDatasetJSON(d *mlflow.EvaluationDataset) datasetJSON {
	tags := mlflow.Object{}
	for _, t := range d.Tags {
		v, _ := json.Marshal(t.Value)
		tags.Set(t.Key, v)
	}
	raw, _ := tags.MarshalJSON()
	tagText, _ := mlflow.PyDumps(raw, false)
	return datasetJSON{
		CreatedBy: d.CreatedBy, CreatedTime: d.CreatedTime, DatasetID: d.DatasetID, Digest: d.Digest,
		LastUpdateTime: d.LastUpdateTime, LastUpdatedBy: d.LastUpdatedBy, Name: d.Name,
		Profile: d.Profile, Schema: d.Schema, Tags: tagText,
	}
}

type datasetResponse struct {
	Dataset datasetJSON `json:"dataset"`
}

// jsonTextObject reads a field that holds a JSON object as text (MLflow's
// tags and records fields), keeping key order.
func jsonTextObject(p *params, name string) (mlflow.Object, bool, error) {
	s, err := p.str(name)
	if err != nil || s == "" {
		return nil, false, err
	}
	obj, isObj, err := mlflow.ParseObject(json.RawMessage(s))
	if err != nil || !isObj {
		return nil, false, mlflow.InvalidParam("Invalid value for '%s': it must be a JSON object, as text", name)
	}
	return obj, true, nil
}

// tagValue is the stored text of a tag value given as any JSON value, as
// Python's str() of it (strings as they are).
func tagValue(raw json.RawMessage) (string, bool) {
	switch {
	case string(raw) == "null":
		return "", false
	case string(raw) == "true":
		return "True", true
	case string(raw) == "false":
		return "False", true
	case raw[0] == '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		return s, true
	}
	s, _ := mlflow.PyDumps(raw, false)
	return s, true
}

func objectTags(o mlflow.Object) []mlflow.Tag {
	var tags []mlflow.Tag
	for _, m := range o {
		if v, ok := tagValue(m.Value); ok {
			tags = append(tags, mlflow.Tag{Key: m.Key, Value: v})
		}
	}
	return tags
}

func (a *API) createDataset(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	exps, err := p.strList("experiment_ids")
	if err != nil {
		return nil, err
	}
	tags, _, err := jsonTextObject(p, "tags")
	if err != nil {
		return nil, err
	}
	d, err := a.Datasets.CreateDataset(r.Context(), name, objectTags(tags), exps)
	if err != nil {
		return nil, err
	}
	out := toDatasetJSON(d)
	out.ExperimentIDs = exps
	return datasetResponse{out}, nil
}

func (a *API) getDataset(r *http.Request) (any, error) {
	d, err := a.Datasets.GetDataset(r.Context(), r.PathValue("dataset_id"))
	if err != nil {
		return nil, err
	}
	return datasetResponse{toDatasetJSON(d)}, nil
}

func (a *API) deleteDataset(r *http.Request) (any, error) {
	return empty{}, a.Datasets.DeleteDataset(r.Context(), r.PathValue("dataset_id"))
}

func (a *API) searchEvaluationDatasets(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var q store.DatasetQuery
	if q.ExperimentIDs, err = p.strList("experiment_ids"); err != nil {
		return nil, err
	}
	filter, err := p.str("filter_string")
	if err != nil {
		return nil, err
	}
	if q.Filter, err = search.ParseDatasetFilter(filter); err != nil {
		return nil, err
	}
	orderBy, err := p.strList("order_by")
	if err != nil {
		return nil, err
	}
	if q.OrderBy, err = search.ParseDatasetOrderBy(orderBy); err != nil {
		return nil, err
	}
	max, _, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if max < 0 || max > 50000 {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer at most 50000", max)
	}
	q.Page.MaxResults = int(max)
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	if q.Page.Offset, err = search.DecodeOffsetToken(token); err != nil {
		return nil, err
	}
	ds, next, err := a.Datasets.SearchEvaluationDatasets(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Datasets      []datasetJSON `json:"datasets,omitempty"`
		NextPageToken string        `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for i := range ds {
		out.Datasets = append(out.Datasets, toDatasetJSON(&ds[i]))
	}
	return out, nil
}

func (a *API) setDatasetTags(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	if _, err := p.requiredStr("tags"); err != nil {
		return nil, err
	}
	tags, _, err := jsonTextObject(p, "tags")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Datasets.SetDatasetTags(r.Context(), r.PathValue("dataset_id"), objectTags(tags))
}

func (a *API) deleteDatasetTag(r *http.Request) (any, error) {
	return empty{}, a.Datasets.DeleteDatasetTag(r.Context(), r.PathValue("dataset_id"), r.PathValue("key"))
}

// parseRecords reads the records field of a records upsert: a JSON list
// of record objects, as text.
func parseRecords(text string) ([]store.DatasetRecordInput, error) {
	bad := func(i int, why string) error {
		return mlflow.InvalidParam("Invalid record at index %d: %s", i, why)
	}
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return nil, mlflow.InvalidParam("Invalid value for 'records': it must be a JSON list of record objects, as text")
	}
	out := make([]store.DatasetRecordInput, len(list))
	for i, raw := range list {
		rec, isObj, err := mlflow.ParseObject(raw)
		if err != nil || !isObj {
			return nil, bad(i, "a record must be a JSON object")
		}
		in := &out[i]
		obj := func(key string) (mlflow.Object, error) {
			v, ok := rec.Get(key)
			if !ok || string(v) == "null" {
				return nil, nil
			}
			o, isObj, err := mlflow.ParseObject(v)
			if err != nil || !isObj {
				return nil, bad(i, "'"+key+"' must be a JSON object")
			}
			return o, nil
		}
		if in.Inputs, err = obj("inputs"); err != nil {
			return nil, err
		}
		if in.Inputs == nil {
			in.Inputs = mlflow.Object{}
		}
		if in.Expectations, err = obj("expectations"); err != nil {
			return nil, err
		}
		if in.Tags, err = obj("tags"); err != nil {
			return nil, err
		}
		in.Outputs, in.HasOutputs = rec.Get("outputs")
		if in.Source, err = obj("source"); err != nil {
			return nil, err
		}
		if in.Source != nil {
			var src struct {
				SourceType string          `json:"source_type"`
				SourceData json.RawMessage `json:"source_data"`
			}
			b, _ := in.Source.MarshalJSON()
			if json.Unmarshal(b, &src) != nil || !slices.Contains(mlflow.DatasetRecordSourceTypes, strings.ToUpper(src.SourceType)) {
				return nil, bad(i, "'source.source_type' must be one of "+strings.Join(mlflow.DatasetRecordSourceTypes, ", "))
			}
			in.SourceType = strings.ToUpper(src.SourceType)
			var data map[string]json.RawMessage
			if len(src.SourceData) > 0 && json.Unmarshal(src.SourceData, &data) != nil {
				return nil, bad(i, "'source.source_data' must be a JSON object")
			}
			key := "source_id"
			if in.SourceType == "TRACE" {
				key = "trace_id"
			}
			if v, ok := data[key]; ok {
				_ = json.Unmarshal(v, &in.SourceID)
			}
		}
	}
	return out, nil
}

func (a *API) upsertDatasetRecords(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	text, err := p.requiredStr("records")
	if err != nil {
		return nil, err
	}
	records, err := parseRecords(text)
	if err != nil {
		return nil, err
	}
	ins, upd, err := a.Datasets.UpsertDatasetRecords(r.Context(), r.PathValue("dataset_id"), records)
	if err != nil {
		return nil, err
	}
	return struct {
		InsertedCount int `json:"inserted_count"`
		UpdatedCount  int `json:"updated_count"`
	}{ins, upd}, nil
}

// recordsText is GetDatasetRecords' records field: json.dumps of the
// records' to_dict(), keys in the proto's field order.
func recordsText(rs []mlflow.DatasetRecord) (string, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		o := mlflow.Object{}
		str := func(k, v string) {
			s, _ := json.Marshal(v)
			o.Set(k, s)
		}
		num := func(k string, v int64) {
			s, _ := json.Marshal(v)
			o.Set(k, s)
		}
		str("dataset_record_id", r.DatasetRecordID)
		str("dataset_id", r.DatasetID)
		o.Set("inputs", json.RawMessage(r.Inputs))
		if r.Expectations != "" {
			o.Set("expectations", json.RawMessage(r.Expectations))
		}
		tags := r.Tags
		if tags == "" {
			tags = "{}"
		}
		o.Set("tags", json.RawMessage(tags))
		if r.Source != "" {
			o.Set("source", json.RawMessage(r.Source))
		}
		if r.SourceID != "" {
			str("source_id", r.SourceID)
		}
		if r.SourceType != "" {
			str("source_type", r.SourceType)
		}
		num("created_time", r.CreatedTime)
		num("last_update_time", r.LastUpdateTime)
		if r.CreatedBy != "" {
			str("created_by", r.CreatedBy)
		}
		if r.LastUpdatedBy != "" {
			str("last_updated_by", r.LastUpdatedBy)
		}
		if r.Outputs != "" {
			o.Set("outputs", json.RawMessage(r.Outputs))
		}
		raw, _ := o.MarshalJSON()
		b.Write(raw)
	}
	b.WriteByte(']')
	return mlflow.PyDumps(b.Bytes(), false)
}

func (a *API) getDatasetRecords(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	max, _, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if max < 0 || max > 50000 {
		return nil, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer at most 50000", max)
	}
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	rs, next, err := a.Datasets.DatasetRecords(r.Context(), r.PathValue("dataset_id"), int(max), token)
	if err != nil {
		return nil, err
	}
	text, err := recordsText(rs)
	if err != nil {
		return nil, err
	}
	return struct {
		Records       string `json:"records"`
		NextPageToken string `json:"next_page_token,omitempty"`
	}{text, next}, nil
}

func (a *API) getDatasetExperimentIDs(r *http.Request) (any, error) {
	ids, err := a.Datasets.DatasetExperimentIDs(r.Context(), r.PathValue("dataset_id"))
	if err != nil {
		return nil, err
	}
	return struct {
		ExperimentIDs []string `json:"experiment_ids,omitempty"`
	}{ids}, nil
}

func (a *API) datasetExperimentsChange(r *http.Request, change func(*http.Request, string, []string) (*mlflow.EvaluationDataset, error)) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	exps, err := p.strList("experiment_ids")
	if err != nil {
		return nil, err
	}
	d, err := change(r, r.PathValue("dataset_id"), exps)
	if err != nil {
		return nil, err
	}
	return datasetResponse{toDatasetJSON(d)}, nil
}

func (a *API) addDatasetToExperiments(r *http.Request) (any, error) {
	return a.datasetExperimentsChange(r, func(r *http.Request, id string, exps []string) (*mlflow.EvaluationDataset, error) {
		return a.Datasets.AddDatasetToExperiments(r.Context(), id, exps)
	})
}

func (a *API) removeDatasetFromExperiments(r *http.Request) (any, error) {
	return a.datasetExperimentsChange(r, func(r *http.Request, id string, exps []string) (*mlflow.EvaluationDataset, error) {
		return a.Datasets.RemoveDatasetFromExperiments(r.Context(), id, exps)
	})
}
