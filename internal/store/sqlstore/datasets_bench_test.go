package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

func benchRecords(b *testing.B, from, n int) []store.DatasetRecordInput {
	b.Helper()
	out := make([]store.DatasetRecordInput, n)
	for i := range out {
		in, _, _ := mlflow.ParseObject(json.RawMessage(fmt.Sprintf(`{"question": "What is item %d?", "context": "some context text for the record"}`, from+i)))
		exp, _, _ := mlflow.ParseObject(json.RawMessage(fmt.Sprintf(`{"expected_answer": "answer %d", "score": 0.5}`, from+i)))
		tags, _, _ := mlflow.ParseObject(json.RawMessage(`{"mlflow.user": "bench"}`))
		out[i] = store.DatasetRecordInput{Inputs: in, Expectations: exp, Tags: tags}
	}
	return out
}

func benchUpsert(b *testing.B, s *sqlstore.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, err := s.CreateDataset(ctx, "bench", nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		batches := make([][]store.DatasetRecordInput, 10)
		for j := range batches {
			batches[j] = benchRecords(b, j*1000, 1000)
		}
		b.StartTimer()
		for _, batch := range batches {
			if _, _, err := s.UpsertDatasetRecords(ctx, d.DatasetID, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/10k-records")
}

// BenchmarkDatasetUpsert10k inserts 10,000 new records in batches of 1,000
// (issue 15's target: at most 1 s on SQLite).
func BenchmarkDatasetUpsert10k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchUpsert(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchUpsert(b, openPostgres(b)) })
}

// BenchmarkDatasetRead100k reads a 100,000-record dataset page by page
// (1,000 a page, as the client's to_df) (target: at most 1 s).
func BenchmarkDatasetRead100k(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", func(tb testing.TB) *sqlstore.Store { return openSQLite(tb) }}, {"postgres", func(tb testing.TB) *sqlstore.Store { return openPostgres(tb) }}} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			ctx := context.Background()
			d, err := s.CreateDataset(ctx, "bench", nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j < 100; j++ {
				if _, _, err := s.UpsertDatasetRecords(ctx, d.DatasetID, benchRecords(b, j*1000, 1000)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				token, n := "", 0
				for {
					rs, next, err := s.DatasetRecords(ctx, d.DatasetID, 1000, token)
					if err != nil {
						b.Fatal(err)
					}
					n += len(rs)
					if next == "" {
						break
					}
					token = next
				}
				if n != 100000 {
					b.Fatalf("read %d records", n)
				}
			}
		})
	}
}
