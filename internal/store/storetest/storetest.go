// Package storetest is the conformance suite of the tracking store: every
// implementation (SQLite and PostgreSQL through sqlstore) must pass it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// Run runs the whole suite; open returns a fresh, empty store for one test.
func Run(t *testing.T, open func(t *testing.T) store.Tracking) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Tracking)
	}{
		{"Experiments", testExperiments},
		{"CreateRun", testCreateRun},
		{"UpdateDeleteRestoreRun", testUpdateDeleteRestore},
		{"LogBatch", testLogBatch},
		{"LatestMetric", testLatestMetric},
		{"Params", testParams},
		{"Tags", testTags},
		{"Inputs", testInputs},
		{"SearchDatasets", testSearchDatasets},
		{"Outputs", testOutputs},
		{"MetricHistory", testMetricHistory},
		{"BulkInterval", testBulkInterval},
		{"SearchRunsFilter", testSearchFilter},
		{"SearchRunsOrder", testSearchOrder},
		{"SearchRunsPaging", testSearchPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err is an *mlflow.Error with code and a message
// containing msg.
func wantErr(t *testing.T, err error, code mlflow.ErrorCode, msg string) {
	t.Helper()
	e, isErr := mlflow.AsError(err)
	if !isErr {
		t.Fatalf("want %s error %q, got %v", code, msg, err)
	}
	if e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, e.Code, e.Message)
	}
}

func newExperiment(t *testing.T, s store.Tracking, name string) string {
	t.Helper()
	return must(s.CreateExperiment(ctx, name, "", nil))(t)
}

func newRun(t *testing.T, s store.Tracking, exp, name string, start int64) string {
	t.Helper()
	r := must(s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: name, StartTime: start, UserID: "u"}))(t)
	return r.Info.RunID
}

func tagMap(tags []mlflow.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func metricMap(ms []mlflow.Metric) map[string]mlflow.Metric {
	m := map[string]mlflow.Metric{}
	for _, x := range ms {
		m[x.Key] = x
	}
	return m
}

func testExperiments(t *testing.T, s store.Tracking) {
	id := must(s.CreateExperiment(ctx, "exp-a", "", []mlflow.Tag{{Key: "k", Value: "v"}}))(t)
	_, err := s.CreateExperiment(ctx, "exp-a", "", nil)
	wantErr(t, err, mlflow.ResourceAlreadyExists, "exp-a")
	e := must(s.GetExperiment(ctx, id))(t)
	if e.Name != "exp-a" || e.LifecycleStage != mlflow.StageActive || tagMap(e.Tags)["k"] != "v" || !strings.HasSuffix(e.ArtifactLocation, "/"+id) {
		t.Fatalf("experiment %+v", e)
	}
	if d := must(s.GetExperiment(ctx, "0"))(t); d.Name != "Default" {
		t.Fatalf("default experiment %+v", d)
	}
	_, err = s.GetExperiment(ctx, "424242")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=424242 exists")
	ok(t, s.RenameExperiment(ctx, id, "exp-b"))
	if e := must(s.GetExperimentByName(ctx, "exp-b"))(t); e.ExperimentID != id {
		t.Fatalf("by name: %+v", e)
	}
	ok(t, s.SetExperimentTag(ctx, id, mlflow.Tag{Key: "k", Value: "v2"}))
	ok(t, s.DeleteExperimentTag(ctx, id, "k"))
	wantErr(t, s.DeleteExperimentTag(ctx, id, "k"), mlflow.ResourceDoesNotExist, "No tag with name: k")
	run := newRun(t, s, id, "r", 1)
	ok(t, s.DeleteExperiment(ctx, id))
	wantErr(t, s.DeleteExperiment(ctx, id), mlflow.ResourceDoesNotExist, "")
	if r := must(s.GetRun(ctx, run))(t); r.Info.LifecycleStage != mlflow.StageDeleted {
		t.Fatalf("run of deleted experiment is %s", r.Info.LifecycleStage)
	}
	ok(t, s.RestoreExperiment(ctx, id))
	if r := must(s.GetRun(ctx, run))(t); r.Info.LifecycleStage != mlflow.StageActive {
		t.Fatalf("run of restored experiment is %s", r.Info.LifecycleStage)
	}
	exps, _ := must2(s.SearchExperiments(ctx, store.ExperimentQuery{ViewType: store.All, Page: store.Page{MaxResults: 10}}))(t)
	if len(exps) != 2 {
		t.Fatalf("search experiments: %d", len(exps))
	}
}

func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func testCreateRun(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	cases := []struct {
		name     string
		in       store.CreateRun
		wantName string // "" = generated
		wantTags []mlflow.Tag
		wantErr  mlflow.ErrorCode
	}{
		{name: "named", in: store.CreateRun{ExperimentID: exp, RunName: "n1", StartTime: 5, UserID: "alice", Tags: []mlflow.Tag{{Key: "team", Value: "v"}}},
			wantName: "n1", wantTags: []mlflow.Tag{{Key: "team", Value: "v"}, {Key: mlflow.TagRunName, Value: "n1"}}},
		{name: "generated", in: store.CreateRun{ExperimentID: exp}},
		{name: "tag only", in: store.CreateRun{ExperimentID: exp, Tags: []mlflow.Tag{{Key: mlflow.TagRunName, Value: "t"}}},
			wantName: "t", wantTags: []mlflow.Tag{{Key: mlflow.TagRunName, Value: "t"}}},
		{name: "same", in: store.CreateRun{ExperimentID: exp, RunName: "x", Tags: []mlflow.Tag{{Key: mlflow.TagRunName, Value: "x"}}},
			wantName: "x", wantTags: []mlflow.Tag{{Key: mlflow.TagRunName, Value: "x"}}},
		{name: "conflict", in: store.CreateRun{ExperimentID: exp, RunName: "a", Tags: []mlflow.Tag{{Key: mlflow.TagRunName, Value: "b"}}}, wantErr: mlflow.InvalidParameterValue},
		{name: "unknown experiment", in: store.CreateRun{ExperimentID: "98765"}, wantErr: mlflow.ResourceDoesNotExist},
		{name: "bad experiment id", in: store.CreateRun{ExperimentID: "abc"}, wantErr: mlflow.InvalidParameterValue},
		{name: "default experiment", in: store.CreateRun{ExperimentID: "0", RunName: "d"}, wantName: "d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.CreateRun(ctx, tc.in)
			if tc.wantErr != "" {
				wantErr(t, err, tc.wantErr, "")
				return
			}
			ok(t, err)
			got := must(s.GetRun(ctx, r.Info.RunID))(t)
			if !reflect.DeepEqual(got.Info, r.Info) {
				t.Fatalf("created %+v, read %+v", r.Info, got.Info)
			}
			if len(r.Info.RunID) != 32 || r.Info.RunUUID != r.Info.RunID || r.Info.Status != mlflow.RunRunning || r.Info.LifecycleStage != mlflow.StageActive {
				t.Fatalf("info %+v", r.Info)
			}
			wantURI := "/" + r.Info.RunID + "/artifacts"
			if !strings.HasSuffix(r.Info.ArtifactURI, wantURI) || r.Info.UserID != tc.in.UserID || *r.Info.StartTime != tc.in.StartTime {
				t.Fatalf("info %+v", r.Info)
			}
			if tc.wantName != "" && r.Info.RunName != tc.wantName {
				t.Fatalf("name %q, want %q", r.Info.RunName, tc.wantName)
			}
			if tc.wantName == "" && len(strings.Split(r.Info.RunName, "-")) != 3 {
				t.Fatalf("generated name %q", r.Info.RunName)
			}
			if tagMap(got.Data.Tags)[mlflow.TagRunName] != r.Info.RunName {
				t.Fatalf("tags %+v", got.Data.Tags)
			}
			if tc.wantTags != nil && !slices.Equal(tc.wantTags, r.Data.Tags) {
				t.Fatalf("tags %+v, want %+v", r.Data.Tags, tc.wantTags)
			}
		})
	}
	ok(t, s.DeleteExperiment(ctx, exp))
	_, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
	wantErr(t, err, mlflow.InvalidParameterValue, "must be in the 'active' state. Current state is deleted.")
	_, err = s.GetRun(ctx, "nope")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Run with id=nope not found")
}

func ptr[T any](v T) *T { return &v }

func testUpdateDeleteRestore(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "a", 100)
	info := must(s.UpdateRun(ctx, store.UpdateRun{RunID: id, RunName: ptr("b")}))(t)
	if info.RunName != "b" || info.Status != mlflow.RunRunning || info.EndTime != nil {
		t.Fatalf("rename: %+v", info)
	}
	info = must(s.UpdateRun(ctx, store.UpdateRun{RunID: id, Status: ptr(mlflow.RunFinished), EndTime: ptr(int64(200))}))(t)
	if info.Status != mlflow.RunFinished || *info.EndTime != 200 || info.RunName != "b" {
		t.Fatalf("finish: %+v", info)
	}
	r := must(s.GetRun(ctx, id))(t)
	if tagMap(r.Data.Tags)[mlflow.TagRunName] != "b" {
		t.Fatalf("runName tag %+v", r.Data.Tags)
	}
	_, err := s.UpdateRun(ctx, store.UpdateRun{RunID: "missing", Status: ptr(mlflow.RunFinished)})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Run with id=missing not found")

	ok(t, s.DeleteRun(ctx, id))
	ok(t, s.DeleteRun(ctx, id)) // again: MLflow answers 200
	if r := must(s.GetRun(ctx, id))(t); r.Info.LifecycleStage != mlflow.StageDeleted {
		t.Fatal("not deleted")
	}
	wantErr(t, s.LogBatch(ctx, id, nil, []mlflow.Tag{{Key: "k", Value: "v"}}, nil), mlflow.InvalidParameterValue,
		"The run "+id+" must be in the 'active' state. Current state is deleted.")
	_, err = s.UpdateRun(ctx, store.UpdateRun{RunID: id, RunName: ptr("c")})
	wantErr(t, err, mlflow.InvalidParameterValue, "must be in the 'active' state")
	ok(t, s.RestoreRun(ctx, id))
	ok(t, s.RestoreRun(ctx, id))
	if r := must(s.GetRun(ctx, id))(t); r.Info.LifecycleStage != mlflow.StageActive {
		t.Fatal("not restored")
	}
	wantErr(t, s.DeleteRun(ctx, "missing"), mlflow.ResourceDoesNotExist, "")
	wantErr(t, s.RestoreRun(ctx, "missing"), mlflow.ResourceDoesNotExist, "")
}

func testLogBatch(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "a", 1)
	var metrics []mlflow.Metric
	for i := range 1000 {
		metrics = append(metrics, mlflow.Metric{Key: "m" + fmt.Sprint(i%10), Value: mlflow.Float(i), Timestamp: int64(1000 + i), Step: int64(i / 10)})
	}
	params := []mlflow.Tag{{Key: "p1", Value: "1"}, {Key: "p2", Value: "2"}}
	tags := []mlflow.Tag{{Key: "t1", Value: "a"}, {Key: mlflow.TagRunName, Value: "renamed"}}
	ok(t, s.LogBatch(ctx, id, metrics, params, tags))
	// The exact same points again are ignored; params with the same value are fine.
	ok(t, s.LogBatch(ctx, id, metrics[:10], params, nil))
	r := must(s.GetRun(ctx, id))(t)
	if len(r.Data.Metrics) != 10 || len(r.Data.Params) != 2 || r.Info.RunName != "renamed" {
		t.Fatalf("run %+v", r)
	}
	for k, m := range metricMap(r.Data.Metrics) {
		if m.Step != 99 {
			t.Fatalf("latest %s = %+v", k, m)
		}
	}
	var n int
	ok(t, s.MetricHistory(ctx, store.HistoryQuery{RunID: id, Key: "m3"}, func(mlflow.Metric) error { n++; return nil }))
	if n != 100 {
		t.Fatalf("history has %d points, want 100", n)
	}
	wantErr(t, s.LogBatch(ctx, "missing", metrics[:1], nil, nil), mlflow.ResourceDoesNotExist, "Run with id=missing not found")

	// Special values: NaN kept as NaN, infinities clamped.
	ok(t, s.LogBatch(ctx, id, []mlflow.Metric{
		{Key: "nan", Value: mlflow.Float(math.NaN()), Timestamp: 1},
		{Key: "inf", Value: mlflow.Float(math.Inf(1)), Timestamp: 1},
		{Key: "ninf", Value: mlflow.Float(math.Inf(-1)), Timestamp: 1},
	}, nil, nil))
	m := metricMap(must(s.GetRun(ctx, id))(t).Data.Metrics)
	if !math.IsNaN(float64(m["nan"].Value)) || float64(m["inf"].Value) != math.MaxFloat64 || float64(m["ninf"].Value) != -math.MaxFloat64 {
		t.Fatalf("special values %+v", m)
	}
	var hist []mlflow.Metric
	ok(t, s.MetricHistory(ctx, store.HistoryQuery{RunID: id, Key: "nan"}, func(m mlflow.Metric) error { hist = append(hist, m); return nil }))
	if len(hist) != 1 || !math.IsNaN(float64(hist[0].Value)) {
		t.Fatalf("nan history %+v", hist)
	}
}

func testLatestMetric(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	type pt struct {
		step, ts int64
		v        float64
	}
	cases := []struct {
		name   string
		points [][]pt // one LogBatch per element
		want   pt
	}{
		{"higher step wins over later timestamp", [][]pt{{{2, 10, 1}}, {{1, 20, 5}}}, pt{2, 10, 1}},
		{"same step later timestamp", [][]pt{{{1, 10, 1}}, {{1, 20, 0}}}, pt{1, 20, 0}},
		{"same step and time larger value", [][]pt{{{1, 10, 1}, {1, 10, 3}, {1, 10, 2}}}, pt{1, 10, 3}},
		{"within one batch", [][]pt{{{5, 1, 1}, {3, 9, 9}, {5, 2, 0}}}, pt{5, 2, 0}},
		{"older point later", [][]pt{{{5, 5, 5}}, {{4, 100, 100}}}, pt{5, 5, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := newRun(t, s, exp, "r", 1)
			for _, batch := range tc.points {
				var ms []mlflow.Metric
				for _, p := range batch {
					ms = append(ms, mlflow.Metric{Key: "m", Step: p.step, Timestamp: p.ts, Value: mlflow.Float(p.v)})
				}
				ok(t, s.LogBatch(ctx, id, ms, nil, nil))
			}
			got := metricMap(must(s.GetRun(ctx, id))(t).Data.Metrics)["m"]
			if got.Step != tc.want.step || got.Timestamp != tc.want.ts || float64(got.Value) != tc.want.v {
				t.Fatalf("latest %+v, want %+v", got, tc.want)
			}
		})
	}
}

func testParams(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "r", 1)
	ok(t, s.LogBatch(ctx, id, nil, []mlflow.Tag{{Key: "lr", Value: "0.01"}, {Key: "opt", Value: "adam"}}, nil))
	err := s.LogBatch(ctx, id, nil, []mlflow.Tag{{Key: "opt", Value: "sgd"}, {Key: "new", Value: "1"}}, nil)
	wantErr(t, err, mlflow.InvalidParameterValue, "Changing param values is not allowed. Params were already logged='[{'key': 'opt', 'old_value': 'adam', 'new_value': 'sgd'}]' for run ID='"+id+"'.")
	var pc *mlflow.ParamChangeError
	if !errors.As(err, &pc) || !strings.Contains(pc.Single().Message, "Param with key='opt' was already logged with value='adam'") {
		t.Fatalf("param change error %v", err)
	}
	// The failed batch wrote nothing.
	if p := tagMap(must(s.GetRun(ctx, id))(t).Data.Params); len(p) != 2 || p["opt"] != "adam" {
		t.Fatalf("params %+v", p)
	}
}

func testTags(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "r", 1)
	ok(t, s.LogBatch(ctx, id, nil, nil, []mlflow.Tag{{Key: "a", Value: "1"}}))
	ok(t, s.LogBatch(ctx, id, nil, nil, []mlflow.Tag{{Key: "a", Value: "2"}, {Key: "b", Value: "x"}, {Key: "b", Value: "y"}}))
	tags := tagMap(must(s.GetRun(ctx, id))(t).Data.Tags)
	if tags["a"] != "2" || tags["b"] != "y" {
		t.Fatalf("tags %+v", tags)
	}
	ok(t, s.DeleteTag(ctx, id, "a"))
	wantErr(t, s.DeleteTag(ctx, id, "a"), mlflow.ResourceDoesNotExist, "No tag with name: a in run with id "+id)
	wantErr(t, s.DeleteTag(ctx, "missing", "a"), mlflow.ResourceDoesNotExist, "Run with id=missing not found")
	if _, has := tagMap(must(s.GetRun(ctx, id))(t).Data.Tags)["a"]; has {
		t.Fatal("tag not deleted")
	}
}

func testInputs(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	r1 := newRun(t, s, exp, "r1", 1)
	r2 := newRun(t, s, exp, "r2", 2)
	ds := mlflow.Dataset{Name: "train", Digest: "abc", SourceType: "local", Source: `{"uri": "x"}`, Schema: `{"s": 1}`, Profile: `{"n": 1}`}
	in := mlflow.DatasetInput{Dataset: ds, Tags: []mlflow.Tag{{Key: mlflow.DatasetContextTag, Value: "training"}}}
	ok(t, s.LogInputs(ctx, r1, []mlflow.DatasetInput{in, {Dataset: mlflow.Dataset{Name: "bare", SourceType: "local", Source: "{}"}}}, []mlflow.ModelInput{{ModelID: "m-1"}}))
	// Again, with another context: the link and its tags stay as they were.
	ok(t, s.LogInputs(ctx, r1, []mlflow.DatasetInput{{Dataset: ds, Tags: []mlflow.Tag{{Key: mlflow.DatasetContextTag, Value: "eval"}}}}, []mlflow.ModelInput{{ModelID: "m-1"}}))
	ok(t, s.LogInputs(ctx, r2, []mlflow.DatasetInput{in}, nil))
	got := must(s.GetRun(ctx, r1))(t)
	if len(got.Inputs.DatasetInputs) != 2 || len(got.Inputs.ModelInputs) != 1 || got.Inputs.ModelInputs[0].ModelID != "m-1" {
		t.Fatalf("inputs %+v", got.Inputs)
	}
	for _, di := range got.Inputs.DatasetInputs {
		if di.Dataset.Name == "train" && (di.Dataset != ds || len(di.Tags) != 1 || di.Tags[0].Value != "training") {
			t.Fatalf("dataset input %+v", di)
		}
	}
	// Both runs share one dataset row: searching by it finds both.
	runs, _ := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Page: store.Page{MaxResults: 10},
		Filter: []search.Comparison{{Entity: "dataset", Key: "digest", Op: "=", Value: search.Value{Str: "abc"}}}}))(t)
	if len(runs) != 2 {
		t.Fatalf("dataset search found %d runs", len(runs))
	}
	wantErr(t, s.LogInputs(ctx, "missing", nil, nil), mlflow.ResourceDoesNotExist, "")
}

// testSearchDatasets is MLflow's test_search_dataset_handler_returns_expected_results
// and its SQL store's _search_datasets: one summary per dataset and input
// context, only of the experiments asked for.
func testSearchDatasets(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	other := newExperiment(t, s, "other")
	empty := newExperiment(t, s, "empty")
	r1 := newRun(t, s, exp, "r1", 1)
	r2 := newRun(t, s, exp, "r2", 2)
	r3 := newRun(t, s, other, "r3", 3)
	train := mlflow.Dataset{Name: "name1", Digest: "digest1", SourceType: "source_type1", Source: "source1"}
	withContext := func(d mlflow.Dataset, c string) mlflow.DatasetInput {
		return mlflow.DatasetInput{Dataset: d, Tags: []mlflow.Tag{{Key: mlflow.DatasetContextTag, Value: c}, {Key: "other", Value: "x"}}}
	}
	ok(t, s.LogInputs(ctx, r1, []mlflow.DatasetInput{withContext(train, "training")}, nil))
	// The same dataset and context from another run is one summary.
	ok(t, s.LogInputs(ctx, r2, []mlflow.DatasetInput{withContext(train, "training"), {Dataset: mlflow.Dataset{Name: "bare", Digest: "d0", SourceType: "local", Source: "{}"}}}, nil))
	ok(t, s.LogInputs(ctx, r3, []mlflow.DatasetInput{withContext(mlflow.Dataset{Name: "eval", Digest: "d2", SourceType: "local", Source: "{}"}, "eval")}, nil))
	got := must(s.SearchDatasets(ctx, []string{exp}))(t)
	want := []mlflow.DatasetSummary{
		{ExperimentID: exp, Name: "bare", Digest: "d0"},
		{ExperimentID: exp, Name: "name1", Digest: "digest1", Context: "training"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("one experiment: %+v, want %+v", got, want)
	}
	if got := must(s.SearchDatasets(ctx, []string{exp, other}))(t); len(got) != 3 {
		t.Fatalf("two experiments: %+v", got)
	}
	if got := must(s.SearchDatasets(ctx, []string{empty, "123456"}))(t); len(got) != 0 {
		t.Fatalf("no datasets: %+v", got)
	}
	_, err := s.SearchDatasets(ctx, []string{"id_1"})
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid experiment id")
}

func testOutputs(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "r", 1)
	ok(t, s.LogOutputs(ctx, id, []mlflow.ModelOutput{{ModelID: "m-1", Step: 3}}))
	wantErr(t, s.LogOutputs(ctx, id, []mlflow.ModelOutput{{ModelID: "m-1", Step: 3}}), mlflow.ResourceAlreadyExists, "m-1")
	wantErr(t, s.LogOutputs(ctx, "missing", nil), mlflow.ResourceDoesNotExist, "")
	got := must(s.GetRun(ctx, id))(t)
	if got.Outputs == nil || len(got.Outputs.ModelOutputs) != 1 || got.Outputs.ModelOutputs[0] != (mlflow.ModelOutput{ModelID: "m-1", Step: 3}) {
		t.Fatalf("outputs %+v", got.Outputs)
	}
}

func testMetricHistory(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "r", 1)
	// Logged out of order; MLflow answers by (timestamp, step, value).
	ok(t, s.LogBatch(ctx, id, []mlflow.Metric{
		{Key: "acc", Step: 0, Timestamp: 3000, Value: 0.98},
		{Key: "acc", Step: 2, Timestamp: 2000, Value: 0.97},
		{Key: "acc", Step: 0, Timestamp: 1000, Value: 0.9},
		{Key: "acc", Step: 1, Timestamp: 1500, Value: 0.95},
		{Key: "other", Step: 0, Timestamp: 1, Value: 1},
	}, nil, nil))
	cases := []struct {
		name          string
		offset, limit int
		want          []int64 // timestamps
	}{
		{"all", 0, 0, []int64{1000, 1500, 2000, 3000}},
		{"first page", 0, 2, []int64{1000, 1500}},
		{"second page", 2, 2, []int64{2000, 3000}},
		{"past the end", 4, 2, nil},
		{"offset only", 1, 0, []int64{1500, 2000, 3000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			ok(t, s.MetricHistory(ctx, store.HistoryQuery{RunID: id, Key: "acc", Offset: tc.offset, Limit: tc.limit}, func(m mlflow.Metric) error {
				if m.Key != "acc" {
					t.Fatalf("key %q", m.Key)
				}
				got = append(got, m.Timestamp)
				return nil
			}))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	wantErr(t, s.MetricHistory(ctx, store.HistoryQuery{RunID: "missing", Key: "acc"}, func(mlflow.Metric) error { return nil }), mlflow.ResourceDoesNotExist, "Run with id=missing not found")
	// fn's error stops the stream and comes back.
	stop := errors.New("stop")
	if err := s.MetricHistory(ctx, store.HistoryQuery{RunID: id, Key: "acc"}, func(mlflow.Metric) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("got %v", err)
	}
}

func testBulkInterval(t *testing.T, s store.Tracking) {
	exp := newExperiment(t, s, "e")
	id := newRun(t, s, exp, "r", 1)
	id2 := newRun(t, s, exp, "r2", 1)
	var ms []mlflow.Metric
	for i := range 1000 {
		ms = append(ms, mlflow.Metric{Key: "bm", Step: int64(i), Timestamp: int64(i), Value: mlflow.Float(i)})
	}
	ok(t, s.LogBatch(ctx, id, ms, nil, nil))
	ok(t, s.LogBatch(ctx, id2, []mlflow.Metric{{Key: "bm", Step: 7, Timestamp: 1, Value: 1}, {Key: "bm", Step: 7, Timestamp: 0, Value: 2}}, nil, nil))
	steps := func(ms []mlflow.Metric, run string) []int64 {
		var out []int64
		for _, m := range ms {
			if m.RunID == run {
				out = append(out, m.Step)
			}
		}
		return out
	}
	cases := []struct {
		name       string
		runs       []string
		start, end *int64
		max        int
		want       []int64 // steps of run id
		want2      []int64 // steps of run id2
	}{
		{"sampled", []string{id}, nil, nil, 5, []int64{0, 200, 400, 600, 800, 999}, nil},
		{"range", []string{id}, ptr(int64(10)), ptr(int64(20)), 5, []int64{10, 12, 14, 16, 18, 20}, nil},
		{"small", []string{id}, ptr(int64(3)), ptr(int64(5)), 5, []int64{3, 4, 5}, nil},
		{"two runs keep their min and max", []string{id, id2}, nil, nil, 4, []int64{0, 7, 250, 500, 750, 999}, []int64{7, 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := must(s.MetricHistoryBulkInterval(ctx, store.BulkIntervalQuery{RunIDs: tc.runs, Key: "bm", StartStep: tc.start, EndStep: tc.end, MaxResults: tc.max}))(t)
			if g := steps(got, id); !slices.Equal(g, tc.want) {
				t.Fatalf("steps %v, want %v", g, tc.want)
			}
			if g := steps(got, id2); !slices.Equal(g, tc.want2) {
				t.Fatalf("run 2 steps %v, want %v", g, tc.want2)
			}
		})
	}
	got := must(s.MetricHistoryBulkInterval(ctx, store.BulkIntervalQuery{RunIDs: []string{id2}, Key: "bm", MaxResults: 10}))(t)
	if len(got) != 2 || got[0].Timestamp != 0 || got[1].Timestamp != 1 {
		t.Fatalf("order within a step: %+v", got)
	}
	_, err := s.MetricHistoryBulkInterval(ctx, store.BulkIntervalQuery{RunIDs: []string{id, "missing"}, Key: "bm", MaxResults: 10})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Run with id=missing not found")
}

// searchFixture makes the runs of MLflow's recorded search cases.
func searchFixture(t *testing.T, s store.Tracking) (exp string, ids map[string]string) {
	exp = newExperiment(t, s, "search")
	ids = map[string]string{}
	type spec struct {
		name    string
		start   int64
		metrics map[string]float64
		params  map[string]string
		tags    map[string]string
		status  string
	}
	specs := []spec{
		{"alpha", 1000, map[string]float64{"acc": 0.9, "loss": 0.1, "metric with spaces": 1}, map[string]string{"lr": "0.01", "opt": "adam"}, map[string]string{"team": "vision"}, mlflow.RunFinished},
		{"beta", 2000, map[string]float64{"acc": 0.5, "loss": 0.7}, map[string]string{"lr": "0.1", "opt": "sgd"}, nil, mlflow.RunFinished},
		{"gamma", 3000, map[string]float64{"acc": 0.7}, map[string]string{"lr": "0.001", "opt": "adam"}, map[string]string{"team": "Vision"}, ""},
		{"delta", 4000, map[string]float64{"acc": 0.1}, map[string]string{"lr": "0.5"}, map[string]string{"team": "ops"}, mlflow.RunFailed},
		{"nometric", 5000, nil, nil, nil, ""},
	}
	for _, sp := range specs {
		id := newRun(t, s, exp, sp.name, sp.start)
		ids[sp.name] = id
		var ms []mlflow.Metric
		for k, v := range sp.metrics {
			ms = append(ms, mlflow.Metric{Key: k, Value: mlflow.Float(v), Timestamp: 1})
		}
		var ps, ts []mlflow.Tag
		for k, v := range sp.params {
			ps = append(ps, mlflow.Tag{Key: k, Value: v})
		}
		for k, v := range sp.tags {
			ts = append(ts, mlflow.Tag{Key: k, Value: v})
		}
		ok(t, s.LogBatch(ctx, id, ms, ps, ts))
		if sp.status != "" {
			must(s.UpdateRun(ctx, store.UpdateRun{RunID: id, Status: ptr(sp.status), EndTime: ptr(sp.start + 500)}))(t)
		}
	}
	del := newRun(t, s, exp, "deleted", 6000)
	ids["deleted"] = del
	ok(t, s.DeleteRun(ctx, del))
	ok(t, s.LogInputs(ctx, ids["alpha"], []mlflow.DatasetInput{{Dataset: mlflow.Dataset{Name: "ds-train", Digest: "abc123", SourceType: "local", Source: "{}"},
		Tags: []mlflow.Tag{{Key: mlflow.DatasetContextTag, Value: "training"}}}}, nil))
	return exp, ids
}

func names(runs []mlflow.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Info.RunName
	}
	return out
}

func num(v float64) search.Value { return search.Value{Num: v, IsNum: true} }
func str(v string) search.Value  { return search.Value{Str: v} }

func testSearchFilter(t *testing.T, s store.Tracking) {
	exp, ids := searchFixture(t, s)
	c := func(entity, key, op string, v search.Value) search.Comparison {
		return search.Comparison{Entity: entity, Key: key, Op: op, Value: v}
	}
	cases := []struct {
		name   string
		filter []search.Comparison
		view   store.ViewType
		want   []string // in the default order: start_time DESC
	}{
		{"none", nil, 0, []string{"nometric", "delta", "gamma", "beta", "alpha"}},
		{"metric >", []search.Comparison{c("metric", "acc", ">", num(0.6))}, 0, []string{"gamma", "alpha"}},
		{"metric <=", []search.Comparison{c("metric", "acc", "<=", num(0.5))}, 0, []string{"delta", "beta"}},
		{"metric =", []search.Comparison{c("metric", "acc", "=", num(0.9))}, 0, []string{"alpha"}},
		{"metric != skips runs without it", []search.Comparison{c("metric", "acc", "!=", num(0.9))}, 0, []string{"delta", "gamma", "beta"}},
		{"metric key with spaces", []search.Comparison{c("metric", "metric with spaces", "=", num(1))}, 0, []string{"alpha"}},
		{"param =", []search.Comparison{c("param", "lr", "=", str("0.01"))}, 0, []string{"alpha"}},
		{"param !=", []search.Comparison{c("param", "opt", "!=", str("adam"))}, 0, []string{"beta"}},
		{"param LIKE", []search.Comparison{c("param", "lr", "LIKE", str("0.0%"))}, 0, []string{"gamma", "alpha"}},
		{"param ILIKE", []search.Comparison{c("param", "opt", "ILIKE", str("ADA%"))}, 0, []string{"gamma", "alpha"}},
		{"tag LIKE is case-sensitive", []search.Comparison{c("tag", "team", "LIKE", str("vis%"))}, 0, []string{"alpha"}},
		{"tag ILIKE", []search.Comparison{c("tag", "team", "ILIKE", str("vis%"))}, 0, []string{"gamma", "alpha"}},
		{"tag runName", []search.Comparison{c("tag", mlflow.TagRunName, "=", str("beta"))}, 0, []string{"beta"}},
		{"attribute run_name", []search.Comparison{c("attribute", "run_name", "=", str("alpha"))}, 0, []string{"alpha"}},
		{"attribute run_name ILIKE", []search.Comparison{c("attribute", "run_name", "ILIKE", str("ALP%"))}, 0, []string{"alpha"}},
		{"attribute status", []search.Comparison{c("attribute", "status", "=", str("FINISHED"))}, 0, []string{"beta", "alpha"}},
		{"attribute start_time", []search.Comparison{c("attribute", "start_time", ">", num(2500))}, 0, []string{"nometric", "delta", "gamma"}},
		{"attribute end_time", []search.Comparison{c("attribute", "end_time", "<=", num(2500))}, 0, []string{"beta", "alpha"}},
		{"run_id IN", []search.Comparison{{Entity: "attribute", Key: "run_id", Op: "IN", Value: search.Value{List: []string{ids["alpha"], ids["beta"]}}}}, 0, []string{"beta", "alpha"}},
		{"run_id NOT IN", []search.Comparison{{Entity: "attribute", Key: "run_id", Op: "NOT IN", Value: search.Value{List: []string{ids["alpha"], ids["beta"]}}}}, 0, []string{"nometric", "delta", "gamma"}},
		{"user_id", []search.Comparison{c("attribute", "user_id", "=", str("nobody"))}, 0, nil},
		{"dataset name", []search.Comparison{c("dataset", "name", "=", str("ds-train"))}, 0, []string{"alpha"}},
		{"dataset context", []search.Comparison{c("dataset", "context", "=", str("training"))}, 0, []string{"alpha"}},
		{"AND", []search.Comparison{c("metric", "acc", ">", num(0.4)), c("param", "opt", "=", str("adam")), c("tag", "team", "ILIKE", str("vision"))}, 0, []string{"gamma", "alpha"}},
		{"deleted only", nil, store.DeletedOnly, []string{"deleted"}},
		{"all", nil, store.All, []string{"deleted", "nometric", "delta", "gamma", "beta", "alpha"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs, next := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Filter: tc.filter, ViewType: tc.view, Page: store.Page{MaxResults: 100}}))(t)
			if got := names(runs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if next != "" {
				t.Fatalf("next token %q on a partial page", next)
			}
		})
	}
	_, _, err := s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Page: store.Page{MaxResults: 10}, Filter: []search.Comparison{c("attribute", "colour", "=", str("red"))}})
	wantErr(t, err, mlflow.InvalidParameterValue, "colour")
	runs, _ := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: nil, Page: store.Page{MaxResults: 10}}))(t)
	if len(runs) != 0 {
		t.Fatal("no experiment ids found runs")
	}
	// A page carries each run's data.
	runs, _ = must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Page: store.Page{MaxResults: 10},
		Filter: []search.Comparison{c("attribute", "run_name", "=", str("alpha"))}}))(t)
	if r := runs[0]; len(r.Data.Metrics) != 3 || len(r.Data.Params) != 2 || len(r.Inputs.DatasetInputs) != 1 {
		t.Fatalf("alpha %+v", r)
	}
}

func testSearchOrder(t *testing.T, s store.Tracking) {
	exp, _ := searchFixture(t, s)
	o := func(entity, key string, desc bool) search.OrderKey {
		return search.OrderKey{Entity: entity, Key: key, Desc: desc}
	}
	cases := []struct {
		name  string
		order []search.OrderKey
		want  []string
	}{
		{"metric DESC, missing last", []search.OrderKey{o("metric", "acc", true)}, []string{"alpha", "gamma", "beta", "delta", "nometric"}},
		{"metric ASC, missing last", []search.OrderKey{o("metric", "acc", false)}, []string{"delta", "beta", "gamma", "alpha", "nometric"}},
		{"metric missing on several: start_time DESC tie-break", []search.OrderKey{o("metric", "loss", false)}, []string{"alpha", "beta", "nometric", "delta", "gamma"}},
		{"param ASC", []search.OrderKey{o("param", "lr", false)}, []string{"gamma", "alpha", "beta", "delta", "nometric"}},
		{"tag ASC", []search.OrderKey{o("tag", "team", false)}, []string{"gamma", "delta", "alpha", "nometric", "beta"}},
		{"start_time ASC", []search.OrderKey{o("attribute", "start_time", false)}, []string{"alpha", "beta", "gamma", "delta", "nometric"}},
		{"run_name ASC", []search.OrderKey{o("attribute", "run_name", false)}, []string{"alpha", "beta", "delta", "gamma", "nometric"}},
		{"end_time DESC, null last", []search.OrderKey{o("attribute", "end_time", true)}, []string{"delta", "beta", "alpha", "nometric", "gamma"}},
		{"several keys", []search.OrderKey{o("param", "opt", false), o("metric", "acc", true)}, []string{"alpha", "gamma", "beta", "delta", "nometric"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs, _ := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, OrderBy: tc.order, Page: store.Page{MaxResults: 100}}))(t)
			if got := names(runs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func testSearchPaging(t *testing.T, s store.Tracking) {
	exp, _ := searchFixture(t, s)
	var all []string
	offset := 0
	for range 10 {
		runs, next := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp},
			OrderBy: []search.OrderKey{{Entity: "attribute", Key: "start_time"}}, Page: store.Page{MaxResults: 2, Offset: offset}}))(t)
		all = append(all, names(runs)...)
		if next == "" {
			break
		}
		offset = must(search.DecodeOffsetToken(next))(t)
	}
	if want := []string{"alpha", "beta", "gamma", "delta", "nometric"}; !slices.Equal(all, want) {
		t.Fatalf("pages %v, want %v", all, want)
	}
	// A full last page still has a token, as MLflow answers; MLflow reads
	// it as its offset (mltrack's tokens may hold a cursor beside it).
	_, next := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Page: store.Page{MaxResults: 5}}))(t)
	if off, err := search.DecodeOffsetToken(next); err != nil || off != 5 {
		t.Fatalf("next %q: offset %d, %v", next, off, err)
	}
	// Following the tokens as the API reads them (offset and cursor), for
	// each order, reads what one page does.
	for _, order := range [][]search.OrderKey{nil, {{Entity: "attribute", Key: "start_time", Desc: true}}, {{Entity: "metric", Key: "acc", Desc: true}}, {{Entity: "metric", Key: "acc"}}} {
		q := store.RunQuery{ExperimentIDs: []string{exp}, OrderBy: order, Page: store.Page{MaxResults: 100}}
		one, _ := must2(s.SearchRuns(ctx, q))(t)
		var paged []string
		token := ""
		for range 10 {
			q.Page = store.Page{MaxResults: 2, Offset: must(search.DecodeOffsetToken(token))(t)}
			q.After = search.DecodeRunCursor(token)
			runs, next := must2(s.SearchRuns(ctx, q))(t)
			paged = append(paged, names(runs)...)
			if token = next; next == "" {
				break
			}
		}
		if !slices.Equal(paged, names(one)) {
			t.Fatalf("order %v: pages by token %v, one page %v", order, paged, names(one))
		}
	}
	// A negative offset reads from the start.
	runs, _ := must2(s.SearchRuns(ctx, store.RunQuery{ExperimentIDs: []string{exp}, Page: store.Page{MaxResults: 2, Offset: -5}}))(t)
	if len(runs) != 2 {
		t.Fatalf("negative offset: %d runs", len(runs))
	}
}
