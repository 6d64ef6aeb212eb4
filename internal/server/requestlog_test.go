package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer the request log may write to from many
// handler goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logLine is one request line as an operator's log shipper reads it.
type logLine struct {
	Level      string   `json:"level"`
	Msg        string   `json:"msg"`
	Method     string   `json:"method"`
	Route      string   `json:"route"`
	Path       string   `json:"path"`
	Status     int      `json:"status"`
	DurationMS *float64 `json:"duration_ms"`
	Bytes      *int64   `json:"bytes"`
}

// requestLines parses a JSON log and returns its "request" lines; every
// line must be JSON.
func requestLines(t *testing.T, log string) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		if l.Msg == "request" {
			out = append(out, l)
		}
	}
	return out
}

// key is what a request line must say about one request.
func (l logLine) key() string {
	b := int64(-1)
	if l.Bytes != nil {
		b = *l.Bytes
	}
	return fmt.Sprintf("%s %s route=%q status=%d bytes=%d", l.Method, l.Path, l.Route, l.Status, b)
}

// TestRequestLog sends requests of every kind through the whole handler (API
// answers and errors, the artifact proxy, an unknown path, a Host the
// security middleware refuses) and checks that each one gives exactly one
// JSON line at info level with its route pattern, status, duration and the
// bytes the client received, and never the query string.
func TestRequestLog(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		BackendStoreURI: "sqlite:///" + filepath.Join(dir, "mlflow.db"),
		ArtifactsDest:   filepath.Join(dir, "mlartifacts"),
		ServeArtifacts:  true,
		AllowedHosts:    DefaultAllowedHosts(),
	}
	var buf lockedBuffer
	srv, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer srv.Close()

	cases := []struct {
		method, path, host, body string
		route                    string
		status                   int
	}{
		{"POST", "/api/2.0/mlflow/experiments/create", "", `{"name":"logged"}`, "POST /api/2.0/mlflow/experiments/create", 200},
		{"POST", "/api/2.0/mlflow/experiments/create", "", `{"name":"logged"}`, "POST /api/2.0/mlflow/experiments/create", 400},
		{"GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=logged", "", "", "GET /api/2.0/mlflow/experiments/get-by-name", 200},
		{"GET", "/health", "", "", "GET /health", 200},
		{"GET", "/api/2.0/mlflow/no-such-endpoint", "", "", "/api/2.0/mlflow/", 404},
		{"PUT", "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt", "", "hello", "PUT /api/2.0/mlflow-artifacts/artifacts/{path...}", 200},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt", "", "", "GET /api/2.0/mlflow-artifacts/artifacts/{path...}", 200},
		{"GET", "/api/2.0/mlflow/experiments/search?max_results=1", "evil.example", "", "GET /api/2.0/mlflow/experiments/search", 403},
	}
	var want []string
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, _ := http.NewRequest(c.method, ts.URL+c.path, body)
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		path, _, _ := strings.Cut(c.path, "?")
		want = append(want, logLine{Method: c.method, Path: path, Route: c.route, Status: c.status, Bytes: &n}.key())
	}
	ts.Close() // waits for the handlers, and so for their log lines

	lines := requestLines(t, buf.String())
	var got []string
	for _, l := range lines {
		got = append(got, l.key())
		if l.Level != "INFO" {
			t.Errorf("%s: level %q, want INFO", l.key(), l.Level)
		}
		if l.DurationMS == nil || *l.DurationMS < 0 {
			t.Errorf("%s: duration_ms %v", l.key(), l.DurationMS)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("request lines:\n%s\nwant one per request:\n%s\nlog:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), buf.String())
	}
	if strings.Contains(buf.String(), "experiment_name=") || strings.Contains(buf.String(), "max_results") {
		t.Errorf("the query string leaked into the log:\n%s", buf.String())
	}
}

// TestRequestLogPanic: a handler that panics still gives one request line,
// with the 500 the client got, after the error line with the panic.
func TestRequestLogPanic(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	var buf lockedBuffer
	ts := httptest.NewServer(logRequests(slog.New(slog.NewJSONHandler(&buf, nil)), mux, nil, mux))
	resp, err := http.Get(ts.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "INTERNAL_ERROR") {
		t.Errorf("panic: %d %s", resp.StatusCode, b)
	}
	lines := requestLines(t, buf.String())
	if len(lines) != 1 || lines[0].Status != 500 || lines[0].Route != "GET /boom" {
		t.Errorf("request lines %+v, want one with status 500\n%s", lines, buf.String())
	}
	if !strings.Contains(buf.String(), `"msg":"panic in handler"`) {
		t.Errorf("no panic line:\n%s", buf.String())
	}
}

// TestClientAbortedUpload: a client that closes the connection in the
// middle of an artifact PUT is the client's doing. The request log and the
// metrics record it with status 499 (not 503, "artifact store
// unavailable"), and the upload leaves no file and no empty folder.
func TestClientAbortedUpload(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "mlartifacts")
	cfg := Config{
		BackendStoreURI: "sqlite:///" + filepath.Join(dir, "mlflow.db"),
		ArtifactsDest:   dest,
		ServeArtifacts:  true,
		AllowedHosts:    []string{"*"},
	}
	var buf, appLog lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&appLog, nil)))
	defer slog.SetDefault(prev)
	srv, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	const path = "/api/2.0/mlflow-artifacts/artifacts/0/abandoned/artifacts/deep/big.bin"
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000\r\n\r\n", path)
	_, _ = conn.Write(bytes.Repeat([]byte("x"), 64<<10))
	time.Sleep(100 * time.Millisecond) // the handler is reading the body
	conn.Close()

	var line *logLine
	for deadline := time.Now().Add(10 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range requestLines(t, buf.String()) {
			if l.Path == path {
				line = &l
			}
		}
	}
	if line == nil {
		t.Fatalf("no request line for the aborted upload:\n%s", buf.String())
	}
	if line.Status != 499 {
		t.Errorf("aborted upload logged with status %d, want 499", line.Status)
	}
	if strings.Contains(appLog.String(), "artifact store unavailable") || !strings.Contains(appLog.String(), "client aborted an artifact upload") {
		t.Errorf("application log:\n%s", appLog.String())
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `status="499"`) || strings.Contains(string(metrics), `status="503"`) {
		t.Errorf("metrics:\n%s", metrics)
	}
	if _, err := os.Stat(filepath.Join(dest, "0", "abandoned")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the aborted upload left its folder: %v", err)
	}
}
