package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// GenAIStore is what the GenAI conformance tests need.
type GenAIStore interface {
	store.Tracking
	store.Datasets
	store.Scorers
}

// RunGenAI runs the evaluation dataset and scorer conformance tests; open
// returns a fresh, empty store for each test.
func RunGenAI(t *testing.T, open func(t *testing.T) GenAIStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s GenAIStore)
	}{
		{"DatasetLifecycle", testDatasetLifecycle},
		{"DatasetRecordsMerge", testDatasetRecordsMerge},
		{"DatasetRecordsPaging", testDatasetRecordsPaging},
		{"SearchEvaluationDatasets", testSearchEvaluationDatasets},
		{"DatasetExperiments", testDatasetExperiments},
		{"Scorers", testScorers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func obj(t *testing.T, s string) mlflow.Object {
	t.Helper()
	o, isObj, err := mlflow.ParseObject(json.RawMessage(s))
	if err != nil || !isObj {
		t.Fatalf("%s: not an object (%v)", s, err)
	}
	return o
}

func rec(t *testing.T, inputs, expectations, tags string) store.DatasetRecordInput {
	r := store.DatasetRecordInput{Inputs: obj(t, inputs)}
	if expectations != "" {
		r.Expectations = obj(t, expectations)
	}
	if tags != "" {
		r.Tags = obj(t, tags)
	}
	return r
}

func tagString(tags []mlflow.Tag) string {
	var parts []string
	for _, tg := range tags {
		parts = append(parts, tg.Key+"="+tg.Value)
	}
	return strings.Join(parts, ",")
}

func testDatasetLifecycle(t *testing.T, s GenAIStore) {
	exp := newExperiment(t, s, "e")
	d := must(s.CreateDataset(ctx, "eval", []mlflow.Tag{{Key: "stage", Value: "dev"}, {Key: "mlflow.user", Value: "ann"}}, []string{exp}))(t)
	if !strings.HasPrefix(d.DatasetID, "d-") || len(d.DatasetID) != 34 || len(d.Digest) != 8 {
		t.Fatalf("id %q digest %q", d.DatasetID, d.Digest)
	}
	if d.CreatedBy != "ann" || d.LastUpdatedBy != "ann" || d.CreatedTime == 0 || d.CreatedTime != d.LastUpdateTime || d.Schema != "" || d.Profile != "" {
		t.Fatalf("created %+v", d)
	}
	// Tags keep the order they were given in (MLflow answers them so).
	if got := tagString(d.Tags); got != "stage=dev,mlflow.user=ann" {
		t.Fatalf("tags %s", got)
	}
	g := must(s.GetDataset(ctx, d.DatasetID))(t)
	if g.Name != "eval" || g.Digest != d.Digest || tagString(g.Tags) != tagString(d.Tags) {
		t.Fatalf("get %+v", g)
	}
	ok(t, s.SetDatasetTags(ctx, d.DatasetID, []mlflow.Tag{{Key: "stage", Value: "prod"}, {Key: "owner", Value: "me"}}))
	ok(t, s.DeleteDatasetTag(ctx, d.DatasetID, "mlflow.user"))
	ok(t, s.DeleteDatasetTag(ctx, d.DatasetID, "never-set")) // idempotent
	g = must(s.GetDataset(ctx, d.DatasetID))(t)
	if got := tagString(g.Tags); got != "stage=prod,owner=me" {
		t.Fatalf("tags after set/delete: %s", got)
	}
	// Names are not unique (as in MLflow).
	must(s.CreateDataset(ctx, "eval", nil, nil))(t)

	_, _, err := s.UpsertDatasetRecords(ctx, d.DatasetID, []store.DatasetRecordInput{rec(t, `{"q": 1}`, "", "")})
	ok(t, err)
	ok(t, s.DeleteDataset(ctx, d.DatasetID))
	ok(t, s.DeleteDataset(ctx, d.DatasetID)) // unknown: not an error
	_, err = s.GetDataset(ctx, d.DatasetID)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Evaluation dataset with id '"+d.DatasetID+"' not found")
	_, _, err = s.DatasetRecords(ctx, d.DatasetID, 10, "")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Could not find evaluation dataset with ID "+d.DatasetID)
	_, _, err = s.UpsertDatasetRecords(ctx, d.DatasetID, []store.DatasetRecordInput{rec(t, `{"q": 1}`, "", "")})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Could not find evaluation dataset")
	err = s.SetDatasetTags(ctx, d.DatasetID, []mlflow.Tag{{Key: "k", Value: "v"}})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Could not find evaluation dataset")
	ids := must(s.DatasetExperimentIDs(ctx, d.DatasetID))(t)
	if len(ids) != 0 {
		t.Fatalf("links left after delete: %v", ids)
	}
}

func recordsByInput(t *testing.T, s GenAIStore, id string) map[string]mlflow.DatasetRecord {
	rs, next := must2(s.DatasetRecords(ctx, id, 1000, ""))(t)
	if next != "" {
		t.Fatalf("unexpected next page %q", next)
	}
	out := map[string]mlflow.DatasetRecord{}
	for _, r := range rs {
		out[r.Inputs] = r
	}
	return out
}

func testDatasetRecordsMerge(t *testing.T, s GenAIStore) {
	d := must(s.CreateDataset(ctx, "m", nil, nil))(t)
	time.Sleep(3 * time.Millisecond) // the digest hashes the update time (ms)
	user := `{"mlflow.user": "ann"}`
	ins, upd, err := s.UpsertDatasetRecords(ctx, d.DatasetID, []store.DatasetRecordInput{
		rec(t, `{"q": "bread", "n": 1}`, `{"a": "b", "keep": true}`, user),
		rec(t, `{"q": "rice"}`, `{"a": "r"}`, user),
	})
	ok(t, err)
	if ins != 2 || upd != 0 {
		t.Fatalf("first upsert: %d inserted %d updated", ins, upd)
	}
	first := must(s.GetDataset(ctx, d.DatasetID))(t)
	if first.Profile != `{"num_records": 2}` {
		t.Fatalf("profile %q", first.Profile)
	}
	if first.Schema != `{"inputs": {"q": "string", "n": "integer"}, "outputs": {}, "expectations": {"a": "string", "keep": "boolean"}, "version": "1.0"}` {
		t.Fatalf("schema %q", first.Schema)
	}
	if first.LastUpdatedBy != "ann" || first.Digest == d.Digest {
		t.Fatalf("after upsert: %+v", first)
	}
	time.Sleep(3 * time.Millisecond)
	// The same inputs in another key order are the same record: its
	// expectations and tags are updated as dict.update; a new record in
	// the same batch twice is inserted once and then updated.
	src := rec(t, `{"q": "soup"}`, `{"a": "s"}`, "")
	src.Source = obj(t, `{"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}`)
	src.SourceType, src.SourceID = "TRACE", "tr-1"
	out := store.DatasetRecordInput{Inputs: obj(t, `{"q": "soup"}`), Outputs: json.RawMessage(`"hot"`), HasOutputs: true}
	ins, upd, err = s.UpsertDatasetRecords(ctx, d.DatasetID, []store.DatasetRecordInput{
		rec(t, `{"n": 1, "q": "bread"}`, `{"a": "b2", "more": 1.5}`, `{"mlflow.user": "bob", "x": "y"}`),
		src, out,
	})
	ok(t, err)
	if ins != 1 || upd != 2 {
		t.Fatalf("second upsert: %d inserted %d updated", ins, upd)
	}
	rs := recordsByInput(t, s, d.DatasetID)
	if len(rs) != 3 {
		t.Fatalf("records %v", rs)
	}
	bread := rs[`{"q": "bread", "n": 1}`]
	if bread.Expectations != `{"a": "b2", "keep": true, "more": 1.5}` || bread.Tags != `{"mlflow.user": "bob", "x": "y"}` {
		t.Fatalf("merged record %+v", bread)
	}
	if bread.CreatedBy != "ann" || bread.LastUpdatedBy != "bob" || bread.LastUpdateTime <= bread.CreatedTime || bread.Outputs != "{}" {
		t.Fatalf("merged record %+v", bread)
	}
	soup := rs[`{"q": "soup"}`]
	if soup.SourceType != "TRACE" || soup.SourceID != "tr-1" || soup.Source != `{"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}` || soup.Outputs != `"hot"` || soup.Expectations != `{"a": "s"}` {
		t.Fatalf("record from a trace %+v", soup)
	}
	if rice := rs[`{"q": "rice"}`]; rice.Expectations != `{"a": "r"}` || rice.LastUpdateTime != rice.CreatedTime {
		t.Fatalf("untouched record %+v", rice)
	}
	// MLflow's schema: a non-object output replaces an empty outputs section
	// by its type.
	second := must(s.GetDataset(ctx, d.DatasetID))(t)
	if second.Profile != `{"num_records": 3}` || second.LastUpdatedBy != "bob" ||
		second.Schema != `{"inputs": {"q": "string", "n": "integer"}, "outputs": "string", "expectations": {"a": "string", "keep": "boolean", "more": "float"}, "version": "1.0"}` {
		t.Fatalf("after merge: %+v", second)
	}
}

func testDatasetRecordsPaging(t *testing.T, s GenAIStore) {
	d := must(s.CreateDataset(ctx, "p", nil, nil))(t)
	const n = 2500
	batch := make([]store.DatasetRecordInput, 0, 1000)
	for i := range n {
		batch = append(batch, rec(t, fmt.Sprintf(`{"i": %d}`, i), "", ""))
		if len(batch) == 1000 || i == n-1 {
			_, _, err := s.UpsertDatasetRecords(ctx, d.DatasetID, batch)
			ok(t, err)
			batch = batch[:0]
		}
	}
	seen := map[string]bool{}
	token, pages := "", 0
	var last mlflow.DatasetRecord
	for {
		rs, next := must2(s.DatasetRecords(ctx, d.DatasetID, 700, token))(t)
		pages++
		for _, r := range rs {
			if seen[r.DatasetRecordID] {
				t.Fatalf("record %s twice", r.DatasetRecordID)
			}
			seen[r.DatasetRecordID] = true
			if r.CreatedTime < last.CreatedTime || r.CreatedTime == last.CreatedTime && r.DatasetRecordID < last.DatasetRecordID {
				t.Fatalf("out of order: %+v after %+v", r, last)
			}
			last = r
		}
		if next == "" {
			break
		}
		token = next
	}
	if len(seen) != n || pages != 4 {
		t.Fatalf("%d records in %d pages", len(seen), pages)
	}
	// MLflow also takes an offset as the token.
	rs, _ := must2(s.DatasetRecords(ctx, d.DatasetID, 10, "2495"))(t)
	if len(rs) != 5 {
		t.Fatalf("offset token: %d records", len(rs))
	}
	_, _, err := s.DatasetRecords(ctx, d.DatasetID, 10, "not-a-token")
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid page token")
}

func datasetNames(ds []mlflow.EvaluationDataset) string {
	var n []string
	for _, d := range ds {
		n = append(n, d.Name)
	}
	return strings.Join(n, ",")
}

func testSearchEvaluationDatasets(t *testing.T, s GenAIStore) {
	e1, e2 := newExperiment(t, s, "e1"), newExperiment(t, s, "e2")
	for _, c := range []struct {
		name, team string
		exps       []string
	}{{"alpha", "a", []string{e1}}, {"beta", "b", []string{e1, e2}}, {"Gamma", "a", []string{e2}}, {"delta", "b", nil}} {
		must(s.CreateDataset(ctx, c.name, []mlflow.Tag{{Key: "team", Value: c.team}, {Key: "mlflow.user", Value: "u-" + c.name}}, c.exps))(t)
		time.Sleep(3 * time.Millisecond)
	}
	cases := []struct {
		exps    []string
		filter  string
		orderBy []string
		want    string
	}{
		{nil, "", nil, "delta,Gamma,beta,alpha"},
		{[]string{e1}, "", nil, "beta,alpha"},
		{[]string{e1, e2}, "", []string{"name ASC"}, "Gamma,alpha,beta"},
		{nil, "name = 'beta'", nil, "beta"},
		{nil, "name LIKE '%a'", []string{"name"}, "Gamma,alpha,beta,delta"},
		{nil, "name ILIKE 'g%'", nil, "Gamma"},
		{nil, "tags.team = 'a'", []string{"created_time ASC"}, "alpha,Gamma"},
		{nil, "tags.team = 'b' AND name != 'beta'", nil, "delta"},
		{nil, "created_by = 'u-alpha'", nil, "alpha"},
		{nil, "created_time > 0", []string{"last_update_time ASC"}, "alpha,beta,Gamma,delta"},
	}
	for _, c := range cases {
		f, err := search.ParseDatasetFilter(c.filter)
		ok(t, err)
		o, err := search.ParseDatasetOrderBy(c.orderBy)
		ok(t, err)
		ds, _ := must2(s.SearchEvaluationDatasets(ctx, store.DatasetQuery{ExperimentIDs: c.exps, Filter: f, OrderBy: o, Page: store.Page{MaxResults: 100}}))(t)
		if got := datasetNames(ds); got != c.want {
			t.Errorf("exps %v filter %q order %v: %s, want %s", c.exps, c.filter, c.orderBy, got, c.want)
		}
		for _, d := range ds {
			if len(d.Tags) != 2 {
				t.Errorf("%s: tags %v", d.Name, d.Tags)
			}
		}
	}
	var names []string
	page := store.Page{MaxResults: 3}
	for {
		ds, next := must2(s.SearchEvaluationDatasets(ctx, store.DatasetQuery{Page: page}))(t)
		names = append(names, datasetNames(ds))
		if next == "" {
			break
		}
		page.Offset = must(search.DecodeOffsetToken(next))(t)
	}
	if got := strings.Join(names, "|"); got != "delta,Gamma,beta|alpha" {
		t.Fatalf("pages %s", got)
	}
	_, _, err := s.SearchEvaluationDatasets(ctx, store.DatasetQuery{Page: store.Page{MaxResults: 50001}})
	wantErr(t, err, mlflow.InvalidParameterValue, "max_results")
	for _, bad := range []string{"digest = 'x'", "tags.team > 'a'", "created_time = 'x'", "experiment.name = 'x'"} {
		if _, err := search.ParseDatasetFilter(bad); err == nil {
			t.Errorf("filter %q accepted", bad)
		}
	}
}

func testDatasetExperiments(t *testing.T, s GenAIStore) {
	e1, e2 := newExperiment(t, s, "e1"), newExperiment(t, s, "e2")
	d := must(s.CreateDataset(ctx, "x", nil, []string{e1}))(t)
	if ids := must(s.DatasetExperimentIDs(ctx, d.DatasetID))(t); !slices.Equal(ids, []string{e1}) {
		t.Fatalf("ids %v", ids)
	}
	time.Sleep(2 * time.Millisecond)
	added := must(s.AddDatasetToExperiments(ctx, d.DatasetID, []string{e2, e1}))(t)
	if added.LastUpdateTime <= d.LastUpdateTime {
		t.Fatalf("add did not touch the dataset: %+v", added)
	}
	ids := must(s.DatasetExperimentIDs(ctx, d.DatasetID))(t)
	slices.Sort(ids)
	if want := []string{e1, e2}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	_, err := s.AddDatasetToExperiments(ctx, d.DatasetID, []string{"424242"})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=424242")
	_, err = s.AddDatasetToExperiments(ctx, "d-nope", []string{e1})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Dataset 'd-nope' not found")
	must(s.RemoveDatasetFromExperiments(ctx, d.DatasetID, []string{e1, "999"}))(t)
	must(s.RemoveDatasetFromExperiments(ctx, d.DatasetID, []string{e1}))(t) // idempotent
	if ids := must(s.DatasetExperimentIDs(ctx, d.DatasetID))(t); !slices.Equal(ids, []string{e2}) {
		t.Fatalf("after remove %v", ids)
	}
	_, err = s.RemoveDatasetFromExperiments(ctx, "d-nope", []string{e1})
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Dataset 'd-nope' not found")
}

func scorerVersions(vs []store.ScorerVersion) string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s@%d:%s", v.ScorerName, v.ScorerVersion, v.SerializedScorer))
	}
	return strings.Join(out, ",")
}

func testScorers(t *testing.T, s GenAIStore) {
	exp, other := newExperiment(t, s, "e"), newExperiment(t, s, "other")
	for _, c := range [][2]string{{"relevance", "r1"}, {"accuracy", "a1"}, {"relevance", "r2"}, {"relevance", "r3"}} {
		v := must(s.RegisterScorer(ctx, exp, c[0], c[1]))(t)
		if v.ScorerID == "" || v.CreationTime == 0 || v.SerializedScorer != c[1] {
			t.Fatalf("registered %+v", v)
		}
	}
	must(s.RegisterScorer(ctx, other, "relevance", "o1"))(t)
	if got := scorerVersions(must(s.ListScorers(ctx, exp))(t)); got != "accuracy@1:a1,relevance@3:r3" {
		t.Fatalf("list %s", got)
	}
	if got := scorerVersions(must(s.ListScorerVersions(ctx, exp, "relevance"))(t)); got != "relevance@1:r1,relevance@2:r2,relevance@3:r3" {
		t.Fatalf("versions %s", got)
	}
	if v := must(s.GetScorer(ctx, exp, "relevance", nil))(t); v.ScorerVersion != 3 {
		t.Fatalf("latest %+v", v)
	}
	two := int64(2)
	if v := must(s.GetScorer(ctx, exp, "relevance", &two))(t); v.SerializedScorer != "r2" {
		t.Fatalf("version 2 %+v", v)
	}
	nine := int64(9)
	_, err := s.GetScorer(ctx, exp, "relevance", &nine)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Scorer with name 'relevance' and version 9 not found for experiment "+exp+".")
	_, err = s.GetScorer(ctx, exp, "nope", nil)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Scorer with name 'nope' not found for experiment "+exp+".")
	ok(t, s.DeleteScorer(ctx, exp, "relevance", &two))
	if got := scorerVersions(must(s.ListScorerVersions(ctx, exp, "relevance"))(t)); got != "relevance@1:r1,relevance@3:r3" {
		t.Fatalf("after deleting v2: %s", got)
	}
	err = s.DeleteScorer(ctx, exp, "relevance", &two)
	wantErr(t, err, mlflow.ResourceDoesNotExist, "version 2 not found")
	// A new version after a deletion continues from the highest.
	if v := must(s.RegisterScorer(ctx, exp, "relevance", "r4"))(t); v.ScorerVersion != 4 {
		t.Fatalf("next version %+v", v)
	}
	ok(t, s.DeleteScorer(ctx, exp, "relevance", nil))
	_, err = s.ListScorerVersions(ctx, exp, "relevance")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "Scorer with name 'relevance' not found")
	if got := scorerVersions(must(s.ListScorers(ctx, exp))(t)); got != "accuracy@1:a1" {
		t.Fatalf("list after delete %s", got)
	}
	if got := scorerVersions(must(s.ListScorers(ctx, other))(t)); got != "relevance@1:o1" {
		t.Fatalf("other experiment %s", got)
	}
	if v := must(s.RegisterScorer(ctx, exp, "relevance", "again"))(t); v.ScorerVersion != 1 {
		t.Fatalf("re-registered %+v", v)
	}
	_, err = s.ListScorers(ctx, "424242")
	wantErr(t, err, mlflow.ResourceDoesNotExist, "424242")
	ok(t, s.DeleteExperiment(ctx, other))
	_, err = s.RegisterScorer(ctx, other, "x", "y")
	wantErr(t, err, mlflow.InvalidParameterValue, "must be in the 'active' state")
}
