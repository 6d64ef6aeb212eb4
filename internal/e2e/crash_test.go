package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver

	"github.com/mltrack/mltrack/internal/testdb"
)

const (
	crashWriters = 8
	crashRounds  = 5
)

// crashAck is what one writer got a 200 for: metric steps, and the batch
// steps whose param and tag came with them.
type crashAck struct {
	metrics map[int64]bool
	batches map[int64]bool
}

// TestCrashRecovery is the crash proof: the server is killed with SIGKILL
// in the middle of a logging load from 8 concurrent writers (after 200 to
// 1,000 writes of the round were acknowledged, with the writers still
// sending), restarted on
// the same database, and everything it answered 200 for must be there,
// exactly once; this is repeated 5 times on the same database. The
// database must open cleanly after each kill (SQLite: WAL recovery, then
// PRAGMA integrity_check; PostgreSQL: the server's own start-up).
func TestCrashRecovery(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		arts := t.TempDir()
		args := []string{"--backend-store-uri", uri, "--artifacts-destination", arts}
		srv := startServer(t, nil, args...)
		srv.waitReady(t, 30*time.Second)
		hc := newHTTPClient(crashWriters)
		_, runs := createRuns(t, hc, srv.base, "crash", 4)

		acks := make([]crashAck, crashWriters)
		for g := range acks {
			acks[g] = crashAck{metrics: map[int64]bool{}, batches: map[int64]bool{}}
		}
		totalAcked, inFlightAtKill := 0, 0
		var mu sync.Mutex // guards acks, totalAcked and inFlightAtKill
		for round := 0; round < crashRounds; round++ {
			var wg sync.WaitGroup
			mu.Lock()
			roundStart := totalAcked
			mu.Unlock()
			stop := make(chan struct{})
			for g := 0; g < crashWriters; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					runID := runs[g%len(runs)]
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						step := int64(round*1000000 + i)
						var path string
						var body map[string]any
						if i%5 == 4 {
							path = "runs/log-batch"
							body = map[string]any{"run_id": runID,
								"metrics": []map[string]any{{"key": "k" + strconv.Itoa(g), "value": float64(step), "timestamp": step, "step": step}},
								"params":  []map[string]any{{"key": fmt.Sprintf("p%d_%d", g, step), "value": strconv.FormatInt(step, 10)}},
								"tags":    []map[string]any{{"key": fmt.Sprintf("t%d_%d", g, step), "value": strconv.FormatInt(step, 10)}},
							}
						} else {
							path = "runs/log-metric"
							body = map[string]any{"run_id": runID, "key": "k" + strconv.Itoa(g), "value": float64(step), "timestamp": step, "step": step}
						}
						st, b, err := post(hc, "POST", srv.base+"/api/2.0/mlflow/"+path, body)
						if err != nil {
							// The server is gone: this call's outcome is
							// unknown (it may or may not be stored).
							mu.Lock()
							inFlightAtKill++
							mu.Unlock()
							return
						}
						if st != 200 {
							t.Errorf("round %d writer %d: %s answered %d %s before the kill", round, g, path, st, b)
							return
						}
						mu.Lock()
						acks[g].metrics[step] = true
						if i%5 == 4 {
							acks[g].batches[step] = true
						}
						totalAcked++
						mu.Unlock()
					}
				}(g)
			}
			// Kill in the middle of the load: once this round has had a
			// random number (200 to 1,000) of writes acknowledged, while
			// the writers keep sending.
			killAt := roundStart + 200 + rand.IntN(800)
			for {
				mu.Lock()
				n, failed := totalAcked, t.Failed()
				mu.Unlock()
				if n >= killAt || failed {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if err := srv.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-srv.done
			close(stop)
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			if totalAcked < killAt {
				t.Fatalf("round %d: killed after %d acknowledged writes, want %d", round+1, totalAcked-roundStart, killAt-roundStart)
			}

			srv = startServer(t, nil, args...)
			srv.waitReady(t, 60*time.Second)
			verifyCrash(t, hc, srv.base, runs, acks)
			t.Logf("round %d: killed and restarted; %d writes acknowledged so far, all there", round+1, totalAcked)
		}
		t.Logf("%d kills, %d acknowledged writes verified, %d calls cut by a kill (outcome unknown, stored at most once)", crashRounds, totalAcked, inFlightAtKill)
		srv.stop()
		checkIntegrity(t, uri)
	})
}

// verifyCrash checks that every acknowledged write is stored exactly once.
func verifyCrash(t *testing.T, client *http.Client, base string, runs []string, acks []crashAck) {
	t.Helper()
	params := map[string]map[string]string{}
	tags := map[string]map[string]string{}
	for _, runID := range runs {
		run := getRun(t, client, base, runID)
		params[runID], tags[runID] = map[string]string{}, map[string]string{}
		for _, p := range run.Data.Params {
			params[runID][p.Key] = p.Value
		}
		for _, tg := range run.Data.Tags {
			tags[runID][tg.Key] = tg.Value
		}
	}
	for g, a := range acks {
		runID := runs[g%len(runs)]
		seen := map[int64]int{}
		for _, p := range history(t, client, base, runID, "k"+strconv.Itoa(g)) {
			seen[p.Step]++
			if p.Value != float64(p.Step) || p.Timestamp != p.Step {
				t.Errorf("writer %d: point step %d has value %v timestamp %d", g, p.Step, p.Value, p.Timestamp)
			}
		}
		for step, n := range seen {
			if n != 1 {
				t.Errorf("writer %d: step %d stored %d times", g, step, n)
			}
		}
		for step := range a.metrics {
			if seen[step] != 1 {
				t.Errorf("writer %d: acknowledged point step %d lost after the kill", g, step)
			}
		}
		for step := range a.batches {
			v := strconv.FormatInt(step, 10)
			if got := params[runID][fmt.Sprintf("p%d_%d", g, step)]; got != v {
				t.Errorf("writer %d: acknowledged param of step %d = %q after the kill", g, step, got)
			}
			if got := tags[runID][fmt.Sprintf("t%d_%d", g, step)]; got != v {
				t.Errorf("writer %d: acknowledged tag of step %d = %q after the kill", g, step, got)
			}
		}
	}
}

// checkIntegrity opens the database directly after the last restart and
// stop: SQLite's integrity check must say ok; PostgreSQL must answer and
// hold no invalid index.
func checkIntegrity(t *testing.T, uri string) {
	t.Helper()
	if path, ok := strings.CutPrefix(uri, "sqlite:///"); ok {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var res string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
			t.Errorf("SQLite integrity_check: %q %v", res, err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var invalid int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_index WHERE NOT indisvalid").Scan(&invalid); err != nil || invalid != 0 {
		t.Errorf("PostgreSQL: %d invalid indexes (%v)", invalid, err)
	}
}
