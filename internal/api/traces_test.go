package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mltrack/mltrack/internal/api"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// genaiExchanges reads the recorded exchanges of the official client's
// tracing flow (../shared/mlflow-wire/genai_flow.jsonl) by seq.
func genaiExchanges(t *testing.T) map[int]map[string]json.RawMessage {
	t.Helper()
	f, err := os.Open("../../../shared/mlflow-wire/genai_flow.jsonl")
	if err != nil {
		t.Fatalf("the MLflow wire recording is needed: %v", err)
	}
	defer f.Close()
	out := map[int]map[string]json.RawMessage{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		var seq int
		_ = json.Unmarshal(e["seq"], &seq)
		out[seq] = e
	}
	return out
}

func str(v string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
}

// recordedSpans is the first trace of the recording as the client's
// OTLP exporter sends it (Span.to_otel_proto: attributes as typed values).
func recordedSpans(traceID []byte) *tracepb.TracesData {
	root, retrieve, format := []byte{0x4a, 0xfe, 0xcb, 0x1f, 0xdc, 0x59, 0xae, 0xa6}, []byte{0x3d, 0xe3, 0x45, 0x03, 0xd3, 0x7b, 0xe2, 0x2d}, []byte{0x5c, 0x31, 0x0c, 0xa2, 0xab, 0xe8, 0xf1, 0x44}
	kv := func(k string, v *commonpb.AnyValue) *commonpb.KeyValue { return &commonpb.KeyValue{Key: k, Value: v} }
	q := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{kv("q", str("bread"))}}}}
	docs := &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{str("doc bread")}}}}
	d := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{kv("d", docs)}}}}
	tid := "tr-7c48b55660e45912ae263167bbcf10ae"
	ok := &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}
	span := func(id, parent []byte, name string, start, end uint64, attrs ...*commonpb.KeyValue) *tracepb.Span {
		return &tracepb.Span{TraceId: traceID, SpanId: id, ParentSpanId: parent, Name: name, StartTimeUnixNano: start, EndTimeUnixNano: end, Status: ok,
			Attributes: append([]*commonpb.KeyValue{kv("mlflow.traceRequestId", str(tid))}, attrs...)}
	}
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
		span(retrieve, root, "retrieve", 1796693823126692900, 1796693823126821400, kv("mlflow.spanType", str("RETRIEVER")), kv("mlflow.spanFunctionName", str("retrieve")), kv("mlflow.spanInputs", q), kv("mlflow.spanOutputs", docs)),
		span(format, root, "format", 1796693823149927200, 1796693823150110700, kv("mlflow.spanType", str("PARSER")), kv("mlflow.spanInputs", d),
			kv("k", &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}}), kv("mlflow.spanOutputs", str("ok"))),
		span(root, nil, "answer", 1796693823086389800, 1796693823158866700, kv("mlflow.spanType", str("UNKNOWN")), kv("mlflow.spanFunctionName", str("answer")), kv("mlflow.spanInputs", q), kv("mlflow.spanOutputs", str("bread: doc bread"))),
	}}}}}}
}

func newTraceServer(t *testing.T) (string, *sqlstore.Store) {
	t.Helper()
	srv, s := newServer(t)
	mux := http.NewServeMux()
	(&api.API{Tracking: s, Traces: s}).Register(mux)
	srv.Config.Handler = mux
	return srv.URL, s
}

func newTraceServerB(b *testing.B, s *sqlstore.Store) (string, *sqlstore.Store) {
	mux := http.NewServeMux()
	(&api.API{Tracking: s, Traces: s}).Register(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv.URL, s
}

func send2(b testing.TB, method, url, body, ct, exp string) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if exp != "" {
		req.Header.Set("X-Mlflow-Experiment-Id", exp)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s %s: %d %s", method, url, res.StatusCode, data)
	}
}

type traceResp struct {
	status int
	header http.Header
	body   []byte
}

func (r traceResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	return m
}

func send(t *testing.T, method, url string, body []byte, hdr ...string) traceResp {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return traceResp{res.StatusCode, res.Header, b}
}

// TestTraceFlow runs the recorded tracing flow of the official client over
// HTTP: OTLP spans, StartTraceV3, get, batchGet, search with a filter,
// order and pages, trace tags, and assessments, comparing mltrack's
// answers with MLflow's recorded ones.
func TestTraceFlow(t *testing.T) {
	rec := genaiExchanges(t)
	base, _ := newTraceServer(t)
	if r := send(t, "POST", base+"/api/2.0/mlflow/experiments/create", []byte(`{"name": "genai"}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	traceID := []byte{0x7c, 0x48, 0xb5, 0x56, 0x60, 0xe4, 0x59, 0x12, 0xae, 0x26, 0x31, 0x67, 0xbb, 0xcf, 0x10, 0xae}
	otlp, _ := proto.Marshal(recordedSpans(traceID))
	r := send(t, "POST", base+"/v1/traces", otlp, "Content-Type", "application/x-protobuf", "X-Mlflow-Experiment-Id", "1")
	if r.status != 200 || string(r.body) != `{"partialSuccess":null}` || r.header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("otlp: %d %s %v", r.status, r.body, r.header)
	}
	// The client's StartTraceV3 after the root span ended, as recorded.
	var start struct {
		RequestBody  json.RawMessage `json:"request_body"`
		ResponseBody json.RawMessage `json:"response_body"`
	}
	raw, _ := json.Marshal(rec[8])
	_ = json.Unmarshal(raw, &start)
	r = send(t, "POST", base+"/api/3.0/mlflow/traces", start.RequestBody)
	sameJSON(t, "start trace", r, start.ResponseBody)

	r = send(t, "GET", base+"/api/3.0/mlflow/traces/tr-7c48b55660e45912ae263167bbcf10ae", nil)
	sameJSON(t, "get trace info", r, rec[18]["response_body"])

	// batchGet: the spans as MLflow answers them. The recording's
	// nanosecond times went through a float64; compare them as such.
	r = send(t, "GET", base+"/api/3.0/mlflow/traces/batchGet?trace_ids=tr-7c48b55660e45912ae263167bbcf10ae", nil)
	sameJSON(t, "batchGet", r, rec[19]["response_body"])

	// A second trace, sent as OTLP JSON and gzip: found by the filter.
	td := recordedSpans([]byte("0123456789abcdef"))
	for _, sp := range td.ResourceSpans[0].ScopeSpans[0].Spans {
		sp.StartTimeUnixNano += 1e9
		sp.EndTimeUnixNano += 1e9
	}
	j, _ := protojson.Marshal(td)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(j)
	_ = zw.Close()
	if r := send(t, "POST", base+"/v1/traces", gz.Bytes(), "Content-Type", "application/json", "Content-Encoding", "gzip", "X-Mlflow-Experiment-Id", "1"); r.status != 200 {
		t.Fatalf("otlp json: %d %s", r.status, r.body)
	}
	second := "tr-30313233343536373839616263646566"
	if r := send(t, "PATCH", base+"/api/2.0/mlflow/traces/"+second+"/tags", []byte(`{"key": "app", "value": "food11"}`)); r.status != 200 {
		t.Fatalf("set tag: %d %s", r.status, r.body)
	}
	r = send(t, "POST", base+"/api/3.0/mlflow/traces/search", rec[20]["request_body"])
	got := r.json(t)["traces"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["trace_id"] != second || got[0].(map[string]any)["state"] != "OK" {
		t.Fatalf("search: %s", r.body)
	}
	r = send(t, "POST", base+"/api/3.0/mlflow/traces/search", rec[22]["request_body"])
	if m := r.json(t); m["next_page_token"] != "eyJvZmZzZXQiOiAxfQ==" || len(m["traces"].([]any)) != 1 {
		t.Fatalf("page: %s", r.body)
	}
	r = send(t, "POST", base+"/api/3.0/mlflow/traces/search", []byte(`{"locations": [{"mlflow_experiment": {"experiment_id": "1"}, "type": "MLFLOW_EXPERIMENT"}], "max_results": 1, "page_token": "eyJvZmZzZXQiOiAxfQ=="}`))
	if m := r.json(t); m["next_page_token"] != "eyJvZmZzZXQiOiAyfQ==" || m["traces"].([]any)[0].(map[string]any)["trace_id"] != "tr-7c48b55660e45912ae263167bbcf10ae" {
		t.Fatalf("second page: %s", r.body)
	}

	// Trace tags as recorded (v2 paths).
	for _, seq := range []int{24, 25} {
		var e struct {
			Method, Path string
			RequestBody  json.RawMessage `json:"request_body"`
		}
		raw, _ := json.Marshal(rec[seq])
		_ = json.Unmarshal(raw, &e)
		sameJSON(t, e.Method+" tags", send(t, e.Method, base+e.Path, e.RequestBody), rec[seq]["response_body"])
	}

	// Assessments as recorded: feedback, expectation, update, delete.
	ids := map[string]string{}
	for _, seq := range []int{26, 27, 28, 29} {
		var e struct {
			Method, Path string
			RequestBody  json.RawMessage `json:"request_body"`
			ResponseBody json.RawMessage `json:"response_body"`
		}
		raw, _ := json.Marshal(rec[seq])
		_ = json.Unmarshal(raw, &e)
		path := e.Path
		for rid, id := range ids {
			path = strings.ReplaceAll(path, rid, id)
		}
		body := []byte(e.RequestBody)
		for rid, id := range ids {
			body = bytes.ReplaceAll(body, []byte(rid), []byte(id))
		}
		r := send(t, e.Method, base+path, body)
		if r.status != 200 {
			t.Fatalf("%s %s: %d %s", e.Method, path, r.status, r.body)
		}
		if seq == 26 || seq == 27 {
			var want map[string]map[string]any
			_ = json.Unmarshal(e.ResponseBody, &want)
			ids[want["assessment"]["assessment_id"].(string)] = r.json(t)["assessment"].(map[string]any)["assessment_id"].(string)
		}
		want := e.ResponseBody
		for rid, id := range ids {
			want = bytes.ReplaceAll(want, []byte(rid), []byte(id))
		}
		sameJSON(t, e.Method+" "+e.Path, r, want, "last_update_time")
	}
	// The trace shows the assessment left.
	info := send(t, "GET", base+"/api/3.0/mlflow/traces/tr-7c48b55660e45912ae263167bbcf10ae", nil).json(t)
	as := info["trace"].(map[string]any)["trace_info"].(map[string]any)["assessments"].([]any)
	if len(as) != 1 || as[0].(map[string]any)["feedback"].(map[string]any)["value"] != 0.5 {
		t.Fatalf("assessments on the trace: %v", as)
	}

	// delete-traces by id.
	r = send(t, "POST", base+"/api/2.0/mlflow/traces/delete-traces", []byte(`{"experiment_id": "1", "request_ids": ["`+second+`"]}`))
	if string(bytes.TrimSpace(r.body)) != `{"traces_deleted":1}` {
		t.Fatalf("delete: %s", r.body)
	}
}

// sameJSON compares an answer with MLflow's recorded one as JSON values;
// fields named in skip are compared only for presence.
func sameJSON(t *testing.T, what string, r traceResp, want json.RawMessage, skip ...string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("%s: %d %s", what, r.status, r.body)
	}
	var a, b any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("%s: %v: %s", what, err, r.body)
	}
	_ = json.Unmarshal(want, &b)
	drop := func(v any) any { return dropKeys(v, skip) }
	if !reflect.DeepEqual(drop(a), drop(b)) {
		t.Fatalf("%s:\n got  %s\n want %s", what, r.body, want)
	}
}

func dropKeys(v any, keys []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			skip := false
			for _, s := range keys {
				skip = skip || k == s
			}
			if skip {
				out[k] = "present"
				continue
			}
			out[k] = dropKeys(e, keys)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropKeys(e, keys)
		}
		return out
	}
	return v
}

// TestOTLPErrors checks MLflow's answers to bad OTLP requests, and that a
// rejected request stores nothing.
func TestOTLPErrors(t *testing.T) {
	base, s := newTraceServer(t)
	send(t, "POST", base+"/api/2.0/mlflow/experiments/create", []byte(`{"name": "e"}`))
	good, _ := proto.Marshal(recordedSpans([]byte("0123456789abcdef")))
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 65<<20))
	_ = zw.Close()
	empty, _ := proto.Marshal(&tracepb.TracesData{})
	cases := []struct {
		name   string
		body   []byte
		hdr    []string
		status int
		want   string
	}{
		{"no header", good, []string{"Content-Type", "application/x-protobuf"}, 422, `{"detail":[{"type":"missing","loc":["header","x-mlflow-experiment-id"],"msg":"Field required","input":null}]}`},
		{"bad content type", good, []string{"Content-Type", "text/plain", "X-Mlflow-Experiment-Id", "1"}, 400, `{"detail":"Invalid Content-Type: text/plain. Expected: application/x-protobuf"}`},
		{"bad protobuf", []byte("\xff\xff\xff"), []string{"Content-Type", "application/x-protobuf", "X-Mlflow-Experiment-Id", "1"}, 400, `{"detail":"Invalid OpenTelemetry protobuf format"}`},
		{"no spans", empty, []string{"Content-Type", "application/x-protobuf", "X-Mlflow-Experiment-Id", "1"}, 400, `{"detail":"Invalid OpenTelemetry protobuf format - no spans found"}`},
		{"gzip bomb", bomb.Bytes(), []string{"Content-Type", "application/x-protobuf", "Content-Encoding", "gzip", "X-Mlflow-Experiment-Id", "1"}, 413, `{"detail":"Request body too large: the limit is 67108864 bytes"}`},
		{"unknown experiment", good, []string{"Content-Type", "application/x-protobuf", "X-Mlflow-Experiment-Id", "77"}, 422, `{"detail":"Failed to log OpenTelemetry spans: Trace tr-30313233343536373839616263646566: No Experiment with id=77 exists"}`},
	}
	for _, c := range cases {
		r := send(t, "POST", base+"/v1/traces", c.body, c.hdr...)
		if r.status != c.status || string(r.body) != c.want {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.want)
		}
	}
	if ts, err := s.GetTraces(t.Context(), []string{"tr-30313233343536373839616263646566"}); err != nil || len(ts) != 0 {
		t.Fatalf("a refused request stored %v %v", ts, err)
	}
	// Unknown traces and bad filters: MLflow's 4xx.
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/api/3.0/mlflow/traces/tr-nope", "", `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Trace with ID 'tr-nope' not found."}`},
		{"POST", "/api/3.0/mlflow/traces/search", `{"locations": [{"mlflow_experiment": {"experiment_id": "1"}}], "filter": "foo.bar = 'x'"}`, "INVALID_PARAMETER_VALUE"},
		{"POST", "/api/3.0/mlflow/traces/search", `{"locations": [{"mlflow_experiment": {"experiment_id": "1"}}], "max_results": 501}`, "INVALID_PARAMETER_VALUE"},
		{"POST", "/api/3.0/mlflow/traces/search", `{}`, `{"error_code":"INVALID_PARAMETER_VALUE","message":"Missing value for required parameter 'locations'. See the API docs for more information about request parameters."}`},
		{"PATCH", "/api/2.0/mlflow/traces/tr-nope/tags", `{"key": "k", "value": "v"}`, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Trace with ID 'tr-nope' not found."}`},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		r := send(t, c.method, base+c.path, body)
		if r.status < 400 || r.status >= 500 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s: %d %s, want %s", c.method, c.path, r.status, r.body, c.want)
		}
	}
}
