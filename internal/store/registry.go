package store

import (
	"context"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
)

// RegistryQuery is a parsed registered-models/search or model-versions/search request.
type RegistryQuery struct {
	Filter  []search.Comparison
	OrderBy []search.OrderKey
	Page    Page
}

// CreateModelVersion holds what model-versions/create gives.
type CreateModelVersion struct {
	Name        string
	Source      string
	RunID       string
	RunLink     string
	Description string
	ModelID     string
	Tags        []mlflow.Tag
}

// Registry is the model registry store: registered models, their versions,
// tags and aliases. Version numbers are handed out once per model, also
// across several servers on one database.
type Registry interface {
	CreateRegisteredModel(ctx context.Context, name, description string, tags []mlflow.Tag) (*mlflow.RegisteredModel, error)
	GetRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error)
	RenameRegisteredModel(ctx context.Context, name, newName string) (*mlflow.RegisteredModel, error)
	UpdateRegisteredModel(ctx context.Context, name, description string) (*mlflow.RegisteredModel, error)
	DeleteRegisteredModel(ctx context.Context, name string) error
	SearchRegisteredModels(ctx context.Context, q RegistryQuery) ([]mlflow.RegisteredModel, string, error)
	// GetLatestVersions returns the newest version of each of the stages
	// (of every stage when stages is empty).
	GetLatestVersions(ctx context.Context, name string, stages []string) ([]mlflow.ModelVersion, error)
	SetRegisteredModelTag(ctx context.Context, name string, tag mlflow.Tag) error
	DeleteRegisteredModelTag(ctx context.Context, name, key string) error
	SetRegisteredModelAlias(ctx context.Context, name, alias string, version int64) error
	DeleteRegisteredModelAlias(ctx context.Context, name, alias string) error
	GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error)

	CreateModelVersion(ctx context.Context, c CreateModelVersion) (*mlflow.ModelVersion, error)
	GetModelVersion(ctx context.Context, name string, version int64) (*mlflow.ModelVersion, error)
	UpdateModelVersion(ctx context.Context, name string, version int64, description string) (*mlflow.ModelVersion, error)
	DeleteModelVersion(ctx context.Context, name string, version int64) error
	// TransitionModelVersionStage moves a version to a stage; with archive,
	// the other versions in that stage move to Archived.
	TransitionModelVersionStage(ctx context.Context, name string, version int64, stage string, archive bool) (*mlflow.ModelVersion, error)
	GetModelVersionDownloadURI(ctx context.Context, name string, version int64) (string, error)
	SearchModelVersions(ctx context.Context, q RegistryQuery) ([]mlflow.ModelVersion, string, error)
	SetModelVersionTag(ctx context.Context, name string, version int64, tag mlflow.Tag) error
	DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error
}

// CreateLoggedModel holds what POST /logged-models gives.
type CreateLoggedModel struct {
	ExperimentID string
	Name         string
	ModelType    string
	SourceRunID  string
	Params       []mlflow.Tag
	Tags         []mlflow.Tag
}

// LoggedModelOrder is one order_by entry of logged-models/search: an
// attribute or "metrics.<key>", optionally restricted to a dataset.
type LoggedModelOrder struct {
	FieldName     string
	Ascending     bool
	DatasetName   string
	DatasetDigest string
}

// LoggedModelDataset restricts metric filters to metrics of a dataset.
type LoggedModelDataset struct {
	DatasetName   string
	DatasetDigest string
}

// LoggedModelQuery is a parsed logged-models/search request.
type LoggedModelQuery struct {
	ExperimentIDs []string
	Filter        []search.Comparison
	OrderBy       []LoggedModelOrder
	Datasets      []LoggedModelDataset
	Page          Page
}

// LoggedModels is the store of MLflow 3 logged models. Deleted models are
// not found.
type LoggedModels interface {
	CreateLoggedModel(ctx context.Context, c CreateLoggedModel) (*mlflow.LoggedModel, error)
	GetLoggedModel(ctx context.Context, id string) (*mlflow.LoggedModel, error)
	FinalizeLoggedModel(ctx context.Context, id string, status mlflow.LoggedModelStatus) (*mlflow.LoggedModel, error)
	// DeleteLoggedModel marks a model deleted; deleting it again is not an error.
	DeleteLoggedModel(ctx context.Context, id string) error
	// SearchLoggedModels returns a page of models and whether more follow.
	SearchLoggedModels(ctx context.Context, q LoggedModelQuery) ([]mlflow.LoggedModel, bool, error)
	SetLoggedModelTags(ctx context.Context, id string, tags []mlflow.Tag) error
	DeleteLoggedModelTag(ctx context.Context, id, key string) error
	LogLoggedModelParams(ctx context.Context, id string, params []mlflow.Tag) error
}
