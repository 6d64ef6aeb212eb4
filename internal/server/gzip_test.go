package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestGzipAnswers checks over HTTP that answers of a known length are
// gzipped when the client accepts gzip and decode to the same bytes as the
// plain answer; that small answers, clients without gzip (or with q=0),
// HEAD requests, streamed histories and artifacts go plain.
func TestGzipAnswers(t *testing.T) {
	base := startServer(t)
	post := func(path, body string) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	post("/api/2.0/mlflow/experiments/create", `{"name":"gz"}`)
	var runID string
	for i := range 30 {
		resp, err := http.Post(base+"/api/2.0/mlflow/runs/create", "application/json", strings.NewReader(`{"experiment_id":"1"}`))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Run struct {
				Info struct {
					RunID string `json:"run_id"`
				} `json:"info"`
			} `json:"run"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		runID = out.Run.Info.RunID
		post("/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":%q,"metrics":[{"key":"acc","value":%d,"timestamp":1,"step":0}],"params":[{"key":"lr","value":"0.%d"}]}`, runID, i, i))
	}
	post("/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":%q,"metrics":[{"key":"loss","value":1,"timestamp":1,"step":0},{"key":"loss","value":2,"timestamp":2,"step":1}]}`, runID))
	// fetch sends a request with Accept-Encoding as given (Go's transport
	// then leaves the body as it came).
	fetch := func(method, path, body, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		} else {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	search := `{"experiment_ids":["1"],"max_results":100}`
	plainResp, plain := fetch("POST", "/api/2.0/mlflow/runs/search", search, "")
	if plainResp.Header.Get("Content-Encoding") != "" || len(plain) < 1400 {
		t.Fatalf("plain answer: encoding %q, %d bytes", plainResp.Header.Get("Content-Encoding"), len(plain))
	}
	for _, accept := range []string{"gzip", "gzip, deflate", "br;q=1.0, GZIP;q=0.5"} {
		resp, body := fetch("POST", "/api/2.0/mlflow/runs/search", search, accept)
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%q: encoding %q, vary %q", accept, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) || len(body) >= len(plain) {
			t.Fatalf("%q: gzipped %d bytes decode to %d bytes, not the plain %d", accept, len(body), len(got), len(plain))
		}
	}
	for _, c := range []struct{ method, path, body, accept string }{
		{"POST", "/api/2.0/mlflow/runs/search", search, "gzip;q=0"},
		{"POST", "/api/2.0/mlflow/runs/search", search, "deflate"},
		{"HEAD", "/", "", "gzip"},
		{"GET", "/api/2.0/mlflow/experiments/get?experiment_id=1", "", "gzip"}, // small
		{"GET", "/api/2.0/mlflow/metrics/get-history?run_id=" + runID + "&metric_key=loss", "", "gzip"},
		{"GET", "/api/2.0/mlflow/artifacts/list?run_id=" + runID, "", "gzip"},
	} {
		resp, _ := fetch(c.method, c.path, c.body, c.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s %s (%q): %d, encoding %q", c.method, c.path, c.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	}
	// The UI's files are compressed too (its page is under gzipMinBytes).
	_, page := fetch("GET", "/", "", "")
	script := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(string(page))
	resp, body := fetch("GET", script, "", "gzip")
	if script == "" || resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("UI script %q: %d, encoding %q, %d bytes", script, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
	}
}
