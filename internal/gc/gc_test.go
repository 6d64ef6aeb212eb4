package gc_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/gc"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/testdb"
)

func TestParseOlderThan(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"1d2h3m4s", 24*time.Hour + 2*time.Hour + 3*time.Minute + 4*time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"1.2d3h4m5s", time.Duration(1.2*float64(24*time.Hour)) + 3*time.Hour + 4*time.Minute + 5*time.Second, true},
		{"45s", 45 * time.Second, true},
		{"2m4s", 2*time.Minute + 4*time.Second, true},
		{"", 0, false},
		{"3w", 0, false},
		{"1h2d", 0, false},
		{"abc", 0, false},
		{"1..2d", 0, false},
	}
	for _, c := range cases {
		got, err := gc.ParseOlderThan(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseOlderThan(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// fixture is a database and an artifact root with active and deleted
// things, old and recent.
type fixture struct {
	st      *sqlstore.Store
	db      *sql.DB
	pg      bool
	dest    string // --artifacts-destination
	root    string // the local folder holding dest's files (versitygw's for S3)
	put     func(t *testing.T, rel string)
	fileDir string // a run stored with a file:// artifact URI lives here
	exp     map[string]string
	now     time.Time
}

func openRaw(t *testing.T, uri string) (*sql.DB, bool) {
	t.Helper()
	var db *sql.DB
	var err error
	pg := strings.HasPrefix(uri, "postgres")
	if pg {
		db, err = sql.Open("pgx", uri)
	} else {
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(uri, "sqlite:///")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, pg
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if f.pg {
		n := 0
		var b strings.Builder
		for _, c := range q {
			if c == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(c)
		}
		q = b.String()
	}
	if _, err := f.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(path), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newFixture builds:
//
//	experiment A (active): runs a1 (active), a2 (deleted 2 days ago, its
//	  artifacts already gone), a3 (deleted now, file:// artifact URI);
//	  logged models mA1 (active), mA2 (deleted 2 days ago), mA3 (deleted now)
//	experiment B (deleted 2 days ago): runs b1, b2 (deleted), model mB1,
//	  a dataset, tags, a trace
//	experiment C (deleted now): run c1
func newFixture(t *testing.T, uri string, onS3 bool) *fixture {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, uri, sqlstore.Options{DefaultArtifactRoot: "mlflow-artifacts:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, fileDir: t.TempDir(), exp: map[string]string{}, now: time.Now()}
	if onS3 {
		srv := artifacttest.StartVersityGW(t)
		srv.SetEnv(t)
		repo := srv.NewS3Repo(t, "mlartifacts")
		f.dest = "s3://" + repo.Bucket() + "/mlartifacts"
		f.root = filepath.Join(srv.Dir, repo.Bucket(), "mlartifacts")
		f.put = func(t *testing.T, rel string) {
			body := "s3:" + rel
			if err := repo.Put(ctx, rel, strings.NewReader(body), int64(len(body))); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		f.root = t.TempDir()
		f.dest = f.root
		f.put = func(t *testing.T, rel string) { writeFile(t, filepath.Join(f.root, filepath.FromSlash(rel))) }
	}
	f.db, f.pg = openRaw(t, uri)
	old := f.now.Add(-48 * time.Hour).UnixMilli()
	recent := f.now.UnixMilli()
	for _, name := range []string{"A", "B", "C"} {
		id, err := st.CreateExperiment(ctx, name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		f.exp[name] = id
		f.exec(t, `INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?)`, "team", "t-"+name, id)
		f.exec(t, `INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source) VALUES (?, ?, ?, ?, 'local', '{}')`,
			"ds-"+name, id, "data-"+name, "dig"+name)
		f.put(t, path.Join(id, "notes.txt"))
	}
	f.exec(t, "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?", old, f.exp["B"])
	f.exec(t, "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?", recent, f.exp["C"])

	type run struct {
		id, exp, stage string
		deleted        any
		fileURI        bool
		noArtifacts    bool
	}
	runs := []run{
		{"a1", "A", "active", nil, false, false},
		{"a2", "A", "deleted", old, false, true},
		{"a3", "A", "deleted", recent, true, false},
		{"b1", "B", "deleted", old, false, false},
		{"b2", "B", "deleted", recent, false, false},
		{"c1", "C", "deleted", recent, false, false},
	}
	for _, r := range runs {
		id := runID(r.id)
		exp := f.exp[r.exp]
		uri := "mlflow-artifacts:/" + exp + "/" + id + "/artifacts"
		if r.fileURI {
			uri = "file://" + filepath.Join(f.fileDir, id, "artifacts")
			writeFile(t, filepath.Join(f.fileDir, id, "artifacts", "model.pkl"))
		} else if !r.noArtifacts {
			f.put(t, path.Join(exp, id, "artifacts", "model.pkl"))
			f.put(t, path.Join(exp, id, "artifacts", "plots", "loss.png"))
		}
		f.exec(t, `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
			VALUES (?, ?, 'LOCAL', '', '', 'u', 'FINISHED', ?, ?, '', ?, ?, ?, ?)`, id, r.id, old, old, r.stage, uri, exp, r.deleted)
		for step := 0; step < 3; step++ {
			f.exec(t, `INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES ('loss', ?, ?, ?, ?, ?)`, 1.0/float64(step+1), old+int64(step), id, step, false)
		}
		f.exec(t, `INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid) VALUES ('loss', 0.33, ?, 2, ?, ?)`, old+2, false, id)
		f.exec(t, `INSERT INTO params ("key", value, run_uuid) VALUES ('lr', '0.1', ?)`, id)
		f.exec(t, `INSERT INTO tags ("key", value, run_uuid) VALUES ('mlflow.runName', ?, ?)`, r.id, id)
		f.exec(t, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?, 'DATASET', ?, 'RUN', ?, 0)`, "in-"+r.id, "ds-"+r.exp, id)
		f.exec(t, `INSERT INTO input_tags (input_uuid, name, value) VALUES (?, 'mlflow.data.context', 'train')`, "in-"+r.id)
	}
	type model struct {
		id, exp, stage string
		updated        int64
	}
	models := []model{
		{"mA1", "A", "active", old},
		{"mA2", "A", "deleted", old},
		{"mA3", "A", "deleted", recent},
		{"mB1", "B", "active", old},
	}
	for _, m := range models {
		id := modelID(m.id)
		exp := f.exp[m.exp]
		f.exec(t, `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, source_run_id)
			VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?)`, id, exp, m.id, "mlflow-artifacts:/"+exp+"/models/"+id+"/artifacts", old, m.updated, m.stage, runID("a1"))
		f.exec(t, `INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?, ?, 'alpha', '1')`, id, exp)
		f.exec(t, `INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?, ?, 'k', 'v')`, id, exp)
		f.put(t, path.Join(exp, "models", id, "artifacts", "MLmodel"))
	}
	// Metrics of models logged by runs: a2 -> mA1 (the run goes, the model
	// stays), a1 -> mA2 (the model goes, the run stays).
	f.exec(t, `INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id) VALUES (?, 'acc', ?, 0, 0.9, ?, ?)`, modelID("mA1"), old, f.exp["A"], runID("a2"))
	f.exec(t, `INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id) VALUES (?, 'acc', ?, 0, 0.8, ?, ?)`, modelID("mA2"), old, f.exp["A"], runID("a1"))
	// A run's output model link.
	f.exec(t, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES ('out-a1', 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, 0)`, runID("a1"), modelID("mA2"))
	f.exec(t, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES ('out-a1b', 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, 0)`, runID("a1"), modelID("mA1"))
	// A trace in B.
	f.exec(t, `INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) VALUES ('tr-B', ?, ?, 5, 'OK')`, f.exp["B"], old)
	f.exec(t, `INSERT INTO trace_tags ("key", value, request_id) VALUES ('k', 'v', 'tr-B')`)
	f.exec(t, `INSERT INTO trace_request_metadata ("key", value, request_id) VALUES ('k', 'v', 'tr-B')`)
	return f
}

// runID and modelID make ids that look like MLflow's and stay readable.
func runID(name string) string   { return name + strings.Repeat("0", 32-len(name)) }
func modelID(name string) string { return "m-" + name + strings.Repeat("0", 32-len(name)) }

var tables = []string{"experiments", "experiment_tags", "runs", "metrics", "latest_metrics", "params", "tags",
	"inputs", "input_tags", "datasets", "logged_models", "logged_model_params", "logged_model_tags",
	"logged_model_metrics", "trace_info", "trace_tags", "trace_request_metadata"}

type row map[string]string

// snapshot reads every row of the tables gc touches.
func (f *fixture) snapshot(t *testing.T) map[string][]row {
	t.Helper()
	out := map[string][]row{}
	for _, tb := range tables {
		rows, err := f.db.Query("SELECT * FROM " + tb)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			r := row{}
			for i, c := range cols {
				r[c] = vals[i].String
			}
			out[tb] = append(out[tb], r)
		}
		rows.Close()
		sort.Slice(out[tb], func(i, j int) bool { return fmt.Sprint(out[tb][i]) < fmt.Sprint(out[tb][j]) })
	}
	return out
}

// without drops from a snapshot every row that belongs to something removed.
func without(snap map[string][]row, ids, exps []string) map[string][]row {
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	expGone := map[string]bool{}
	for _, e := range exps {
		expGone[e] = true
	}
	removedInputs := map[string]bool{}
	keep := func(tb string, r row) bool {
		for c, v := range r {
			if gone[v] || (c == "experiment_id" && expGone[v]) {
				return false
			}
		}
		if tb == "input_tags" && removedInputs[r["input_uuid"]] {
			return false
		}
		return true
	}
	out := map[string][]row{}
	// inputs before input_tags: a removed input takes its tags along.
	for _, tb := range tables {
		for _, r := range snap[tb] {
			if keep(tb, r) {
				out[tb] = append(out[tb], r)
			} else if tb == "inputs" {
				removedInputs[r["input_uuid"]] = true
			}
		}
	}
	return out
}

// files lists every file below dir.
func files(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	slices.Sort(out)
	return out
}

func filesWithout(all []string, prefixes ...string) []string {
	var out []string
	for _, f := range all {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(f, p+string(filepath.Separator)) }) {
			out = append(out, f)
		}
	}
	return out
}

func planIDs(p *gc.Plan) map[string][]string {
	out := map[string][]string{}
	for _, it := range p.Items {
		out[it.Kind] = append(out[it.Kind], it.ID)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestGC(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		testdb.Backends(t, func(t *testing.T, uri string) { testGC(t, uri, false) })
	})
	t.Run("s3", func(t *testing.T) {
		testdb.Backends(t, func(t *testing.T, uri string) { testGC(t, uri, true) })
	})
}

func testGC(t *testing.T, uri string, onS3 bool) {
	{
		ctx := context.Background()
		f := newFixture(t, uri, onS3)
		res := &gc.URIResolver{Destination: f.dest, Open: gc.OpenRoot}
		A, B, C := f.exp["A"], f.exp["B"], f.exp["C"]

		before := f.snapshot(t)
		beforeFiles := files(t, f.root, f.fileDir)

		// Refusals leave everything as it is.
		refusals := []gc.Options{
			{RunIDs: []string{runID("a1")}},                                  // active
			{RunIDs: []string{runID("a3")}, OlderThan: time.Hour},            // too recent
			{RunIDs: []string{"0123456789abcdef0123456789abcdef"}},           // unknown
			{ExperimentIDs: []string{A}},                                     // active
			{ExperimentIDs: []string{C}, OlderThan: time.Hour},               // too recent
			{LoggedModelIDs: []string{modelID("mA1")}},                       // active
			{LoggedModelIDs: []string{modelID("mA3")}, OlderThan: time.Hour}, // too recent
		}
		for _, o := range refusals {
			o.Now = f.now
			if _, err := gc.MakePlan(ctx, f.st, o); !errors.Is(err, gc.ErrRefused) {
				t.Errorf("MakePlan(%+v) = %v, want a refusal", o, err)
			}
		}

		// --older-than 1h: what was deleted two days ago.
		plan, err := gc.MakePlan(ctx, f.st, gc.Options{OlderThan: time.Hour, Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"run":          sorted(runID("a2"), runID("b1"), runID("b2")),
			"logged model": sorted(modelID("mA2"), modelID("mB1")),
			"experiment":   {B},
		}
		if got := planIDs(plan); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v\nwant %v", got, want)
		}
		var dry bytes.Buffer
		gc.Describe(&dry, plan)
		for _, s := range []string{"would remove run " + runID("b2"), "would remove experiment " + B + " and its artifacts at mlflow-artifacts:/" + B,
			"3 runs, 2 logged models, 1 experiments would be removed"} {
			if !strings.Contains(dry.String(), s) {
				t.Errorf("dry run output lacks %q:\n%s", s, dry.String())
			}
		}
		if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
			t.Fatal("planning changed the database")
		}

		var progress bytes.Buffer
		r := gc.Execute(ctx, f.st, res, plan, &progress)
		if r.Removed != 6 || len(r.Failed) != 0 {
			t.Fatalf("Execute: removed %d, failed %v\n%s", r.Removed, r.Failed, progress.String())
		}
		if !strings.Contains(progress.String(), "[6/6] experiment "+B+": removed") {
			t.Errorf("progress:\n%s", progress.String())
		}
		gone := []string{runID("a2"), runID("b1"), runID("b2"), modelID("mA2"), modelID("mB1"), "ds-B", "tr-B"}
		if got, want := f.snapshot(t), without(before, gone, []string{B}); !reflect.DeepEqual(got, want) {
			t.Errorf("database after gc --older-than 1h:\n got %v\nwant %v", got, want)
		}
		wantFiles := filesWithout(beforeFiles,
			filepath.Join(f.root, B),
			filepath.Join(f.root, A, "models", modelID("mA2")))
		if got := files(t, f.root, f.fileDir); !reflect.DeepEqual(got, wantFiles) {
			t.Errorf("artifacts after gc --older-than 1h:\n got %v\nwant %v", got, wantFiles)
		}

		// A restore between planning and deleting wins: the run is kept.
		plan2, err := gc.MakePlan(ctx, f.st, gc.Options{RunIDs: []string{runID("a3")}, Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?", runID("a3"))
		snap := f.snapshot(t)
		// Artifacts go first, so a3's folder is gone, but its rows stay.
		if r := gc.Execute(ctx, f.st, res, plan2, &progress); r.Removed != 0 || len(r.Failed) != 1 {
			t.Errorf("Execute after a restore: removed %d, failed %v", r.Removed, r.Failed)
		}
		if got := f.snapshot(t); !reflect.DeepEqual(got, snap) {
			t.Error("a restored run lost rows")
		}
		f.exec(t, "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?", f.now.UnixMilli(), runID("a3"))

		// No options: every deleted thing left. Artifacts already gone
		// (a3's) are no obstacle.
		before2 := f.snapshot(t)
		plan3, err := gc.MakePlan(ctx, f.st, gc.Options{Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		want = map[string][]string{
			"run":          sorted(runID("a3"), runID("c1")),
			"logged model": {modelID("mA3")},
			"experiment":   {C},
		}
		if got := planIDs(plan3); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v\nwant %v", got, want)
		}
		if r := gc.Execute(ctx, f.st, res, plan3, &progress); r.Removed != 4 || len(r.Failed) != 0 {
			t.Fatalf("Execute: removed %d, failed %v\n%s", r.Removed, r.Failed, progress.String())
		}
		if got, want := f.snapshot(t), without(before2, []string{runID("a3"), runID("c1"), modelID("mA3"), "ds-C"}, []string{C}); !reflect.DeepEqual(got, want) {
			t.Errorf("database after gc:\n got %v\nwant %v", got, want)
		}
		wantFiles = filesWithout(wantFiles,
			filepath.Join(f.root, C),
			filepath.Join(f.fileDir, runID("a3")),
			filepath.Join(f.root, A, "models", modelID("mA3")))
		if got := files(t, f.root, f.fileDir); !reflect.DeepEqual(got, wantFiles) {
			t.Errorf("artifacts after gc:\n got %v\nwant %v", got, wantFiles)
		}
		// What is left: experiments 0 and A, run a1, model mA1.
		var n int
		if err := f.db.QueryRow("SELECT COUNT(*) FROM runs").Scan(&n); err != nil || n != 1 {
			t.Errorf("runs left: %d, %v", n, err)
		}
		if err := f.db.QueryRow("SELECT COUNT(*) FROM experiments").Scan(&n); err != nil || n != 2 {
			t.Errorf("experiments left: %d, %v", n, err)
		}
		if err := f.db.QueryRow("SELECT COUNT(*) FROM logged_models").Scan(&n); err != nil || n != 1 {
			t.Errorf("logged models left: %d, %v", n, err)
		}
	}
}

func TestSplitURIRefusesRoots(t *testing.T) {
	res := &gc.URIResolver{Destination: t.TempDir(), Open: gc.OpenRoot}
	for _, uri := range []string{"mlflow-artifacts:/", "mlflow-artifacts:", "s3://bucket", "s3://bucket/", "mlflow-artifacts:/1/../../x", "ftp://host/x"} {
		if _, _, err := res.Resolve(context.Background(), uri); err == nil {
			t.Errorf("Resolve(%q) accepted", uri)
		}
	}
	if _, p, err := res.Resolve(context.Background(), "mlflow-artifacts:/1/abc/artifacts"); err != nil || p != "1/abc/artifacts" {
		t.Errorf("Resolve = %q, %v", p, err)
	}
}

// TestGCRemovesOnlyOwnFolders plants what a hostile user could leave in a
// database: experiments whose artifact location has a query or fragment,
// or points into another experiment, and runs and logged models whose
// artifact URIs an older mltrack built by string concatenation from such a
// location ("mlflow-artifacts:/V?/<run>/artifacts", whose path is the
// victim experiment V's folder). Everything hostile is deleted and gc runs:
// the rows go, the victim's files all stay.
func TestGCRemovesOnlyOwnFolders(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		f := newFixture(t, uri, false)
		res := &gc.URIResolver{Destination: f.dest, Open: gc.OpenRoot}
		V := f.exp["A"] // the victim: active, with runs, models and files
		before := files(t, f.root, f.fileDir)
		old := f.now.Add(-48 * time.Hour).UnixMilli()
		var hostileRuns, hostileModels, hostileExps []string
		for i, loc := range []string{"mlflow-artifacts:/" + V + "?", "mlflow-artifacts:/" + V + "#", "mlflow-artifacts:/?", "mlflow-artifacts:/" + V + "?x=1"} {
			exp, err := f.st.CreateExperiment(ctx, fmt.Sprintf("hostile-%d", i), loc, nil)
			if err != nil {
				t.Fatal(err)
			}
			run := runID(fmt.Sprintf("e%d", i))
			f.exec(t, `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
				VALUES (?, 'x', 'LOCAL', '', '', 'u', 'FINISHED', ?, ?, '', 'deleted', ?, ?, ?)`, run, old, old, loc+"/"+run+"/artifacts", exp, old)
			model := modelID(fmt.Sprintf("e%d", i))
			f.exec(t, `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage)
				VALUES (?, ?, 'm', ?, ?, ?, 2, 'deleted')`, model, exp, loc+"/models/"+model+"/artifacts", old, old)
			hostileRuns, hostileModels = append(hostileRuns, run), append(hostileModels, model)
		}
		// Experiments whose location ends with their own ID by its text
		// but not by its path, or sits inside the victim's folder.
		for i, suffix := range []string{"#/", "?/", "/"} {
			exp, err := f.st.CreateExperiment(ctx, fmt.Sprintf("hostile-exp-%d", i), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			f.exec(t, "UPDATE experiments SET artifact_location = ?, lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?",
				"mlflow-artifacts:/"+V+suffix+exp, old, exp)
			f.put(t, path.Join(V, exp, "victim-file.txt")) // a folder of V's that happens to bear the ID
			hostileExps = append(hostileExps, exp)
		}
		before = files(t, f.root, f.fileDir)
		plan, err := gc.MakePlan(ctx, f.st, gc.Options{RunIDs: hostileRuns, LoggedModelIDs: hostileModels, ExperimentIDs: hostileExps, Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		var desc bytes.Buffer
		gc.Describe(&desc, plan)
		if strings.Contains(desc.String(), "and its artifacts at") {
			t.Errorf("the plan removes artifacts:\n%s", desc.String())
		}
		var progress bytes.Buffer
		r := gc.Execute(ctx, f.st, res, plan, &progress)
		if len(r.Failed) != 0 || r.Removed != len(hostileRuns)+len(hostileModels)+len(hostileExps) {
			t.Fatalf("Execute: removed %d, failed %v\n%s", r.Removed, r.Failed, progress.String())
		}
		if !strings.Contains(progress.String(), "not the item's own folder") {
			t.Errorf("progress does not say why artifacts were kept:\n%s", progress.String())
		}
		if after := files(t, f.root, f.fileDir); !reflect.DeepEqual(after, before) {
			t.Errorf("files changed by gc:\n got %v\nwant %v", after, before)
		}
		for _, id := range hostileRuns {
			if err := f.db.QueryRow(f.rebind("SELECT 1 FROM runs WHERE run_uuid = ?"), id).Scan(new(int)); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("run %s still there: %v", id, err)
			}
		}
	})
}

// rebind turns ? placeholders into PostgreSQL's $n when needed.
func (f *fixture) rebind(q string) string {
	if !f.pg {
		return q
	}
	n := 0
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
