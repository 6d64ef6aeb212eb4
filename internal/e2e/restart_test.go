package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPostgresRestart stops the database under a running server: API calls
// get MLflow's retryable 503 TEMPORARILY_UNAVAILABLE (not 500), /ready says
// 503 while /health stays 200, and once PostgreSQL is back the server
// carries on by itself, with the data written before the outage intact.
func TestPostgresRestart(t *testing.T) {
	pg := newPGCluster(t)
	srv := startServer(t, nil, "--backend-store-uri", pg.URI(), "--artifacts-destination", t.TempDir())
	srv.waitReady(t, 30*time.Second)
	c := newClient(t, srv.base)

	var before struct {
		ExperimentID string `json:"experiment_id"`
	}
	c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "before-outage"}, &before)
	// Warm the pool so that the outage breaks live connections, not only new ones.
	for i := 0; i < 8; i++ {
		c.must("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+before.ExperimentID, nil, nil)
	}

	pg.Stop()

	for i := 0; i < 5; i++ {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": fmt.Sprintf("during-%d", i)}},
			{"GET", "/api/2.0/mlflow/experiments/get?experiment_id=" + before.ExperimentID, nil},
			{"POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 10}},
		} {
			st, body := c.call(req.method, req.path, req.body, nil)
			var e struct {
				ErrorCode string `json:"error_code"`
			}
			_ = json.Unmarshal(body, &e)
			if st != http.StatusServiceUnavailable || e.ErrorCode != "TEMPORARILY_UNAVAILABLE" {
				t.Errorf("database down: %s %s = %d %s, want 503 TEMPORARILY_UNAVAILABLE", req.method, req.path, st, body)
			}
		}
	}
	if st, _ := c.call("GET", "/ready", nil, nil); st != http.StatusServiceUnavailable {
		t.Errorf("database down: /ready = %d, want 503", st)
	}
	if st, _ := c.call("GET", "/health", nil, nil); st != http.StatusOK {
		t.Errorf("database down: /health = %d, want 200 (the process is alive)", st)
	}

	pg.Start()

	// The server recovers by itself: database/sql drops the broken
	// connections and opens new ones.
	deadline := time.Now().Add(30 * time.Second)
	var recovered time.Duration
	start := time.Now()
	for {
		st, _ := c.call("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+before.ExperimentID, nil, nil)
		if st == 200 {
			recovered = time.Since(start)
			break
		}
		if st != http.StatusServiceUnavailable {
			t.Fatalf("after restart: status %d, want 200 or a retryable 503", st)
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not recover within 30s of PostgreSQL's restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("recovered %v after PostgreSQL answered again", recovered)
	// From then on everything works, on every pooled connection.
	for i := 0; i < 40; i++ {
		c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": fmt.Sprintf("after-%d", i)}, nil)
	}
	var got struct {
		Experiment struct {
			Name string `json:"name"`
		} `json:"experiment"`
	}
	c.must("GET", "/api/2.0/mlflow/experiments/get?experiment_id="+before.ExperimentID, nil, &got)
	if got.Experiment.Name != "before-outage" {
		t.Errorf("experiment written before the outage: name %q", got.Experiment.Name)
	}
	var search struct {
		Experiments []struct {
			Name string `json:"name"`
		} `json:"experiments"`
	}
	c.must("POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 1000}, &search)
	if n := len(search.Experiments); n != 42 { // Default + before-outage + 40
		t.Errorf("search after the outage: %d experiments, want 42", n)
	}
	if st, _ := c.call("GET", "/ready", nil, nil); st != http.StatusOK {
		t.Errorf("after restart: /ready = %d, want 200", st)
	}
	// It is the same process throughout: nothing restarted it.
	select {
	case <-srv.done:
		t.Errorf("mltrack exited: %v", srv.cmd.ProcessState)
	default:
	}
	if !strings.Contains(srv.output(), `"msg":"database unavailable"`) {
		t.Error("the outage was not logged as the database's")
	}
}
