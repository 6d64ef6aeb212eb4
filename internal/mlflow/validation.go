package mlflow

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits from MLflow's mlflow/utils/validation.py.
const (
	MaxEntityKeyLength       = 250
	MaxParamValueLength      = 6000
	MaxTagValueLength        = 8000
	MaxExperimentTagValue    = 5000
	MaxExperimentNameLength  = 500
	MaxRunNameLength         = 250
	MaxParamsTagsPerBatch    = 100
	MaxMetricsPerBatch       = 1000
	MaxEntitiesPerBatch      = 1000
	MaxDatasetsPerBatch      = 1000
	MaxResultsSearchRuns     = 50000
	MaxResultsSearchExperim  = 50000
	DefaultSearchRunsResults = 1000
)

// MissingParam is MLflow's error for an absent required request field.
func MissingParam(name string) *Error {
	return InvalidParam("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", name)
}

// ParseExperimentID checks that an experiment id is an integer, as MLflow's
// SQL store needs. MLflow answers a 500 with Python's int() message here;
// mltrack answers the 400 it should be.
func ParseExperimentID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, InvalidParam("Invalid experiment id '%s': it must be an integer", id)
	}
	return n, nil
}

// ExperimentNotFound is MLflow's message for an unknown experiment id.
func ExperimentNotFound(id any) *Error {
	return NotFound("No Experiment with id=%v exists", id)
}

// RunNotFound is MLflow's message for an unknown run id.
func RunNotFound(id string) *Error {
	return NotFound("Run with id=%s not found", id)
}

func quoteValue(v string) string { return strconv.Quote(v) }

// InvalidValue is MLflow's "Invalid value X for parameter 'p' supplied: why" message.
func InvalidValue(value, param, why string) *Error {
	return InvalidParam("Invalid value %s for parameter '%s' supplied: %s", quoteValue(value), param, why)
}

const badCharsMessage = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."

// validName reports whether a metric, param or tag key has only the
// characters MLflow allows: word characters, / . - space and colon.
func validName(s string) bool {
	for _, r := range s {
		switch {
		case r == '/' || r == '.' || r == '-' || r == ' ' || r == ':' || r == '_':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			return false
		}
	}
	return true
}

// pathNotUnique is MLflow's check that a key, used as a file name, resolves
// to itself.
func pathNotUnique(name string) bool {
	norm := pyNormPath(name)
	return norm != name || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/")
}

// pyNormPath is Python's posixpath.normpath (which keeps a leading "//").
func pyNormPath(p string) string {
	if p == "" {
		return "."
	}
	if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
		return "/" + path.Clean(p)
	}
	return path.Clean(p)
}

// ValidateKey checks a metric, param or tag key; param is the request field
// named in the message ("key", "name", "metrics[0].name").
func ValidateKey(key, param string) error {
	if !validName(key) {
		return InvalidValue(key, param, badCharsMessage)
	}
	if pathNotUnique(key) {
		return InvalidValue(key, param, "Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '"+pyNormPath(key)+"'")
	}
	return nil
}

// ValidateTagKey checks a tag key given as the request field "key".
func ValidateTagKey(key string) error {
	if err := ValidateKey(key, "key"); err != nil {
		return err
	}
	return ValidateLength("Tag key", key, MaxEntityKeyLength)
}

// ValidateLength is MLflow's "'<what>' exceeds the maximum length of N characters".
func ValidateLength(what, v string, limit int) error {
	if utf8.RuneCountInString(v) > limit {
		return InvalidParam("'%s' exceeds the maximum length of %d characters", what, limit)
	}
	return nil
}

// Truncate cuts v to limit characters, as MLflow does to long param and
// run tag values.
func Truncate(v string, limit int) string {
	if len(v) <= limit {
		return v
	}
	n := 0
	for i := range v {
		if n == limit {
			return v[:i]
		}
		n++
	}
	return v
}

// ValidateExperimentName checks a new experiment name.
func ValidateExperimentName(name string) error {
	if utf8.RuneCountInString(name) > MaxExperimentNameLength {
		return InvalidParam("Experiment name exceeds the maximum length of %d characters", MaxExperimentNameLength)
	}
	return nil
}

// ValidateExperimentTagValue checks an experiment tag value (not truncated,
// unlike run tags).
func ValidateExperimentTagValue(v string) error {
	return ValidateLength("value", v, MaxExperimentTagValue)
}
