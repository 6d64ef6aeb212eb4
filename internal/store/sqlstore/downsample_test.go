package sqlstore

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// TestDownsampleGuessedStepsSameResult checks that taking a history's step
// range from index seeks answers exactly what the MIN/MAX scan answers,
// including histories where the guess is wrong (a step below the earliest
// point's, a latest value that is not the greatest step) and the history is
// read again.
func TestDownsampleGuessedStepsSameResult(t *testing.T) {
	s, err := Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "d.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	histories := map[string]func(i int) (ts, step int64){
		"monotonic":          func(i int) (int64, int64) { return int64(1000 + i), int64(i) },
		"step below first":   func(i int) (int64, int64) { return int64(1000 + i), int64((i*37 + 5) % 2000) },
		"restarted steps":    func(i int) (int64, int64) { return int64(1000 + i), int64(i%700 - 100*(i/700)) },
		"same timestamp":     func(i int) (int64, int64) { return 5, int64(2000 - i) },
		"sparse large steps": func(i int) (int64, int64) { return int64(i), int64(i) * 1_000_003 },
	}
	for name, point := range histories {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: name})
		if err != nil {
			t.Fatal(err)
		}
		var batch []mlflow.Metric
		for i := 0; i < 2000; i++ {
			ts, step := point(i)
			v := math.Sin(float64(i) / 30)
			if i%401 == 0 {
				v = 100
			}
			batch = append(batch, mlflow.Metric{Key: "m", Value: mlflow.Float(v), Timestamp: ts, Step: step})
			if len(batch) == 1000 {
				if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
					t.Fatal(err)
				}
				batch = nil
			}
		}
		q := store.DownsampleQuery{RunIDs: []string{r.Info.RunID}, Key: "m", MaxPoints: 50, X: "step"}
		answer := func(guess bool) *store.Downsampled {
			downsampleGuessSteps = guess
			defer func() { downsampleGuessSteps = true }()
			res, err := s.MetricHistoryDownsampled(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		got, want := answer(true), answer(false)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: guessed range answered %d points, the scanned range %d\n%s\n%s", name, len(got.Points), len(want.Points), fmt.Sprint(got.Points), fmt.Sprint(want.Points))
		}
		if !want.Downsampled || want.Total[r.Info.RunID] != 2000 {
			t.Errorf("%s: %v points of %v, downsampled %v", name, len(want.Points), want.Total, want.Downsampled)
		}
	}
}
