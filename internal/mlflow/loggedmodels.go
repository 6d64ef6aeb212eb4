package mlflow

import (
	"encoding/json"
	"strconv"
	"strings"
)

// LoggedModelStatus is MLflow's LoggedModelStatus enum; the SQL column
// logged_models.status holds its number.
type LoggedModelStatus int

// The logged model statuses, numbered as in MLflow's proto.
const (
	LoggedModelStatusUnspecified LoggedModelStatus = 0
	LoggedModelPending           LoggedModelStatus = 1
	LoggedModelReady             LoggedModelStatus = 2
	LoggedModelUploadFailed      LoggedModelStatus = 3
)

var loggedModelStatusNames = []string{
	"LOGGED_MODEL_STATUS_UNSPECIFIED",
	"LOGGED_MODEL_PENDING",
	"LOGGED_MODEL_READY",
	"LOGGED_MODEL_UPLOAD_FAILED",
}

// String is the proto name of the status.
func (s LoggedModelStatus) String() string {
	if s >= 0 && int(s) < len(loggedModelStatusNames) {
		return loggedModelStatusNames[s]
	}
	return loggedModelStatusNames[0]
}

// ParseLoggedModelStatus accepts a proto name or its number (as protobuf JSON
// does).
func ParseLoggedModelStatus(v string) (LoggedModelStatus, bool) {
	for i, n := range loggedModelStatusNames {
		if v == n {
			return LoggedModelStatus(i), true
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 && n < len(loggedModelStatusNames) {
		return LoggedModelStatus(n), true
	}
	return 0, false
}

// MarshalJSON writes the proto name.
func (s LoggedModelStatus) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LoggedModelPrefix starts every logged model id: "m-" and 32 hex digits.
const LoggedModelPrefix = "m-"

// LoggedModelInfo is MLflow's LoggedModelInfo message. model_type and
// source_run_id are written even when empty, as MLflow does.
type LoggedModelInfo struct {
	ArtifactURI            string            `json:"artifact_uri"`
	CreationTimestampMs    int64             `json:"creation_timestamp_ms"`
	ExperimentID           string            `json:"experiment_id"`
	LastUpdatedTimestampMs int64             `json:"last_updated_timestamp_ms"`
	ModelID                string            `json:"model_id"`
	ModelType              string            `json:"model_type"`
	Name                   string            `json:"name"`
	SourceRunID            string            `json:"source_run_id"`
	Status                 LoggedModelStatus `json:"status"`
	StatusMessage          string            `json:"status_message,omitempty"`
	Tags                   []Tag             `json:"tags,omitempty"`
}

// LoggedModelData holds a logged model's metrics and params.
type LoggedModelData struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Tag    `json:"params,omitempty"`
}

// LoggedModel is MLflow's LoggedModel message.
type LoggedModel struct {
	Data LoggedModelData `json:"data"`
	Info LoggedModelInfo `json:"info"`
}

// LoggedModelNotFound is MLflow's message for an unknown (or deleted) logged model.
func LoggedModelNotFound(id string) *Error {
	return NotFound("Logged model with ID '%s' not found.", id)
}

// LoggedModelArtifactLocation is where a logged model's files go:
// <experiment artifact location>/models/<model_id>/artifacts.
func LoggedModelArtifactLocation(experimentLocation, modelID string) string {
	return AppendURIPath(experimentLocation, "models", modelID, "artifacts")
}
