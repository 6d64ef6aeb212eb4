package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/testdb"
)

const (
	concClients = 16
	concRuns    = 4 // clients share runs: client c logs to run c % concRuns
	concTS0     = int64(1700000000000)
)

// concCall is the i-th call of client c: one of four kinds, in turn.
func concCall(runID string, c, i int) (path string, body map[string]any) {
	ts := concTS0 + int64(i)
	switch i % 4 {
	case 0:
		return "runs/log-metric", map[string]any{"run_id": runID, "key": fmt.Sprintf("m%d", c), "value": float64(i), "timestamp": ts, "step": i}
	case 1:
		return "runs/log-batch", map[string]any{"run_id": runID,
			"metrics": []map[string]any{
				{"key": fmt.Sprintf("b%d", c), "value": float64(i), "timestamp": ts, "step": i},
				{"key": "shared", "value": float64(c*1000000 + i), "timestamp": ts, "step": i},
			},
			"params": []map[string]any{{"key": fmt.Sprintf("bp%d_%d", c, i), "value": "v" + strconv.Itoa(i)}},
			"tags":   []map[string]any{{"key": fmt.Sprintf("t%d", c), "value": strconv.Itoa(i)}},
		}
	case 2:
		return "runs/set-tag", map[string]any{"run_id": runID, "key": fmt.Sprintf("t%d", c), "value": strconv.Itoa(i)}
	default:
		return "runs/log-parameter", map[string]any{"run_id": runID, "key": fmt.Sprintf("q%d_%d", c, i), "value": strconv.Itoa(i)}
	}
}

// TestConcurrentLogging is the concurrency proof: 16 clients each send
// 2,000 logging calls of four kinds (log-metric, log-batch with metrics,
// a param and a tag, set-tag, log-parameter) at once to one real server,
// four clients per run. Every call must answer 200 (no "database is
// locked"), and afterwards every metric point is stored exactly once with
// its value, the latest values are right, and every param and tag is
// there with its value.
//
// Both backends take the full 16 × 2,000 calls. MLTRACK_PROOF_CALLS
// lowers the count for local runs (never under CI).
func TestConcurrentLogging(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		calls := proofScale(t, "MLTRACK_PROOF_CALLS", 2000)
		srv := startServer(t, nil, "--backend-store-uri", uri, "--artifacts-destination", t.TempDir())
		srv.waitReady(t, 30*time.Second)
		hc := newHTTPClient(concClients)
		_, runs := createRuns(t, hc, srv.base, "concurrency", concRuns)

		var (
			wg       sync.WaitGroup
			ok       atomic.Int64
			mu       sync.Mutex
			failures = map[string]int{} // "status body" -> count
		)
		start := time.Now()
		for c := 0; c < concClients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				runID := runs[c%concRuns]
				for i := 0; i < calls; i++ {
					path, body := concCall(runID, c, i)
					st, b, err := post(hc, "POST", srv.base+"/api/2.0/mlflow/"+path, body)
					if err == nil && st == 200 {
						ok.Add(1)
						continue
					}
					mu.Lock()
					failures[fmt.Sprintf("%s: %d %v %.200s", path, st, err, b)]++
					mu.Unlock()
				}
			}(c)
		}
		wg.Wait()
		elapsed := time.Since(start)
		total := concClients * calls
		t.Logf("%d calls from %d clients in %v (%.0f calls/s)", total, concClients, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
		for f, n := range failures {
			t.Errorf("%d× %s", n, f)
		}
		if int(ok.Load()) != total {
			t.Fatalf("%d of %d calls answered 200", ok.Load(), total)
		}
		if log := srv.output(); strings.Contains(log, "database is locked") || strings.Contains(log, "SQLITE_BUSY") {
			t.Errorf("the server logged lock errors")
		}

		points := verifyConcurrent(t, hc, srv.base, runs, calls)
		t.Logf("verified %d metric points (each stored once, with its step, timestamp and value), params and tags of %d runs", points, concRuns)
	})
}

// lastOf is the largest i < calls with i%4 in kinds.
func lastOf(calls int, kinds ...int) int {
	for i := calls - 1; i >= 0; i-- {
		for _, k := range kinds {
			if i%4 == k {
				return i
			}
		}
	}
	return -1
}

// verifyConcurrent checks what the load of TestConcurrentLogging stored;
// it returns the number of metric points verified.
func verifyConcurrent(t *testing.T, hc *http.Client, base string, runs []string, calls int) int {
	points := 0
	// checkHistory compares a metric's history with the points expected,
	// by (step, value): each must be there exactly once.
	checkHistory := func(runID, key string, want map[[2]int64]bool) {
		got := history(t, hc, base, runID, key)
		seen := map[[2]int64]int{}
		for _, p := range got {
			k := [2]int64{p.Step, int64(p.Value)}
			seen[k]++
			if !want[k] {
				t.Errorf("run %s %s: unexpected point step %d value %v", runID, key, p.Step, p.Value)
			} else if p.Timestamp != concTS0+p.Step {
				t.Errorf("run %s %s: step %d has timestamp %d", runID, key, p.Step, p.Timestamp)
			}
		}
		for k := range want {
			if seen[k] != 1 {
				t.Errorf("run %s %s: point step %d value %d stored %d times, want once", runID, key, k[0], k[1], seen[k])
			}
		}
		points += len(got)
	}
	for r, runID := range runs {
		shared := map[[2]int64]bool{}
		run := getRun(t, hc, base, runID)
		metrics := map[string]float64{}
		for _, m := range run.Data.Metrics {
			metrics[m.Key] = m.Value
		}
		params := map[string]string{}
		for _, p := range run.Data.Params {
			params[p.Key] = p.Value
		}
		tags := map[string]string{}
		for _, tg := range run.Data.Tags {
			tags[tg.Key] = tg.Value
		}
		wantParams := 0
		topClient := -1
		for c := r; c < concClients; c += concRuns {
			topClient = c
			mPoints, bPoints := map[[2]int64]bool{}, map[[2]int64]bool{}
			for i := 0; i < calls; i++ {
				switch i % 4 {
				case 0:
					mPoints[[2]int64{int64(i), int64(i)}] = true
				case 1:
					bPoints[[2]int64{int64(i), int64(i)}] = true
					shared[[2]int64{int64(i), int64(c*1000000 + i)}] = true
					if v := params[fmt.Sprintf("bp%d_%d", c, i)]; v != "v"+strconv.Itoa(i) {
						t.Errorf("run %s: param bp%d_%d = %q", runID, c, i, v)
					}
					wantParams++
				case 3:
					if v := params[fmt.Sprintf("q%d_%d", c, i)]; v != strconv.Itoa(i) {
						t.Errorf("run %s: param q%d_%d = %q", runID, c, i, v)
					}
					wantParams++
				}
			}
			checkHistory(runID, fmt.Sprintf("m%d", c), mPoints)
			checkHistory(runID, fmt.Sprintf("b%d", c), bPoints)
			if last := lastOf(calls, 0); metrics[fmt.Sprintf("m%d", c)] != float64(last) {
				t.Errorf("run %s: latest m%d = %v, want %d", runID, c, metrics[fmt.Sprintf("m%d", c)], last)
			}
			if last := lastOf(calls, 1); last >= 0 && metrics[fmt.Sprintf("b%d", c)] != float64(last) {
				t.Errorf("run %s: latest b%d = %v, want %d", runID, c, metrics[fmt.Sprintf("b%d", c)], last)
			}
			if last := lastOf(calls, 1, 2); last >= 0 && tags[fmt.Sprintf("t%d", c)] != strconv.Itoa(last) {
				t.Errorf("run %s: tag t%d = %q, want %d (the client's last write)", runID, c, tags[fmt.Sprintf("t%d", c)], last)
			}
		}
		if last := lastOf(calls, 1); last >= 0 {
			checkHistory(runID, "shared", shared)
			// Latest: the highest step; among equal steps and timestamps
			// the highest value, that of the run's last client.
			if want := float64(topClient*1000000 + last); metrics["shared"] != want {
				t.Errorf("run %s: latest shared = %v, want %v", runID, metrics["shared"], want)
			}
		}
		if len(params) != wantParams {
			t.Errorf("run %s: %d params, want %d", runID, len(params), wantParams)
		}
	}
	return points
}
