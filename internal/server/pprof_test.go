package server

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPprofOwnListener: with PprofAddr the profiler answers on that
// address, the API's port does not serve it, and shutting down closes both.
func TestPprofOwnListener(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := free.Addr().String()
	free.Close()
	srv := newTestServer(t, func(c *Config) { c.PprofAddr = pprofAddr })
	addr, stop := serveTest(t, srv)

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) (int, string) {
		t.Helper()
		var resp *http.Response
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err = client.Get(url); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("http://" + pprofAddr + "/debug/pprof/"); st != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof listener: %d %.200s", st, body)
	}
	// (The API's port answers unknown paths with the UI's page.)
	if _, body := get("http://" + addr + "/debug/pprof/"); strings.Contains(body, "goroutine") {
		t.Error("the API's listener serves /debug/pprof/")
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if resp, err := client.Get("http://" + pprofAddr + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		t.Error("the pprof listener still answers after shutdown")
	}
}
