package store

import (
	"context"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
)

// TraceQuery is a parsed traces/search request.
type TraceQuery struct {
	ExperimentIDs []string
	Filter        []search.Comparison
	OrderBy       []search.OrderKey
	Page          Page
}

// SpanBatch is the spans of one trace from one OTLP request.
type SpanBatch struct {
	TraceID string
	Spans   []mlflow.Span
	// Previews from the root span's inputs and outputs, when it is in the batch.
	RequestPreview, ResponsePreview *string
}

// DeleteTraces selects traces of one experiment to delete: by ids, or
// those at or before MaxTimestamp (the oldest MaxTraces of them when > 0).
type DeleteTraces struct {
	ExperimentID string
	TraceIDs     []string
	MaxTimestamp int64
	MaxTraces    int
}

// AssessmentUpdate holds what traces/{id}/assessments/{aid} PATCH changes;
// nil fields are kept.
type AssessmentUpdate struct {
	Name      *string
	Value     *string // JSON text of the new feedback or expectation value
	Error     *string // feedback error JSON ("" clears it), with Value
	Feedback  bool    // Value is a feedback value (else an expectation)
	Rationale *string
	Metadata  map[string]string
}

// Traces is the storage of MLflow 3's traces, spans and assessments, in
// MLflow's tables (trace_info, trace_tags, trace_request_metadata, spans,
// assessments).
type Traces interface {
	// StartTrace creates the trace (or completes the one its spans created).
	StartTrace(ctx context.Context, info mlflow.TraceInfo) (*mlflow.TraceInfo, error)
	// LogSpans stores the spans of each batch in one transaction: all or none.
	LogSpans(ctx context.Context, experimentID string, batches []SpanBatch) error
	GetTraceInfo(ctx context.Context, traceID string) (*mlflow.TraceInfo, error)
	// GetTraces answers the traces found, in the order of ids, with their spans.
	GetTraces(ctx context.Context, traceIDs []string) ([]mlflow.Trace, error)
	SearchTraces(ctx context.Context, q TraceQuery) ([]mlflow.TraceInfo, string, error)
	SetTraceTag(ctx context.Context, traceID, key, value string) error
	DeleteTraceTag(ctx context.Context, traceID, key string) error
	DeleteTraces(ctx context.Context, d DeleteTraces) (int, error)
	CreateAssessment(ctx context.Context, a mlflow.Assessment) (*mlflow.Assessment, error)
	GetAssessment(ctx context.Context, traceID, assessmentID string) (*mlflow.Assessment, error)
	UpdateAssessment(ctx context.Context, traceID, assessmentID string, u AssessmentUpdate) (*mlflow.Assessment, error)
	DeleteAssessment(ctx context.Context, traceID, assessmentID string) error
	// LinkTracesToRun records trace -> run entity associations (at most
	// MaxLinkTraces ids; the run must exist, the traces need not, as
	// MLflow's link_traces_to_run); linking twice is a no-op.
	LinkTracesToRun(ctx context.Context, traceIDs []string, runID string) error
	// StartTraceV2 is MLflow 2's start: a new IN_PROGRESS trace with a
	// random id, its spans to come in the artifact store.
	StartTraceV2(ctx context.Context, experimentID string, timestampMs int64, metadata, tags map[string]string) (*mlflow.TraceInfo, error)
	// EndTraceV2 sets a trace's duration (endMs - its start) and state and
	// merges metadata and tags.
	EndTraceV2(ctx context.Context, traceID string, endMs int64, state string, metadata, tags map[string]string) (*mlflow.TraceInfo, error)
}

// MaxLinkTraces is how many traces one traces/link-to-run request links.
const MaxLinkTraces = 100
