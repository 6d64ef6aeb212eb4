package api

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// maxOTLPBody bounds an OTLP request body, before and after decompression.
const maxOTLPBody = 64 << 20

// otlpError answers as MLflow's FastAPI OTLP route does: {"detail": ...}.
func otlpError(w http.ResponseWriter, status int, detail any) {
	b, _ := json.Marshal(map[string]any{"detail": detail})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// otlpTraces is POST /v1/traces (MLflow's otel_api.export_traces): an
// OTLP/HTTP ExportTraceServiceRequest, in protobuf (what MLflow accepts) or
// JSON (what newer clients may send), gzip or deflate encoded or not, for
// the experiment in x-mlflow-experiment-id. The spans of every trace in
// the request are stored in one transaction: all or none.
func (a *API) otlpTraces(w http.ResponseWriter, r *http.Request) {
	exp := r.Header.Get("X-Mlflow-Experiment-Id")
	if _, ok := r.Header["X-Mlflow-Experiment-Id"]; !ok {
		// FastAPI's validation error, its fields in its order.
		otlpError(w, http.StatusUnprocessableEntity, []struct {
			Type  string   `json:"type"`
			Loc   []string `json:"loc"`
			Msg   string   `json:"msg"`
			Input any      `json:"input"`
		}{{"missing", []string{"header", "x-mlflow-experiment-id"}, "Field required", nil}})
		return
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	isJSON := mt == "application/json"
	if mt != "application/x-protobuf" && !isJSON {
		shown := ct
		if ct == "" {
			shown = "None"
		}
		otlpError(w, http.StatusBadRequest, "Invalid Content-Type: "+shown+". Expected: application/x-protobuf")
		return
	}
	body, err := readOTLPBody(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.Is(err, errOTLPTooLarge) {
			otlpError(w, http.StatusRequestEntityTooLarge, "Request body too large: the limit is "+strconv.Itoa(maxOTLPBody)+" bytes")
			return
		}
		otlpError(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return
	}
	var req tracepb.TracesData // wire-compatible with ExportTraceServiceRequest
	if isJSON {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(body, &req)
	} else {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		otlpError(w, http.StatusBadRequest, "Invalid OpenTelemetry protobuf format")
		return
	}
	if len(req.ResourceSpans) == 0 {
		otlpError(w, http.StatusBadRequest, "Invalid OpenTelemetry protobuf format - no spans found")
		return
	}
	var batches []store.SpanBatch
	index := map[string]int{}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, ps := range ss.Spans {
				sp, err := mlflow.SpanFromOTLP(ps)
				if err != nil {
					otlpError(w, http.StatusUnprocessableEntity, "Cannot convert OpenTelemetry span to MLflow span")
					return
				}
				i, ok := index[sp.TraceID]
				if !ok {
					i = len(batches)
					index[sp.TraceID] = i
					batches = append(batches, store.SpanBatch{TraceID: sp.TraceID})
				}
				b := &batches[i]
				if sp.ParentSpanID == "" {
					if p, ok := mlflow.SpanPreview(sp.Content, mlflow.SpanAttrInputs); ok && b.RequestPreview == nil {
						b.RequestPreview = &p
					}
					if p, ok := mlflow.SpanPreview(sp.Content, mlflow.SpanAttrOutputs); ok && b.ResponsePreview == nil {
						b.ResponsePreview = &p
					}
				}
				b.Spans = append(b.Spans, sp)
			}
		}
	}
	if err := a.Traces.LogSpans(r.Context(), exp, batches); err != nil {
		if e, ok := mlflow.AsError(err); ok {
			var ids []string
			for _, b := range batches {
				ids = append(ids, "Trace "+b.TraceID+": "+e.Message)
			}
			otlpError(w, http.StatusUnprocessableEntity, "Failed to log OpenTelemetry spans: "+strings.Join(ids, "\n"))
			return
		}
		writeError(w, r, err)
		return
	}
	out := `{"partialSuccess":null}`
	h := w.Header()
	if isJSON {
		h.Set("Content-Type", "application/json")
	} else {
		// MLflow sets this type on its JSON answer.
		h.Set("Content-Type", "application/x-protobuf")
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = io.WriteString(w, out)
}

var errOTLPTooLarge = errors.New("otlp body too large")

// readOTLPBody reads the body, decompressing gzip or deflate, at most
// maxOTLPBody bytes either way.
func readOTLPBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = io.LimitReader(r.Body, maxOTLPBody+1)
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	case "deflate":
		// HTTP's deflate is zlib; raw deflate is accepted too.
		raw, err := io.ReadAll(rd)
		if err != nil {
			return nil, err
		}
		if len(raw) > maxOTLPBody {
			return nil, errOTLPTooLarge
		}
		return inflate(raw)
	default:
		return nil, errors.New("unsupported Content-Encoding " + r.Header.Get("Content-Encoding"))
	}
	return readAtMost(rd, maxOTLPBody)
}

// readAtMost reads rd to its end, or refuses it with errOTLPTooLarge once it
// passes limit bytes.
func readAtMost(rd io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errOTLPTooLarge
	}
	return b, nil
}
