package sqlstore

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// BenchmarkSearchScale runs the search workloads of ../shared/bench on an
// experiment of N runs made as its create-runs makes them (10 params, lr
// cycling 0.001/0.01/0.1; 5 tags; 20 metrics, acc distinct per run), with
// keyset paging (plan=seek) and by offset alone (plan=offset, as before):
//
//   - filtered: filter "metrics.acc > 0.5 and params.lr = '0.01'", order
//     metrics.acc DESC, pages of 100; page = the first page, scan = every
//     page, following the page tokens;
//   - all: the same order without a filter, scan of every page;
//   - newest: no order (the runs table's default), the first page and a scan.
//
// N is MLTRACK_BENCH_RUNS (a comma-separated list; default 2000). With
// MLTRACK_BENCH_DIR set, the databases are kept there and reused.
//
//	MLTRACK_BENCH_RUNS=20000 MLTRACK_BENCH_DIR=/tmp/bench go test ./internal/store/sqlstore -run XXX -bench SearchScale -count 5
func BenchmarkSearchScale(b *testing.B) {
	sizes := os.Getenv("MLTRACK_BENCH_RUNS")
	if sizes == "" {
		sizes = "2000"
	}
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("runs="+f, func(b *testing.B) {
			s, exp := scaleStore(b, n)
			lr := search.Comparison{Entity: "param", Key: "lr", Op: "=", Value: search.Value{Str: "0.01"}}
			accGT := search.Comparison{Entity: "metric", Key: "acc", Op: ">", Value: search.Value{Num: 0.5, IsNum: true}}
			byAcc := []search.OrderKey{{Entity: "metric", Key: "acc", Desc: true}}
			work := []struct {
				name string
				q    store.RunQuery
				scan bool
			}{
				{"filtered-page", store.RunQuery{Filter: []search.Comparison{accGT, lr}, OrderBy: byAcc}, false},
				{"filtered-scan", store.RunQuery{Filter: []search.Comparison{accGT, lr}, OrderBy: byAcc}, true},
				{"all-scan", store.RunQuery{OrderBy: byAcc}, true},
				{"newest-page", store.RunQuery{}, false},
				{"newest-scan", store.RunQuery{}, true},
			}
			for _, w := range work {
				for _, plan := range []string{"seek", "offset"} {
					b.Run(w.name+"/plan="+plan, func(b *testing.B) {
						searchSeek = plan == "seek"
						defer func() { searchSeek = true }()
						q := w.q
						q.ExperimentIDs, q.ViewType = []string{exp}, store.ActiveOnly
						pages, n := 0, 0
						cpu0 := cpuTime()
						for b.Loop() {
							pages += scalePages(b, s, q, w.scan)
							n++
						}
						// CPU time moves less than wall time on a busy machine.
						cpu := cpuTime() - cpu0
						b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/op")
						if w.scan {
							b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(pages), "ms/page")
							b.ReportMetric(float64(cpu.Microseconds())/1000/float64(pages), "cpu-ms/page")
						}
					})
				}
			}
		})
	}
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scalePages reads the first page of q, or every page following the page
// tokens, and returns how many it read.
func scalePages(b *testing.B, s *Store, q store.RunQuery, all bool) int {
	ctx := context.Background()
	token := ""
	for pages := 1; ; pages++ {
		off, err := search.DecodeOffsetToken(token)
		if err != nil {
			b.Fatal(err)
		}
		q.Page, q.After = store.Page{MaxResults: 100, Offset: off}, search.DecodeRunCursor(token)
		runs, next, err := s.SearchRuns(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(runs) == 0 && pages == 1 {
			b.Fatal("no runs")
		}
		if !all || next == "" {
			return pages
		}
		token = next
	}
}

// scaleStore opens (and fills, the first time) a SQLite store with one
// experiment of n runs as ../shared/bench's create-runs makes them.
func scaleStore(b *testing.B, n int) (*Store, string) {
	b.Helper()
	dir := os.Getenv("MLTRACK_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("runs-%d.db", n))
	_, statErr := os.Stat(path)
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:///"+path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if statErr == nil {
		exps, _, err := s.SearchExperiments(ctx, store.ExperimentQuery{Filter: []search.Comparison{{Entity: "attribute", Key: "name", Op: "=", Value: search.Value{Str: "scale"}}}, ViewType: store.ActiveOnly, Page: store.Page{MaxResults: 1}})
		if err != nil || len(exps) != 1 {
			b.Fatalf("%s: no experiment 'scale' (%v): remove it", path, err)
		}
		return s, exps[0].ExperimentID
	}
	exp, err := s.CreateExperiment(ctx, "scale", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: fmt.Sprintf("run-%05d", i), StartTime: 1700000000000 + int64(i)})
				if err == nil {
					err = s.LogBatch(ctx, r.Info.RunID, scaleMetrics(i), scaleParams(i), scaleTags(i))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return s, exp
}

func scaleParams(i int) []mlflow.Tag {
	ps := []mlflow.Tag{{Key: "lr", Value: []string{"0.001", "0.01", "0.1"}[i%3]}}
	for k := 1; k < 10; k++ {
		ps = append(ps, mlflow.Tag{Key: fmt.Sprintf("p%d", k), Value: fmt.Sprintf("v%d-%d", k, i%7)})
	}
	return ps
}

func scaleTags(i int) []mlflow.Tag {
	var ts []mlflow.Tag
	for k := 0; k < 5; k++ {
		ts = append(ts, mlflow.Tag{Key: fmt.Sprintf("t%d", k), Value: fmt.Sprintf("tag-%d-%d", k, i%5)})
	}
	return ts
}

func scaleMetrics(i int) []mlflow.Metric {
	ms := []mlflow.Metric{{Key: "acc", Value: mlflow.Float(math.Mod(float64(i+1)*0.6180339887498949, 1)), Timestamp: 1}}
	for k := 1; k < 20; k++ {
		ms = append(ms, mlflow.Metric{Key: fmt.Sprintf("m%02d", k), Value: mlflow.Float(float64(i%100)/100 + float64(k)), Timestamp: 1})
	}
	return ms
}
