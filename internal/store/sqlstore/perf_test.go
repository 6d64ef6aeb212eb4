package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

func eachDialect(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t)) })
}

// TestMetricHistoryAfter pages a history with ties on (timestamp, step)
// and NaN values by keyset (HistoryQuery.After), one to five points at a
// time, and checks the pages add up to the whole history in order.
func TestMetricHistoryAfter(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "after"})
		if err != nil {
			t.Fatal(err)
		}
		var batch []mlflow.Metric
		for i := 0; i < 6; i++ {
			for _, v := range []float64{3, math.NaN(), 0, -2, math.Inf(-1)} {
				batch = append(batch, mlflow.Metric{Key: "m", Value: mlflow.Float(v), Timestamp: int64(10 + i/2), Step: int64(i % 3)})
			}
		}
		if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
			t.Fatal(err)
		}
		read := func(q store.HistoryQuery) []mlflow.Metric {
			var out []mlflow.Metric
			if err := s.MetricHistory(ctx, q, func(m mlflow.Metric) error { out = append(out, m); return nil }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		all := read(store.HistoryQuery{RunID: r.Info.RunID, Key: "m"})
		if len(all) != len(batch) {
			t.Fatalf("%d points, want %d", len(all), len(batch))
		}
		want := fmt.Sprint(all)
		for size := 1; size <= 5; size++ {
			var got []mlflow.Metric
			q := store.HistoryQuery{RunID: r.Info.RunID, Key: "m", Limit: size}
			for {
				page := read(q)
				got = append(got, page...)
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				v, isNaN := mlflow.StoredMetricValue(float64(last.Value))
				q.After = &store.MetricCursor{Timestamp: last.Timestamp, Step: last.Step, Value: v, IsNaN: isNaN}
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("pages of %d:\n got %v\nwant %v", size, got, want)
			}
		}
	})
}

// TestDownsampled checks the downsampled history on both dialects: totals,
// equal-width buckets that keep spikes and the ends, ranges, NaN.
func TestDownsampled(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "ds"})
		if err != nil {
			t.Fatal(err)
		}
		var batch []mlflow.Metric
		for i := 0; i < 3000; i++ {
			v := 1.0
			switch i {
			case 1234:
				v = 50
			case 2345:
				v = -50
			case 777:
				v = math.NaN()
			}
			batch = append(batch, mlflow.Metric{Key: "m", Value: mlflow.Float(v), Timestamp: 5000 + int64(i)*3, Step: int64(i)})
		}
		if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, x := range []string{"step", "timestamp"} {
			res, err := s.MetricHistoryDownsampled(ctx, store.DownsampleQuery{RunIDs: []string{r.Info.RunID}, Key: "m", MaxPoints: 30, X: x})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Downsampled || res.Total[r.Info.RunID] != 3000 {
				t.Fatalf("by %s: downsampled %v, total %v", x, res.Downsampled, res.Total)
			}
			var spikes []int64
			for i, m := range res.Points {
				if i > 0 && m.Step <= res.Points[i-1].Step {
					t.Fatalf("by %s: out of order at %d", x, i)
				}
				if v := float64(m.Value); v == 50 || v == -50 {
					spikes = append(spikes, m.Step)
				}
			}
			first, last := res.Points[0], res.Points[len(res.Points)-1]
			if fmt.Sprint(spikes) != "[1234 2345]" || first.Step != 0 || last.Step != 2999 || last.Timestamp != 5000+2999*3 || len(res.Points) > 4*30 || len(res.Points) < 60 {
				t.Fatalf("by %s: %d points, spikes %v, ends %+v %+v", x, len(res.Points), spikes, first, last)
			}
		}
		start, end := int64(100), int64(120)
		res, err := s.MetricHistoryDownsampled(ctx, store.DownsampleQuery{RunIDs: []string{r.Info.RunID}, Key: "m", MaxPoints: 30, X: "step", Start: &start, End: &end})
		if err != nil {
			t.Fatal(err)
		}
		if res.Downsampled || len(res.Points) != 21 || res.Points[0].Step != 100 || res.Points[20].Step != 120 {
			t.Fatalf("range: %+v", res)
		}
		if _, err := s.MetricHistoryDownsampled(ctx, store.DownsampleQuery{RunIDs: []string{"nope"}, Key: "m", MaxPoints: 30, X: "step"}); err == nil {
			t.Fatal("unknown run accepted")
		}
	})
}

// TestGroupCommitIsolation writes from many goroutines at once, some
// requests failing (a changed param, an unknown run): each failure must
// leave the others' writes in place, and every success must be readable
// as soon as it is answered.
func TestGroupCommitIsolation(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "group"})
	if err != nil {
		t.Fatal(err)
	}
	run := r.Info.RunID
	if err := s.LogBatch(ctx, run, nil, []mlflow.Tag{{Key: "p", Value: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	const n = 400
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			var err error
			switch i % 4 {
			case 0: // a param change: refused, and its metric with it
				err = s.LogBatch(ctx, run, []mlflow.Metric{{Key: "bad", Value: 1, Timestamp: int64(i), Step: int64(i)}}, []mlflow.Tag{{Key: "p", Value: "2"}}, nil)
				if err == nil {
					err = fmt.Errorf("request %d: param change accepted", i)
				} else {
					err = nil
				}
			case 1: // an unknown run
				if s.LogBatch(ctx, "0123456789abcdef0123456789abcdef", []mlflow.Metric{{Key: "m", Value: 1, Timestamp: 1}}, nil, nil) == nil {
					err = fmt.Errorf("request %d: unknown run accepted", i)
				}
			default:
				err = s.LogBatch(ctx, run, []mlflow.Metric{{Key: "m", Value: mlflow.Float(i), Timestamp: int64(i), Step: int64(i)}}, nil, nil)
				if err == nil {
					// Answered means committed: a reader sees it at once.
					found := false
					err = s.MetricHistory(ctx, store.HistoryQuery{RunID: run, Key: "m"}, func(m mlflow.Metric) error {
						found = found || m.Step == int64(i)
						return nil
					})
					if err == nil && !found {
						err = fmt.Errorf("request %d answered before its point is readable", i)
					}
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var good, bad int
	_ = s.MetricHistory(ctx, store.HistoryQuery{RunID: run, Key: "m"}, func(mlflow.Metric) error { good++; return nil })
	_ = s.MetricHistory(ctx, store.HistoryQuery{RunID: run, Key: "bad"}, func(mlflow.Metric) error { bad++; return nil })
	if good != n/2 || bad != 0 {
		t.Fatalf("%d good points (want %d), %d from refused requests", good, n/2, bad)
	}
}
