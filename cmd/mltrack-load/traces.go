package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// traceSeq makes trace ids unique within a load run.
var traceSeq atomic.Uint64

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// otlpTraces is an OTLP export of `traces` traces of `spans` spans each
// (a root and its children), with the attributes MLflow's client sets.
func otlpTraces(traces, spans int, start time.Time) []byte {
	var all []*tracepb.Span
	for range traces {
		var tid [16]byte
		binary.BigEndian.PutUint64(tid[:8], uint64(start.UnixNano()))
		binary.BigEndian.PutUint64(tid[8:], traceSeq.Add(1))
		t0 := uint64(start.UnixNano())
		for i := range spans {
			var sid, parent [8]byte
			binary.BigEndian.PutUint64(sid[:], uint64(i+1))
			sp := &tracepb.Span{TraceId: tid[:], SpanId: sid[:], Name: fmt.Sprintf("step-%d", i),
				StartTimeUnixNano: t0 + uint64(i)*1000, EndTimeUnixNano: t0 + uint64(i)*1000 + 500,
				Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK},
				Attributes: []*commonpb.KeyValue{
					strAttr("mlflow.traceRequestId", fmt.Sprintf("tr-%x", tid)),
					strAttr("mlflow.spanType", "CHAIN"),
					strAttr("mlflow.spanInputs", `{"question": "what is in this photo?", "k": 3}`),
					strAttr("mlflow.spanOutputs", `"a plate of rice with some vegetables"`),
				}}
			if i > 0 {
				binary.BigEndian.PutUint64(parent[:], 1)
				sp.ParentSpanId = parent[:]
			}
			all = append(all, sp)
		}
	}
	b, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: all}}}}})
	must(err)
	return b
}

func (c *client) otlp(exp string, body []byte) error {
	req, err := http.NewRequest("POST", c.base+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Mlflow-Experiment-Id", exp)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("/v1/traces: %d %s", resp.StatusCode, b)
	}
	return nil
}

// traceScenarios runs the tracing scenarios asked for by name: otlp
// (ingestion, batches of 500 spans, 4 clients), search-traces (a page of
// 100 with a tag filter among 100,000 traces) and get-trace (a trace of
// 1,000 spans).
func traceScenarios(c *client, want func(string) bool, n func(int) int, tag string) {
	if want("otlp") {
		exp := c.experiment("otlp-" + tag)
		reqs := n(400)
		bodies := make([][]byte, reqs)
		for i := range bodies {
			bodies[i] = otlpTraces(10, 50, time.Now()) // 500 spans: 10 traces of 50
		}
		d, lat := parallel(4, reqs, func(i int) error { return c.otlp(exp, bodies[i]) })
		fmt.Printf("otlp        %8.0f spans/s   (%d requests of 500 spans (10 traces of 50), 4 clients, p50 %s, p99 %s)\n",
			float64(reqs*500)/d.Seconds(), reqs, ms(pct(lat, .5)), ms(pct(lat, .99)))
	}
	if want("search-traces") {
		exp := c.experiment("search-traces-" + tag)
		total := n(100000)
		per := 500
		parallel(4, (total+per-1)/per, func(i int) error { return c.otlp(exp, otlpTraces(per, 1, time.Now())) })
		body := map[string]any{
			"locations":   []any{map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": exp}}},
			"filter":      "tag.`mlflow.trace.spansLocation` = 'TRACKING_STORE'",
			"max_results": 100,
			"order_by":    []string{"timestamp_ms DESC"},
		}
		calls := n(200)
		lat := make([]time.Duration, calls)
		for i := range calls {
			_, took, err := c.roundTrip("POST", "/api/3.0/mlflow/traces/search", body)
			must(err)
			lat[i] = took
		}
		fmt.Printf("search-tr   %8s p50      (page of 100 of %d traces, a tag filter, newest first; p99 %s)\n", ms(pct(lat, .5)), total, ms(pct(lat, .99)))
	}
	if want("get-trace") {
		exp := c.experiment("get-trace-" + tag)
		start := time.Now()
		must(c.otlp(exp, otlpTraces(1, 1000, start)))
		id := fmt.Sprintf("tr-%016x%016x", uint64(start.UnixNano()), traceSeq.Load())
		calls := n(200)
		lat := make([]time.Duration, calls)
		for i := range calls {
			b, took, err := c.roundTrip("GET", "/api/3.0/mlflow/traces/get?"+url.Values{"trace_id": {id}}.Encode(), nil)
			must(err)
			if i == 0 && bytes.Count(b, []byte(`"span_id"`)) != 1000 {
				must(fmt.Errorf("get-trace answered %d spans", bytes.Count(b, []byte(`"span_id"`))))
			}
			lat[i] = took
		}
		fmt.Printf("get-trace   %8s p50      (a trace of 1000 spans; p99 %s)\n", ms(pct(lat, .5)), ms(pct(lat, .99)))
	}
}
