package mlflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Trace states (TraceState in MLflow's protos), stored in trace_info.status.
const (
	TraceStateUnspecified = "STATE_UNSPECIFIED"
	TraceStateOK          = "OK"
	TraceStateError       = "ERROR"
	TraceStateInProgress  = "IN_PROGRESS"
)

// Trace tag and metadata keys MLflow's server writes or reads.
const (
	TraceTagArtifactLocation = "mlflow.artifactLocation"
	TraceTagSpansLocation    = "mlflow.trace.spansLocation"
	TraceTagName             = "mlflow.traceName"
	SpansLocationStore       = "TRACKING_STORE"
	TraceMetaSourceRun       = "mlflow.sourceRun"
	TraceMetaModelID         = "mlflow.modelId"
	TraceMetaSizeStats       = "mlflow.trace.sizeStats"
	SpanAttrRequestID        = "mlflow.traceRequestId"
	SpanAttrType             = "mlflow.spanType"
	SpanAttrInputs           = "mlflow.spanInputs"
	SpanAttrOutputs          = "mlflow.spanOutputs"
)

// Trace field limits of MLflow's schema and validation.
const (
	MaxTraceTagKey       = 250
	MaxTraceTagValue     = 8000
	MaxTracePreview      = 1000
	MaxAssessmentName    = 250
	MaxTraceIDLength     = 50
	MaxSearchTraceResult = 50000
)

// TraceInfo is a row of trace_info with its tags, request metadata and
// assessments (MLflow's TraceInfo, v3).
type TraceInfo struct {
	TraceID           string
	ExperimentID      string
	RequestTime       int64  // ms since the epoch (timestamp_ms)
	ExecutionDuration *int64 // ms (execution_time_ms)
	State             string
	ClientRequestID   *string
	RequestPreview    *string
	ResponsePreview   *string
	Tags              map[string]string
	Metadata          map[string]string
	Assessments       []Assessment
}

// Span is a row of spans: the indexed columns and the span's JSON content
// (MLflow's Span.to_dict with the attributes dumped once).
type Span struct {
	TraceID      string
	SpanID       string // 16 hex digits
	ParentSpanID string // "" for a root span
	Name         string
	Type         *string
	Status       string // OK, ERROR, UNSET
	Start        int64
	End          *int64
	Content      string
}

// Trace is a trace with its spans.
type Trace struct {
	Info  TraceInfo
	Spans []Span
}

// AssessmentSource says who made an assessment.
type AssessmentSource struct {
	SourceType string `json:"source_type"`
	SourceID   string `json:"source_id,omitempty"`
}

// Assessment is a row of assessments: a feedback or an expectation.
type Assessment struct {
	AssessmentID string
	TraceID      string
	Name         string
	Type         string // "feedback" or "expectation"
	// Value is the JSON text of the value (assessments.value).
	Value string
	// Error is the JSON text of a feedback's error, or "".
	Error          string
	CreateTime     int64
	LastUpdateTime int64
	Source         AssessmentSource
	RunID          string
	SpanID         string
	Rationale      *string
	Overrides      string
	Valid          bool
	// Metadata is the JSON text of the metadata object, or "".
	Metadata string
}

// TraceNotFound is MLflow's answer for an unknown trace id.
func TraceNotFound(id string) *Error {
	return NotFound("Trace with ID '%s' not found.", id)
}

// AssessmentNotFound is MLflow's answer for an unknown assessment.
func AssessmentNotFound(traceID, id string) *Error {
	return NotFound("Assessment with ID '%s' not found for trace '%s'", id, traceID)
}

// FormatProtoTimestamp writes ms as protobuf JSON writes a Timestamp:
// RFC 3339 in UTC with 0 or 3 fractional digits.
func FormatProtoTimestamp(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// ParseProtoTimestamp reads a protobuf JSON Timestamp into ms.
func ParseProtoTimestamp(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// FormatProtoDuration writes ms as protobuf JSON writes a Duration ("0.072s", "3s").
func FormatProtoDuration(ms int64) string {
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	if ms%1000 == 0 {
		return fmt.Sprintf("%s%ds", sign, ms/1000)
	}
	return fmt.Sprintf("%s%d.%03ds", sign, ms/1000, ms%1000)
}

// ParseProtoDuration reads a protobuf JSON Duration ("1.5s") into ms.
func ParseProtoDuration(s string) (int64, error) {
	v, ok := strings.CutSuffix(s, "s")
	if !ok {
		return 0, fmt.Errorf("duration %q has no 's' suffix", s)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	return int64(f*1000 + 0.5*sign(f)), nil
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// ValidJSON reports whether s is one JSON value.
func ValidJSON(s string) bool { return json.Valid([]byte(s)) }
