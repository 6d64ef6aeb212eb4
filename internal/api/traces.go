package api

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// traceRoutes are the trace endpoints of MLflow 3.6 (service.proto): each
// path under the API version its `since` names.
func (a *API) traceRoutes() (v2, v3 []route) {
	v2 = []route{
		{"PATCH", "traces/{request_id}/tags", endpoint(a.setTraceTagV2)},
		{"DELETE", "traces/{request_id}/tags", endpoint(a.deleteTraceTagV2)},
		{"POST", "traces/delete-traces", endpoint(a.deleteTraces)},
		// since 2.0 in service.proto, so under /api/2.0/ only.
		{"POST", "traces/link-to-run", endpoint(a.linkTracesToRun)},
		// MLflow 2's trace API, deprecated but still served by 3.6.
		{"POST", "traces", endpoint(a.startTraceV2)},
		{"PATCH", "traces/{request_id}", endpoint(a.endTraceV2)},
		{"GET", "traces/{request_id}/info", endpoint(a.getTraceInfoV2)},
		{"GET", "traces", endpoint(a.searchTracesV2)},
	}
	v3 = []route{
		{"POST", "traces", endpoint(a.startTrace)},
		{"GET", "traces/{trace_id}", endpoint(a.getTraceInfo)},
		{"GET", "traces/get", endpoint(a.getTrace)},
		{"GET", "traces/batchGet", endpoint(a.batchGetTraces)},
		{"POST", "traces/search", endpoint(a.searchTraces)},
		{"PATCH", "traces/{trace_id}/tags", endpoint(a.setTraceTag)},
		{"DELETE", "traces/{trace_id}/tags", endpoint(a.deleteTraceTag)},
		{"POST", "traces/delete-traces", endpoint(a.deleteTraces)},
		{"POST", "traces/{trace_id}/assessments", endpoint(a.createAssessment)},
		{"GET", "traces/{trace_id}/assessments/{assessment_id}", endpoint(a.getAssessment)},
		{"PATCH", "traces/{trace_id}/assessments/{assessment_id}", endpoint(a.updateAssessment)},
		{"DELETE", "traces/{trace_id}/assessments/{assessment_id}", endpoint(a.deleteAssessment)},
	}
	return v2, v3
}

// ---- wire types (service.proto / assessments.proto as protobuf JSON) ----

type traceLocationJSON struct {
	Type             string `json:"type"`
	MlflowExperiment *struct {
		ExperimentID string `json:"experiment_id"`
	} `json:"mlflow_experiment,omitempty"`
}

type traceInfoJSON struct {
	TraceID           string            `json:"trace_id"`
	ClientRequestID   *string           `json:"client_request_id,omitempty"`
	TraceLocation     traceLocationJSON `json:"trace_location"`
	RequestPreview    *string           `json:"request_preview,omitempty"`
	ResponsePreview   *string           `json:"response_preview,omitempty"`
	RequestTime       string            `json:"request_time,omitempty"`
	ExecutionDuration string            `json:"execution_duration,omitempty"`
	State             string            `json:"state,omitempty"`
	TraceMetadata     map[string]string `json:"trace_metadata,omitempty"`
	Assessments       []assessmentJSON  `json:"assessments,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
}

type serializedValueJSON struct {
	SerializationFormat string `json:"serialization_format"`
	Value               string `json:"value"`
}

type expectationJSON struct {
	Value           json.RawMessage      `json:"value,omitempty"`
	SerializedValue *serializedValueJSON `json:"serialized_value,omitempty"`
}

type feedbackJSON struct {
	Value json.RawMessage `json:"value,omitempty"`
	Error json.RawMessage `json:"error,omitempty"`
}

type assessmentJSON struct {
	AssessmentID   string                   `json:"assessment_id,omitempty"`
	AssessmentName string                   `json:"assessment_name"`
	TraceID        string                   `json:"trace_id,omitempty"`
	SpanID         string                   `json:"span_id,omitempty"`
	Source         *mlflow.AssessmentSource `json:"source,omitempty"`
	CreateTime     string                   `json:"create_time,omitempty"`
	LastUpdateTime string                   `json:"last_update_time,omitempty"`
	Expectation    *expectationJSON         `json:"expectation,omitempty"`
	Feedback       *feedbackJSON            `json:"feedback,omitempty"`
	Rationale      *string                  `json:"rationale,omitempty"`
	Metadata       map[string]string        `json:"metadata,omitempty"`
	RunID          string                   `json:"run_id,omitempty"`
	Overrides      string                   `json:"overrides,omitempty"`
	Valid          *bool                    `json:"valid,omitempty"`
}

func toTraceInfoJSON(t *mlflow.TraceInfo) traceInfoJSON {
	out := traceInfoJSON{
		TraceID:         t.TraceID,
		ClientRequestID: t.ClientRequestID,
		RequestPreview:  t.RequestPreview,
		ResponsePreview: t.ResponsePreview,
		RequestTime:     mlflow.FormatProtoTimestamp(t.RequestTime),
		State:           t.State,
		TraceMetadata:   t.Metadata,
		Tags:            t.Tags,
	}
	out.TraceLocation.Type = "MLFLOW_EXPERIMENT"
	out.TraceLocation.MlflowExperiment = &struct {
		ExperimentID string `json:"experiment_id"`
	}{t.ExperimentID}
	if t.ExecutionDuration != nil {
		out.ExecutionDuration = mlflow.FormatProtoDuration(*t.ExecutionDuration)
	}
	for i := range t.Assessments {
		out.Assessments = append(out.Assessments, toAssessmentJSON(&t.Assessments[i]))
	}
	return out
}

func toAssessmentJSON(a *mlflow.Assessment) assessmentJSON {
	valid := a.Valid
	src := a.Source
	out := assessmentJSON{
		AssessmentID: a.AssessmentID, AssessmentName: a.Name, TraceID: a.TraceID, SpanID: a.SpanID,
		Source: &src, CreateTime: mlflow.FormatProtoTimestamp(a.CreateTime), LastUpdateTime: mlflow.FormatProtoTimestamp(a.LastUpdateTime),
		Rationale: a.Rationale, RunID: a.RunID, Overrides: a.Overrides, Valid: &valid,
	}
	if a.Metadata != "" {
		_ = json.Unmarshal([]byte(a.Metadata), &out.Metadata)
	}
	if a.Type == "feedback" {
		out.Feedback = &feedbackJSON{Value: json.RawMessage(a.Value)}
		if a.Error != "" {
			out.Feedback.Error = json.RawMessage(a.Error)
		}
		return out
	}
	// An expectation of a string, number or boolean is a plain value; any
	// other is its JSON text (Expectation.to_proto).
	out.Expectation = &expectationJSON{}
	v := strings.TrimSpace(a.Value)
	if v != "" && (v[0] == '{' || v[0] == '[' || v == "null") {
		out.Expectation.SerializedValue = &serializedValueJSON{"JSON_FORMAT", a.Value}
	} else {
		out.Expectation.Value = json.RawMessage(a.Value)
	}
	return out
}

// fromAssessmentJSON reads an assessment of a request (Assessment.from_proto).
func fromAssessmentJSON(j *assessmentJSON, traceID string) (mlflow.Assessment, error) {
	a := mlflow.Assessment{
		AssessmentID: j.AssessmentID, TraceID: traceID, Name: j.AssessmentName, SpanID: j.SpanID,
		Rationale: j.Rationale, RunID: j.RunID, Overrides: j.Overrides,
	}
	if err := mlflow.ValidateLength("assessment_name", a.Name, mlflow.MaxAssessmentName); err != nil {
		return a, err
	}
	if j.Source == nil || j.Source.SourceType == "" {
		return a, mlflow.MissingParam("source")
	}
	a.Source = *j.Source
	var err error
	if j.CreateTime != "" {
		if a.CreateTime, err = mlflow.ParseProtoTimestamp(j.CreateTime); err != nil {
			return a, mlflow.InvalidParam("Invalid value %q for parameter 'create_time'", j.CreateTime)
		}
	}
	if j.LastUpdateTime != "" {
		if a.LastUpdateTime, err = mlflow.ParseProtoTimestamp(j.LastUpdateTime); err != nil {
			return a, mlflow.InvalidParam("Invalid value %q for parameter 'last_update_time'", j.LastUpdateTime)
		}
	}
	if len(j.Metadata) > 0 {
		b, _ := json.Marshal(j.Metadata)
		a.Metadata = string(b)
	}
	switch {
	case j.Feedback != nil:
		a.Type = "feedback"
		if a.Value, err = storedValue(j.Feedback.Value); err != nil {
			return a, err
		}
		if len(j.Feedback.Error) > 0 && string(j.Feedback.Error) != "null" {
			if a.Error, err = mlflow.PyDumpsJSON(string(j.Feedback.Error)); err != nil {
				return a, mlflow.InvalidParam("Invalid feedback error: %v", err)
			}
		}
	case j.Expectation != nil:
		a.Type = "expectation"
		if sv := j.Expectation.SerializedValue; sv != nil {
			if !json.Valid([]byte(sv.Value)) {
				return a, mlflow.InvalidParam("Invalid serialized expectation value: it must be JSON")
			}
			a.Value = sv.Value
		} else if a.Value, err = storedValue(j.Expectation.Value); err != nil {
			return a, err
		}
	default:
		return a, mlflow.InvalidParam("Assessment must have either feedback or expectation value")
	}
	return a, nil
}

// storedValue is json.dumps of a value, as assessments.value holds it.
func storedValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "null", nil
	}
	s, err := mlflow.PyDumpsJSON(string(raw))
	if err != nil {
		return "", mlflow.InvalidParam("Invalid assessment value: %v", err)
	}
	return s, nil
}

type traceJSON struct {
	TraceInfo traceInfoJSON `json:"trace_info"`
}

// appendTrace writes a trace with its spans (protobuf JSON of Trace) by
// hand: a 1,000-span trace spent a fifth of its time in encoding/json
// checking the spans' JSON again.
func appendTrace(b []byte, t *mlflow.Trace) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(toTraceInfoJSON(&t.Info)); err != nil {
		return nil, err
	}
	b = append(b, `{"trace_info": `...)
	b = append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
	if len(t.Spans) > 0 {
		b = append(b, `, "spans": [`...)
		for i, sp := range t.Spans {
			if i > 0 {
				b = append(b, ", "...)
			}
			var err error
			if b, err = mlflow.SpanOTelJSON(b, sp.Content); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// complete reports whether all of a trace's spans are stored: the span
// count in its size stats, when the client wrote them (MLflow's check).
func complete(t *mlflow.Trace) bool {
	if t.Info.Tags[mlflow.TraceTagSpansLocation] != mlflow.SpansLocationStore {
		return false
	}
	stats, ok := t.Info.Metadata[mlflow.TraceMetaSizeStats]
	if !ok {
		return true
	}
	var s struct {
		NumSpans int `json:"num_spans"`
	}
	if json.Unmarshal([]byte(stats), &s) != nil {
		return true
	}
	return len(t.Spans) >= s.NumSpans
}

// ---- handlers ----

type startTraceReq struct {
	Trace *struct {
		TraceInfo traceInfoJSON `json:"trace_info"`
	} `json:"trace" rules:"required"`
}

func (a *API) startTrace(ctx context.Context, req *startTraceReq) (any, error) {
	j := &req.Trace.TraceInfo
	info := mlflow.TraceInfo{
		TraceID: j.TraceID, ClientRequestID: j.ClientRequestID, RequestPreview: j.RequestPreview,
		ResponsePreview: j.ResponsePreview, State: j.State, Tags: j.Tags, Metadata: j.TraceMetadata,
	}
	if info.TraceID == "" {
		return nil, mlflow.MissingParam("trace_id")
	}
	if err := mlflow.ValidateLength("trace_id", info.TraceID, mlflow.MaxTraceIDLength); err != nil {
		return nil, err
	}
	if j.TraceLocation.MlflowExperiment == nil || j.TraceLocation.MlflowExperiment.ExperimentID == "" {
		return nil, mlflow.InvalidParam("Only the MLFLOW_EXPERIMENT trace location is supported by this server.")
	}
	info.ExperimentID = j.TraceLocation.MlflowExperiment.ExperimentID
	if info.State == "" {
		info.State = mlflow.TraceStateUnspecified
	}
	switch info.State {
	case mlflow.TraceStateUnspecified, mlflow.TraceStateOK, mlflow.TraceStateError, mlflow.TraceStateInProgress:
	default:
		return nil, mlflow.InvalidParam("Invalid value '%s' for parameter 'state'", info.State)
	}
	var err error
	if j.RequestTime != "" {
		if info.RequestTime, err = mlflow.ParseProtoTimestamp(j.RequestTime); err != nil {
			return nil, mlflow.InvalidParam("Invalid value %q for parameter 'request_time'", j.RequestTime)
		}
	}
	if j.ExecutionDuration != "" {
		d, err := mlflow.ParseProtoDuration(j.ExecutionDuration)
		if err != nil {
			return nil, mlflow.InvalidParam("Invalid value %q for parameter 'execution_duration'", j.ExecutionDuration)
		}
		info.ExecutionDuration = &d
	}
	for k, v := range info.Tags {
		if err := validateTraceTag(k, v); err != nil {
			return nil, err
		}
	}
	for _, aj := range j.Assessments {
		as, err := fromAssessmentJSON(&aj, info.TraceID)
		if err != nil {
			return nil, err
		}
		info.Assessments = append(info.Assessments, as)
	}
	got, err := a.Traces.StartTrace(ctx, info)
	if err != nil {
		return nil, err
	}
	return map[string]traceJSON{"trace": {TraceInfo: toTraceInfoJSON(got)}}, nil
}

// validateTraceTag is MLflow's _validate_trace_tag: the lengths of
// trace_tags' columns.
func validateTraceTag(k, v string) error {
	if k == "" {
		return mlflow.MissingParam("key")
	}
	if err := mlflow.ValidateLength("key", k, mlflow.MaxTraceTagKey); err != nil {
		return err
	}
	return mlflow.ValidateLength("value", v, mlflow.MaxTraceTagValue)
}

type traceIDReq struct {
	TraceID string `path:"trace_id" rules:"required"`
}

func (a *API) getTraceInfo(ctx context.Context, req *traceIDReq) (any, error) {
	info, err := a.Traces.GetTraceInfo(ctx, req.TraceID)
	if err != nil {
		return nil, err
	}
	return map[string]traceJSON{"trace": {TraceInfo: toTraceInfoJSON(info)}}, nil
}

type getTraceReq struct {
	TraceID      string `json:"trace_id" rules:"required"`
	AllowPartial bool   `json:"allow_partial"`
}

func (a *API) getTrace(ctx context.Context, req *getTraceReq) (any, error) {
	ts, err := a.Traces.GetTraces(ctx, []string{req.TraceID})
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, mlflow.NotFound("Trace with ID %s is not found.", req.TraceID)
	}
	if !req.AllowPartial && !complete(&ts[0]) {
		return nil, mlflow.NotFound("Trace with ID %s is not fully exported yet, please try again later.", req.TraceID)
	}
	b, err := appendTrace([]byte(`{"trace": `), &ts[0])
	if err != nil {
		return nil, err
	}
	return encoded(append(b, '}')), nil
}

type batchGetTracesReq struct {
	TraceIDs []string `json:"trace_ids" rules:"required"`
}

func (a *API) batchGetTraces(ctx context.Context, req *batchGetTracesReq) (any, error) {
	ts, err := a.Traces.GetTraces(ctx, req.TraceIDs)
	if err != nil {
		return nil, err
	}
	b := []byte("{")
	n := 0
	for i := range ts {
		// Only complete traces, as MLflow's batch_get_traces.
		if !complete(&ts[i]) {
			continue
		}
		if n == 0 {
			b = append(b, `"traces": [`...)
		} else {
			b = append(b, ", "...)
		}
		n++
		if b, err = appendTrace(b, &ts[i]); err != nil {
			return nil, err
		}
	}
	if n > 0 {
		b = append(b, ']')
	}
	return encoded(append(b, '}')), nil
}

// findTraces runs one page of a trace search for the v3 and v2 search
// endpoints: MLflow's default page of 100, its max_results check, the trace
// filter grammar and offset page tokens.
func (a *API) findTraces(ctx context.Context, experimentIDs []string, filter string, orderBy []string, maxResults *int64, pageToken string) ([]mlflow.TraceInfo, string, error) {
	q := store.TraceQuery{ExperimentIDs: experimentIDs, Page: store.Page{MaxResults: 100}}
	if maxResults != nil {
		if *maxResults < 1 {
			return nil, "", mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer", *maxResults)
		}
		q.Page.MaxResults = int(*maxResults)
	}
	var err error
	if q.Filter, q.OrderBy, err = search.ParseTraceSearch(filter, orderBy); err != nil {
		return nil, "", err
	}
	if pageToken != "" {
		if q.Page.Offset, err = search.DecodeOffsetToken(pageToken); err != nil {
			return nil, "", err
		}
	}
	return a.Traces.SearchTraces(ctx, q)
}

type searchTracesReq struct {
	Locations  []traceLocationJSON `json:"locations" rules:"required"`
	Filter     string              `json:"filter"`
	MaxResults *int64              `json:"max_results" rules:"maxval=500"`
	OrderBy    []string            `json:"order_by"`
	PageToken  string              `json:"page_token"`
}

func (a *API) searchTraces(ctx context.Context, req *searchTracesReq) (any, error) {
	var ids []string
	for _, l := range req.Locations {
		if l.MlflowExperiment != nil {
			ids = append(ids, l.MlflowExperiment.ExperimentID)
		}
	}
	infos, next, err := a.findTraces(ctx, ids, req.Filter, req.OrderBy, req.MaxResults, req.PageToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Traces        []traceInfoJSON `json:"traces,omitempty"`
		NextPageToken string          `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for i := range infos {
		out.Traces = append(out.Traces, toTraceInfoJSON(&infos[i]))
	}
	return out, nil
}

type setTraceTagReq struct {
	TraceID string `path:"trace_id" rules:"required"`
	Key     string `json:"key" rules:"required"`
	Value   string `json:"value"`
}

func (a *API) setTraceTag(ctx context.Context, req *setTraceTagReq) (any, error) {
	if err := validateTraceTag(req.Key, req.Value); err != nil {
		return nil, err
	}
	return empty{}, a.Traces.SetTraceTag(ctx, req.TraceID, req.Key, req.Value)
}

type setTraceTagV2Req struct {
	RequestID string `path:"request_id" rules:"required"`
	Key       string `json:"key" rules:"required"`
	Value     string `json:"value"`
}

func (a *API) setTraceTagV2(ctx context.Context, req *setTraceTagV2Req) (any, error) {
	return a.setTraceTag(ctx, &setTraceTagReq{req.RequestID, req.Key, req.Value})
}

type deleteTraceTagReq struct {
	TraceID string `path:"trace_id" rules:"required"`
	Key     string `json:"key" rules:"required"`
}

func (a *API) deleteTraceTag(ctx context.Context, req *deleteTraceTagReq) (any, error) {
	return empty{}, a.Traces.DeleteTraceTag(ctx, req.TraceID, req.Key)
}

type deleteTraceTagV2Req struct {
	RequestID string `path:"request_id" rules:"required"`
	Key       string `json:"key" rules:"required"`
}

func (a *API) deleteTraceTagV2(ctx context.Context, req *deleteTraceTagV2Req) (any, error) {
	return empty{}, a.Traces.DeleteTraceTag(ctx, req.RequestID, req.Key)
}

type deleteTracesReq struct {
	ExperimentID       string   `json:"experiment_id" rules:"required"`
	MaxTimestampMillis *int64   `json:"max_timestamp_millis"`
	MaxTraces          *int64   `json:"max_traces"`
	RequestIDs         []string `json:"request_ids"`
}

func (a *API) deleteTraces(ctx context.Context, req *deleteTracesReq) (any, error) {
	// MLflow's SQL store: exactly one of max_timestamp_millis and
	// request_ids; max_traces only with the timestamp.
	if req.MaxTimestampMillis == nil && len(req.RequestIDs) == 0 {
		return nil, mlflow.InvalidParam("Either `max_timestamp_millis` or `trace_ids` must be specified.")
	}
	if req.MaxTimestampMillis != nil && len(req.RequestIDs) > 0 {
		return nil, mlflow.InvalidParam("Only one of `max_timestamp_millis` and `trace_ids` can be specified.")
	}
	if len(req.RequestIDs) > 0 && req.MaxTraces != nil {
		return nil, mlflow.InvalidParam("`max_traces` can't be specified if `trace_ids` is specified.")
	}
	if req.MaxTraces != nil && *req.MaxTraces <= 0 {
		return nil, mlflow.InvalidParam("`max_traces` must be a positive integer, received %d.", *req.MaxTraces)
	}
	d := store.DeleteTraces{ExperimentID: req.ExperimentID, TraceIDs: req.RequestIDs}
	if req.MaxTimestampMillis != nil {
		d.MaxTimestamp = *req.MaxTimestampMillis
	}
	if req.MaxTraces != nil {
		d.MaxTraces = int(*req.MaxTraces)
	}
	n, err := a.Traces.DeleteTraces(ctx, d)
	if err != nil {
		return nil, err
	}
	return struct {
		TracesDeleted int `json:"traces_deleted"`
	}{n}, nil
}

type createAssessmentReq struct {
	TraceID    string          `path:"trace_id" rules:"required"`
	Assessment *assessmentJSON `json:"assessment" rules:"required"`
}

func (a *API) createAssessment(ctx context.Context, req *createAssessmentReq) (any, error) {
	as, err := fromAssessmentJSON(req.Assessment, req.TraceID)
	if err != nil {
		return nil, err
	}
	got, err := a.Traces.CreateAssessment(ctx, as)
	if err != nil {
		return nil, err
	}
	return map[string]assessmentJSON{"assessment": toAssessmentJSON(got)}, nil
}

type assessmentIDReq struct {
	TraceID      string `path:"trace_id" rules:"required"`
	AssessmentID string `path:"assessment_id" rules:"required"`
}

func (a *API) getAssessment(ctx context.Context, req *assessmentIDReq) (any, error) {
	got, err := a.Traces.GetAssessment(ctx, req.TraceID, req.AssessmentID)
	if err != nil {
		return nil, err
	}
	return map[string]assessmentJSON{"assessment": toAssessmentJSON(got)}, nil
}

func (a *API) deleteAssessment(ctx context.Context, req *assessmentIDReq) (any, error) {
	return empty{}, a.Traces.DeleteAssessment(ctx, req.TraceID, req.AssessmentID)
}

type updateAssessmentReq struct {
	TraceID      string          `path:"trace_id" rules:"required"`
	AssessmentID string          `path:"assessment_id" rules:"required"`
	Assessment   *assessmentJSON `json:"assessment" rules:"required"`
	UpdateMask   string          `json:"update_mask" rules:"required"`
}

func (a *API) updateAssessment(ctx context.Context, req *updateAssessmentReq) (any, error) {
	var u store.AssessmentUpdate
	j := req.Assessment
	// A FieldMask in JSON: comma-separated lowerCamelCase paths.
	for _, path := range strings.Split(req.UpdateMask, ",") {
		switch strings.TrimSpace(path) {
		case "assessmentName", "assessment_name":
			if err := mlflow.ValidateLength("assessment_name", j.AssessmentName, mlflow.MaxAssessmentName); err != nil {
				return nil, err
			}
			u.Name = &j.AssessmentName
		case "feedback":
			if j.Feedback == nil {
				return nil, mlflow.InvalidParam("Assessment must have either feedback or expectation value")
			}
			v, err := storedValue(j.Feedback.Value)
			if err != nil {
				return nil, err
			}
			u.Value, u.Feedback = &v, true
			if len(j.Feedback.Error) > 0 && string(j.Feedback.Error) != "null" {
				e, err := mlflow.PyDumpsJSON(string(j.Feedback.Error))
				if err != nil {
					return nil, mlflow.InvalidParam("Invalid feedback error: %v", err)
				}
				u.Error = &e
			}
		case "expectation":
			if j.Expectation == nil {
				return nil, mlflow.InvalidParam("Assessment must have either feedback or expectation value")
			}
			var v string
			if sv := j.Expectation.SerializedValue; sv != nil {
				if !json.Valid([]byte(sv.Value)) {
					return nil, mlflow.InvalidParam("Invalid serialized expectation value: it must be JSON")
				}
				v = sv.Value
			} else {
				var err error
				if v, err = storedValue(j.Expectation.Value); err != nil {
					return nil, err
				}
			}
			if u.Value != nil {
				return nil, mlflow.InvalidParam("Cannot specify both `expectation` and `feedback` parameters.")
			}
			u.Value = &v
		case "rationale":
			r := ""
			if j.Rationale != nil {
				r = *j.Rationale
			}
			u.Rationale = &r
		case "metadata":
			u.Metadata = j.Metadata
		}
	}
	got, err := a.Traces.UpdateAssessment(ctx, req.TraceID, req.AssessmentID, u)
	if err != nil {
		return nil, err
	}
	return map[string]assessmentJSON{"assessment": toAssessmentJSON(got)}, nil
}

type linkTracesToRunReq struct {
	TraceIDs []string `json:"trace_ids" rules:"required"`
	RunID    string   `json:"run_id" rules:"required"`
}

// linkTracesToRun is MLflow's _link_traces_to_run: entity_associations
// rows trace -> run, which search_traces' run_id = '...' also finds.
func (a *API) linkTracesToRun(ctx context.Context, req *linkTracesToRunReq) (any, error) {
	return empty{}, a.Traces.LinkTracesToRun(ctx, req.TraceIDs, req.RunID)
}

// ---- MLflow 2's trace API (TraceInfoV2 as protobuf JSON) ----

type keyValueJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type traceInfoV2JSON struct {
	RequestID       string         `json:"request_id"`
	ExperimentID    string         `json:"experiment_id"`
	TimestampMs     int64          `json:"timestamp_ms"`
	ExecutionTimeMs *int64         `json:"execution_time_ms,omitempty"`
	Status          string         `json:"status"`
	RequestMetadata []keyValueJSON `json:"request_metadata,omitempty"`
	Tags            []keyValueJSON `json:"tags,omitempty"`
}

func traceKVs(m map[string]string) []keyValueJSON {
	out := make([]keyValueJSON, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, keyValueJSON{k, m[k]})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// toTraceInfoV2JSON is TraceInfoV2.from_v3(...).to_proto(): the state as
// a TraceStatus.
func toTraceInfoV2JSON(t *mlflow.TraceInfo) traceInfoV2JSON {
	status := t.State
	if status == mlflow.TraceStateUnspecified || status == "" {
		status = "TRACE_STATUS_UNSPECIFIED"
	}
	return traceInfoV2JSON{
		RequestID: t.TraceID, ExperimentID: t.ExperimentID, TimestampMs: t.RequestTime,
		ExecutionTimeMs: t.ExecutionDuration, Status: status,
		RequestMetadata: traceKVs(t.Metadata), Tags: traceKVs(t.Tags),
	}
}

func kvMap(kvs []keyValueJSON, what string) (map[string]string, error) {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		if kv.Key == "" {
			// MLflow's _assert_map_key_present.
			return nil, mlflow.InvalidParam("Invalid value \"%s\" for parameter '%s' supplied. Hint: Value was of type 'list'. See the API docs for more information about request parameters.", "key", what)
		}
		m[kv.Key] = kv.Value
	}
	return m, nil
}

type startTraceV2Req struct {
	ExperimentID    string         `json:"experiment_id"`
	TimestampMs     int64          `json:"timestamp_ms"`
	RequestMetadata []keyValueJSON `json:"request_metadata"`
	Tags            []keyValueJSON `json:"tags"`
}

func (a *API) startTraceV2(ctx context.Context, req *startTraceV2Req) (any, error) {
	meta, err := kvMap(req.RequestMetadata, "request_metadata")
	if err != nil {
		return nil, err
	}
	tags, err := kvMap(req.Tags, "tags")
	if err != nil {
		return nil, err
	}
	for k, v := range tags {
		if err := validateTraceTag(k, v); err != nil {
			return nil, err
		}
	}
	info, err := a.Traces.StartTraceV2(ctx, req.ExperimentID, req.TimestampMs, meta, tags)
	if err != nil {
		return nil, err
	}
	return map[string]traceInfoV2JSON{"trace_info": toTraceInfoV2JSON(info)}, nil
}

type endTraceV2Req struct {
	RequestID       string         `path:"request_id" rules:"required"`
	TimestampMs     int64          `json:"timestamp_ms"`
	Status          string         `json:"status"`
	RequestMetadata []keyValueJSON `json:"request_metadata"`
	Tags            []keyValueJSON `json:"tags"`
}

func (a *API) endTraceV2(ctx context.Context, req *endTraceV2Req) (any, error) {
	state := req.Status
	switch state {
	case "", "TRACE_STATUS_UNSPECIFIED":
		state = mlflow.TraceStateUnspecified
	case mlflow.TraceStateOK, mlflow.TraceStateError, mlflow.TraceStateInProgress:
	default:
		return nil, mlflow.InvalidParam("Invalid value '%s' for parameter 'status'", req.Status)
	}
	meta, err := kvMap(req.RequestMetadata, "request_metadata")
	if err != nil {
		return nil, err
	}
	tags, err := kvMap(req.Tags, "tags")
	if err != nil {
		return nil, err
	}
	for k, v := range tags {
		if err := validateTraceTag(k, v); err != nil {
			return nil, err
		}
	}
	info, err := a.Traces.EndTraceV2(ctx, req.RequestID, req.TimestampMs, state, meta, tags)
	if err != nil {
		return nil, err
	}
	return map[string]traceInfoV2JSON{"trace_info": toTraceInfoV2JSON(info)}, nil
}

type requestIDReq struct {
	RequestID string `path:"request_id" rules:"required"`
}

func (a *API) getTraceInfoV2(ctx context.Context, req *requestIDReq) (any, error) {
	info, err := a.Traces.GetTraceInfo(ctx, req.RequestID)
	if err != nil {
		return nil, err
	}
	return map[string]traceInfoV2JSON{"trace_info": toTraceInfoV2JSON(info)}, nil
}

type searchTracesV2Req struct {
	ExperimentIDs []string `json:"experiment_ids" rules:"required"`
	Filter        string   `json:"filter"`
	MaxResults    *int64   `json:"max_results" rules:"maxval=500"`
	OrderBy       []string `json:"order_by"`
	PageToken     string   `json:"page_token"`
}

func (a *API) searchTracesV2(ctx context.Context, req *searchTracesV2Req) (any, error) {
	infos, next, err := a.findTraces(ctx, req.ExperimentIDs, req.Filter, req.OrderBy, req.MaxResults, req.PageToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Traces        []traceInfoV2JSON `json:"traces,omitempty"`
		NextPageToken string            `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for i := range infos {
		out.Traces = append(out.Traces, toTraceInfoV2JSON(&infos[i]))
	}
	return out, nil
}
