package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

func benchRun(b *testing.B, s *sqlstore.Store) (exp, run string) {
	b.Helper()
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "bench", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "r", StartTime: 1})
	if err != nil {
		b.Fatal(err)
	}
	return exp, r.Info.RunID
}

// BenchmarkLogBatch logs batches of 1000 metric points (10 keys x 100
// steps) to one run; points/s is the target figure.
func BenchmarkLogBatch(b *testing.B) {
	s := openSQLite(b)
	_, run := benchRun(b, s)
	ctx := context.Background()
	batch := make([]mlflow.Metric, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j] = mlflow.Metric{Key: fmt.Sprintf("m%d", j%10), Value: mlflow.Float(j), Timestamp: int64(i), Step: int64(i*100 + j/10)}
		}
		if err := s.LogBatch(ctx, run, batch, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkCreateRun creates runs in one experiment.
func BenchmarkCreateRun(b *testing.B) {
	s := openSQLite(b)
	exp, _ := benchRun(b, s)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(i), Tags: []mlflow.Tag{{Key: "mlflow.user", Value: "u"}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkSearchRuns reads a filtered, metric-ordered page of 100 runs out
// of 2,000 (each with 5 metrics, 5 params, 3 tags).
func BenchmarkSearchRuns(b *testing.B) {
	s := openSQLite(b)
	exp, _ := benchRun(b, s)
	ctx := context.Background()
	for i := 0; i < 2000; i++ {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		var ms []mlflow.Metric
		var ps, ts []mlflow.Tag
		for k := 0; k < 5; k++ {
			ms = append(ms, mlflow.Metric{Key: fmt.Sprintf("metric_%d", k), Value: mlflow.Float((i*7919 + k) % 1000), Timestamp: 1})
			ps = append(ps, mlflow.Tag{Key: fmt.Sprintf("param_%d", k), Value: fmt.Sprint(i % (k + 2))})
		}
		ts = append(ts, mlflow.Tag{Key: "team", Value: []string{"a", "b", "c"}[i%3]})
		if err := s.LogBatch(ctx, r.Info.RunID, ms, ps, ts); err != nil {
			b.Fatal(err)
		}
	}
	q := store.RunQuery{
		ExperimentIDs: []string{exp},
		Filter: []search.Comparison{
			{Entity: "metric", Key: "metric_0", Op: ">", Value: search.Value{Num: 100, IsNum: true}},
			{Entity: "param", Key: "param_0", Op: "=", Value: search.Value{Str: "0"}},
		},
		OrderBy: []search.OrderKey{{Entity: "metric", Key: "metric_1", Desc: true}},
		Page:    store.Page{MaxResults: 100},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs, _, err := s.SearchRuns(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(runs) != 100 {
			b.Fatalf("page of %d runs", len(runs))
		}
	}
}

// BenchmarkGetRun reads a run with 500 params and 500 metrics.
func BenchmarkGetRun(b *testing.B) {
	s := openSQLite(b)
	_, run := benchRun(b, s)
	ctx := context.Background()
	for chunk := 0; chunk < 5; chunk++ {
		var ms []mlflow.Metric
		var ps []mlflow.Tag
		for k := 0; k < 100; k++ {
			n := chunk*100 + k
			ms = append(ms, mlflow.Metric{Key: fmt.Sprintf("metric_%d", n), Value: mlflow.Float(n), Timestamp: 1})
			ps = append(ps, mlflow.Tag{Key: fmt.Sprintf("param_%d", n), Value: fmt.Sprint(n)})
		}
		if err := s.LogBatch(ctx, run, ms, ps, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.GetRun(ctx, run)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Data.Metrics) != 500 || len(r.Data.Params) != 500 {
			b.Fatal("incomplete run")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkDownsample downsamples a 1,000,000-point metric to 2000
// buckets along steps (mltrack's get-history-downsampled).
func BenchmarkDownsample(b *testing.B) {
	s := openSQLite(b)
	_, run := benchRun(b, s)
	ctx := context.Background()
	batch := make([]mlflow.Metric, 1000)
	for i := 0; i < 1000; i++ {
		for j := range batch {
			n := int64(i*1000 + j)
			batch[j] = mlflow.Metric{Key: "loss", Value: mlflow.Float(float64(n%997) / 997), Timestamp: 1700000000000 + n, Step: n}
		}
		if err := s.LogBatch(ctx, run, batch, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	for _, x := range []string{"step", "timestamp"} {
		b.Run(x, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res, err := s.MetricHistoryDownsampled(ctx, store.DownsampleQuery{RunIDs: []string{run}, Key: "loss", MaxPoints: 2000, X: x})
				if err != nil {
					b.Fatal(err)
				}
				if !res.Downsampled || res.Total[run] != 1000000 {
					b.Fatalf("%+v", res.Total)
				}
			}
		})
	}
}
