package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/testdb"
)

// TestMetricGroupPostgres runs one merged metric statement for requests on
// an active run (two of them, with overlapping points and keys), a deleted
// run, a missing run and one that PostgreSQL refuses (a key longer than
// the column): each gets its own answer, and only the good ones write.
func TestMetricGroupPostgres(t *testing.T) {
	s, err := Open(context.Background(), testdb.PostgresURI(t), Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	run := func() string {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Info.RunID
	}
	active, deleted := run(), run()
	if err := s.DeleteRun(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	m := func(key string, v float64, step int64) mlflow.Metric {
		return mlflow.Metric{Key: key, Value: mlflow.Float(v), Timestamp: 10, Step: step}
	}
	reqs := []*metricReq{
		{runID: active, metrics: []mlflow.Metric{m("loss", 3, 1), m("acc", 0.5, 1)}},
		{runID: deleted, metrics: []mlflow.Metric{m("loss", 1, 1)}},
		{runID: active, metrics: []mlflow.Metric{m("loss", 2, 2), m("loss", 3, 1)}},
		{runID: "0123456789abcdef0123456789abcdef", metrics: []mlflow.Metric{m("loss", 1, 1)}},
		{runID: active, metrics: []mlflow.Metric{m(strings.Repeat("k", 300), 1, 1)}},
	}
	for _, r := range reqs {
		r.ctx, r.done = ctx, make(chan error, 1)
	}
	s.runMetricGroup(reqs)
	var got []error
	for _, r := range reqs {
		got = append(got, <-r.done)
	}
	code := func(err error) string {
		var e *mlflow.Error
		if errors.As(err, &e) {
			return string(e.Code)
		}
		if err != nil {
			return "other"
		}
		return "ok"
	}
	want := []string{"ok", string(mlflow.InvalidParameterValue), "ok", string(mlflow.ResourceDoesNotExist), "other"}
	for i := range want {
		if code(got[i]) != want[i] {
			t.Errorf("request %d: %v, want %s", i, got[i], want[i])
		}
	}
	r, err := s.GetRun(ctx, active)
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]mlflow.Metric{}
	for _, m := range r.Data.Metrics {
		latest[m.Key] = m
	}
	if len(latest) != 2 || latest["loss"].Step != 2 || latest["loss"].Value != 2 || latest["acc"].Value != 0.5 {
		t.Errorf("latest metrics %+v", r.Data.Metrics)
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM metrics").Scan(&n); err != nil || n != 3 {
		t.Errorf("%d points stored (%v), want 3", n, err)
	}
}
