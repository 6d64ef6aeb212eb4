package e2e

import (
	"database/sql"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"                   // the "pgx" driver, to age deletions
	_ "github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/testdb"
)

// TestGCCommand drives `mltrack gc` as an operator does, next to a running
// server, on SQLite with a local artifact folder and on PostgreSQL with an
// S3 bucket: what users deleted over the API, and only that, is removed from
// the database and the artifact root; --older-than, --dry-run, refusals,
// artifacts that are already gone and the progress display are checked.
func TestGCCommand(t *testing.T) {
	t.Run("sqlite+local", func(t *testing.T) {
		dir := t.TempDir()
		arts := filepath.Join(dir, "mlartifacts")
		testGCCommand(t, "sqlite:///"+filepath.Join(dir, "mlflow.db"), nil, arts, arts)
	})
	t.Run("postgres+s3", func(t *testing.T) {
		s3 := artifacttest.StartVersityGW(t)
		s3.CreateBucket(t, "mlflow")
		testGCCommand(t, testdb.PostgresURI(t), s3Env(t, s3), "s3://mlflow/artifacts", filepath.Join(s3.Dir, "mlflow", "artifacts"))
	})
}

// gcDB opens the server's database to age deletions (as if they were made
// days ago) and to count rows.
type gcDB struct {
	db *sql.DB
	pg bool
}

func openGCDB(t *testing.T, uri string) *gcDB {
	t.Helper()
	var g gcDB
	var err error
	if path, ok := strings.CutPrefix(uri, "sqlite:///"); ok {
		g.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	} else {
		g.db, err = sql.Open("pgx", uri)
		g.pg = true
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.db.Close() })
	return &g
}

// exec runs a statement written with $1, $2 placeholders (SQLite takes them too).
func (g *gcDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := g.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// has reports whether a run, model or experiment has its row.
func (g *gcDB) has(t *testing.T, what, id string) bool {
	t.Helper()
	q := map[string]string{"run": "SELECT COUNT(*) FROM runs WHERE run_uuid = $1",
		"model":      "SELECT COUNT(*) FROM logged_models WHERE model_id = $1",
		"experiment": "SELECT COUNT(*) FROM experiments WHERE experiment_id = $1"}[what]
	var arg any = id
	if what == "experiment" {
		n, err := strconv.Atoi(id)
		if err != nil {
			t.Fatalf("experiment id %q: %v", id, err)
		}
		arg = n
	}
	var n int
	if err := g.db.QueryRow(q, arg).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// counts is the number of rows of the tables gc removes from.
func (g *gcDB) counts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range []string{"experiments", "experiment_tags", "runs", "metrics", "latest_metrics", "params", "tags", "logged_models", "logged_model_params"} {
		var n int
		if err := g.db.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

func testGCCommand(t *testing.T, db string, env []string, dest, files string) {
	srv := startServer(t, env, "--backend-store-uri", db, "--artifacts-destination", dest)
	srv.waitReady(t, 30*time.Second)
	c := newClient(t, srv.base)
	raw := openGCDB(t, db)
	twoDaysAgo := time.Now().Add(-48 * time.Hour).UnixMilli()

	upload := func(uri, name string) {
		t.Helper()
		rel := strings.TrimPrefix(uri, "mlflow-artifacts:/")
		if st, err := putArtifact(c.http, c.base, rel+"/"+name, "data of "+rel+"/"+name); err != nil || st != 200 {
			t.Fatalf("upload %s/%s: %d %v", rel, name, st, err)
		}
	}
	experiment := func(name string) string {
		var e struct {
			ExperimentID string `json:"experiment_id"`
		}
		c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": name, "tags": []map[string]string{{"key": "k", "value": name}}}, &e)
		upload("mlflow-artifacts:/"+e.ExperimentID, "notes.txt")
		return e.ExperimentID
	}
	run := func(exp, name string) string {
		var r struct {
			Run struct {
				Info struct {
					RunID       string `json:"run_id"`
					ArtifactURI string `json:"artifact_uri"`
				} `json:"info"`
			} `json:"run"`
		}
		c.must("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp, "run_name": name, "start_time": 1700000000000}, &r)
		c.must("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": r.Run.Info.RunID,
			"metrics": []map[string]any{{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 0}, {"key": "loss", "value": 0.25, "timestamp": 1700000000001, "step": 1}},
			"params":  []map[string]string{{"key": "lr", "value": "0.1"}}}, nil)
		upload(r.Run.Info.ArtifactURI, "model.pkl")
		upload(r.Run.Info.ArtifactURI, "plots/loss.png")
		return r.Run.Info.RunID
	}
	model := func(exp, name string) string {
		var m struct {
			Model struct {
				Info struct {
					ModelID     string `json:"model_id"`
					ArtifactURI string `json:"artifact_uri"`
				} `json:"info"`
			} `json:"model"`
		}
		c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "name": name, "params": []map[string]string{{"key": "alpha", "value": "1"}}}, &m)
		upload(m.Model.Info.ArtifactURI, "MLmodel")
		return m.Model.Info.ModelID
	}
	deleteRun := func(id string, aged bool) {
		c.must("POST", "/api/2.0/mlflow/runs/delete", map[string]any{"run_id": id}, nil)
		if aged {
			raw.exec(t, "UPDATE runs SET deleted_time = $1 WHERE run_uuid = $2", twoDaysAgo, id)
		}
	}
	deleteModel := func(id string, aged bool) {
		c.must("DELETE", "/api/2.0/mlflow/logged-models/"+id, nil, nil)
		if aged {
			raw.exec(t, "UPDATE logged_models SET last_updated_timestamp_ms = $1 WHERE model_id = $2", twoDaysAgo, id)
		}
	}
	deleteExperiment := func(id string, aged bool) {
		c.must("POST", "/api/2.0/mlflow/experiments/delete", map[string]any{"experiment_id": id}, nil)
		if aged {
			raw.exec(t, "UPDATE experiments SET last_update_time = $1 WHERE experiment_id = $2", twoDaysAgo, id)
		}
	}

	// keep (active): a live run and model, and deleted ones, old and new;
	// oldExp deleted two days ago and newExp deleted now, each with a live
	// run and a live model.
	keep := experiment("keep")
	liveRun, oldRun, goneRun, newRun := run(keep, "live"), run(keep, "old"), run(keep, "gone"), run(keep, "new")
	liveModel, oldModel, newModel := model(keep, "live"), model(keep, "old"), model(keep, "new")
	oldExp, newExp := experiment("old-exp"), experiment("new-exp")
	oldExpRun, oldExpModel := run(oldExp, "in-old-exp"), model(oldExp, "in-old-exp")
	newExpRun, newExpModel := run(newExp, "in-new-exp"), model(newExp, "in-new-exp")
	deleteRun(oldRun, true)
	deleteRun(goneRun, true)
	deleteRun(newRun, false)
	deleteModel(oldModel, true)
	deleteModel(newModel, false)
	deleteExperiment(oldExp, true)
	deleteExperiment(newExp, false)
	// goneRun's artifacts are removed by someone else before gc runs.
	if st, body := c.call("DELETE", "/api/2.0/mlflow-artifacts/artifacts/"+keep+"/"+goneRun+"/artifacts", nil, nil); st != 200 {
		t.Fatalf("delete goneRun's artifacts: %d %s", st, body)
	}

	gcCmd := func(args ...string) (string, string, error) {
		cmd := exec.Command(mltrackBinary(t), append([]string{"gc", "--backend-store-uri", db, "--artifacts-destination", dest}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	runPath := func(exp, id string) string { return exp + "/" + id + "/artifacts/" }
	modelPath := func(exp, id string) string { return exp + "/models/" + id + "/artifacts/" }
	// check checks the database and the artifact root: gone ids have no
	// row and no file left; kept ones have their row.
	check := func(stage string, gone, kept map[string]string, wantFiles map[string]string) {
		t.Helper()
		for kind, ids := range map[string]map[string]string{"gone": gone, "kept": kept} {
			for id, what := range ids {
				if has := raw.has(t, what, id); has != (kind == "kept") {
					t.Errorf("%s: %s %s (%s): row present %v", stage, what, id, kind, has)
				}
			}
		}
		if got := rootFiles(t, files); !maps.Equal(got, wantFiles) {
			t.Errorf("%s: artifact root holds\n%v\nwant\n%v", stage, keys(got), keys(wantFiles))
		}
	}
	without := func(m map[string]string, prefixes ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if !slicesHasPrefix(k, prefixes) {
				out[k] = v
			}
		}
		return out
	}

	filesBefore := rootFiles(t, files)
	if _, ok := filesBefore[runPath(keep, goneRun)+"model.pkl"]; ok {
		t.Fatal("goneRun's artifacts are still there")
	}
	rowsBefore := raw.counts(t)
	all := map[string]string{keep: "experiment", oldExp: "experiment", newExp: "experiment",
		liveRun: "run", oldRun: "run", goneRun: "run", newRun: "run", oldExpRun: "run", newExpRun: "run",
		liveModel: "model", oldModel: "model", newModel: "model", oldExpModel: "model", newExpModel: "model"}

	// Refusals change nothing.
	if _, errOut, err := gcCmd("--older-than", "3w"); err == nil || !strings.Contains(errOut, "could not parse") {
		t.Errorf("gc --older-than 3w: %v %s", err, errOut)
	}
	if _, errOut, err := gcCmd("--experiment-ids", keep); err == nil || !strings.Contains(errOut, "not in the deleted lifecycle stage") {
		t.Errorf("gc of a live experiment: %v %s", err, errOut)
	}
	if _, errOut, err := gcCmd("--run-ids", newRun, "--older-than", "1d"); err == nil || !strings.Contains(errOut, "not older than the required age") {
		t.Errorf("gc of a run deleted now, --older-than 1d: %v %s", err, errOut)
	}

	// --dry-run names everything deleted and changes nothing.
	out, errOut, err := gcCmd("--dry-run")
	if err != nil {
		t.Fatalf("gc --dry-run: %v\n%s", err, errOut)
	}
	planned := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, "would remove ")
		if !ok {
			continue
		}
		kind := "run"
		for k, what := range map[string]string{"logged model ": "model", "experiment ": "experiment", "run ": "run"} {
			if r, ok := strings.CutPrefix(rest, k); ok {
				kind, rest = what, r
			}
		}
		planned[strings.Fields(rest)[0]] = kind
	}
	wantPlan := map[string]string{oldRun: "run", goneRun: "run", newRun: "run", oldExpRun: "run", newExpRun: "run",
		oldModel: "model", newModel: "model", oldExpModel: "model", newExpModel: "model", oldExp: "experiment", newExp: "experiment"}
	if !maps.Equal(planned, wantPlan) || !strings.Contains(out, "5 runs, 4 logged models, 2 experiments would be removed") {
		t.Errorf("gc --dry-run plans %v, want %v:\n%s", planned, wantPlan, out)
	}
	if got := raw.counts(t); !maps.Equal(got, rowsBefore) {
		t.Errorf("gc --dry-run changed the database: %v, was %v", got, rowsBefore)
	}
	check("after --dry-run", nil, all, filesBefore)

	// --older-than 1d: what was deleted two days ago, with the live run
	// and model of the experiment deleted then; goneRun's missing
	// artifacts are no obstacle.
	out, errOut, err = gcCmd("--older-than", "1d")
	if err != nil {
		t.Fatalf("gc --older-than 1d: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "6 of 6 removed") || !strings.Contains(errOut, "mltrack gc: removing 3 runs, 2 logged models, 1 experiments") ||
		!strings.Contains(errOut, "[6/6] experiment "+oldExp+": removed") || !strings.Contains(errOut, "] run "+goneRun+": removed") {
		t.Errorf("gc --older-than 1d output:\n%s\nprogress:\n%s", out, errOut)
	}
	gone := map[string]string{oldRun: "run", goneRun: "run", oldExpRun: "run", oldModel: "model", oldExpModel: "model", oldExp: "experiment"}
	kept := maps.Clone(all)
	maps.DeleteFunc(kept, func(id, _ string) bool { _, ok := gone[id]; return ok })
	filesAfter := without(filesBefore, runPath(keep, oldRun), modelPath(keep, oldModel), oldExp+"/")
	check("after gc --older-than 1d", gone, kept, filesAfter)

	// No age: the rest of what is deleted.
	out, errOut, err = gcCmd()
	if err != nil {
		t.Fatalf("gc: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "5 of 5 removed") || !strings.Contains(errOut, "[5/5] experiment "+newExp+": removed") {
		t.Errorf("gc output:\n%s\nprogress:\n%s", out, errOut)
	}
	for id, what := range map[string]string{newRun: "run", newExpRun: "run", newModel: "model", newExpModel: "model", newExp: "experiment"} {
		gone[id] = what
		delete(kept, id)
	}
	filesAfter = without(filesAfter, runPath(keep, newRun), modelPath(keep, newModel), newExp+"/")
	check("after gc", gone, kept, filesAfter)
	want := map[string]string{
		keep + "/notes.txt":                       "data of " + keep + "/notes.txt",
		runPath(keep, liveRun) + "model.pkl":      "data of " + runPath(keep, liveRun) + "model.pkl",
		runPath(keep, liveRun) + "plots/loss.png": "data of " + runPath(keep, liveRun) + "plots/loss.png",
		modelPath(keep, liveModel) + "MLmodel":    "data of " + modelPath(keep, liveModel) + "MLmodel",
	}
	if !maps.Equal(filesAfter, want) {
		t.Errorf("artifacts left:\n%v\nwant\n%v", keys(filesAfter), keys(want))
	}
	// The database holds the live things only, whole.
	wantRows := map[string]int{"experiments": 2, "experiment_tags": 1, "runs": 1, "metrics": 2, "latest_metrics": 1,
		"params": 1, "logged_models": 1, "logged_model_params": 1}
	got := raw.counts(t)
	delete(got, "tags") // the system tags the server sets on a run
	if !maps.Equal(got, wantRows) {
		t.Errorf("rows left: %v, want %v", got, wantRows)
	}
	// The live things still serve.
	c.must("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+keep, nil, nil)
	c.must("GET", "/api/2.0/mlflow/runs/get?run_id="+liveRun, nil, nil)
	c.must("GET", "/api/2.0/mlflow/logged-models/"+liveModel, nil, nil)
	if h := history(t, c.http, c.base, liveRun, "loss"); len(h) != 2 {
		t.Errorf("the live run's history: %v", h)
	}

	// A second gc finds nothing left.
	if out, errOut, err := gcCmd(); err != nil || !strings.Contains(out, "0 of 0 removed") {
		t.Errorf("second gc: %v %s %s", err, out, errOut)
	}
}

func slicesHasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// keys lists a map's keys, sorted, for messages.
func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
