package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGCCommand drives `mltrack gc` as an operator does, next to a running
// server: what users deleted over the API (an experiment with its artifacts
// and logged model, a logged model of a live experiment) is removed from the
// database and the artifact folder; everything else stays.
func TestGCCommand(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:///" + filepath.Join(dir, "mlflow.db")
	arts := filepath.Join(dir, "mlartifacts")
	srv := startServer(t, nil, "--backend-store-uri", db, "--artifacts-destination", arts)
	srv.waitReady(t, 30*time.Second)
	c := newClient(t, srv.base)

	type created struct {
		ExperimentID string `json:"experiment_id"`
	}
	var keep, drop created
	c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "keep"}, &keep)
	c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "drop"}, &drop)
	type model struct {
		Model struct {
			Info struct {
				ModelID     string `json:"model_id"`
				ArtifactURI string `json:"artifact_uri"`
			} `json:"info"`
		} `json:"model"`
	}
	var keepModel, dropModel, dropExpModel model
	c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": keep.ExperimentID, "name": "kept"}, &keepModel)
	c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": keep.ExperimentID, "name": "dropped"}, &dropModel)
	c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": drop.ExperimentID, "name": "in-dropped-exp"}, &dropExpModel)
	upload := func(rel string) {
		req, _ := http.NewRequest("PUT", srv.base+"/api/2.0/mlflow-artifacts/artifacts/"+rel, strings.NewReader("data of "+rel))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("upload %s: %d", rel, resp.StatusCode)
		}
	}
	for _, m := range []model{keepModel, dropModel, dropExpModel} {
		rel := strings.TrimPrefix(m.Model.Info.ArtifactURI, "mlflow-artifacts:/")
		upload(rel + "/MLmodel")
	}
	upload(keep.ExperimentID + "/notes.txt")
	upload(drop.ExperimentID + "/notes.txt")

	c.must("POST", "/api/2.0/mlflow/experiments/delete", map[string]any{"experiment_id": drop.ExperimentID}, nil)
	c.must("DELETE", "/api/2.0/mlflow/logged-models/"+dropModel.Model.Info.ModelID, nil, nil)

	gcCmd := func(args ...string) (string, string, error) {
		cmd := exec.Command(mltrackBinary(t), append([]string{"gc", "--backend-store-uri", db, "--artifacts-destination", arts}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	// Too recent for --older-than 1d: nothing to do.
	out, errOut, err := gcCmd("--older-than", "1d", "--dry-run")
	if err != nil || !strings.Contains(out, "0 runs, 0 logged models, 0 experiments would be removed") {
		t.Errorf("gc --older-than 1d --dry-run: %v\n%s%s", err, out, errOut)
	}
	// Naming a live experiment is refused.
	if _, errOut, err := gcCmd("--experiment-ids", keep.ExperimentID); err == nil || !strings.Contains(errOut, "not in the deleted lifecycle stage") {
		t.Errorf("gc of a live experiment: %v %s", err, errOut)
	}
	if _, errOut, err := gcCmd("--older-than", "3w"); err == nil || !strings.Contains(errOut, "could not parse") {
		t.Errorf("gc --older-than 3w: %v %s", err, errOut)
	}
	out, errOut, err = gcCmd("--dry-run")
	if err != nil {
		t.Fatalf("gc --dry-run: %v\n%s", err, errOut)
	}
	for _, s := range []string{"would remove logged model " + dropModel.Model.Info.ModelID, "would remove logged model " + dropExpModel.Model.Info.ModelID,
		"would remove experiment " + drop.ExperimentID, "0 runs, 2 logged models, 1 experiments would be removed"} {
		if !strings.Contains(out, s) {
			t.Errorf("gc --dry-run output lacks %q:\n%s", s, out)
		}
	}
	if _, err := os.Stat(filepath.Join(arts, drop.ExperimentID, "notes.txt")); err != nil {
		t.Errorf("--dry-run removed artifacts: %v", err)
	}

	out, errOut, err = gcCmd()
	if err != nil {
		t.Fatalf("gc: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "3 of 3 removed") || !strings.Contains(errOut, "[3/3] experiment "+drop.ExperimentID+": removed") {
		t.Errorf("gc output:\n%s\nprogress:\n%s", out, errOut)
	}

	// The database: dropped things are gone for the server too.
	if st, _ := c.call("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+drop.ExperimentID, nil, nil); st != 404 {
		t.Errorf("removed experiment: status %d, want 404", st)
	}
	for _, m := range []model{dropModel, dropExpModel} {
		if st, _ := c.call("GET", "/api/2.0/mlflow/logged-models/"+m.Model.Info.ModelID, nil, nil); st != 404 {
			t.Errorf("removed logged model: status %d, want 404", st)
		}
	}
	c.must("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+keep.ExperimentID, nil, nil)
	c.must("GET", "/api/2.0/mlflow/logged-models/"+keepModel.Model.Info.ModelID, nil, nil)
	// The artifacts.
	if _, err := os.Stat(filepath.Join(arts, drop.ExperimentID)); !os.IsNotExist(err) {
		t.Errorf("removed experiment's folder: %v", err)
	}
	dropRel := strings.TrimPrefix(dropModel.Model.Info.ArtifactURI, "mlflow-artifacts:/")
	if _, err := os.Stat(filepath.Join(arts, filepath.FromSlash(dropRel))); !os.IsNotExist(err) {
		t.Errorf("removed model's artifacts: %v", err)
	}
	keepRel := strings.TrimPrefix(keepModel.Model.Info.ArtifactURI, "mlflow-artifacts:/")
	for _, p := range []string{filepath.Join(keep.ExperimentID, "notes.txt"), filepath.Join(filepath.FromSlash(keepRel), "MLmodel")} {
		if _, err := os.Stat(filepath.Join(arts, p)); err != nil {
			t.Errorf("kept artifact %s: %v", p, err)
		}
	}
	// A second gc finds nothing left.
	if out, _, err := gcCmd(); err != nil || !strings.Contains(out, "0 of 0 removed") {
		t.Errorf("second gc: %v %s", err, out)
	}
}
