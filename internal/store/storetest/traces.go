package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// TraceStore is what the trace suite needs: experiments and traces.
type TraceStore interface {
	store.Tracking
	store.Traces
}

// RunTraces runs the trace, span and assessment suite; open returns a
// fresh, empty store for one test.
func RunTraces(t *testing.T, open func(t *testing.T) TraceStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s TraceStore)
	}{
		{"StartTrace", testStartTrace},
		{"LogSpans", testLogSpans},
		{"LogSpansAllOrNothing", testLogSpansAllOrNothing},
		{"TraceTags", testTraceTags},
		{"SearchTraces", testSearchTraces},
		{"DeleteTraces", testDeleteTraces},
		{"Assessments", testAssessments},
		{"LinkTracesToRun", testLinkTracesToRun},
		{"TraceV2StartEnd", testTraceV2StartEnd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func traceInfo(exp, id string, ts int64, tags map[string]string) mlflow.TraceInfo {
	d := int64(72)
	return mlflow.TraceInfo{
		TraceID: id, ExperimentID: exp, RequestTime: ts, ExecutionDuration: &d, State: mlflow.TraceStateOK,
		RequestPreview: ptr(`{"q": "bread"}`), ResponsePreview: ptr(`"ok"`),
		Tags: tags, Metadata: map[string]string{"mlflow.user": "root", "mlflow.trace_schema.version": "3"},
	}
}

func span(traceID, id, parent string, start, end int64, status string) mlflow.Span {
	e := end
	return mlflow.Span{TraceID: traceID, SpanID: id, ParentSpanID: parent, Name: "s" + id, Type: ptr("UNKNOWN"),
		Status: status, Start: start, End: &e, Content: fmt.Sprintf(`{"span_id": %q}`, id)}
}

func testStartTrace(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "traces")
	_, err := s.StartTrace(ctx, traceInfo("12345", "tr-1", 1000, nil))
	wantErr(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=12345 exists")

	got := must(s.StartTrace(ctx, traceInfo(exp, "tr-1", 1000, map[string]string{"app": "x"})))(t)
	e := must(s.GetExperiment(ctx, exp))(t)
	want := map[string]string{
		"app":                        "x",
		"mlflow.artifactLocation":    e.ArtifactLocation + "/traces/tr-1/artifacts",
		"mlflow.trace.spansLocation": "TRACKING_STORE",
	}
	if fmt.Sprint(got.Tags) != fmt.Sprint(want) {
		t.Fatalf("tags %v, want %v", got.Tags, want)
	}
	if got.Metadata["mlflow.user"] != "root" || got.RequestTime != 1000 || *got.ExecutionDuration != 72 ||
		got.State != "OK" || *got.RequestPreview != `{"q": "bread"}` || got.ExperimentID != exp {
		t.Fatalf("trace info %+v", got)
	}
	_, err = s.GetTraceInfo(ctx, "tr-missing")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Trace with ID 'tr-missing' not found.")

	ok(t, s.DeleteExperiment(ctx, exp))
	_, err = s.StartTrace(ctx, traceInfo(exp, "tr-2", 1000, nil))
	wantErr(t, err, mlflow.InvalidState, "must be in the 'active' state")
}

func testLogSpans(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "spans")
	ms := int64(1_000_000)
	// A child span first: the trace is created in progress.
	ok(t, s.LogSpans(ctx, exp, []store.SpanBatch{{TraceID: "tr-a", Spans: []mlflow.Span{span("tr-a", "02", "01", 5000*ms, 5010*ms, "OK")}}}))
	info := must(s.GetTraceInfo(ctx, "tr-a"))(t)
	if info.State != "IN_PROGRESS" || info.RequestTime != 5000 || *info.ExecutionDuration != 10 || info.Tags["mlflow.trace.spansLocation"] != "TRACKING_STORE" {
		t.Fatalf("after child span: %+v", info)
	}
	// The root span (earlier start, later end, an error) completes it.
	ok(t, s.LogSpans(ctx, exp, []store.SpanBatch{{TraceID: "tr-a", RequestPreview: ptr("in"), ResponsePreview: ptr("out"),
		Spans: []mlflow.Span{span("tr-a", "01", "", 4990*ms, 5050*ms, "ERROR"), span("tr-a", "02", "01", 5000*ms, 5020*ms, "OK")}}}))
	info = must(s.GetTraceInfo(ctx, "tr-a"))(t)
	if info.State != "ERROR" || info.RequestTime != 4990 || *info.ExecutionDuration != 60 || *info.RequestPreview != "in" || *info.ResponsePreview != "out" {
		t.Fatalf("after root span: %+v", info)
	}
	// StartTrace afterwards keeps the spans and sets the client's fields.
	must(s.StartTrace(ctx, traceInfo(exp, "tr-a", 4990, map[string]string{"k": "v"})))(t)
	tr := must(s.GetTraces(ctx, []string{"tr-missing", "tr-a"}))(t)
	if len(tr) != 1 || len(tr[0].Spans) != 2 {
		t.Fatalf("traces %+v", tr)
	}
	if tr[0].Spans[0].SpanID != "01" || tr[0].Spans[0].ParentSpanID != "" || tr[0].Spans[1].SpanID != "02" || *tr[0].Spans[1].End != 5020*ms {
		t.Fatalf("spans %+v", tr[0].Spans)
	}
	if tr[0].Info.State != "OK" || tr[0].Info.Tags["k"] != "v" {
		t.Fatalf("info after start %+v", tr[0].Info)
	}
	// A large batch goes in chunks.
	var big []mlflow.Span
	for i := range 700 {
		big = append(big, span("tr-big", fmt.Sprintf("%016x", i+1), "0000000000000001", int64(i)*ms, int64(i+1)*ms, "OK"))
	}
	ok(t, s.LogSpans(ctx, exp, []store.SpanBatch{{TraceID: "tr-big", Spans: big}}))
	tr = must(s.GetTraces(ctx, []string{"tr-big"}))(t)
	if len(tr[0].Spans) != 700 {
		t.Fatalf("big trace has %d spans", len(tr[0].Spans))
	}
	err := s.LogSpans(ctx, "999999", []store.SpanBatch{{TraceID: "tr-x", Spans: []mlflow.Span{span("tr-x", "01", "", ms, ms, "OK")}}})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=999999 exists")
}

func testLogSpansAllOrNothing(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "atomic")
	ms := int64(1_000_000)
	must(s.StartTrace(ctx, traceInfo(exp, "tr-ok", 1, nil)))(t)
	// The second batch names a new trace of a missing experiment: nothing
	// of the request is stored, not even the first batch's spans.
	err := s.LogSpans(ctx, "424242", []store.SpanBatch{
		{TraceID: "tr-ok", Spans: []mlflow.Span{span("tr-ok", "01", "", ms, 2*ms, "OK")}},
		{TraceID: "tr-new", Spans: []mlflow.Span{span("tr-new", "01", "", ms, 2*ms, "OK")}},
	})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "424242")
	tr := must(s.GetTraces(ctx, []string{"tr-ok", "tr-new"}))(t)
	if len(tr) != 1 || len(tr[0].Spans) != 0 {
		t.Fatalf("a failed batch left %+v", tr)
	}
}

func testTraceTags(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "tags")
	must(s.StartTrace(ctx, traceInfo(exp, "tr-1", 1, nil)))(t)
	ok(t, s.SetTraceTag(ctx, "tr-1", "k", "v1"))
	ok(t, s.SetTraceTag(ctx, "tr-1", "k", "v2"))
	if v := must(s.GetTraceInfo(ctx, "tr-1"))(t).Tags["k"]; v != "v2" {
		t.Fatalf("tag %q", v)
	}
	ok(t, s.DeleteTraceTag(ctx, "tr-1", "k"))
	wantErr(t, s.DeleteTraceTag(ctx, "tr-1", "k"), mlflow.ResourceDoesNotExist, "No trace tag with key 'k' for trace with ID 'tr-1'")
	wantErr(t, s.SetTraceTag(ctx, "tr-2", "k", "v"), mlflow.ResourceDoesNotExist, "Trace with ID 'tr-2' not found.")
}

func traceIDs(infos []mlflow.TraceInfo) string {
	var ids []string
	for _, i := range infos {
		ids = append(ids, i.TraceID)
	}
	return strings.Join(ids, ",")
}

func testSearchTraces(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "search")
	other := newExperiment(t, s, "other")
	for i, tags := range []map[string]string{{"app": "a", "mlflow.traceName": "answer"}, {"app": "b"}, {"app": "a"}, {}} {
		info := traceInfo(exp, fmt.Sprintf("tr-%d", i), int64(1000+i), tags)
		d := int64(10 * (4 - i))
		info.ExecutionDuration = &d
		if i == 3 {
			info.State = mlflow.TraceStateError
			info.Metadata["mlflow.sourceRun"] = "run1"
		}
		must(s.StartTrace(ctx, info))(t)
	}
	must(s.StartTrace(ctx, traceInfo(other, "tr-other", 5000, map[string]string{"app": "a"})))(t)
	cases := []struct {
		filter  string
		order   []string
		exps    []string
		want    string
		wantErr string
	}{
		{"", nil, nil, "tr-3,tr-2,tr-1,tr-0", ""},
		{"tag.app = 'a'", nil, nil, "tr-2,tr-0", ""},
		{"tags.app != 'a'", nil, nil, "tr-1", ""},
		{"trace.status = 'ERROR'", nil, nil, "tr-3", ""},
		{"attributes.status IN ('OK')", nil, nil, "tr-2,tr-1,tr-0", ""},
		{"trace.timestamp_ms >= 1001 AND trace.timestamp_ms < 1003", nil, nil, "tr-2,tr-1", ""},
		{"trace.execution_time_ms > 15", []string{"execution_time_ms ASC"}, nil, "tr-2,tr-1,tr-0", ""},
		{"trace.name = 'answer'", nil, nil, "tr-0", ""},
		{"metadata.mlflow.user = 'root'", []string{"timestamp_ms ASC"}, nil, "tr-0,tr-1,tr-2,tr-3", ""},
		{"run_id = 'run1'", nil, nil, "tr-3", ""},
		{"tag.app LIKE 'a%'", nil, []string{exp, other}, "tr-other,tr-2,tr-0", ""},
		{"tag.app ILIKE 'A'", nil, nil, "tr-2,tr-0", ""},
		{"", []string{"tag.app DESC"}, nil, "tr-1,tr-2,tr-0,tr-3", ""},
		{"trace.nope = 1", nil, nil, "", "Invalid attribute key"},
	}
	for _, c := range cases {
		exps := c.exps
		if exps == nil {
			exps = []string{exp}
		}
		filter, order, err := search.ParseTraceSearch(c.filter, c.order)
		if err == nil {
			var got []mlflow.TraceInfo
			got, _, err = s.SearchTraces(ctx, store.TraceQuery{ExperimentIDs: exps, Filter: filter, OrderBy: order, Page: store.Page{MaxResults: 100}})
			if err == nil && traceIDs(got) != c.want {
				t.Errorf("%q %v: got %s, want %s", c.filter, c.order, traceIDs(got), c.want)
			}
		}
		if c.wantErr == "" && err != nil {
			t.Errorf("%q: %v", c.filter, err)
		}
		if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%q: want error %q, got %v", c.filter, c.wantErr, err)
		}
	}
	// Pages of two, with MLflow's offset tokens.
	var all []string
	page := store.Page{MaxResults: 2}
	for {
		got, next := must2(s.SearchTraces(ctx, store.TraceQuery{ExperimentIDs: []string{exp}, Page: page}))(t)
		all = append(all, traceIDs(got))
		if next == "" {
			break
		}
		page.Offset = must(search.DecodeOffsetToken(next))(t)
	}
	if strings.Join(all, "|") != "tr-3,tr-2|tr-1,tr-0|" {
		t.Fatalf("pages %q", all)
	}
}

func testDeleteTraces(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "delete")
	for i := range 5 {
		id := fmt.Sprintf("tr-%d", i)
		must(s.StartTrace(ctx, traceInfo(exp, id, int64(100*(i+1)), nil)))(t)
		ok(t, s.LogSpans(ctx, exp, []store.SpanBatch{{TraceID: id, Spans: []mlflow.Span{span(id, "01", "", 1, 2, "OK")}}}))
		must(s.CreateAssessment(ctx, mlflow.Assessment{TraceID: id, Name: "n", Type: "feedback", Value: "true", Source: mlflow.AssessmentSource{SourceType: "HUMAN"}}))(t)
	}
	if n := must(s.DeleteTraces(ctx, store.DeleteTraces{ExperimentID: exp, TraceIDs: []string{"tr-4", "tr-missing"}}))(t); n != 1 {
		t.Fatalf("deleted %d by id", n)
	}
	// At or before 300 ms, the oldest two of them.
	if n := must(s.DeleteTraces(ctx, store.DeleteTraces{ExperimentID: exp, MaxTimestamp: 300, MaxTraces: 2}))(t); n != 2 {
		t.Fatalf("deleted %d by time", n)
	}
	got := must(s.GetTraces(ctx, []string{"tr-0", "tr-1", "tr-2", "tr-3", "tr-4"}))(t)
	if len(got) != 2 || got[0].Info.TraceID != "tr-2" || len(got[0].Spans) != 1 || len(got[0].Info.Assessments) != 1 {
		t.Fatalf("left %+v", got)
	}
}

func testAssessments(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "assess")
	must(s.StartTrace(ctx, traceInfo(exp, "tr-1", 1, nil)))(t)
	_, err := s.CreateAssessment(ctx, mlflow.Assessment{TraceID: "tr-x", Name: "n", Type: "feedback", Value: "1", Source: mlflow.AssessmentSource{SourceType: "HUMAN"}})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Trace with ID 'tr-x' not found.")

	fb := must(s.CreateAssessment(ctx, mlflow.Assessment{TraceID: "tr-1", Name: "helpful", Type: "feedback", Value: "true",
		Rationale: ptr("r"), Source: mlflow.AssessmentSource{SourceType: "HUMAN", SourceID: "rev"}, CreateTime: 10, LastUpdateTime: 10}))(t)
	if !strings.HasPrefix(fb.AssessmentID, "a-") || !fb.Valid {
		t.Fatalf("created %+v", fb)
	}
	// An override makes the original invalid; deleting it restores it.
	over := must(s.CreateAssessment(ctx, mlflow.Assessment{TraceID: "tr-1", Name: "helpful", Type: "feedback", Value: "false",
		Overrides: fb.AssessmentID, Source: mlflow.AssessmentSource{SourceType: "HUMAN"}}))(t)
	if a := must(s.GetAssessment(ctx, "tr-1", fb.AssessmentID))(t); a.Valid {
		t.Fatal("overridden assessment still valid")
	}
	_, err = s.CreateAssessment(ctx, mlflow.Assessment{TraceID: "tr-1", Name: "n", Type: "feedback", Value: "1", Overrides: "a-nope", Source: mlflow.AssessmentSource{SourceType: "HUMAN"}})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Assessment with ID 'a-nope' not found")
	ok(t, s.DeleteAssessment(ctx, "tr-1", over.AssessmentID))
	ok(t, s.DeleteAssessment(ctx, "tr-1", over.AssessmentID)) // idempotent
	if a := must(s.GetAssessment(ctx, "tr-1", fb.AssessmentID))(t); !a.Valid {
		t.Fatal("original not valid again")
	}

	up := must(s.UpdateAssessment(ctx, "tr-1", fb.AssessmentID, store.AssessmentUpdate{Name: ptr("helpfulness"), Value: ptr("0.5"), Feedback: true, Metadata: map[string]string{"m": "1"}}))(t)
	if up.Name != "helpfulness" || up.Value != "0.5" || *up.Rationale != "r" || up.CreateTime != 10 || up.LastUpdateTime <= 10 || !strings.Contains(up.Metadata, `"m":"1"`) {
		t.Fatalf("updated %+v", up)
	}
	_, err = s.UpdateAssessment(ctx, "tr-1", fb.AssessmentID, store.AssessmentUpdate{Value: ptr("1")})
	wantErr(t, err, mlflow.InvalidParameterValue, "Cannot update expectation value on a Feedback assessment.")
	_, err = s.GetAssessment(ctx, "tr-1", "a-nope")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Assessment with ID 'a-nope' not found for trace 'tr-1'")
	_, err = s.GetAssessment(ctx, "tr-nope", "a-nope")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Trace with ID 'tr-nope' not found.")

	info := must(s.GetTraceInfo(ctx, "tr-1"))(t)
	if len(info.Assessments) != 1 || info.Assessments[0].AssessmentID != fb.AssessmentID {
		t.Fatalf("assessments on the trace: %+v", info.Assessments)
	}
}

func testLinkTracesToRun(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "links")
	run := newRun(t, s, exp, "r", 1)
	other := newRun(t, s, exp, "o", 1)
	for i := range 4 {
		must(s.StartTrace(ctx, traceInfo(exp, fmt.Sprintf("tr-%d", i), int64(1000+i), nil)))(t)
	}
	// tr-3 names the run in its metadata, as a trace logged inside it.
	info := traceInfo(exp, "tr-9", 2000, nil)
	info.Metadata[mlflow.TraceMetaSourceRun] = run
	must(s.StartTrace(ctx, info))(t)

	wantErr(t, s.LinkTracesToRun(ctx, []string{"tr-0"}, "nope"), mlflow.ResourceDoesNotExist, "Run with id=nope not found")
	many := make([]string, store.MaxLinkTraces+1)
	wantErr(t, s.LinkTracesToRun(ctx, many, run), mlflow.InvalidParameterValue,
		"Cannot link more than 100 traces to a run in a single request. Provided 101 traces.")
	ok(t, s.LinkTracesToRun(ctx, nil, "nope")) // nothing to link: MLflow returns before the run check
	// Unknown trace ids are linked as given; twice and duplicates are no-ops.
	ok(t, s.LinkTracesToRun(ctx, []string{"tr-0", "tr-2", "tr-2", "tr-unknown"}, run))
	ok(t, s.LinkTracesToRun(ctx, []string{"tr-0"}, run))
	ok(t, s.LinkTracesToRun(ctx, []string{"tr-1"}, other))

	find := func(filter string) string {
		f, o, err := search.ParseTraceSearch(filter, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := s.SearchTraces(ctx, store.TraceQuery{ExperimentIDs: []string{exp}, Filter: f, OrderBy: o, Page: store.Page{MaxResults: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return traceIDs(got)
	}
	if got := find("run_id = '" + run + "'"); got != "tr-9,tr-2,tr-0" {
		t.Fatalf("run_id = run: %s", got)
	}
	if got := find("run_id = '" + other + "'"); got != "tr-1" {
		t.Fatalf("run_id = other: %s", got)
	}
	if got := find("run_id = '" + run + "' AND trace.status = 'OK'"); got != "tr-9,tr-2,tr-0" {
		t.Fatalf("run_id with status: %s", got)
	}
	// != and IN are plain metadata comparisons in MLflow, links aside.
	if got := find("run_id != '" + other + "'"); got != "tr-9" {
		t.Fatalf("run_id != other: %s", got)
	}
}

func testTraceV2StartEnd(t *testing.T, s TraceStore) {
	exp := newExperiment(t, s, "v2")
	_, err := s.StartTraceV2(ctx, "12345", 1, nil, nil)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=12345 exists")
	got := must(s.StartTraceV2(ctx, exp, 1000, map[string]string{"m": "1"}, map[string]string{"t": "a"}))(t)
	if len(got.TraceID) != 32 || got.State != mlflow.TraceStateInProgress || got.RequestTime != 1000 || got.ExecutionDuration != nil {
		t.Fatalf("started %+v", got)
	}
	e := must(s.GetExperiment(ctx, exp))(t)
	if loc := got.Tags[mlflow.TraceTagArtifactLocation]; loc != e.ArtifactLocation+"/traces/"+got.TraceID+"/artifacts" {
		t.Fatalf("artifact location %q", loc)
	}
	// Its spans go to the artifact store: no spans-location tag.
	if _, ok := got.Tags[mlflow.TraceTagSpansLocation]; ok || got.Tags["t"] != "a" || got.Metadata["m"] != "1" {
		t.Fatalf("tags %v metadata %v", got.Tags, got.Metadata)
	}
	end := must(s.EndTraceV2(ctx, got.TraceID, 1250, mlflow.TraceStateOK, map[string]string{"m": "2", "n": "3"}, map[string]string{"u": "b"}))(t)
	if end.State != mlflow.TraceStateOK || end.ExecutionDuration == nil || *end.ExecutionDuration != 250 ||
		end.Metadata["m"] != "2" || end.Metadata["n"] != "3" || end.Tags["t"] != "a" || end.Tags["u"] != "b" {
		t.Fatalf("ended %+v", end)
	}
	_, err = s.EndTraceV2(ctx, "nope", 1, mlflow.TraceStateOK, nil, nil)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Trace with ID 'nope' not found.")
}
