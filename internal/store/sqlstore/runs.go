package sqlstore

import (
	"context"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// Not written yet: the runs part of the tracking store.

func notYet() error { return mlflow.Errorf(mlflow.NotImplemented, "not implemented yet") }

// CreateRun is not written yet.
func (s *Store) CreateRun(ctx context.Context, r store.CreateRun) (*mlflow.Run, error) {
	return nil, notYet()
}

// GetRun is not written yet.
func (s *Store) GetRun(ctx context.Context, id string) (*mlflow.Run, error) { return nil, notYet() }

// UpdateRun is not written yet.
func (s *Store) UpdateRun(ctx context.Context, u store.UpdateRun) (*mlflow.RunInfo, error) {
	return nil, notYet()
}

// DeleteRun is not written yet.
func (s *Store) DeleteRun(ctx context.Context, id string) error { return notYet() }

// RestoreRun is not written yet.
func (s *Store) RestoreRun(ctx context.Context, id string) error { return notYet() }

// LogBatch is not written yet.
func (s *Store) LogBatch(ctx context.Context, runID string, metrics []mlflow.Metric, params, tags []mlflow.Tag) error {
	return notYet()
}

// DeleteTag is not written yet.
func (s *Store) DeleteTag(ctx context.Context, runID, key string) error { return notYet() }

// LogInputs is not written yet.
func (s *Store) LogInputs(ctx context.Context, runID string, datasets []mlflow.DatasetInput, models []mlflow.ModelInput) error {
	return notYet()
}

// LogOutputs is not written yet.
func (s *Store) LogOutputs(ctx context.Context, runID string, models []mlflow.ModelOutput) error {
	return notYet()
}

// SearchRuns is not written yet.
func (s *Store) SearchRuns(ctx context.Context, q store.RunQuery) ([]mlflow.Run, string, error) {
	return nil, "", notYet()
}

// MetricHistory is not written yet.
func (s *Store) MetricHistory(ctx context.Context, q store.HistoryQuery, fn func(mlflow.Metric) error) error {
	return notYet()
}

// MetricHistoryBulkInterval is not written yet.
func (s *Store) MetricHistoryBulkInterval(ctx context.Context, q store.BulkIntervalQuery) ([]mlflow.Metric, error) {
	return nil, notYet()
}

var _ store.Tracking = (*Store)(nil)
