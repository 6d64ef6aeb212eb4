package api_test

import (
	"encoding/binary"
	"strconv"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// BenchmarkGetTrace1000 reads a trace of 1,000 spans with traces/get.
func BenchmarkGetTrace1000(b *testing.B) {
	_, s := newServer(b)
	base, _ := newTraceServerB(b, s)
	send2(b, "POST", base+"/api/2.0/mlflow/experiments/create", `{"name": "bench"}`, "application/json", "")
	tid := []byte("0123456789abcdef")
	td := recordedSpans(tid)
	tmpl := td.ResourceSpans[0].ScopeSpans[0].Spans[1]
	var spans []*tracepb.Span
	for i := range 1000 {
		sp := proto.Clone(tmpl).(*tracepb.Span)
		sp.SpanId = binary.BigEndian.AppendUint64(nil, uint64(i+1))
		if i == 0 {
			sp.ParentSpanId = nil
		} else {
			sp.ParentSpanId = binary.BigEndian.AppendUint64(nil, 1)
		}
		sp.Name = "span-" + strconv.Itoa(i)
		spans = append(spans, sp)
	}
	td.ResourceSpans[0].ScopeSpans[0].Spans = spans
	body, _ := proto.Marshal(td)
	send2(b, "POST", base+"/v1/traces", string(body), "application/x-protobuf", "1")
	b.ResetTimer()
	for b.Loop() {
		send2(b, "GET", base+"/api/3.0/mlflow/traces/get?trace_id=tr-30313233343536373839616263646566", "", "", "")
	}
}
