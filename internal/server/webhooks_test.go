package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/testdb"
	"github.com/mltrack/mltrack/internal/testshared"
	"github.com/mltrack/mltrack/internal/webhook"
	"github.com/mltrack/mltrack/internal/wire"
)

// hookKey is the Fernet key of the tests' servers.
const hookKey = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

// received is one delivery a receiver got.
type received struct {
	Path   string
	Header http.Header
	Body   string
}

// receiver is a local webhook receiver that records what it gets and
// answers what status says (200 "ok" when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status func(n int) int // the answer to the n-th request (from 0)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{r.URL.Path, r.Header.Clone(), string(b)})
		st := 200
		if rc.status != nil {
			st = rc.status(n)
		}
		rc.mu.Unlock()
		w.WriteHeader(st)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// wait waits until the receiver got n requests.
func (rc *receiver) wait(t *testing.T, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := rc.deliveries()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d requests within %v, want %d", len(got), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startHookServer serves mltrack (with its webhook deliverer running) on
// a backend store; receivers on loopback over http are allowed.
func startHookServer(t *testing.T, backend string, mod func(*server.Config)) string {
	t.Helper()
	cfg := server.Config{
		BackendStoreURI: backend,
		ArtifactsDest:   filepath.Join(t.TempDir(), "mlartifacts"),
		ServeArtifacts:  true,
		AllowedHosts:    server.DefaultAllowedHosts(),
		Webhooks: server.WebhookConfig{EncryptionKey: hookKey, AllowedSchemes: []string{"http"}, AllowPrivateIPs: true,
			MaxRetries: 3, Timeout: 5 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// recordedDelivery is a line of webhook_deliveries.jsonl.
type recordedDelivery struct {
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func loadDeliveries(t *testing.T) []recordedDelivery {
	f, err := os.Open(testshared.Path(t, "mlflow-wire", "webhook_deliveries.jsonl"))
	if err != nil {
		t.Fatalf("recording missing: %v", err)
	}
	defer f.Close()
	var out []recordedDelivery
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d recordedDelivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

var (
	isoTimestamp = regexp.MustCompile(`"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00"`)
	uuidRe       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// entityAction is a delivery body's "entity.action".
func entityAction(body string) string {
	var b struct{ Entity, Action string }
	_ = json.Unmarshal([]byte(body), &b)
	return b.Entity + "." + b.Action
}

// TestReplayWebhookFlow replays the webhook part of genai_flow.jsonl (a
// webhook created, listed, read, updated and tested; a registered model,
// a run, a version from runs:/, a version tag and an alias; the webhook
// deleted) against mltrack on SQLite and PostgreSQL, with a local
// receiver in place of the recorded one, and compares what the receiver
// got with what MLflow's receiver got: the same bodies byte for byte (but
// the event time and the run id), the same headers, and signatures that
// verify with the secret.
func TestReplayWebhookFlow(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		rc := newReceiver(t)
		base := startHookServer(t, uri, nil)
		// The recorded run went to experiment 1, made earlier in the flow.
		c := wire.NewReplayer(base)
		resp, err := http.Post(base+"/api/2.0/mlflow/experiments/create", "application/json", strings.NewReader(`{"name":"genai"}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("create experiment: %v %v", err, resp)
		}
		resp.Body.Close()
		c.Map("http://127.0.0.1:5133/hook", rc.URL+"/hook")
		exchanges := loadWire(t, "genai_flow.jsonl")
		replayed := 0
		for _, e := range exchanges {
			if e.Seq < 61 || e.Seq > 77 {
				continue
			}
			replayed++
			got, err := c.Send(&e)
			if err != nil {
				t.Fatalf("seq %d: %v", e.Seq, err)
			}
			if diffs := c.Compare(&e, got, true); len(diffs) > 0 {
				t.Errorf("seq %d %s %s:\n  %s", e.Seq, e.Method, e.Path, strings.Join(diffs, "\n  "))
			}
			if e.Seq == 65 {
				// test_webhook answers the receiver's status and body.
				if !strings.Contains(string(got.Body), `"response_body":"ok"`) || !strings.Contains(string(got.Body), `"response_status":200`) {
					t.Errorf("test answer %s", got.Body)
				}
			}
		}
		if replayed != 17 {
			t.Fatalf("replayed %d exchanges of the webhook part, want 17", replayed)
		}
		want := loadDeliveries(t)
		got := rc.wait(t, len(want), 20*time.Second)
		time.Sleep(300 * time.Millisecond)
		if got := rc.deliveries(); len(got) != len(want) {
			t.Fatalf("receiver got %d deliveries, MLflow's %d", len(got), len(want))
		}
		// The test delivery comes first (it is synchronous); the events may
		// arrive in any order, as from MLflow's thread pool.
		byEvent := map[string]received{}
		for i, g := range got {
			if i == 0 {
				byEvent["test"] = g
				continue
			}
			byEvent[entityAction(g.Body)] = g
		}
		for i, w := range want {
			key := entityAction(w.Body)
			if i == 0 {
				key = "test"
			}
			g, ok := byEvent[key]
			if !ok {
				t.Errorf("no delivery of %s", key)
				continue
			}
			if g.Path != w.Path {
				t.Errorf("%s: path %q, MLflow %q", key, g.Path, w.Path)
			}
			wantBody := isoTimestamp.ReplaceAllString(w.Body, `"timestamp": T`)
			for _, id := range []string{"a38531c96c49431a97803f35450bf335"} {
				if ours := c.Ours(id); ours != "" {
					wantBody = strings.ReplaceAll(wantBody, id, ours)
				}
			}
			if gotBody := isoTimestamp.ReplaceAllString(g.Body, `"timestamp": T`); gotBody != wantBody {
				t.Errorf("%s: body\n  %s\nMLflow's\n  %s", key, g.Body, w.Body)
			}
			for _, h := range []string{"Content-Type", "Content-Length", "X-Mlflow-Delivery-Id", "X-Mlflow-Timestamp", "X-Mlflow-Signature"} {
				if _, ok := w.Headers[http.CanonicalHeaderKey(h)]; !ok && h != "X-Mlflow-Delivery-Id" && h != "X-Mlflow-Timestamp" && h != "X-Mlflow-Signature" {
					t.Fatalf("recording has no %s", h)
				}
				if g.Header.Get(h) == "" {
					t.Errorf("%s: no %s header", key, h)
				}
			}
			if ct := g.Header.Get("Content-Type"); ct != w.Headers["Content-Type"] {
				t.Errorf("%s: Content-Type %q, MLflow %q", key, ct, w.Headers["Content-Type"])
			}
			id, ts := g.Header.Get(webhook.HeaderDeliveryID), g.Header.Get(webhook.HeaderTimestamp)
			if !uuidRe.MatchString(id) || !uuidRe.MatchString(w.Headers["X-MLflow-Delivery-Id"]) {
				t.Errorf("%s: delivery id %q (MLflow %q) is not a UUID4", key, id, w.Headers["X-MLflow-Delivery-Id"])
			}
			if sig := g.Header.Get(webhook.HeaderSignature); sig != webhook.Sign("s3cret", id, ts, g.Body) {
				t.Errorf("%s: signature %q does not verify with the secret", key, sig)
			}
		}
		// MLflow's recorded signatures verify with the same function.
		for _, w := range want {
			if sig := webhook.Sign("s3cret", w.Headers["X-MLflow-Delivery-Id"], w.Headers["X-MLflow-Timestamp"], w.Body); sig != w.Headers["X-MLflow-Signature"] {
				t.Errorf("MLflow's signature %s is not Sign's %s", w.Headers["X-MLflow-Signature"], sig)
			}
		}
	})
}

// call sends a JSON request and decodes the answer into out (when 200).
func call(t *testing.T, method, url string, in any, out any) (int, string) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, url, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

type hookAnswer struct {
	Webhook struct {
		WebhookID string `json:"webhook_id"`
		Status    string `json:"status"`
	} `json:"webhook"`
}

type deliveryLog struct {
	Deliveries []struct {
		DeliveryID     string `json:"delivery_id"`
		Event          string `json:"event"`
		Attempt        int    `json:"attempt"`
		Timestamp      int64  `json:"timestamp"`
		Status         string `json:"status"`
		ResponseStatus int    `json:"response_status"`
		Error          string `json:"error"`
	} `json:"deliveries"`
	Pending int `json:"pending"`
}

func createHook(t *testing.T, base, url string, events ...string) string {
	t.Helper()
	var evs []map[string]string
	for _, e := range events {
		entity, action, _ := strings.Cut(e, ".")
		evs = append(evs, map[string]string{"entity": strings.ToUpper(entity), "action": strings.ToUpper(action)})
	}
	var a hookAnswer
	if st, b := call(t, "POST", base+"/api/2.0/mlflow/webhooks", map[string]any{"name": "ci", "url": url, "events": evs, "secret": "s3cret"}, &a); st != 200 {
		t.Fatalf("create webhook: %d %s", st, b)
	}
	return a.Webhook.WebhookID
}

// TestWebhookRetriesWithBackoff: a receiver that answers 503 twice and
// then 200 gets the event three times, with the same delivery id, after
// MLflow's back-off (1 s, then 2 s), each attempt signed with its own
// timestamp; the delivery log shows the attempts.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		rc := newReceiver(t)
		rc.status = func(n int) int {
			if n < 2 {
				return 503
			}
			return 200
		}
		base := startHookServer(t, uri, nil)
		id := createHook(t, base, rc.URL+"/hook", "registered_model.created")
		if st, b := call(t, "POST", base+"/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}, nil); st != 200 {
			t.Fatalf("create model: %d %s", st, b)
		}
		got := rc.wait(t, 3, 20*time.Second)
		var times []time.Time
		for i, g := range got {
			if g.Header.Get(webhook.HeaderDeliveryID) != got[0].Header.Get(webhook.HeaderDeliveryID) {
				t.Errorf("attempt %d has another delivery id", i+1)
			}
			if g.Body != got[0].Body {
				t.Errorf("attempt %d has another body", i+1)
			}
			sig := webhook.Sign("s3cret", g.Header.Get(webhook.HeaderDeliveryID), g.Header.Get(webhook.HeaderTimestamp), g.Body)
			if g.Header.Get(webhook.HeaderSignature) != sig {
				t.Errorf("attempt %d: bad signature", i+1)
			}
		}
		var log deliveryLog
		deadline := time.Now().Add(5 * time.Second)
		for {
			call(t, "GET", base+"/api/2.0/mltrack/webhooks/"+id+"/deliveries", nil, &log)
			if len(log.Deliveries) == 3 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(log.Deliveries) != 3 || log.Pending != 0 {
			t.Fatalf("delivery log %+v", log)
		}
		// Newest first: DELIVERED (attempt 3), then two RETRYING with 503.
		for i, want := range []struct {
			status  string
			attempt int
			code    int
		}{{"DELIVERED", 3, 200}, {"RETRYING", 2, 503}, {"RETRYING", 1, 503}} {
			d := log.Deliveries[i]
			if d.Status != want.status || d.Attempt != want.attempt || d.ResponseStatus != want.code || d.Event != "registered_model.created" {
				t.Errorf("log line %d: %+v, want %+v", i, d, want)
			}
			times = append(times, time.UnixMilli(d.Timestamp))
		}
		if gap := times[1].Sub(times[2]); gap < time.Second {
			t.Errorf("first retry after %v, want at least 1s", gap)
		}
		if gap := times[0].Sub(times[1]); gap < 2*time.Second {
			t.Errorf("second retry after %v, want at least 2s", gap)
		}
	})
}

// TestWebhookReceiverPolicy: without MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS a
// receiver on a loopback, private or link-local address is refused when
// the webhook is saved, and a webhook saved earlier (by MLflow, or before
// its name resolved elsewhere) is refused when delivering; only the
// allowed schemes pass.
func TestWebhookReceiverPolicy(t *testing.T) {
	rc := newReceiver(t)
	uri := testdb.SQLiteURI(t)
	base := startHookServer(t, uri, func(c *server.Config) {
		c.Webhooks.AllowPrivateIPs = false
		c.Webhooks.AllowedSchemes = []string{"https", "http"}
	})
	for _, c := range []struct{ url, msg string }{
		{rc.URL + "/hook", "Webhook URL must not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1."},
		{"https://localhost/hook", "Webhook URL must not resolve to a non-public IP address. 'localhost' resolves to"},
		{"http://169.254.169.254/latest/meta-data", "'169.254.169.254' resolves to 169.254.169.254."},
		{"http://10.1.2.3/", "'10.1.2.3' resolves to 10.1.2.3."},
		{"http://[::1]:8080/", "'::1' resolves to ::1."},
		{"http://[::ffff:127.0.0.1]/", "resolves to"},
		{"http://100.64.0.1/", "resolves to 100.64.0.1"},
		{"ftp://example.com/", "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https, http."},
		{"https:///nohost", "Webhook URL must include a hostname"},
		{"  ", "Webhook URL cannot be empty or just whitespace"},
	} {
		st, b := call(t, "POST", base+"/api/2.0/mlflow/webhooks", map[string]any{"name": "x", "url": c.url, "events": []map[string]string{{"entity": "REGISTERED_MODEL", "action": "CREATED"}}}, nil)
		if st != 400 || !strings.Contains(b, "INVALID_PARAMETER_VALUE") || !strings.Contains(b, c.msg) {
			t.Errorf("%s: %d %s, want 400 with %q", c.url, st, b, c.msg)
		}
	}
	// Default schemes: https only.
	base2 := startHookServer(t, testdb.SQLiteURI(t), func(c *server.Config) { c.Webhooks.AllowedSchemes = nil })
	st, b := call(t, "POST", base2+"/api/2.0/mlflow/webhooks", map[string]any{"name": "x", "url": rc.URL, "events": []map[string]string{{"entity": "REGISTERED_MODEL", "action": "CREATED"}}}, nil)
	if st != 400 || !strings.Contains(b, "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.") {
		t.Errorf("http with default schemes: %d %s", st, b)
	}

	// A webhook already in the database that points at loopback.
	st2, err := sqlstore.Open(context.Background(), uri, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st2.CreateWebhook(context.Background(), store.CreateWebhook{Name: "old", URL: rc.URL + "/hook", Events: []mlflow.WebhookEvent{mlflow.EventRegisteredModelCreated}})
	st2.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st, b := call(t, "POST", base+"/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}, nil); st != 200 {
		t.Fatalf("create model: %d %s", st, b)
	}
	var log deliveryLog
	deadline := time.Now().Add(10 * time.Second)
	for len(log.Deliveries) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		call(t, "GET", base+"/api/2.0/mltrack/webhooks/"+w.WebhookID+"/deliveries", nil, &log)
	}
	if len(log.Deliveries) != 1 || log.Deliveries[0].Status != "FAILED" || !strings.Contains(log.Deliveries[0].Error, "127.0.0.1 is not public") {
		t.Fatalf("delivery to loopback: %+v", log)
	}
	// The test endpoint is refused the same way.
	st, b = call(t, "POST", base+"/api/2.0/mlflow/webhooks/"+w.WebhookID+"/test", map[string]any{}, nil)
	if st != 200 || !strings.Contains(b, `"success":false`) || !strings.Contains(b, "is not public") {
		t.Errorf("test to loopback: %d %s", st, b)
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
}

// TestWebhookAPI: MLflow's answers for bad input, the test endpoint with
// a chosen event and a failing receiver, disabled and deleted webhooks,
// paging, and the secret never answered.
func TestWebhookAPI(t *testing.T) {
	rc := newReceiver(t)
	rc.status = func(n int) int {
		if n == 1 {
			return 500
		}
		return 200
	}
	base := startHookServer(t, testdb.SQLiteURI(t), nil)
	hooks := base + "/api/2.0/mlflow/webhooks"
	ev := []map[string]any{{"entity": "MODEL_VERSION", "action": "CREATED"}}
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		msg          string
	}{
		{"POST", "", map[string]any{"url": rc.URL, "events": ev}, 400, "Missing value for required parameter 'name'"},
		{"POST", "", map[string]any{"name": "a", "events": ev}, 400, "Missing value for required parameter 'url'"},
		{"POST", "", map[string]any{"name": "a", "url": rc.URL}, 400, "Missing value for required parameter 'events'"},
		{"POST", "", map[string]any{"name": "a", "url": rc.URL, "events": []map[string]any{{"entity": "REGISTERED_MODEL", "action": "DELETED"}}}, 400, "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']"},
		{"POST", "", map[string]any{"name": "a", "url": rc.URL, "events": []map[string]any{{"entity": "NOPE", "action": "CREATED"}}}, 400, "Invalid webhook event entity"},
		{"POST", "", map[string]any{"name": "-bad", "url": rc.URL, "events": ev}, 400, "Webhook name '-bad' is invalid."},
		{"POST", "", map[string]any{"name": "a", "url": rc.URL, "events": ev, "status": "PAUSED"}, 400, "Invalid webhook status"},
		{"POST", "", map[string]any{"name": 3, "url": rc.URL, "events": ev}, 400, "Invalid value 3 for parameter 'name'"},
		{"GET", "/0c1e0a4e-0000-4000-8000-000000000000", nil, 404, "Webhook with ID 0c1e0a4e-0000-4000-8000-000000000000 not found."},
		{"PATCH", "/0c1e0a4e-0000-4000-8000-000000000000", map[string]any{"name": "x"}, 404, "not found"},
		{"DELETE", "/0c1e0a4e-0000-4000-8000-000000000000", nil, 404, "not found"},
		{"POST", "/0c1e0a4e-0000-4000-8000-000000000000/test", map[string]any{}, 404, "not found"},
		{"GET", "?max_results=1001", nil, 400, "max_results must be between 1 and 1000."},
		{"GET", "?page_token=garbage", nil, 400, ""},
	} {
		st, b := call(t, c.method, hooks+c.path, c.body, nil)
		if st != c.status || !strings.Contains(b, c.msg) || !strings.Contains(b, "error_code") {
			t.Errorf("%s %s %v: %d %s, want %d with %q", c.method, c.path, c.body, st, b, c.status, c.msg)
		}
	}
	var ids []string
	for i := 0; i < 3; i++ {
		var a hookAnswer
		if st, b := call(t, "POST", hooks, map[string]any{"name": fmt.Sprintf("h%d", i), "url": rc.URL + "/hook", "events": ev, "secret": "top-secret", "status": "DISABLED"}, &a); st != 200 || strings.Contains(b, "top-secret") || strings.Contains(b, "secret") || a.Webhook.Status != "DISABLED" {
			t.Fatalf("create: %d %s", st, b)
		}
		ids = append(ids, a.Webhook.WebhookID)
		time.Sleep(2 * time.Millisecond)
	}
	var page struct {
		Webhooks []struct {
			WebhookID string `json:"webhook_id"`
		} `json:"webhooks"`
		NextPageToken string `json:"next_page_token"`
	}
	call(t, "GET", hooks+"?max_results=2", nil, &page)
	if len(page.Webhooks) != 2 || page.Webhooks[0].WebhookID != ids[2] || page.NextPageToken == "" {
		t.Fatalf("first page %+v", page)
	}
	token := page.NextPageToken
	page.NextPageToken = ""
	call(t, "GET", hooks+"?max_results=2&page_token="+token, nil, &page)
	if len(page.Webhooks) != 1 || page.Webhooks[0].WebhookID != ids[0] || page.NextPageToken != "" {
		t.Fatalf("second page %+v", page)
	}
	// A disabled webhook gets no events.
	call(t, "POST", base+"/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}, nil)
	if st, b := call(t, "POST", base+"/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "s3://b/m"}, nil); st != 200 {
		t.Fatalf("create version: %d %s", st, b)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(rc.deliveries()); n != 0 {
		t.Fatalf("a disabled webhook got %d deliveries", n)
	}
	// The test endpoint sends an example of the chosen event; the receiver's
	// 500 is answered, without retries.
	var res struct {
		Result webhook.TestResult `json:"result"`
	}
	call(t, "POST", hooks+"/"+ids[0]+"/test", map[string]any{"event": map[string]any{"entity": "PROMPT_ALIAS", "action": "DELETED"}}, &res)
	if !res.Result.Success || res.Result.ResponseStatus != 200 || res.Result.ResponseBody != "ok" {
		t.Errorf("test: %+v", res)
	}
	got := rc.deliveries()
	if len(got) != 1 || !strings.Contains(got[0].Body, `"entity": "prompt_alias", "action": "deleted"`) || !strings.HasSuffix(got[0].Body, `"data": {"name": "example_prompt", "alias": "example_alias"}}`) {
		t.Fatalf("test delivery %+v", got)
	}
	call(t, "POST", hooks+"/"+ids[0]+"/test", map[string]any{}, &res)
	if res.Result.Success || res.Result.ResponseStatus != 500 || len(rc.deliveries()) != 2 {
		t.Errorf("test to a failing receiver: %+v (%d requests)", res, len(rc.deliveries()))
	}
	// Enabled again, with a new URL path: the next event arrives there.
	var a hookAnswer
	if st, b := call(t, "PATCH", hooks+"/"+ids[0], map[string]any{"status": "ACTIVE", "url": rc.URL + "/v2", "name": ""}, &a); st != 200 || a.Webhook.Status != "ACTIVE" || !strings.Contains(b, `"name":"h0"`) {
		t.Fatalf("update: %d %s", st, b)
	}
	call(t, "POST", base+"/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "s3://b/m"}, nil)
	got = rc.wait(t, 3, 10*time.Second)
	if got[2].Path != "/v2" || !strings.Contains(got[2].Body, `"version": "2"`) {
		t.Fatalf("after enabling: %+v", got[2])
	}
	if st, _ := call(t, "DELETE", hooks+"/"+ids[0], nil, nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := call(t, "GET", base+"/api/2.0/mltrack/webhooks/"+ids[0]+"/deliveries", nil, nil); st != 404 {
		t.Errorf("deliveries of a deleted webhook: %d", st)
	}
}
