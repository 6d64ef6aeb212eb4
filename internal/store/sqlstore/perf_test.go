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
