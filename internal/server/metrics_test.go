package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches /metrics and returns its samples: "name{labels}" -> value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics Content-Type = %q", ct)
	}
	out := map[string]float64{}
	types := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			types[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		name := line[:i]
		if _, dup := out[name]; dup {
			t.Errorf("duplicate series %s", name)
		}
		out[name] = v
		family := name
		if j := strings.IndexByte(family, '{'); j >= 0 {
			family = family[:j]
		}
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(family, "_bucket"), "_sum"), "_count")
		if types[family] == "" && types[base] == "" {
			t.Errorf("series %s has no # TYPE line", name)
		}
	}
	return out
}

func TestMetricsScrape(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		BackendStoreURI: "sqlite:///" + filepath.Join(dir, "mlflow.db"),
		ArtifactsDest:   filepath.Join(dir, "mlartifacts"),
		ServeArtifacts:  true,
		AllowedHosts:    DefaultAllowedHosts(),
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })

	post := func(path, body string) int {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	get := func(path string) int {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 3; i++ {
		if st := post("/api/2.0/mlflow/experiments/create", `{"name":"m`+strconv.Itoa(i)+`"}`); st != 200 {
			t.Fatalf("create: %d", st)
		}
	}
	if st := post("/api/2.0/mlflow/experiments/create", `{"name":"m0"}`); st != 400 {
		t.Fatalf("duplicate create: %d", st)
	}
	get("/health")
	get("/health")
	if st := get("/api/2.0/mlflow/no-such-endpoint"); st != 404 {
		t.Fatalf("unknown endpoint: %d", st)
	}
	get("/nothing-here")
	// The artifact proxy: 3000 bytes up, the same 3000 bytes down.
	req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/data.bin", strings.NewReader(strings.Repeat("y", 3000)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("artifact upload: %d", resp.StatusCode)
	}
	resp, err = http.Get(ts.URL + "/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := io.Copy(io.Discard, resp.Body); n != 3000 {
		t.Fatalf("artifact download: %d bytes", n)
	}
	resp.Body.Close()

	m := scrape(t, ts.URL)
	want := map[string]float64{
		`mltrack_http_requests_total{route="/api/2.0/mlflow/experiments/create",method="POST",status="200"}`:                            3,
		`mltrack_http_requests_total{route="/api/2.0/mlflow/experiments/create",method="POST",status="400"}`:                            1,
		`mltrack_http_requests_total{route="/health",method="GET",status="200"}`:                                                        2,
		`mltrack_http_requests_total{route="/api/2.0/mlflow/",method="GET",status="404"}`:                                               1,
		`mltrack_http_request_duration_seconds_count{route="/api/2.0/mlflow/experiments/create",method="POST",status="200"}`:            3,
		`mltrack_http_request_duration_seconds_bucket{route="/api/2.0/mlflow/experiments/create",method="POST",status="200",le="+Inf"}`: 3,
		`mltrack_http_request_duration_seconds_bucket{route="/health",method="GET",status="200",le="+Inf"}`:                             2,
	}
	want[`mltrack_http_requests_total{route="/api/2.0/mlflow-artifacts/artifacts/{path...}",method="PUT",status="200"}`] = 1
	want[`mltrack_http_requests_total{route="/api/2.0/mlflow-artifacts/artifacts/{path...}",method="GET",status="200"}`] = 1
	want[`mltrack_artifact_proxy_bytes_total{direction="received"}`] = 3000
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if v := m[`mltrack_artifact_proxy_bytes_total{direction="sent"}`]; v < 3000 || v > 3100 {
		t.Errorf("artifact bytes sent = %v, want the 3000 downloaded plus the upload's small answer", v)
	}
	// The unmatched path is one series whatever the path, so that scanners
	// cannot blow up the number of series.
	var unmatched float64
	for k, v := range m {
		if strings.HasPrefix(k, `mltrack_http_requests_total{route="unmatched"`) || strings.HasPrefix(k, `mltrack_http_requests_total{route="/"`) {
			unmatched += v
		}
		if strings.Contains(k, "nothing-here") {
			t.Errorf("raw path leaked into a label: %s", k)
		}
	}
	if unmatched != 1 {
		t.Errorf("unmatched requests = %v, want 1", unmatched)
	}
	// Buckets are cumulative and end at the count.
	prefix := `mltrack_http_request_duration_seconds_bucket{route="/api/2.0/mlflow/experiments/create",method="POST",status="200",le="`
	prev := 0.0
	for _, le := range latencyBuckets {
		v, ok := m[prefix+formatFloat(le)+`"}`]
		if !ok || v < prev {
			t.Errorf("bucket le=%v = %v (present %v), previous %v", le, v, ok, prev)
		}
		prev = v
	}
	if sum := m[`mltrack_http_request_duration_seconds_sum{route="/api/2.0/mlflow/experiments/create",method="POST",status="200"}`]; sum <= 0 || sum > 60 {
		t.Errorf("duration sum = %v", sum)
	}
	// Pool statistics of the SQLite store: a writer connection and readers.
	if v, ok := m["mltrack_db_connections_max_open"]; !ok || v < 2 {
		t.Errorf("mltrack_db_connections_max_open = %v (present %v)", v, ok)
	}
	if v, ok := m["mltrack_db_connections_open"]; !ok || v < 1 {
		t.Errorf("mltrack_db_connections_open = %v (present %v)", v, ok)
	}
	for _, name := range []string{"mltrack_db_connections_in_use", "mltrack_db_connections_idle", "mltrack_db_wait_total",
		`mltrack_db_connections_closed_total{reason="max_idle"}`, `mltrack_artifact_proxy_bytes_total{direction="received"}`,
		`mltrack_artifact_proxy_bytes_total{direction="sent"}`} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if v := m["go_goroutines"]; v < 1 {
		t.Errorf("go_goroutines = %v", v)
	}
	if v := m["go_memstats_heap_alloc_bytes"]; v < 1<<10 {
		t.Errorf("go_memstats_heap_alloc_bytes = %v", v)
	}
	if v := m["process_resident_memory_bytes"]; v < 1<<20 {
		t.Errorf("process_resident_memory_bytes = %v", v)
	}
	if v := m["process_start_time_seconds"]; v < float64(time.Now().Add(-time.Hour).Unix()) || v > float64(time.Now().Unix()+1) {
		t.Errorf("process_start_time_seconds = %v", v)
	}
	if _, ok := m["process_cpu_seconds_total"]; !ok {
		t.Error("process_cpu_seconds_total missing")
	}

	// A second scrape counts the first one.
	m2 := scrape(t, ts.URL)
	if v := m2[`mltrack_http_requests_total{route="/metrics",method="GET",status="200"}`]; v != 1 {
		t.Errorf("/metrics requests = %v, want 1", v)
	}
}

// TestMetricsArtifactBytes checks that bytes read from and written to the
// artifact proxy's routes are counted, and bytes of other routes are not.
func TestMetricsArtifactBytes(t *testing.T) {
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
		_, _ = w.Write(b) // answer twice the bytes: sent != received
	}
	mux.HandleFunc("PUT /api/2.0/mlflow-artifacts/artifacts/{path...}", echo)
	mux.HandleFunc("PUT /api/2.0/mlflow/other", echo)
	m := newMetrics(nil)
	mux.Handle("GET /metrics", m)
	ts := httptest.NewServer(logRequests(slog.New(slog.NewTextHandler(io.Discard, nil)), mux, m, mux))
	defer ts.Close()

	put := func(path string, n int) {
		req, _ := http.NewRequest("PUT", ts.URL+path, strings.NewReader(strings.Repeat("x", n)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	put("/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model.pkl", 1000)
	put("/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/data.csv", 234)
	put("/api/2.0/mlflow/other", 5000)

	got := scrape(t, ts.URL)
	if v := got[`mltrack_artifact_proxy_bytes_total{direction="received"}`]; v != 1234 {
		t.Errorf("received = %v, want 1234", v)
	}
	if v := got[`mltrack_artifact_proxy_bytes_total{direction="sent"}`]; v != 2468 {
		t.Errorf("sent = %v, want 2468", v)
	}
	if v := got[`mltrack_http_requests_total{route="/api/2.0/mlflow-artifacts/artifacts/{path...}",method="PUT",status="200"}`]; v != 2 {
		t.Errorf("artifact route requests = %v, want 2", v)
	}
	if _, ok := got["mltrack_db_connections_open"]; ok {
		t.Error("pool metrics without a store")
	}
}

func TestLabelEscaping(t *testing.T) {
	if got, want := labels("a", `x"y\z`+"\n"), `a="x\"y\\z\n"`; got != want {
		t.Errorf("labels = %s, want %s", got, want)
	}
}
