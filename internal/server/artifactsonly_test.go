package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/auth"
)

// TestArtifactsOnly: MLflow's split deployment. An --artifacts-only server
// proxies artifacts with no backend store and answers the tracking API with
// MLflow's 503; a tracking server whose default artifact root is that
// proxy's URL records locations there and opens no repository for them.
func TestArtifactsOnly(t *testing.T) {
	dest := t.TempDir()
	art := newTestServer(t, func(c *Config) {
		c.BackendStoreURI = ""
		c.ArtifactsOnly = true
		c.ArtifactsDest = dest
	})
	if art.store != nil {
		t.Fatal("an artifacts-only server opened a backend store")
	}
	artAddr, _ := serveTest(t, art)
	artBase := "http://" + artAddr

	do := func(method, url, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// The proxy works: up, listed, down, on disk where MLflow puts it.
	file := artBase + "/api/2.0/mlflow-artifacts/artifacts/experiments/1/r1/artifacts/model/MLmodel"
	if st, b := do("PUT", file, "flavors: {}\n"); st != 200 {
		t.Fatalf("PUT: %d %s", st, b)
	}
	if st, b := do("GET", file, ""); st != 200 || b != "flavors: {}\n" {
		t.Fatalf("GET: %d %q", st, b)
	}
	if st, b := do("GET", artBase+"/api/2.0/mlflow-artifacts/artifacts?path=experiments/1/r1/artifacts", ""); st != 200 || !strings.Contains(b, `"model"`) {
		t.Fatalf("list: %d %s", st, b)
	}
	if _, err := os.Stat(filepath.Join(dest, "experiments/1/r1/artifacts/model/MLmodel")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/2.0/mlflow/runs/create", "/ajax-api/2.0/mlflow/experiments/search", "/get-artifact?path=x&run_uuid=r1"} {
		st, b := do("POST", artBase+path, "{}")
		want := "Endpoint: " + strings.Split(path, "?")[0] + " disabled due to the mlflow server running in `--artifacts-only` mode."
		if st != http.StatusServiceUnavailable || !strings.HasPrefix(b, want) {
			t.Errorf("%s: %d %q, want 503 %q", path, st, b, want)
		}
	}
	for _, path := range []string{"/health", "/ready", "/metrics"} {
		if st, b := do("GET", artBase+path, ""); st != 200 {
			t.Errorf("%s: %d %s", path, st, b)
		}
	}

	// The tracking server records locations under the proxy's URL.
	root := artBase + "/api/2.0/mlflow-artifacts/artifacts/experiments"
	trk := newTestServer(t, func(c *Config) {
		c.ServeArtifacts = false
		c.DefaultArtifactRoot = root
	})
	trkAddr, _ := serveTest(t, trk)
	trkBase := "http://" + trkAddr + "/api/2.0/mlflow/"
	st, b := do("POST", trkBase+"experiments/create", `{"name": "split"}`)
	if st != 200 {
		t.Fatalf("create experiment: %d %s", st, b)
	}
	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	_ = json.Unmarshal([]byte(b), &exp)
	st, b = do("POST", trkBase+"runs/create", `{"experiment_id": "`+exp.ExperimentID+`"}`)
	var run struct {
		Run struct {
			Info struct {
				RunID       string `json:"run_id"`
				ArtifactURI string `json:"artifact_uri"`
			} `json:"info"`
		} `json:"run"`
	}
	_ = json.Unmarshal([]byte(b), &run)
	want := root + "/" + exp.ExperimentID + "/" + run.Run.Info.RunID + "/artifacts"
	if st != 200 || run.Run.Info.ArtifactURI != want {
		t.Fatalf("run: %d artifact_uri %q, want %q (%s)", st, run.Run.Info.ArtifactURI, want, b)
	}
	// Its own artifact reads don't reach another server: a clear 400.
	if st, b := do("GET", trkBase+"artifacts/list?run_id="+run.Run.Info.RunID, ""); st != 400 || !strings.Contains(b, "outside the artifact roots this server serves") {
		t.Errorf("artifacts/list of a run on another server: %d %s", st, b)
	}
}

// TestArtifactsOnlyRefuses: what an artifacts-only server can't be.
func TestArtifactsOnlyRefuses(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dest := t.TempDir()
	for _, c := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"backend store", Config{ArtifactsOnly: true, ServeArtifacts: true, ArtifactsDest: dest, BackendStoreURI: "postgresql://u:secret@db/mlflow"}, "has no backend store"},
		{"no proxy", Config{ArtifactsOnly: true, ArtifactsDest: dest}, "--no-serve-artifacts"},
		{"auth", Config{ArtifactsOnly: true, ServeArtifacts: true, ArtifactsDest: dest, Auth: &auth.Config{}}, "can't be combined with auth"},
	} {
		_, err := New(context.Background(), c.cfg, log)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
	// The default backend store URI is "none given", as in MLflow.
	srv, err := New(context.Background(), Config{ArtifactsOnly: true, ServeArtifacts: true, ArtifactsDest: dest, BackendStoreURI: DefaultBackendStoreURI}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}
