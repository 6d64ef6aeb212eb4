package mlflow

// The tracking entities, shaped as MLflow's REST API writes them (field names
// from service.proto; fields in alphabetical order as MLflow's JSON has them;
// empty fields left out as MLflow leaves them out).

// Lifecycle stages of experiments, runs and logged models.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// Run statuses (RunStatus in service.proto).
const (
	RunRunning   = "RUNNING"
	RunScheduled = "SCHEDULED"
	RunFinished  = "FINISHED"
	RunFailed    = "FAILED"
	RunKilled    = "KILLED"
)

// Well-known tags.
const (
	TagRunName     = "mlflow.runName"
	TagParentRunID = "mlflow.parentRunId"
	TagUser        = "mlflow.user"
	TagNote        = "mlflow.note.content"
	TagGitCommit   = "mlflow.source.git.commit"
	TagSourceName  = "mlflow.source.name"
	TagSourceType  = "mlflow.source.type"
	// TagLoggedModels is the JSON list of models logged by the legacy
	// runs/log-model endpoint.
	TagLoggedModels = "mlflow.log-model.history"
)

// DefaultExperimentID is the id of the experiment MLflow creates with the schema.
const DefaultExperimentID = "0"

// Tag is a key/value pair: experiment tags, run tags, params, input tags.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is MLflow's Experiment message.
type Experiment struct {
	ArtifactLocation string `json:"artifact_location,omitempty"`
	CreationTime     int64  `json:"creation_time,omitempty"`
	ExperimentID     string `json:"experiment_id"`
	LastUpdateTime   int64  `json:"last_update_time,omitempty"`
	LifecycleStage   string `json:"lifecycle_stage,omitempty"`
	Name             string `json:"name"`
	Tags             []Tag  `json:"tags,omitempty"`
}

// Metric is one logged metric point. RunID, ModelID and the dataset fields
// are set where MLflow sets them (bulk-interval history, logged models).
type Metric struct {
	DatasetDigest string `json:"dataset_digest,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	Key           string `json:"key"`
	ModelID       string `json:"model_id,omitempty"`
	RunID         string `json:"run_id,omitempty"`
	Step          int64  `json:"step"`
	Timestamp     int64  `json:"timestamp"`
	Value         Float  `json:"value"`
}

// RunInfo is MLflow's RunInfo message. RunUUID repeats RunID (deprecated
// field MLflow still writes).
type RunInfo struct {
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	EndTime        *int64 `json:"end_time,omitempty"`
	ExperimentID   string `json:"experiment_id"`
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
	RunID          string `json:"run_id"`
	RunName        string `json:"run_name,omitempty"`
	RunUUID        string `json:"run_uuid"`
	StartTime      *int64 `json:"start_time,omitempty"`
	Status         string `json:"status,omitempty"`
	UserID         string `json:"user_id"`
}

// RunData holds a run's latest metrics, params and tags.
type RunData struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Tag    `json:"params,omitempty"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// Dataset is MLflow's Dataset message.
type Dataset struct {
	Digest     string `json:"digest"`
	Name       string `json:"name"`
	Profile    string `json:"profile,omitempty"`
	Schema     string `json:"schema,omitempty"`
	Source     string `json:"source"`
	SourceType string `json:"source_type"`
}

// DatasetSummary is MLflow's DatasetSummary message: a dataset some run of
// an experiment used, with the context its input was tagged with.
type DatasetSummary struct {
	ExperimentID string `json:"experiment_id"`
	Name         string `json:"name"`
	Digest       string `json:"digest"`
	Context      string `json:"context,omitempty"`
}

// DatasetInput links a dataset to a run, with input tags (e.g. mlflow.data.context).
type DatasetInput struct {
	Dataset Dataset `json:"dataset"`
	Tags    []Tag   `json:"tags,omitempty"`
}

// ModelInput links a logged model to a run as an input.
type ModelInput struct {
	ModelID string `json:"model_id"`
}

// ModelOutput links a logged model to a run as an output at a step.
type ModelOutput struct {
	ModelID string `json:"model_id"`
	Step    int64  `json:"step"`
}

// RunInputs is a run's inputs; MLflow writes it as {} when empty.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
	ModelInputs   []ModelInput   `json:"model_inputs,omitempty"`
}

// RunOutputs is a run's outputs; MLflow writes it as {} when empty.
type RunOutputs struct {
	ModelOutputs []ModelOutput `json:"model_outputs,omitempty"`
}

// Run is MLflow's Run message.
type Run struct {
	Data    RunData     `json:"data"`
	Info    RunInfo     `json:"info"`
	Inputs  RunInputs   `json:"inputs"`
	Outputs *RunOutputs `json:"outputs,omitempty"`
}
