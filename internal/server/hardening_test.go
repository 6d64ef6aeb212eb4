package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/auth"
)

func newTestServer(t *testing.T, mod func(*Config)) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{
		BackendStoreURI: "sqlite:///" + filepath.Join(dir, "mlflow.db"),
		ArtifactsDest:   filepath.Join(dir, "mlartifacts"),
		ServeArtifacts:  true,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type errBody struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

func decodeErr(t *testing.T, b []byte) errBody {
	t.Helper()
	var e errBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not MLflow's error body: %s", b)
	}
	return e
}

// TestBodyLimit: a JSON API body over the limit is refused with 413 in
// MLflow's format, announced (Content-Length) or not (chunked); an
// artifact upload of the same size is not limited by it.
func TestBodyLimit(t *testing.T) {
	srv := newTestServer(t, func(c *Config) { c.MaxRequestBodyBytes = 1000 })
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	big := `{"name": "` + strings.Repeat("x", 2000) + `"}`
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(strings.NewReader(big)) // unknown length: sent chunked
		}
		req, _ := http.NewRequest("POST", ts.URL+"/api/2.0/mlflow/experiments/create", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || decodeErr(t, b).ErrorCode != "BAD_REQUEST" {
			t.Errorf("chunked=%v: %d %s, want 413 BAD_REQUEST", chunked, resp.StatusCode, b)
		}
	}
	// Under the limit it works.
	resp, err := http.Post(ts.URL+"/api/2.0/mlflow/experiments/create", "application/json", strings.NewReader(`{"name": "small"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("small body: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/big.txt", strings.NewReader(big))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("artifact upload over the JSON limit: %d, want 200", resp.StatusCode)
	}
}

// TestSlowBody: a client that sends headers and then stalls in the body is
// cut off after the read timeout with 408, while a handler that works
// longer than the read timeout after the body arrived is not cancelled.
func TestSlowBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := limitRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-time.After(3 * timeout):
		case <-r.Context().Done():
			http.Error(w, "cancelled", 599)
			return
		}
		_, _ = w.Write([]byte("done"))
	}), 1<<20, timeout, time.Minute)
	ts := httptest.NewServer(h)
	defer ts.Close()

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("POST /api/2.0/mlflow/runs/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\""))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || decodeErr(t, b).ErrorCode != "BAD_REQUEST" {
		t.Errorf("stalled body: %d %s, want 408", resp.StatusCode, b)
	}

	// A complete body, then a slow handler: 200, context intact, and the
	// connection is reusable.
	client := &http.Client{}
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("POST", ts.URL+"/api/2.0/mlflow/runs/create", strings.NewReader(`{"a": 1}`))
		if i%2 == 1 {
			req, _ = http.NewRequest("GET", ts.URL+"/api/2.0/mlflow/runs/get?run_id=x", nil)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "done" {
			t.Errorf("slow handler after the body: %d %s", resp.StatusCode, b)
		}
	}
}

// TestLimiter checks the token bucket with a fake clock.
func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(RateLimit{Rate: 2, Burst: 3})
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("no refill after 1/rate")
	}
	if ok, _ := l.allow("a"); ok {
		t.Fatal("refilled more than rate*elapsed")
	}
	now = now.Add(time.Hour)
	l.allow("c")
	if len(l.buckets) != 1 {
		t.Errorf("sweep kept %d buckets, want only the one just used", len(l.buckets))
	}
}

// TestRateLimit: per client address, with 429 REQUEST_LIMIT_EXCEEDED and
// Retry-After; health probes are exempt; off by default.
func TestRateLimit(t *testing.T) {
	srv := newTestServer(t, func(c *Config) { c.RateLimit = &RateLimit{Rate: 0.5, Burst: 3} })
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) *http.Response {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := 0; i < 3; i++ {
		resp := get("/api/2.0/mlflow/experiments/get?experiment_id=0")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	resp := get("/api/2.0/mlflow/experiments/get?experiment_id=0")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || decodeErr(t, b).ErrorCode != "REQUEST_LIMIT_EXCEEDED" || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("over the limit: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	for i := 0; i < 10; i++ {
		resp := get("/health")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("/health under the rate limit: %d", resp.StatusCode)
		}
	}

	off := newTestServer(t, nil)
	h := off.Handler()
	for i := 0; i < 200; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", nil))
		if w.Code != 200 {
			t.Fatalf("no rate limit configured, request %d: %d", i, w.Code)
		}
	}
}

// TestRateLimitPerUser: with auth on, a user's requests share one bucket
// whatever address they come from.
func TestRateLimitPerUser(t *testing.T) {
	dir := t.TempDir()
	srv := newTestServer(t, func(c *Config) {
		c.RateLimit = &RateLimit{Rate: 0.1, Burst: 4}
		ac := auth.DefaultConfig()
		ac.DatabaseURI = "sqlite:///" + filepath.Join(dir, "auth.db")
		ac.AdminPassword = "a-long-admin-password"
		c.Auth = &ac
	})
	h := srv.Handler()
	codes := []int{}
	for i := 0; i < 6; i++ {
		r := httptest.NewRequest("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", nil)
		r.RemoteAddr = "10.0.0." + string(rune('1'+i)) + ":4000" // a fresh address each time
		r.SetBasicAuth("admin", "a-long-admin-password")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
		if w.Code == 429 && w.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	want := []int{200, 200, 200, 200, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("per-user limit from 6 addresses: %v, want %v", codes, want)
		}
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns the
// files and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mltrack test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS serves HTTPS with a self-signed certificate: the API works over
// TLS, plain HTTP to the port is refused, and a bad key pair stops start-up.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv := newTestServer(t, func(c *Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	addr, stop := serveTest(t, srv)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "https://" + addr
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(base+"/api/2.0/mlflow/experiments/create", "application/json", strings.NewReader(`{"name": "over-tls"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(string(b), "experiment_id") {
		t.Fatalf("over TLS: %d tls=%v %s", resp.StatusCode, resp.TLS != nil, b)
	}
	if resp, err := http.Get("http://" + addr + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
	// An untrusted client refuses the self-signed certificate (the server
	// really presents it).
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("a client without the CA accepted the certificate")
	}

	for _, c := range []Config{
		{TLSCertFile: certFile},
		{TLSCertFile: certFile, TLSKeyFile: certFile},
		{TLSCertFile: filepath.Join(t.TempDir(), "missing.pem"), TLSKeyFile: keyFile},
	} {
		c.BackendStoreURI = "sqlite:///" + filepath.Join(t.TempDir(), "x.db")
		if s, err := New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
			s.Close()
			t.Errorf("New accepted cert %q key %q", c.TLSCertFile, c.TLSKeyFile)
		}
	}
}
