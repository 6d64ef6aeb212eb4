package store

import (
	"context"
	"encoding/json"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
)

// DatasetQuery is a parsed datasets/search request.
type DatasetQuery struct {
	ExperimentIDs []string
	Filter        []search.Comparison
	OrderBy       []search.OrderKey
	Page          Page
}

// DatasetRecordInput is one record of a records upsert, as the client sent
// it: JSON objects (Inputs, Expectations, Tags, Source), Outputs any JSON
// value, nil when absent.
type DatasetRecordInput struct {
	Inputs       mlflow.Object
	Outputs      json.RawMessage
	HasOutputs   bool
	Expectations mlflow.Object
	Tags         mlflow.Object
	// Source is the record source object; SourceType and SourceID are
	// taken from it (source_data.trace_id for TRACE sources, else
	// source_data.source_id).
	Source     mlflow.Object
	SourceType string
	SourceID   string
}

// Datasets is the evaluation dataset store (MLflow 3's
// mlflow.genai.datasets): datasets, their tags, records and experiments.
type Datasets interface {
	CreateDataset(ctx context.Context, name string, tags []mlflow.Tag, experimentIDs []string) (*mlflow.EvaluationDataset, error)
	GetDataset(ctx context.Context, id string) (*mlflow.EvaluationDataset, error)
	// DeleteDataset removes a dataset, its records, tags and experiment
	// links; an unknown id is not an error (as MLflow).
	DeleteDataset(ctx context.Context, id string) error
	SearchEvaluationDatasets(ctx context.Context, q DatasetQuery) ([]mlflow.EvaluationDataset, string, error)
	SetDatasetTags(ctx context.Context, id string, tags []mlflow.Tag) error
	// DeleteDatasetTag is idempotent, also for an unknown dataset.
	DeleteDatasetTag(ctx context.Context, id, key string) error
	// UpsertDatasetRecords merges records by their inputs in one
	// transaction: a record whose inputs are already in the dataset gets
	// its expectations and tags updated (dict.update) and its outputs
	// replaced; others are inserted.
	UpsertDatasetRecords(ctx context.Context, id string, records []DatasetRecordInput) (inserted, updated int, err error)
	// DatasetRecords pages through records in (created_time, id) order;
	// the page token is MLflow's base64 "created_time:record_id" cursor.
	DatasetRecords(ctx context.Context, id string, maxResults int, pageToken string) ([]mlflow.DatasetRecord, string, error)
	DatasetExperimentIDs(ctx context.Context, id string) ([]string, error)
	AddDatasetToExperiments(ctx context.Context, id string, experimentIDs []string) (*mlflow.EvaluationDataset, error)
	RemoveDatasetFromExperiments(ctx context.Context, id string, experimentIDs []string) (*mlflow.EvaluationDataset, error)
}

// ScorerVersion is one registered version of a scorer.
type ScorerVersion struct {
	ExperimentID     int64
	ScorerName       string
	ScorerVersion    int64
	SerializedScorer string
	CreationTime     int64
	ScorerID         string
}

// Scorers is the registered scorer store, per experiment.
type Scorers interface {
	// RegisterScorer adds a new version of the named scorer (1 for a new name).
	RegisterScorer(ctx context.Context, experimentID, name, serialized string) (*ScorerVersion, error)
	// ListScorers returns the latest version of each scorer, by name.
	ListScorers(ctx context.Context, experimentID string) ([]ScorerVersion, error)
	ListScorerVersions(ctx context.Context, experimentID, name string) ([]ScorerVersion, error)
	// GetScorer returns a version, or the latest when version is nil.
	GetScorer(ctx context.Context, experimentID, name string, version *int64) (*ScorerVersion, error)
	// DeleteScorer deletes one version, or all (and the scorer) when version is nil.
	DeleteScorer(ctx context.Context, experimentID, name string, version *int64) error
}
