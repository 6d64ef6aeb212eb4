package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// Written pages reach the database file soon after a write, though far
// fewer than the writer's own automatic checkpoint waits for: the
// background checkpointer copied them.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlflow.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:///"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	run, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", StartTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(500 * time.Millisecond) // the schema's own pages are checkpointed
	before := size()
	metrics := make([]mlflow.Metric, 1000)
	for i := range metrics {
		metrics[i] = mlflow.Metric{Key: "m" + strconv.Itoa(i%10), Value: mlflow.Float(i), Timestamp: int64(i), Step: int64(i)}
	}
	for range 5 {
		if err := s.LogBatch(ctx, run.Info.RunID, metrics, nil, nil); err != nil {
			t.Fatal(err)
		}
		for i := range metrics {
			metrics[i].Step += 1000
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 10 s after 5000 points were written: no checkpoint", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
