package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/testdb"
)

// BenchmarkPGLogBatchCeiling compares, on PostgreSQL, a log-batch of 1000
// points through the store (points, latest values and the run's state in
// one statement) with the raw ceilings of writing the same points into
// metrics alone: the same unnest INSERT, and COPY.
func BenchmarkPGLogBatchCeiling(b *testing.B) {
	s, err := Open(context.Background(), testdb.PostgresURI(b), Options{MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "ceiling"})
	if err != nil {
		b.Fatal(err)
	}
	run := r.Info.RunID
	step := int64(0)
	batch := func() []mlflow.Metric {
		ms := make([]mlflow.Metric, 1000)
		for j := range ms {
			ms[j] = mlflow.Metric{Key: fmt.Sprintf("m%d", j%10), Value: mlflow.Float(j), Timestamp: 1, Step: step + int64(j/10)}
		}
		step += 100
		return ms
	}
	raw := func(b *testing.B, fn func(c *pgx.Conn, ms []mlflow.Metric) error) {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		for b.Loop() {
			ms := batch()
			if err := conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn(), ms) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
	}
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if err := s.LogBatch(ctx, run, batch(), nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("insert-unnest", func(b *testing.B) {
		raw(b, func(c *pgx.Conn, ms []mlflow.Metric) error {
			var rs, ks []string
			var vs []float64
			var ts, ss []int64
			var ns []bool
			for _, m := range ms {
				rs, ks, vs, ts, ss, ns = append(rs, run), append(ks, m.Key), append(vs, float64(m.Value)), append(ts, m.Timestamp), append(ss, m.Step), append(ns, false)
			}
			_, err := c.Exec(ctx, metricsInsert+` SELECT p.k, p.v, p.t, p.r, p.s, p.n FROM unnest($1::text[], $2::text[], $3::float8[], $4::int8[], $5::int8[], $6::bool[]) AS p (r, k, v, t, s, n)`+metricsInsertTail, rs, ks, vs, ts, ss, ns)
			return err
		})
	})
	b.Run("copy", func(b *testing.B) {
		raw(b, func(c *pgx.Conn, ms []mlflow.Metric) error {
			rows := make([][]any, len(ms))
			for i, m := range ms {
				rows[i] = []any{m.Key, float64(m.Value), m.Timestamp, run, m.Step, false}
			}
			_, err := c.CopyFrom(ctx, pgx.Identifier{"metrics"}, []string{"key", "value", "timestamp", "run_uuid", "step", "is_nan"}, pgx.CopyFromRows(rows))
			return err
		})
	})
}
