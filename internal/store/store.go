// Package store defines the storage interfaces the API needs. The SQL
// implementation lives in store/sqlstore; store/storetest is the conformance
// suite every implementation passes.
package store

import (
	"context"
	"encoding/json"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
)

// ViewType selects by lifecycle stage (MLflow's ViewType).
type ViewType int

// The view types, numbered as in MLflow's proto.
const (
	ActiveOnly  ViewType = 1
	DeletedOnly ViewType = 2
	All         ViewType = 3
)

// Page is the paging of a search: Offset comes from the decoded page token.
type Page struct {
	MaxResults int
	Offset     int
}

// ExperimentQuery is a parsed experiments/search request.
type ExperimentQuery struct {
	Filter   []search.Comparison
	OrderBy  []search.OrderKey
	ViewType ViewType
	Page     Page
}

// RunQuery is a parsed runs/search request.
type RunQuery struct {
	ExperimentIDs []string
	Filter        []search.Comparison
	OrderBy       []search.OrderKey
	ViewType      ViewType
	Page          Page
	// After is the cursor of mltrack's page token, when it has one: the
	// store seeks to it instead of skipping Page.Offset runs, when it
	// belongs to this search and its order is one the store seeks in.
	After *search.RunCursor
}

// CreateRun holds what runs/create gives.
type CreateRun struct {
	ExperimentID string
	UserID       string
	RunName      string
	StartTime    int64
	Tags         []mlflow.Tag
}

// UpdateRun holds what runs/update gives; nil fields are left unchanged.
type UpdateRun struct {
	RunID   string
	Status  *string
	EndTime *int64
	RunName *string
}

// HistoryQuery selects points of one metric of one run.
type HistoryQuery struct {
	RunID string
	Key   string
	// Offset and Limit page the history; Limit <= 0 means no limit.
	Offset int
	Limit  int
	// After, when set, continues right after that point (keyset paging,
	// from the page token) and Offset is ignored.
	After *MetricCursor
}

// MetricCursor is a point's position in history order: (timestamp, step,
// stored value, is_nan), unique within one metric of one run.
type MetricCursor struct {
	Timestamp int64
	Step      int64
	Value     float64
	IsNaN     bool
}

// BulkIntervalQuery is metrics/get-history-bulk-interval: the points of one
// metric over several runs, between two steps, sampled to MaxResults.
type BulkIntervalQuery struct {
	RunIDs     []string
	Key        string
	StartStep  *int64
	EndStep    *int64
	MaxResults int
}

// DownsampleQuery is mltrack's metrics/get-history-downsampled: one metric
// of several runs, at most MaxPoints buckets per run along X ("step" or
// "timestamp"), optionally within [Start, End] on that axis.
type DownsampleQuery struct {
	RunIDs    []string
	Key       string
	MaxPoints int
	X         string
	Start     *int64
	End       *int64
}

// Downsampled is the answer to a DownsampleQuery: the points kept, each
// with its RunID, per run in X order, runs in the order asked; Total is
// each run's number of points in range.
type Downsampled struct {
	Points      []mlflow.Metric
	Total       map[string]int64
	Downsampled bool
}

// MaxDatasetSummaries bounds SearchDatasets, as MLflow's SQL store does.
const MaxDatasetSummaries = 1000

// Tracking is the tracking store: experiments, runs, metrics, params, tags,
// inputs and outputs. Methods return *mlflow.Error values for conditions the
// client must see (not found, already exists, invalid state) and wrapped
// errors for anything else.
type Tracking interface {
	CreateExperiment(ctx context.Context, name, artifactLocation string, tags []mlflow.Tag) (string, error)
	GetExperiment(ctx context.Context, id string) (*mlflow.Experiment, error)
	GetExperimentByName(ctx context.Context, name string) (*mlflow.Experiment, error)
	SearchExperiments(ctx context.Context, q ExperimentQuery) ([]mlflow.Experiment, string, error)
	RenameExperiment(ctx context.Context, id, name string) error
	DeleteExperiment(ctx context.Context, id string) error
	RestoreExperiment(ctx context.Context, id string) error
	SetExperimentTag(ctx context.Context, id string, tag mlflow.Tag) error
	DeleteExperimentTag(ctx context.Context, id, key string) error

	CreateRun(ctx context.Context, r CreateRun) (*mlflow.Run, error)
	GetRun(ctx context.Context, id string) (*mlflow.Run, error)
	UpdateRun(ctx context.Context, u UpdateRun) (*mlflow.RunInfo, error)
	DeleteRun(ctx context.Context, id string) error
	RestoreRun(ctx context.Context, id string) error
	// LogBatch writes metrics, params and tags of one run in one transaction.
	LogBatch(ctx context.Context, runID string, metrics []mlflow.Metric, params, tags []mlflow.Tag) error
	DeleteTag(ctx context.Context, runID, key string) error
	LogInputs(ctx context.Context, runID string, datasets []mlflow.DatasetInput, models []mlflow.ModelInput) error
	LogOutputs(ctx context.Context, runID string, models []mlflow.ModelOutput) error
	SearchRuns(ctx context.Context, q RunQuery) ([]mlflow.Run, string, error)
	// SearchDatasets lists the distinct (experiment, dataset name, digest,
	// input context) of the datasets logged as inputs to runs of the
	// experiments, at most MaxDatasetSummaries of them.
	SearchDatasets(ctx context.Context, experimentIDs []string) ([]mlflow.DatasetSummary, error)
	// LogModelHistory appends to the run's mlflow.log-model.history tag
	// (the legacy runs/log-model endpoint).
	LogModelHistory(ctx context.Context, runID string, model json.RawMessage) error

	// MetricHistory calls fn for each point in (step, timestamp) order,
	// streaming from the database. It returns RESOURCE_DOES_NOT_EXIST for an
	// unknown run.
	MetricHistory(ctx context.Context, q HistoryQuery, fn func(mlflow.Metric) error) error
	MetricHistoryBulkInterval(ctx context.Context, q BulkIntervalQuery) ([]mlflow.Metric, error)
	// MetricHistoryDownsampled answers a DownsampleQuery: when a run has more
	// points in range than MaxPoints, the range is cut into MaxPoints
	// equal-width buckets and each keeps its first, lowest, highest and
	// last point; otherwise every point in range is kept. It returns
	// RESOURCE_DOES_NOT_EXIST for an unknown run.
	MetricHistoryDownsampled(ctx context.Context, q DownsampleQuery) (*Downsampled, error)
}
