package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/testdb"
	"github.com/mltrack/mltrack/internal/webhook"
)

// hookEnv is the environment of the servers of these tests: a fixed
// encryption key (so secrets survive restarts and replicas share them)
// and local receivers over http.
var hookEnv = []string{
	"MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
	"MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http",
	"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true",
	"MLFLOW_WEBHOOK_REQUEST_TIMEOUT=3",
}

// hookReceiver is a webhook receiver on a fixed address that can be down
// (nothing listening), up, or hold requests for a model until released.
type hookReceiver struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	got  []hookHit
	hold string        // a model name whose deliveries are held
	held chan struct{} // closed when a held request arrived
	free chan struct{} // closed to let held requests go
	srv  *http.Server
}

type hookHit struct {
	deliveryID, name, event string
	signed                  bool
}

func newHookReceiver(t *testing.T) *hookReceiver {
	return &hookReceiver{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), held: make(chan struct{}), free: make(chan struct{})}
}

func (h *hookReceiver) url() string { return "http://" + h.addr + "/hook" }

func (h *hookReceiver) up() {
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Entity, Action string
			Data           struct{ Name string }
		}
		_ = json.Unmarshal(b, &body)
		id, ts := r.Header.Get(webhook.HeaderDeliveryID), r.Header.Get(webhook.HeaderTimestamp)
		hit := hookHit{id, body.Data.Name, body.Entity + "." + body.Action, r.Header.Get(webhook.HeaderSignature) == webhook.Sign("s3cret", id, ts, string(b))}
		h.mu.Lock()
		hold := h.hold != "" && body.Data.Name == h.hold
		if hold {
			h.hold = ""
		}
		h.got = append(h.got, hit)
		h.mu.Unlock()
		if hold {
			close(h.held)
			<-h.free
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = h.srv.Serve(ln) }()
	h.t.Cleanup(func() { h.srv.Close() })
}

func (h *hookReceiver) hits() []hookHit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookHit(nil), h.got...)
}

// waitHits waits until the receiver got n requests for each named model.
func (h *hookReceiver) waitHits(t *testing.T, timeout time.Duration, want map[string]int) map[string][]hookHit {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		by := map[string][]hookHit{}
		for _, x := range h.hits() {
			by[x.name] = append(by[x.name], x)
		}
		done := true
		for name, n := range want {
			done = done && len(by[name]) >= n
		}
		if done {
			return by
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %v within %v, want %v", by, timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type hookLog struct {
	Deliveries []struct {
		DeliveryID string `json:"delivery_id"`
		Status     string `json:"status"`
		Attempt    int    `json:"attempt"`
	} `json:"deliveries"`
	Pending int `json:"pending"`
}

func createWebhook(t *testing.T, c *client, url string) string {
	var out struct {
		Webhook struct {
			WebhookID string `json:"webhook_id"`
		} `json:"webhook"`
	}
	c.must("POST", "/api/2.0/mlflow/webhooks", map[string]any{"name": "ci", "url": url, "secret": "s3cret",
		"events": []map[string]string{{"entity": "REGISTERED_MODEL", "action": "CREATED"}}}, &out)
	return out.Webhook.WebhookID
}

// TestWebhookCrashRecovery is issue 14's proof that no event is lost: a
// model is registered while the receiver is down, the server is killed
// (SIGKILL) after the first failed attempt and restarted, and the event
// arrives once the receiver is up; then a server is killed while a
// delivery is in flight (the receiver holds the request), and after a
// restart the event is delivered again, with the same delivery id, once
// the dead worker's claim has run out. On SQLite and PostgreSQL.
func TestWebhookCrashRecovery(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		args := []string{"--backend-store-uri", uri, "--artifacts-destination", t.TempDir()}
		rc := newHookReceiver(t) // down: nothing listens yet
		srv := startServer(t, hookEnv, args...)
		srv.waitReady(t, 30*time.Second)
		c := newClient(t, srv.base)
		id := createWebhook(t, c, rc.url())
		c.must("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "A"}, nil)
		// Wait for the first failed attempt, then kill.
		deadline := time.Now().Add(15 * time.Second)
		for {
			var log hookLog
			c.must("GET", "/api/2.0/mltrack/webhooks/"+id+"/deliveries", nil, &log)
			if len(log.Deliveries) > 0 {
				if log.Deliveries[0].Status != "RETRYING" || log.Pending != 1 {
					t.Fatalf("first attempt with the receiver down: %+v", log)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no delivery attempt within 15s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		kill(t, srv)

		// The receiver comes up and holds the request for model B.
		rc.hold = "B"
		rc.up()
		srv = startServer(t, hookEnv, args...)
		srv.waitReady(t, 30*time.Second)
		c = newClient(t, srv.base)
		by := rc.waitHits(t, 20*time.Second, map[string]int{"A": 1})
		c.must("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "B"}, nil)
		select {
		case <-rc.held:
		case <-time.After(20 * time.Second):
			t.Fatal("the delivery of B did not arrive")
		}
		kill(t, srv)
		close(rc.free)

		srv = startServer(t, hookEnv, args...)
		srv.waitReady(t, 30*time.Second)
		c = newClient(t, srv.base)
		// Redelivered after the killed worker's lease (timeout + 10 s).
		by = rc.waitHits(t, 40*time.Second, map[string]int{"A": 1, "B": 2})
		time.Sleep(1500 * time.Millisecond)
		by = rc.waitHits(t, 0, map[string]int{"A": 1, "B": 2})
		if len(by["A"]) != 1 || len(by["B"]) != 2 {
			t.Fatalf("deliveries %+v, want A once and B twice (one cut by the kill)", by)
		}
		if by["B"][0].deliveryID != by["B"][1].deliveryID {
			t.Errorf("B redelivered with another delivery id: %+v", by["B"])
		}
		for name, hits := range by {
			for _, h := range hits {
				if !h.signed || h.event != "registered_model.created" {
					t.Errorf("%s: %+v", name, h)
				}
			}
		}
		var log hookLog
		deadline = time.Now().Add(5 * time.Second)
		for {
			c.must("GET", "/api/2.0/mltrack/webhooks/"+id+"/deliveries", nil, &log)
			if log.Pending == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		delivered := map[string]bool{}
		for _, l := range log.Deliveries {
			if l.Status == "DELIVERED" {
				delivered[l.DeliveryID] = true
			}
		}
		if log.Pending != 0 || len(delivered) != 2 {
			t.Errorf("delivery log after recovery: %+v", log)
		}
	})
}

func kill(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// TestWebhookReplicas runs two servers on one PostgreSQL database and
// registers 40 models through both at once: the receiver gets each event
// exactly once, not once per replica.
func TestWebhookReplicas(t *testing.T) {
	uri := testdb.PostgresURI(t)
	args := []string{"--backend-store-uri", uri, "--artifacts-destination", t.TempDir()}
	rc := newHookReceiver(t)
	rc.up()
	var reps []*process
	for i := 0; i < 2; i++ {
		p := startServer(t, hookEnv, args...)
		p.waitReady(t, 30*time.Second)
		reps = append(reps, p)
	}
	createWebhook(t, newClient(t, reps[0].base), rc.url())
	const models = 40
	var wg sync.WaitGroup
	for i := 0; i < models; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			newClient(t, reps[i%2].base).must("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": fmt.Sprintf("m%02d", i)}, nil)
		}(i)
	}
	wg.Wait()
	want := map[string]int{}
	for i := 0; i < models; i++ {
		want[fmt.Sprintf("m%02d", i)] = 1
	}
	rc.waitHits(t, 30*time.Second, want)
	// Both replicas poll the outbox every second: give a duplicate time to show.
	time.Sleep(2500 * time.Millisecond)
	hits := rc.hits()
	ids := map[string]int{}
	for _, h := range hits {
		ids[h.deliveryID]++
		if !h.signed {
			t.Errorf("unsigned or badly signed delivery %+v", h)
		}
	}
	if len(hits) != models || len(ids) != models {
		var names []string
		for _, h := range hits {
			names = append(names, h.name)
		}
		t.Fatalf("%d deliveries (%d distinct) for %d events: %s", len(hits), len(ids), models, strings.Join(names, " "))
	}
}
