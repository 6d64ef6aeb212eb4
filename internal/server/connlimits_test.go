package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// serveTest runs srv on a local port and returns the address and stop,
// which shuts the server down and returns what Serve returned. stop also
// runs when the test ends; calling it again returns the same error.
func serveTest(t *testing.T, srv *Server) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// closedByServer reads from conn until the server closes it. The read
// deadline is only a guard against a test that would otherwise hang: it
// is far beyond the timeout the tests set (and below the default one), and
// reaching it is the failure.
func closedByServer(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: the server kept the connection open", what)
	}
}

// TestConnectionTimeouts: a client that stalls in its headers, and a
// kept-alive connection left idle, are closed by the server, which keeps
// serving others (no slow-client exhaustion).
func TestConnectionTimeouts(t *testing.T) {
	srv := newTestServer(t, func(c *Config) {
		c.HeaderReadTimeout = 300 * time.Millisecond
		c.IdleTimeout = 300 * time.Millisecond
	})
	addr, _ := serveTest(t, srv)

	// Slow headers (slowloris): several connections that never finish
	// their headers do not keep the server from answering.
	var stalled []net.Conn
	for i := 0; i < 8; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, conn)
	}
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health beside stalled clients: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, conn := range stalled {
		closedByServer(t, conn, "stalled headers")
	}

	// Idle keep-alive connection: a full request and answer, then
	// nothing; the server closes the connection.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("keep-alive request: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	closedByServer(t, conn, "idle keep-alive connection")
}

// TestConnectionTimeoutDefaults: the deadlines are on by default and
// cannot be turned off.
func TestConnectionTimeoutDefaults(t *testing.T) {
	srv := newTestServer(t, nil)
	if srv.http.ReadHeaderTimeout != DefaultHeaderReadTimeout || srv.http.IdleTimeout != DefaultIdleTimeout || srv.http.MaxHeaderBytes != 1<<20 {
		t.Errorf("http.Server: header timeout %v, idle timeout %v, max header bytes %d", srv.http.ReadHeaderTimeout, srv.http.IdleTimeout, srv.http.MaxHeaderBytes)
	}
	for _, c := range []Config{{HeaderReadTimeout: -1}, {IdleTimeout: -time.Second}} {
		if err := checkHardening(&c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestUISecurityHeaders: the UI's pages and assets come with the security
// headers; API answers with nosniff and frame options.
func TestUISecurityHeaders(t *testing.T) {
	addr, _ := serveTest(t, newTestServer(t, nil))
	for _, c := range []struct {
		path string
		want map[string]string
	}{
		{"/", map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin",
			"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'self'"}},
		{"/experiments/1", map[string]string{"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin"}},
		{"/api/2.0/mlflow/experiments/search?max_results=10", map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN"}},
	} {
		resp, err := http.Get("http://" + addr + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", c.path, resp.StatusCode)
		}
		for k, v := range c.want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.path, k, got, v)
			}
		}
	}
}
