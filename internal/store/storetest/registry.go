// Package storetest is the conformance suite every store implementation passes.
package storetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// RunRegistry runs the registry and logged model conformance tests; open
// returns a fresh, empty store for each test.
func RunRegistry(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *sqlstore.Store)
	}{
		{"RegisteredModelLifecycle", testRegisteredModelLifecycle},
		{"ModelVersions", testModelVersions},
		{"TransitionStage", testTransitionStage},
		{"Aliases", testAliases},
		{"DeleteVersionKeepsNumbers", testDeleteVersionKeepsNumbers},
		{"RenameCarriesVersions", testRenameCarriesVersions},
		{"SearchRegisteredModels", testSearchRegisteredModels},
		{"SearchModelVersions", testSearchModelVersions},
		{"LoggedModels", testLoggedModels},
		{"SearchLoggedModels", testSearchLoggedModels},
		{"VersionSources", testVersionSources},
		{"ChildURIsOnThePath", testChildURIsOnThePath},
		{"ExperimentsAtLocations", testExperimentsAtLocations},
		{"LoggedModelMetricOrder", testLoggedModelMetricOrder},
		{"SearchLoggedModelsByMetricAndDataset", testSearchLoggedModelsByMetricAndDataset},
		{"ModelVersionOnLoggedModel", testModelVersionOnLoggedModel},
		{"WebhookCRUD", testWebhookCRUD},
		{"WebhookOutbox", testWebhookOutbox},
		{"WebhookClaims", testWebhookClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur = t
			tc.fn(t, open(t))
		})
	}
}

// cur is the running subtest: RunRegistry runs them one after the other,
// and regMust and regMust2 fail it.
var cur *testing.T

func regMust[T any](v T, err error) T {
	cur.Helper()
	if err != nil {
		cur.Fatal(err)
	}
	return v
}

func regMust2[A, B any](a A, b B, err error) (A, B) {
	cur.Helper()
	if err != nil {
		cur.Fatal(err)
	}
	return a, b
}

func wantCode(t *testing.T, err error, code mlflow.ErrorCode, msgPart string) {
	t.Helper()
	e, ok := mlflow.AsError(err)
	if !ok {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if e.Code != code || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("want %s containing %q, got %s: %s", code, msgPart, e.Code, e.Message)
	}
}

func testRegisteredModelLifecycle(t *testing.T, s *sqlstore.Store) {
	rm := regMust(s.CreateRegisteredModel(ctx, "m1", "first", []mlflow.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}))
	if rm.Name != "m1" || rm.Description != "first" || rm.CreationTimestamp == 0 || rm.LastUpdatedTimestamp != rm.CreationTimestamp {
		t.Fatalf("created %+v", rm)
	}
	if len(rm.Tags) != 2 || rm.Tags[0].Key != "a" || rm.Tags[1].Key != "b" {
		t.Fatalf("tags %+v", rm.Tags)
	}
	_, err := s.CreateRegisteredModel(ctx, "m1", "", nil)
	wantCode(t, err, mlflow.ResourceAlreadyExists, "Registered Model (name=m1) already exists.")
	_, err = s.GetRegisteredModel(ctx, "nope")
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Registered Model with name=nope not found")

	rm = regMust(s.UpdateRegisteredModel(ctx, "m1", "second"))
	if rm.Description != "second" {
		t.Fatalf("update: %+v", rm)
	}
	if err := s.SetRegisteredModelTag(ctx, "m1", mlflow.Tag{Key: "a", Value: "changed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegisteredModelTag(ctx, "m1", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegisteredModelTag(ctx, "m1", "no-such-tag"); err != nil {
		t.Fatalf("deleting a missing tag: %v", err)
	}
	wantCode(t, s.SetRegisteredModelTag(ctx, "nope", mlflow.Tag{Key: "a"}), mlflow.ResourceDoesNotExist, "nope")
	rm = regMust(s.GetRegisteredModel(ctx, "m1"))
	if len(rm.Tags) != 1 || rm.Tags[0] != (mlflow.Tag{Key: "a", Value: "changed"}) {
		t.Fatalf("tags %+v", rm.Tags)
	}
	if err := s.DeleteRegisteredModel(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteRegisteredModel(ctx, "m1"), mlflow.ResourceDoesNotExist, "m1")
	// The name is free again, and numbering starts over.
	regMust(s.CreateRegisteredModel(ctx, "m1", "", nil))
	mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "m1", Source: "s3://b/x"}))
	if mv.Version != "1" {
		t.Fatalf("version after re-create: %s", mv.Version)
	}
}

func testModelVersions(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "mv", "", nil))
	_, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "none", Source: "s3://b/x"})
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Registered Model with name=none not found")
	mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "mv", Source: "s3://b/1", RunID: "r1", Description: "d",
		Tags: []mlflow.Tag{{Key: "k", Value: "v"}}}))
	want := mlflow.ModelVersion{Name: "mv", Version: "1", CurrentStage: "None", Description: "d", RunID: "r1", Source: "s3://b/1",
		Status: "READY", Tags: []mlflow.Tag{{Key: "k", Value: "v"}}, CreationTimestamp: mv.CreationTimestamp, LastUpdatedTimestamp: mv.CreationTimestamp}
	if fmt.Sprint(*mv) != fmt.Sprint(want) {
		t.Fatalf("created\n got %+v\nwant %+v", *mv, want)
	}
	mv2 := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "mv", Source: "s3://b/2"}))
	if mv2.Version != "2" {
		t.Fatalf("second version %s", mv2.Version)
	}
	got := regMust(s.GetModelVersion(ctx, "mv", 1))
	if got.Description != "d" || len(got.Tags) != 1 {
		t.Fatalf("get %+v", got)
	}
	_, err = s.GetModelVersion(ctx, "mv", 9)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Model Version (name=mv, version=9) not found")
	got = regMust(s.UpdateModelVersion(ctx, "mv", 1, "new"))
	if got.Description != "new" || got.LastUpdatedTimestamp < got.CreationTimestamp {
		t.Fatalf("update %+v", got)
	}
	if err := s.SetModelVersionTag(ctx, "mv", 2, mlflow.Tag{Key: "x", Value: "y"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModelVersionTag(ctx, "mv", 1, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModelVersionTag(ctx, "mv", 1, "missing"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.SetModelVersionTag(ctx, "mv", 7, mlflow.Tag{Key: "x"}), mlflow.ResourceDoesNotExist, "version=7")
	if got := regMust(s.GetModelVersion(ctx, "mv", 1)); len(got.Tags) != 0 {
		t.Fatalf("tags after delete %+v", got.Tags)
	}
	rm := regMust(s.GetRegisteredModel(ctx, "mv"))
	if len(rm.LatestVersions) != 1 || rm.LatestVersions[0].Version != "2" || rm.LastUpdatedTimestamp < mv2.CreationTimestamp {
		t.Fatalf("latest versions %+v", rm)
	}
	uri := regMust(s.GetModelVersionDownloadURI(ctx, "mv", 2))
	if uri != "s3://b/2" {
		t.Fatalf("download uri %s", uri)
	}
}

func testTransitionStage(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "ts", "", nil))
	for i := 0; i < 4; i++ {
		regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "ts", Source: fmt.Sprintf("s3://b/%d", i)}))
	}
	regMust(s.TransitionModelVersionStage(ctx, "ts", 1, mlflow.StageProduction, false))
	regMust(s.TransitionModelVersionStage(ctx, "ts", 2, mlflow.StageProduction, false))
	regMust(s.TransitionModelVersionStage(ctx, "ts", 3, mlflow.StageStaging, false))
	mv := regMust(s.TransitionModelVersionStage(ctx, "ts", 4, mlflow.StageProduction, true))
	if mv.CurrentStage != "Production" {
		t.Fatalf("stage %s", mv.CurrentStage)
	}
	stages := map[string]string{}
	for v := int64(1); v <= 4; v++ {
		stages[fmt.Sprint(v)] = regMust(s.GetModelVersion(ctx, "ts", v)).CurrentStage
	}
	if fmt.Sprint(stages) != "map[1:Archived 2:Archived 3:Staging 4:Production]" {
		t.Fatalf("stages after archive: %v", stages)
	}
	_, err := s.TransitionModelVersionStage(ctx, "ts", 3, mlflow.StageArchived, true)
	wantCode(t, err, mlflow.InvalidParameterValue, "not an Active stage")
	_, err = s.TransitionModelVersionStage(ctx, "ts", 9, mlflow.StageStaging, false)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "version=9")

	latest := regMust(s.GetLatestVersions(ctx, "ts", nil))
	var got []string
	for _, mv := range latest {
		got = append(got, mv.CurrentStage+":"+mv.Version)
	}
	// One per stage, ordered by each stage's first version.
	if strings.Join(got, ",") != "Archived:2,Staging:3,Production:4" {
		t.Fatalf("latest %v", got)
	}
	latest = regMust(s.GetLatestVersions(ctx, "ts", []string{"Staging"}))
	if len(latest) != 1 || latest[0].Version != "3" {
		t.Fatalf("latest staging %+v", latest)
	}
	if latest := regMust(s.GetLatestVersions(ctx, "ts", []string{"None"})); len(latest) != 0 {
		t.Fatalf("latest None %+v", latest)
	}
	_, err = s.GetLatestVersions(ctx, "nope", nil)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "nope")
}

func testAliases(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "al", "", nil))
	for i := 0; i < 2; i++ {
		regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "al", Source: "s3://b/x"}))
	}
	if err := s.SetRegisteredModelAlias(ctx, "al", "champion", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelAlias(ctx, "al", "champion", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelAlias(ctx, "al", "old", 1); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.SetRegisteredModelAlias(ctx, "al", "x", 9), mlflow.ResourceDoesNotExist, "Model Version (name=al, version=9) not found")
	wantCode(t, s.SetRegisteredModelAlias(ctx, "nope", "x", 1), mlflow.ResourceDoesNotExist, "Model Version (name=nope, version=1) not found")
	mv := regMust(s.GetModelVersionByAlias(ctx, "al", "champion"))
	if mv.Version != "2" || fmt.Sprint(mv.Aliases) != "[champion]" {
		t.Fatalf("by alias %+v", mv)
	}
	mv = regMust(s.GetModelVersionByAlias(ctx, "al", "LATEST"))
	if mv.Version != "2" {
		t.Fatalf("latest %+v", mv)
	}
	_, err := s.GetModelVersionByAlias(ctx, "al", "nope")
	wantCode(t, err, mlflow.InvalidParameterValue, "Registered model alias nope not found.")
	_, err = s.GetModelVersionByAlias(ctx, "nope", "x")
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Registered Model with name=nope not found")
	rm := regMust(s.GetRegisteredModel(ctx, "al"))
	if fmt.Sprint(rm.Aliases) != "[{champion 2} {old 1}]" {
		t.Fatalf("aliases %+v", rm.Aliases)
	}
	if err := s.DeleteRegisteredModelAlias(ctx, "al", "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegisteredModelAlias(ctx, "al", "old"); err != nil {
		t.Fatalf("deleting a missing alias: %v", err)
	}
	if mv := regMust(s.GetModelVersion(ctx, "al", 1)); len(mv.Aliases) != 0 {
		t.Fatalf("aliases of v1 %+v", mv.Aliases)
	}
	// Deleting a version removes the aliases pointing at it.
	if err := s.DeleteModelVersion(ctx, "al", 2); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetModelVersionByAlias(ctx, "al", "champion")
	wantCode(t, err, mlflow.InvalidParameterValue, "champion")
}

func testDeleteVersionKeepsNumbers(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "dv", "", nil))
	for i := 0; i < 3; i++ {
		regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "dv", Source: "s3://b/x"}))
	}
	if err := s.DeleteModelVersion(ctx, "dv", 3); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteModelVersion(ctx, "dv", 3), mlflow.ResourceDoesNotExist, "Model Version (name=dv, version=3) not found")
	_, err := s.GetModelVersion(ctx, "dv", 3)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "version=3")
	mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "dv", Source: "s3://b/x"}))
	if mv.Version != "4" {
		t.Fatalf("version after delete: %s (numbers must not be reused)", mv.Version)
	}
	mvs, _ := regMust2(s.SearchModelVersions(ctx, store.RegistryQuery{Page: store.Page{MaxResults: 100}}))
	if len(mvs) != 3 {
		t.Fatalf("search sees %d versions, want 3 (deleted hidden)", len(mvs))
	}
}

func testRenameCarriesVersions(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "old", "", []mlflow.Tag{{Key: "t", Value: "v"}}))
	regMust(s.CreateRegisteredModel(ctx, "taken", "", nil))
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "old", Source: "s3://b/x", Tags: []mlflow.Tag{{Key: "vt", Value: "1"}}}))
	if err := s.SetRegisteredModelAlias(ctx, "old", "prod", 1); err != nil {
		t.Fatal(err)
	}
	_, err := s.RenameRegisteredModel(ctx, "old", "taken")
	wantCode(t, err, mlflow.ResourceAlreadyExists, "Registered Model (name=taken) already exists.")
	_, err = s.RenameRegisteredModel(ctx, "nope", "x")
	wantCode(t, err, mlflow.ResourceDoesNotExist, "nope")
	rm := regMust(s.RenameRegisteredModel(ctx, "old", "new"))
	if rm.Name != "new" || len(rm.Tags) != 1 || len(rm.Aliases) != 1 || len(rm.LatestVersions) != 1 || rm.LatestVersions[0].Name != "new" {
		t.Fatalf("renamed %+v", rm)
	}
	mv := regMust(s.GetModelVersionByAlias(ctx, "new", "prod"))
	if mv.Name != "new" || len(mv.Tags) != 1 || mv.LastUpdatedTimestamp != rm.LastUpdatedTimestamp {
		t.Fatalf("version after rename %+v", mv)
	}
	_, err = s.GetRegisteredModel(ctx, "old")
	wantCode(t, err, mlflow.ResourceDoesNotExist, "old")
	if err := s.DeleteRegisteredModel(ctx, "new"); err != nil {
		t.Fatal(err)
	}
}

func modelNames(rms []mlflow.RegisteredModel) string {
	var n []string
	for _, rm := range rms {
		n = append(n, rm.Name)
	}
	return strings.Join(n, ",")
}

func testSearchRegisteredModels(t *testing.T, s *sqlstore.Store) {
	for _, n := range []string{"beta", "alpha", "Gamma", "delta"} {
		regMust(s.CreateRegisteredModel(ctx, n, "", []mlflow.Tag{{Key: "group", Value: n[:1]}}))
		time.Sleep(2 * time.Millisecond) // distinct timestamps for the order test
	}
	regMust(s.CreateRegisteredModel(ctx, "a-prompt", "", []mlflow.Tag{{Key: mlflow.TagIsPrompt, Value: "true"}}))
	cases := []struct {
		filter  string
		orderBy []string
		want    string
	}{
		{"", nil, "Gamma,alpha,beta,delta"},
		{"name = 'beta'", nil, "beta"},
		{"name != 'beta'", nil, "Gamma,alpha,delta"},
		{"name LIKE '%a'", nil, "Gamma,alpha,beta,delta"},
		{"name LIKE 'g%'", nil, ""},
		{"name ILIKE 'g%'", nil, "Gamma"},
		{"name = 'alpha'", nil, "alpha"},
		{"tags.group = 'b'", nil, "beta"},
		{"tags.`group` = 'd' AND name LIKE 'de%'", nil, "delta"},
		{"tags.`" + mlflow.TagIsPrompt + "` = 'true'", nil, "a-prompt"},
		{"", []string{"name DESC"}, "delta,beta,alpha,Gamma"},
		{"", []string{"timestamp DESC"}, "delta,Gamma,alpha,beta"},
	}
	for _, c := range cases {
		f, err := search.ParseRegisteredModelFilter(c.filter)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		o, err := search.ParseRegisteredModelOrderBy(c.orderBy)
		if err != nil {
			t.Fatal(err)
		}
		rms, _ := regMust2(s.SearchRegisteredModels(ctx, store.RegistryQuery{Filter: f, OrderBy: o, Page: store.Page{MaxResults: 100}}))
		if got := modelNames(rms); got != c.want {
			t.Errorf("filter %q order %v: got %s, want %s", c.filter, c.orderBy, got, c.want)
		}
	}
	// Pages of 3: a token only when more follow.
	page := store.Page{MaxResults: 3}
	rms, next := regMust2(s.SearchRegisteredModels(ctx, store.RegistryQuery{Page: page}))
	if modelNames(rms) != "Gamma,alpha,beta" || next == "" {
		t.Fatalf("page 1: %s %q", modelNames(rms), next)
	}
	page.Offset = regMust(search.DecodeOffsetToken(next))
	rms, next = regMust2(s.SearchRegisteredModels(ctx, store.RegistryQuery{Page: page}))
	if modelNames(rms) != "delta" || next != "" {
		t.Fatalf("page 2: %s %q", modelNames(rms), next)
	}
}

func testSearchModelVersions(t *testing.T, s *sqlstore.Store) {
	regMust(s.CreateRegisteredModel(ctx, "sa", "", nil))
	regMust(s.CreateRegisteredModel(ctx, "sb", "", nil))
	for i := 0; i < 3; i++ {
		regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "sa", Source: fmt.Sprintf("s3://b/a%d", i), RunID: fmt.Sprintf("run%d", i%2)}))
	}
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "sb", Source: "gs://other/x", RunID: "run0"}))
	if err := s.SetModelVersionTag(ctx, "sa", 2, mlflow.Tag{Key: "ok", Value: "yes"}); err != nil {
		t.Fatal(err)
	}
	key := func(mvs []mlflow.ModelVersion) string {
		var out []string
		for _, mv := range mvs {
			out = append(out, mv.Name+"/"+mv.Version)
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		filter  string
		orderBy []string
		want    string
	}{
		{"name = 'sa'", []string{"version_number ASC"}, "sa/1,sa/2,sa/3"},
		{"name = 'sa' AND version_number > 1", []string{"version_number DESC"}, "sa/3,sa/2"},
		{"run_id = 'run0'", []string{"name ASC", "version_number ASC"}, "sa/1,sa/3,sb/1"},
		{"run_id IN ('run1')", nil, "sa/2"},
		{"tags.ok = 'yes'", nil, "sa/2"},
		{"source_path LIKE 's3://b/a%' AND version_number != 2", []string{"version_number ASC"}, "sa/1,sa/3"},
		{"name = 'sa'", nil, "sa/3,sa/2,sa/1"}, // default: last updated first
	}
	for _, c := range cases {
		f, err := search.ParseModelVersionFilter(c.filter)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		o, err := search.ParseModelVersionOrderBy(c.orderBy)
		if err != nil {
			t.Fatal(err)
		}
		mvs, _ := regMust2(s.SearchModelVersions(ctx, store.RegistryQuery{Filter: f, OrderBy: o, Page: store.Page{MaxResults: 100}}))
		// The default order sorts by last update, which can tie within a
		// millisecond; ties fall back to version DESC, so it is stable.
		if got := key(mvs); got != c.want {
			t.Errorf("filter %q order %v: got %s, want %s", c.filter, c.orderBy, got, c.want)
		}
	}
}

func testLoggedModels(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "lm-exp", "", nil))
	_, err := s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: "987654"})
	wantCode(t, err, mlflow.ResourceDoesNotExist, "No Experiment with id=987654 exists")
	m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "net", ModelType: "clf", SourceRunID: "run1",
		Params: []mlflow.Tag{{Key: "lr", Value: "0.1"}, {Key: "bad!", Value: "1"}}, Tags: []mlflow.Tag{{Key: "t", Value: "v"}}}))
	i := m.Info
	if !strings.HasPrefix(i.ModelID, "m-") || len(i.ModelID) != 34 || i.Name != "net" || i.Status != mlflow.LoggedModelPending ||
		i.ArtifactURI != "mlflow-artifacts:/"+exp+"/models/"+i.ModelID+"/artifacts" || i.ExperimentID != exp || i.SourceRunID != "run1" {
		t.Fatalf("created %+v", i)
	}
	if fmt.Sprint(m.Data.Params) != "[{bad! 1} {lr 0.1}]" || fmt.Sprint(i.Tags) != "[{t v}]" {
		t.Fatalf("params/tags %+v %+v", m.Data.Params, i.Tags)
	}
	anon := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp}))
	if anon.Info.Name == "" || strings.Count(anon.Info.Name, "-") != 2 {
		t.Fatalf("generated name %q", anon.Info.Name)
	}
	if err := s.LogLoggedModelParams(ctx, i.ModelID, []mlflow.Tag{{Key: "lr", Value: "0.1"}, {Key: "epochs", Value: "3"}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.LogLoggedModelParams(ctx, i.ModelID, []mlflow.Tag{{Key: "lr", Value: "0.2"}}), mlflow.InvalidParameterValue, "lr")
	if err := s.SetLoggedModelTags(ctx, i.ModelID, []mlflow.Tag{{Key: "t", Value: "w"}, {Key: "u", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoggedModelTag(ctx, i.ModelID, "u"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteLoggedModelTag(ctx, i.ModelID, "u"), mlflow.ResourceDoesNotExist, "No tag with key 'u' found for model with ID '"+i.ModelID+"'.")
	m = regMust(s.FinalizeLoggedModel(ctx, i.ModelID, mlflow.LoggedModelReady))
	if m.Info.Status != mlflow.LoggedModelReady || fmt.Sprint(m.Info.Tags) != "[{t w}]" || len(m.Data.Params) != 3 || m.Info.LastUpdatedTimestampMs < m.Info.CreationTimestampMs {
		t.Fatalf("finalized %+v", m)
	}
	unknown := "m-00000000000000000000000000000000"
	_, err = s.GetLoggedModel(ctx, unknown)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Logged model with ID '"+unknown+"' not found.")
	_, err = s.FinalizeLoggedModel(ctx, unknown, mlflow.LoggedModelReady)
	wantCode(t, err, mlflow.ResourceDoesNotExist, unknown)
	wantCode(t, s.SetLoggedModelTags(ctx, unknown, []mlflow.Tag{{Key: "a"}}), mlflow.ResourceDoesNotExist, unknown)
	wantCode(t, s.LogLoggedModelParams(ctx, unknown, nil), mlflow.ResourceDoesNotExist, unknown)
	if err := s.DeleteLoggedModel(ctx, anon.Info.ModelID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoggedModel(ctx, anon.Info.ModelID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	_, err = s.GetLoggedModel(ctx, anon.Info.ModelID)
	wantCode(t, err, mlflow.ResourceDoesNotExist, anon.Info.ModelID)
	wantCode(t, s.DeleteLoggedModel(ctx, unknown), mlflow.ResourceDoesNotExist, unknown)
}

func testSearchLoggedModels(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "lms", "", nil))
	other := regMust(s.CreateExperiment(ctx, "lms-other", "", nil))
	var ids []string
	for i, n := range []string{"a", "b", "c"} {
		m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: n,
			Params: []mlflow.Tag{{Key: "p", Value: fmt.Sprint(i)}}, Tags: []mlflow.Tag{{Key: "even", Value: fmt.Sprint(i%2 == 0)}}}))
		ids = append(ids, m.Info.ModelID)
	}
	regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: other, Name: "elsewhere"}))
	regMust(s.FinalizeLoggedModel(ctx, ids[1], mlflow.LoggedModelReady))
	run := func(filter string, order []store.LoggedModelOrder, page store.Page) ([]string, bool) {
		t.Helper()
		f, err := search.ParseLoggedModelFilter(filter)
		if err != nil {
			t.Fatalf("%q: %v", filter, err)
		}
		if page.MaxResults == 0 {
			page.MaxResults = 100
		}
		ms, more, err := s.SearchLoggedModels(ctx, store.LoggedModelQuery{ExperimentIDs: []string{exp}, Filter: f, OrderBy: order, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, m := range ms {
			n = append(n, m.Info.Name)
		}
		return n, more
	}
	byName := []store.LoggedModelOrder{{FieldName: "name", Ascending: true}}
	cases := []struct {
		filter string
		want   string
	}{
		{"", "[a b c]"},
		{"name = 'b'", "[b]"},
		{"params.p = '2'", "[c]"},
		{"tags.even = 'True' OR", ""},
		{"tags.even = 'true'", "[a c]"},
		{"status = 'LOGGED_MODEL_READY'", "[b]"},
		{"status = 'READY'", "[]"},
		{"name != 'a' AND params.p != '1'", "[c]"},
	}
	for _, c := range cases {
		if c.want == "" {
			if _, err := search.ParseLoggedModelFilter(c.filter); err == nil {
				t.Errorf("%q parsed", c.filter)
			}
			continue
		}
		got, _ := run(c.filter, byName, store.Page{})
		if fmt.Sprint(got) != c.want {
			t.Errorf("filter %q: got %v want %s", c.filter, got, c.want)
		}
	}
	got, more := run("", []store.LoggedModelOrder{{FieldName: "name", Ascending: false}}, store.Page{MaxResults: 2})
	if fmt.Sprint(got) != "[c b]" || !more {
		t.Fatalf("page 1 %v %v", got, more)
	}
	got, more = run("", []store.LoggedModelOrder{{FieldName: "name", Ascending: false}}, store.Page{MaxResults: 2, Offset: 2})
	if fmt.Sprint(got) != "[a]" || more {
		t.Fatalf("page 2 %v %v", got, more)
	}
	// The default order is newest first.
	got, _ = run("", nil, store.Page{})
	sorted := append([]string(nil), got...)
	sort.Sort(sort.Reverse(sort.StringSlice(sorted)))
	if len(got) != 3 {
		t.Fatalf("default order %v", got)
	}
}

func testVersionSources(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "src", "", nil))
	m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "net", SourceRunID: "0123456789abcdef0123456789abcdef"}))
	regMust(s.CreateRegisteredModel(ctx, "src", "", nil))
	// models:/<model_id> resolves to the logged model's artifacts, and the
	// run comes from the logged model when not given.
	mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "src", Source: "models:/" + m.Info.ModelID, ModelID: m.Info.ModelID}))
	if mv.Source != "models:/"+m.Info.ModelID || mv.RunID != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("version from logged model %+v", mv)
	}
	if uri := regMust(s.GetModelVersionDownloadURI(ctx, "src", 1)); uri != m.Info.ArtifactURI {
		t.Fatalf("download uri %s, want %s", uri, m.Info.ArtifactURI)
	}
	// models:/<name>/<version> and models:/<name>@<alias> resolve through the registry.
	if err := s.SetRegisteredModelAlias(ctx, "src", "best", 1); err != nil {
		t.Fatal(err)
	}
	for i, src := range []string{"models:/src/1", "models:/src@best", "models:/src/latest"} {
		mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "src", Source: src}))
		if mv.Version != fmt.Sprint(i+2) {
			t.Fatalf("%s: version %s", src, mv.Version)
		}
		if uri := regMust(s.GetModelVersionDownloadURI(ctx, "src", int64(i+2))); uri != m.Info.ArtifactURI {
			t.Fatalf("%s: download uri %s", src, uri)
		}
	}
	_, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "src", Source: "models:/m-00000000000000000000000000000000"})
	wantCode(t, err, mlflow.InvalidParameterValue, "Unable to fetch model from model URI source artifact location")
	// runs:/ of an unknown run is kept as given.
	mv = regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "src", Source: "runs:/ffffffffffffffffffffffffffffffff/model", RunID: "ffffffffffffffffffffffffffffffff"}))
	if uri := regMust(s.GetModelVersionDownloadURI(ctx, "src", mustInt(mv.Version))); uri != "runs:/ffffffffffffffffffffffffffffffff/model" {
		t.Fatalf("runs uri %s", uri)
	}
}

func mustInt(v string) int64 {
	var n int64
	fmt.Sscan(v, &n)
	return n
}

// testLoggedModelMetricOrder: a logged model's metrics come back in the
// order they were logged, as MLflow's unordered read returns them, even
// when timestamps and steps tie or run backwards.
func testLoggedModelMetricOrder(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "lm-metrics", "", nil))
	run := regMust(s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1}))
	m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "m", SourceRunID: run.Info.RunID}))
	id := m.Info.ModelID
	batches := [][]mlflow.Metric{
		{{Key: "train_loss", Value: 1, Timestamp: 50, Step: 0, ModelID: id}, {Key: "val_accuracy", Value: 2, Timestamp: 50, Step: 0, ModelID: id}},
		{{Key: "zeta", Value: 3, Timestamp: 40, Step: 1, ModelID: id}, {Key: "alpha", Value: 4, Timestamp: 50, Step: 0, ModelID: id}},
	}
	for _, b := range batches {
		if err := s.LogBatch(ctx, run.Info.RunID, b, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := regMust(s.GetLoggedModel(ctx, id))
	var keys []string
	for _, met := range got.Data.Metrics {
		keys = append(keys, met.Key)
	}
	if fmt.Sprint(keys) != "[train_loss val_accuracy zeta alpha]" {
		t.Fatalf("metrics in order %v, want the logging order [train_loss val_accuracy zeta alpha]", keys)
	}
}

// testSearchLoggedModelsByMetricAndDataset is MLflow's
// test_search_logged_models (datasets without a filter keep only the models
// with a metric on them) and its SQL store's metric filter, which matches a
// model when any logged value of the metric satisfies it.
func testSearchLoggedModelsByMetricAndDataset(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "lm-ds", "", nil))
	run := regMust(s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1}))
	a := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "a"})).Info.ModelID
	b := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "b"})).Info.ModelID
	regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "c"}))
	points := []mlflow.Metric{
		{Key: "acc", Value: 0.9, Timestamp: 1, Step: 0, ModelID: a, DatasetName: "dataset", DatasetDigest: "123"},
		{Key: "acc", Value: 0.1, Timestamp: 2, Step: 1, ModelID: a, DatasetName: "dataset", DatasetDigest: "123"},
		{Key: "acc", Value: 0.3, Timestamp: 1, Step: 0, ModelID: b},
	}
	if err := s.LogBatch(ctx, run.Info.RunID, points, nil, nil); err != nil {
		t.Fatal(err)
	}
	byName := []store.LoggedModelOrder{{FieldName: "name", Ascending: true}}
	cases := []struct {
		filter   string
		datasets []store.LoggedModelDataset
		want     string
	}{
		{"", nil, "[a b c]"},
		{"", []store.LoggedModelDataset{{DatasetName: "dataset", DatasetDigest: "123"}}, "[a]"},
		{"", []store.LoggedModelDataset{{DatasetName: "dataset"}}, "[a]"},
		{"", []store.LoggedModelDataset{{DatasetName: "dataset", DatasetDigest: "456"}}, "[]"},
		{"", []store.LoggedModelDataset{{DatasetName: "other"}, {DatasetName: "dataset"}}, "[a]"},
		// Any value counts: a's first value passes, its latest does not.
		{"metrics.acc > 0.5", nil, "[a]"},
		{"metrics.acc < 0.2", nil, "[a]"},
		{"metrics.acc < 0.5", nil, "[a b]"},
		{"metrics.acc = 0.3", nil, "[b]"},
		{"metrics.acc < 0.5", []store.LoggedModelDataset{{DatasetName: "dataset"}}, "[a]"},
		{"metrics.acc = 0.3", []store.LoggedModelDataset{{DatasetName: "dataset"}}, "[]"},
		{"metrics.missing > 0", nil, "[]"},
	}
	for _, c := range cases {
		f, err := search.ParseLoggedModelFilter(c.filter)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		ms, _, err := s.SearchLoggedModels(ctx, store.LoggedModelQuery{ExperimentIDs: []string{exp}, Filter: f, Datasets: c.datasets, OrderBy: byName, Page: store.Page{MaxResults: 100}})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, m := range ms {
			got = append(got, m.Info.Name)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("filter %q datasets %+v: got %v, want %s", c.filter, c.datasets, got, c.want)
		}
	}
}

// testModelVersionOnLoggedModel is MLflow's test_create_model_version_model_id:
// a version created with a model_id is listed in the logged model's
// mlflow.modelVersions tag, in the text Python's json.dumps writes.
func testModelVersionOnLoggedModel(t *testing.T, s *sqlstore.Store) {
	exp := regMust(s.CreateExperiment(ctx, "mv-lm", "", nil))
	m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "net"}))
	id := m.Info.ModelID
	regMust(s.CreateRegisteredModel(ctx, "model", "", nil))
	regMust(s.CreateRegisteredModel(ctx, "mödel \"2\"", "", nil))
	tagOf := func() string {
		t.Helper()
		for _, tg := range regMust(s.GetLoggedModel(ctx, id)).Info.Tags {
			if tg.Key == mlflow.TagModelVersions {
				return tg.Value
			}
		}
		return ""
	}
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: m.Info.ArtifactURI, ModelID: id}))
	if got, want := tagOf(), `[{"name": "model", "version": 1}]`; got != want {
		t.Fatalf("after v1: %s, want %s", got, want)
	}
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: m.Info.ArtifactURI, ModelID: id}))
	if got, want := tagOf(), `[{"name": "model", "version": 1}, {"name": "model", "version": 2}]`; got != want {
		t.Fatalf("after v2: %s, want %s", got, want)
	}
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "mödel \"2\"", Source: m.Info.ArtifactURI, ModelID: id}))
	if got, want := tagOf(), `[{"name": "model", "version": 1}, {"name": "model", "version": 2}, {"name": "m\u00f6del \"2\"", "version": 1}]`; got != want {
		t.Fatalf("after another model: %s, want %s", got, want)
	}
	// A version without model_id, or of a prompt, leaves the tag alone.
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: m.Info.ArtifactURI}))
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: m.Info.ArtifactURI, ModelID: id,
		Tags: []mlflow.Tag{{Key: mlflow.TagIsPrompt, Value: "true"}}}))
	if got := tagOf(); strings.Count(got, "{") != 3 {
		t.Fatalf("tag changed by a version without model_id or a prompt: %s", got)
	}
	// A hand-written value that is not a list starts over.
	if err := s.SetLoggedModelTags(ctx, id, []mlflow.Tag{{Key: mlflow.TagModelVersions, Value: "garbage"}}); err != nil {
		t.Fatal(err)
	}
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: m.Info.ArtifactURI, ModelID: id}))
	if got, want := tagOf(), `[{"name": "model", "version": 5}]`; got != want {
		t.Fatalf("after garbage: %s, want %s", got, want)
	}
	// Versions of several registered models created at once from one logged
	// model each get their entry (none overwrites another's).
	errs := make(chan error, 8)
	for i := range 8 {
		name := fmt.Sprintf("parallel-%d", i)
		regMust(s.CreateRegisteredModel(ctx, name, "", nil))
		go func() {
			_, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: name, Source: m.Info.ArtifactURI, ModelID: id})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := tagOf(); strings.Count(got, `"parallel-`) != 8 {
		t.Fatalf("after 8 concurrent versions: %s", got)
	}
	// An unknown logged model is refused and creates no version.
	unknown := "m-00000000000000000000000000000000"
	_, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "model", Source: "mlflow-artifacts:/x", RunID: "r", ModelID: unknown})
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Logged model with ID '"+unknown+"' not found.")
	if _, err := s.GetModelVersion(ctx, "model", 6); err == nil {
		t.Fatal("a version was created for an unknown logged model")
	}
}

// testChildURIsOnThePath creates runs, logged models and model versions in
// experiments whose locations have a query or fragment (the API refuses
// such locations now, but databases MLflow or an older mltrack wrote may
// hold them): each child URI extends the location's path, never its query
// or fragment, so that the artifact proxy and gc, which read only the
// path, see the child's own folder.
func testChildURIsOnThePath(t *testing.T, s *sqlstore.Store) {
	cases := []struct{ loc, pathWant string }{
		{"mlflow-artifacts:/1?", "mlflow-artifacts:/1/{id}"},
		{"mlflow-artifacts:/1#", "mlflow-artifacts:/1/{id}"},
		{"mlflow-artifacts:/?", "mlflow-artifacts:/{id}"},
		{"mlflow-artifacts:/1?x=1", "mlflow-artifacts:/1/{id}?x=1"},
		{"mlflow-artifacts:/1#frag", "mlflow-artifacts:/1/{id}#frag"},
		{"s3://bucket/root/?a=b#c", "s3://bucket/root/{id}?a=b#c"},
		{"mlflow-artifacts:/1/", "mlflow-artifacts:/1/{id}"},
	}
	for i, tc := range cases {
		exp := regMust(s.CreateExperiment(ctx, fmt.Sprintf("loc-%d", i), tc.loc, nil))
		run := regMust(s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1}))
		id := run.Info.RunID
		want := strings.Replace(tc.pathWant, "{id}", id+"/artifacts", 1)
		if run.Info.ArtifactURI != want {
			t.Errorf("location %q: run artifact URI %q, want %q", tc.loc, run.Info.ArtifactURI, want)
		}
		if got := regMust(s.GetRun(ctx, id)); got.Info.ArtifactURI != want {
			t.Errorf("location %q: stored run artifact URI %q, want %q", tc.loc, got.Info.ArtifactURI, want)
		}
		if !mlflow.IsEntityFolder(run.Info.ArtifactURI, tc.loc, id, "artifacts") {
			t.Errorf("location %q: %q is not the run's own folder", tc.loc, run.Info.ArtifactURI)
		}
		m := regMust(s.CreateLoggedModel(ctx, store.CreateLoggedModel{ExperimentID: exp, Name: "m"}))
		wantModel := strings.Replace(tc.pathWant, "{id}", "models/"+m.Info.ModelID+"/artifacts", 1)
		if m.Info.ArtifactURI != wantModel {
			t.Errorf("location %q: logged model URI %q, want %q", tc.loc, m.Info.ArtifactURI, wantModel)
		}
		name := fmt.Sprintf("loc-model-%d", i)
		regMust(s.CreateRegisteredModel(ctx, name, "", nil))
		regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: name, Source: "runs:/" + id + "/model", RunID: id}))
		wantVersion := strings.Replace(tc.pathWant, "{id}", id+"/artifacts/model", 1)
		if uri := regMust(s.GetModelVersionDownloadURI(ctx, name, 1)); uri != wantVersion {
			t.Errorf("location %q: version from runs:/ stored at %q, want %q", tc.loc, uri, wantVersion)
		}
	}
}

// testExperimentsAtLocations: the auth middleware's lookup of the
// experiments owning an artifact folder answers, per location, the first
// experiment created with it.
func testExperimentsAtLocations(t *testing.T, s *sqlstore.Store) {
	a := regMust(s.CreateExperiment(ctx, "team-a", "mlflow-artifacts:/team-a", nil))
	regMust(s.CreateExperiment(ctx, "team-a-again", "mlflow-artifacts:/team-a", nil))
	b := regMust(s.CreateExperiment(ctx, "team-b", "s3://bucket/root/team-b/", nil))
	got := regMust(s.ExperimentsAtLocations(ctx, []string{"mlflow-artifacts:/team-a", "mlflow-artifacts:/team-a/", "s3://bucket/root/team-b/", "mlflow-artifacts:/none"}))
	want := map[string]string{"mlflow-artifacts:/team-a": a, "s3://bucket/root/team-b/": b}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ExperimentsAtLocations = %v, want %v", got, want)
	}
	if got := regMust(s.ExperimentsAtLocations(ctx, nil)); len(got) != 0 {
		t.Fatalf("no locations: %v", got)
	}
}
