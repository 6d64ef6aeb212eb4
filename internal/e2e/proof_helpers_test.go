package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

// Helpers of the proof tests (concurrency, crash, hostile input): a raw
// poster that never fails the test itself, so that goroutines can count
// answers, and the scale knob for local runs.

// proofScale reads an integer from the environment (for quicker local
// runs); CI runs the default.
func proofScale(t testing.TB, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", key, v)
	}
	if os.Getenv("CI") != "" && n < def {
		t.Fatalf("%s=%d lowers the proof below its CI size %d; unset it under CI", key, n, def)
	}
	return n
}

// newHTTPClient is a client with enough idle connections for n workers.
func newHTTPClient(n int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
}

// post sends a JSON body (or, with method GET, nothing) and returns the
// status and body; a transport error is returned as such.
func post(hc *http.Client, method, url string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		var b []byte
		switch v := body.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				return 0, nil, err
			}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// apiRun is the part of runs/get's answer the proofs check.
type apiRun struct {
	Info struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
	} `json:"info"`
	Data struct {
		Metrics []struct {
			Key       string  `json:"key"`
			Value     float64 `json:"value"`
			Timestamp int64   `json:"timestamp"`
			Step      int64   `json:"step"`
		} `json:"metrics"`
		Params []struct{ Key, Value string } `json:"params"`
		Tags   []struct{ Key, Value string } `json:"tags"`
	} `json:"data"`
}

// getRun reads a run with runs/get, failing the test unless it is there.
func getRun(t testing.TB, hc *http.Client, base, runID string) apiRun {
	t.Helper()
	st, b, err := post(hc, "GET", base+"/api/2.0/mlflow/runs/get?run_id="+runID, nil)
	if err != nil || st != 200 {
		t.Fatalf("runs/get %s: %d %v %s", runID, st, err, b)
	}
	var out struct {
		Run apiRun `json:"run"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Run
}

// historyPoint is one point of metrics/get-history.
type historyPoint struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

// history reads a metric's whole history.
func history(t testing.TB, hc *http.Client, base, runID, key string) []historyPoint {
	t.Helper()
	st, b, err := post(hc, "GET", base+"/api/2.0/mlflow/metrics/get-history?run_id="+runID+"&metric_key="+key, nil)
	if err != nil || st != 200 {
		t.Fatalf("get-history %s %s: %d %v %s", runID, key, st, err, b)
	}
	var out struct {
		Metrics []historyPoint `json:"metrics"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Metrics
}

// createRuns creates an experiment and n runs in it and returns their IDs.
func createRuns(t testing.TB, hc *http.Client, base, expName string, n int) (string, []string) {
	t.Helper()
	st, b, err := post(hc, "POST", base+"/api/2.0/mlflow/experiments/create", map[string]any{"name": expName})
	if err != nil || st != 200 {
		t.Fatalf("experiments/create: %d %v %s", st, err, b)
	}
	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	_ = json.Unmarshal(b, &exp)
	var ids []string
	for i := 0; i < n; i++ {
		st, b, err := post(hc, "POST", base+"/api/2.0/mlflow/runs/create", map[string]any{
			"experiment_id": exp.ExperimentID, "run_name": fmt.Sprintf("run-%d", i), "start_time": 1700000000000})
		if err != nil || st != 200 {
			t.Fatalf("runs/create: %d %v %s", st, err, b)
		}
		var run struct {
			Run apiRun `json:"run"`
		}
		_ = json.Unmarshal(b, &run)
		ids = append(ids, run.Run.Info.RunID)
	}
	return exp.ExperimentID, ids
}
