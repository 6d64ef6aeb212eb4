package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/wire"
)

const wireDir = "../../../shared/mlflow-wire/"

// deviations are the api_cases where mltrack answers differently from
// MLflow on purpose (docs/compatibility.md says why): the status we answer.
var deviations = map[string]int{
	// MLflow: 500 INTERNAL_ERROR from Python's int(); bad input is a 400.
	"experiments.get.non-numeric-id": 400,
	// MLflow: 500 INVALID_STATE; renaming a deleted experiment is the client's mistake.
	"experiments.update.rename-deleted": 400,
	// MLflow: 500 HTML page for a JSON array body.
	"body.json-array": 400,
	// MLflow: 500 with the server's local path for a missing file or a
	// directory; they do not exist as files.
	"mlflow-artifacts.get.not-found": 404,
	"mlflow-artifacts.get.directory": 404,
	// MLflow: 308 redirect to the collapsed path; an absolute path is refused.
	"mlflow-artifacts.traversal.get-absolute": 400,
	// MLflow: lets ..\ through and fails with a 500; refused as traversal.
	"mlflow-artifacts.traversal.get-backslash": 400,
}

// messageDeviations are cases where the status and code match MLflow's but
// the message deliberately differs (MLflow leaks SQL text or Python errors).
var messageDeviations = map[string]bool{
	"experiments.create.duplicate-name":     true,
	"experiments.create.name-of-deleted":    true,
	"experiments.update.rename-to-existing": true,
	"experiments.get.non-numeric-id":        true,
	"runs.create.no-experiment-id":          true,
	"runs.outputs.same-model-again":         true,
	"logged-models.log-params.change-value": true,
	"experiments.update.rename-deleted":     false,
}

func startServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{
		BackendStoreURI: "sqlite:///" + filepath.Join(dir, "mlflow.db"),
		ArtifactsDest:   filepath.Join(dir, "mlartifacts"),
		ServeArtifacts:  true,
		AllowedHosts:    server.DefaultAllowedHosts(),
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

func loadWire(t *testing.T, name string) []wire.Exchange {
	t.Helper()
	ex, err := wire.Load(wireDir + name)
	if err != nil {
		t.Fatalf("recording missing (../shared must sit beside the repo): %v", err)
	}
	return ex
}

// TestReplayAPICases replays MLflow's 529 recorded edge cases in order
// against a fresh server. MLTRACK_REPLAY_ONLY=prefix narrows it while
// developing.
func TestReplayAPICases(t *testing.T) {
	only := os.Getenv("MLTRACK_REPLAY_ONLY")
	r := wire.NewReplayer(startServer(t))
	failed := 0
	for _, e := range loadWire(t, "api_cases.jsonl") {
		c := e.Case()
		got, err := r.Send(&e)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if only != "" && !strings.HasPrefix(c, only) {
			continue
		}
		if st, ok := deviations[c]; ok {
			if got.Status != st {
				t.Errorf("%s: status %d, want our deliberate %d (MLflow %d): %.300s", c, got.Status, st, e.Status, got.Body)
				failed++
			}
			continue
		}
		var diffs []string
		for _, d := range wire.Compare(&e, got, true) {
			if messageDeviations[c] && strings.HasPrefix(d, "message ") {
				continue
			}
			diffs = append(diffs, d)
		}
		if len(diffs) > 0 {
			failed++
			t.Errorf("%s (%s %s):\n  %s", c, e.Method, e.Path, strings.Join(diffs, "\n  "))
		}
	}
	if failed > 0 {
		t.Logf("%d cases differ from MLflow", failed)
	}
}

// TestReplaySeedFlow replays the official client's tutorial flow.
func TestReplaySeedFlow(t *testing.T) {
	r := wire.NewReplayer(startServer(t))
	for _, e := range loadWire(t, "seed_flow.jsonl") {
		got, err := r.Send(&e)
		if err != nil {
			t.Fatalf("seq %d: %v", e.Seq, err)
		}
		// System metrics are sampled by time: list lengths vary per replay.
		if diffs := wire.Compare(&e, got, false); len(diffs) > 0 {
			t.Errorf("seq %d %s %s:\n  %s", e.Seq, e.Method, e.Path, strings.Join(diffs, "\n  "))
		}
	}
}
