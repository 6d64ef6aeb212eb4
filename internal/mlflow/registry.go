package mlflow

import (
	"regexp"
	"strconv"
	"strings"
)

// Model version stages. StageDeletedInternal marks a deleted version: MLflow
// keeps the row (so that version numbers are never reused) and hides it.
const (
	StageNone            = "None"
	StageStaging         = "Staging"
	StageProduction      = "Production"
	StageArchived        = "Archived"
	StageDeletedInternal = "Deleted_Internal"
)

// ModelVersionReady is the status of every model version mltrack and MLflow's
// SQL store create (PENDING_REGISTRATION and FAILED_REGISTRATION exist in the
// proto but are never set by them).
const ModelVersionReady = "READY"

// Registry limits from MLflow's model registry.
const (
	MaxResultsRegisteredModels     = 1000
	DefaultResultsRegisteredModels = 100
	MaxResultsModelVersions        = 200000
	DefaultResultsModelVersions    = 10000
	MaxModelDescriptionLength      = 5000
	// TagIsPrompt marks a registered model that is an MLflow prompt; searches
	// leave prompts out unless the filter asks for them.
	TagIsPrompt = "mlflow.prompt.is_prompt"
)

// RegisteredModelAlias is an alias pointing at a version.
type RegisteredModelAlias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is MLflow's RegisteredModel message. An empty description
// is left out, as MLflow does.
type RegisteredModel struct {
	Aliases              []RegisteredModelAlias `json:"aliases,omitempty"`
	CreationTimestamp    int64                  `json:"creation_timestamp,omitempty"`
	Description          string                 `json:"description,omitempty"`
	LastUpdatedTimestamp int64                  `json:"last_updated_timestamp,omitempty"`
	LatestVersions       []ModelVersion         `json:"latest_versions,omitempty"`
	Name                 string                 `json:"name"`
	Tags                 []Tag                  `json:"tags,omitempty"`
}

// ModelVersion is MLflow's ModelVersion message. Version is a string on the
// wire; description, run_id and run_link are written even when empty.
type ModelVersion struct {
	Aliases              []string `json:"aliases,omitempty"`
	CreationTimestamp    int64    `json:"creation_timestamp"`
	CurrentStage         string   `json:"current_stage"`
	Description          string   `json:"description"`
	LastUpdatedTimestamp int64    `json:"last_updated_timestamp"`
	Name                 string   `json:"name"`
	RunID                string   `json:"run_id"`
	RunLink              string   `json:"run_link"`
	Source               string   `json:"source"`
	Status               string   `json:"status"`
	StatusMessage        string   `json:"status_message,omitempty"`
	Tags                 []Tag    `json:"tags,omitempty"`
	UserID               string   `json:"user_id,omitempty"`
	Version              string   `json:"version"`
}

// CanonicalStage maps a stage name, in any case, to MLflow's spelling. It
// returns INVALID_PARAMETER_VALUE for anything else.
func CanonicalStage(stage string) (string, error) {
	for _, s := range []string{StageNone, StageStaging, StageProduction, StageArchived} {
		if strings.EqualFold(stage, s) {
			return s, nil
		}
	}
	return "", InvalidParam("Invalid Model Version stage: %s. Value must be one of %s, %s, %s, %s.", stage, StageNone, StageStaging, StageProduction, StageArchived)
}

// ParseModelVersion parses a version number given as a request field.
func ParseModelVersion(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, InvalidParam("Parameter 'version' must be an integer, got '%s'.", v)
	}
	return n, nil
}

// RegisteredModelNotFound is MLflow's message for an unknown registered model.
func RegisteredModelNotFound(name string) *Error {
	return NotFound("Registered Model with name=%s not found", name)
}

// ModelVersionNotFound is MLflow's message for an unknown model version.
func ModelVersionNotFound(name string, version any) *Error {
	return NotFound("Model Version (name=%s, version=%v) not found", name, version)
}

// RegisteredModelExists is MLflow's message for a duplicate name.
func RegisteredModelExists(name string) *Error {
	return Errorf(ResourceAlreadyExists, "Registered Model (name=%s) already exists.", name)
}

// ValidateModelName checks a registered model name: MLflow only requires it
// to be non-empty.
func ValidateModelName(name string) error {
	if name == "" {
		return MissingParam("name")
	}
	return nil
}

var aliasPattern = regexp.MustCompile(`^[\w\-]*$`)
var versionAliasPattern = regexp.MustCompile(`^[vV]\d+$`)

// ValidateAlias checks an alias name (characters and length).
func ValidateAlias(alias string) error {
	if alias == "" || !aliasPattern.MatchString(alias) {
		return InvalidParam("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias)
	}
	return ValidateLength("alias", alias, 255)
}

// ValidateAliasNotReserved rejects "latest" and "v<number>", which model URIs
// give their own meaning.
func ValidateAliasNotReserved(alias string) error {
	if strings.EqualFold(alias, "latest") {
		return InvalidParam("'latest' alias name (case insensitive) is reserved.")
	}
	if versionAliasPattern.MatchString(alias) {
		return InvalidParam("Version alias name '%s' is reserved.", alias)
	}
	return nil
}

// ValidateRegistryTag checks a registered model or model version tag; the
// registered_model_tags.value column holds 5000 characters.
func ValidateRegistryTag(t Tag, maxValue int) error {
	if t.Key == "" {
		return MissingParam("key")
	}
	if err := ValidateKey(t.Key, "key"); err != nil {
		return err
	}
	if err := ValidateLength("key", t.Key, MaxEntityKeyLength); err != nil {
		return err
	}
	return ValidateLength("value", t.Value, maxValue)
}

// ModelURI is a parsed models:/ URI: either a logged model id
// (models:/m-...) or a registered model with a version, an alias or a stage.
type ModelURI struct {
	ModelID string
	Name    string
	Version string // a number
	Alias   string
	Stage   string // "latest" or a stage name
}

// ParseModelsURI parses models:/<model_id>, models:/<name>/<version>,
// models:/<name>/<stage>, models:/<name>/latest and models:/<name>@<alias>.
func ParseModelsURI(uri string) (ModelURI, bool) {
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return ModelURI{}, false
	}
	rest = strings.TrimLeft(rest, "/")
	rest = strings.TrimRight(rest, "/")
	if rest == "" {
		return ModelURI{}, false
	}
	if name, alias, ok := strings.Cut(rest, "@"); ok && !strings.Contains(alias, "/") {
		return ModelURI{Name: name, Alias: alias}, name != "" && alias != ""
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		// A bare id: MLflow 3's logged model URI.
		return ModelURI{ModelID: rest}, true
	}
	name, suffix := rest[:i], rest[i+1:]
	if _, err := strconv.ParseInt(suffix, 10, 64); err == nil {
		return ModelURI{Name: name, Version: suffix}, true
	}
	return ModelURI{Name: name, Stage: suffix}, true
}

// UnfetchableModelSource is MLflow's refusal of a models:/ version source
// that does not resolve; cause says why (the model does not exist, ...).
func UnfetchableModelSource(source string, cause error) *Error {
	msg := cause.Error()
	if e, ok := AsError(cause); ok {
		msg = e.Message
	}
	return InvalidParam("Unable to fetch model from model URI source artifact location '%s'. Error: %s", source, msg)
}

// IsPromptRequest reports whether tags carry the prompt marker, as
// MLflow's _is_prompt_request (the key alone counts).
func IsPromptRequest(tags []Tag) bool {
	for _, t := range tags {
		if t.Key == TagIsPrompt {
			return true
		}
	}
	return false
}
