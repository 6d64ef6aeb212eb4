package server_test

import (
	"bufio"
	"context"
	"encoding/json"
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

	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/testdb"
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
	f, err := os.Open(wireDir + "webhook_deliveries.jsonl")
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
