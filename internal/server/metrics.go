package server

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A small Prometheus exporter in the text exposition format (version
// 0.0.4): counters, gauges and histograms for the few series an operator
// needs, without pulling in client_golang and its dependency tree.

// latencyBuckets are Prometheus' default buckets, in seconds.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// artifactPrefixes are the routes of the artifact proxy whose bytes are
// counted in mltrack_artifact_proxy_bytes_total.
var artifactPrefixes = []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"}

// requestKey is one series of the request metrics.
type requestKey struct {
	route, method, status string
}

// requestStat is the histogram of one series; count is its _count and
// doubles as mltrack_http_requests_total.
type requestStat struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	count  uint64
	sum    float64
}

// metrics holds the server's Prometheus metrics. A nil *metrics records
// nothing.
type metrics struct {
	mu       sync.Mutex
	requests map[requestKey]*requestStat

	artifactIn, artifactOut atomic.Int64

	// dbStats reads the store's pool statistics; nil leaves them out.
	dbStats func() sql.DBStats
	start   time.Time
}

func newMetrics(dbStats func() sql.DBStats) *metrics {
	return &metrics{requests: map[requestKey]*requestStat{}, dbStats: dbStats, start: time.Now()}
}

// isArtifactPath reports whether the request goes through the artifact proxy.
func isArtifactPath(p string) bool {
	for _, pre := range artifactPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// countBody makes the artifact proxy's request bodies count their bytes as
// they are read, so that streamed uploads show up while they run.
func (m *metrics) countBody(r *http.Request) {
	if m == nil || r.Body == nil || r.Body == http.NoBody || !isArtifactPath(r.URL.Path) {
		return
	}
	r.Body = &countingBody{ReadCloser: r.Body, n: &m.artifactIn}
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// observe records one finished request. pattern is the mux pattern that
// served it ("GET /api/2.0/mlflow/runs/get"), "" when none matched.
func (m *metrics) observe(r *http.Request, pattern string, status int, d time.Duration, respBytes int64) {
	if m == nil {
		return
	}
	if status == 0 {
		status = http.StatusOK // net/http's answer when the handler wrote nothing
	}
	route := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		route = p // the method is a label of its own
	}
	if route == "" {
		route = "unmatched"
	}
	if isArtifactPath(r.URL.Path) {
		m.artifactOut.Add(respBytes)
	}
	key := requestKey{route, r.Method, strconv.Itoa(status)}
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.requests[key]
	if st == nil {
		st = &requestStat{counts: make([]uint64, len(latencyBuckets)+1)}
		m.requests[key] = st
	}
	i, _ := slices.BinarySearch(latencyBuckets, sec) // first bucket with le >= sec
	st.counts[i]++
	st.count++
	st.sum += sec
}

// ServeHTTP writes every metric in Prometheus' text format.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	m.write(bw)
	_ = bw.Flush()
}

func (m *metrics) write(w io.Writer) {
	e := &expo{w: w}
	m.writeRequests(e)

	e.family("mltrack_artifact_proxy_bytes_total", "counter", "Bytes through the artifact proxy: received from clients (uploads) and sent to them (downloads).")
	e.sample("mltrack_artifact_proxy_bytes_total", labels("direction", "received"), float64(m.artifactIn.Load()))
	e.sample("mltrack_artifact_proxy_bytes_total", labels("direction", "sent"), float64(m.artifactOut.Load()))

	if m.dbStats != nil {
		st := m.dbStats()
		e.gauge("mltrack_db_connections_max_open", "Maximum number of open connections to the database.", float64(st.MaxOpenConnections))
		e.gauge("mltrack_db_connections_open", "Open connections to the database, in use or idle.", float64(st.OpenConnections))
		e.gauge("mltrack_db_connections_in_use", "Database connections in use.", float64(st.InUse))
		e.gauge("mltrack_db_connections_idle", "Idle database connections.", float64(st.Idle))
		e.counter("mltrack_db_wait_total", "Times a request waited for a free database connection.", float64(st.WaitCount))
		e.counter("mltrack_db_wait_seconds_total", "Time spent waiting for a free database connection.", st.WaitDuration.Seconds())
		e.family("mltrack_db_connections_closed_total", "counter", "Database connections closed by the pool, by reason.")
		e.sample("mltrack_db_connections_closed_total", labels("reason", "max_idle"), float64(st.MaxIdleClosed))
		e.sample("mltrack_db_connections_closed_total", labels("reason", "max_idle_time"), float64(st.MaxIdleTimeClosed))
		e.sample("mltrack_db_connections_closed_total", labels("reason", "max_lifetime"), float64(st.MaxLifetimeClosed))
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e.gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	e.gauge("go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", float64(ms.HeapAlloc))
	e.gauge("go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", float64(ms.HeapInuse))
	e.gauge("go_memstats_sys_bytes", "Bytes of memory obtained from the OS.", float64(ms.Sys))
	e.counter("go_gc_cycles_total", "Completed GC cycles.", float64(ms.NumGC))
	e.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", float64(m.start.UnixNano())/1e9)
	if rss, ok := residentBytes(); ok {
		e.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss))
	}
	if cpu, ok := cpuSeconds(); ok {
		e.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu)
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		e.gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
}

func (m *metrics) writeRequests(e *expo) {
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	snap := make(map[requestKey]requestStat, len(m.requests))
	for k, v := range m.requests {
		keys = append(keys, k)
		snap[k] = requestStat{counts: slices.Clone(v.counts), count: v.count, sum: v.sum}
	}
	m.mu.Unlock()
	slices.SortFunc(keys, func(a, b requestKey) int {
		return strings.Compare(a.route+"\x00"+a.method+"\x00"+a.status, b.route+"\x00"+b.method+"\x00"+b.status)
	})

	e.family("mltrack_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.")
	for _, k := range keys {
		e.sample("mltrack_http_requests_total", labels("route", k.route, "method", k.method, "status", k.status), float64(snap[k].count))
	}
	e.family("mltrack_http_request_duration_seconds", "histogram", "Time to answer HTTP requests, by route pattern, method and status.")
	for _, k := range keys {
		st := snap[k]
		base := labels("route", k.route, "method", k.method, "status", k.status)
		var cum uint64
		for i, le := range latencyBuckets {
			cum += st.counts[i]
			e.sample("mltrack_http_request_duration_seconds_bucket", base+`,le="`+formatFloat(le)+`"`, float64(cum))
		}
		e.sample("mltrack_http_request_duration_seconds_bucket", base+`,le="+Inf"`, float64(st.count))
		e.sample("mltrack_http_request_duration_seconds_sum", base, st.sum)
		e.sample("mltrack_http_request_duration_seconds_count", base, float64(st.count))
	}
}

// expo writes the exposition format.
type expo struct{ w io.Writer }

func (e *expo) family(name, typ, help string) {
	fmt.Fprintf(e.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one line; lbls is the inside of {...} without braces.
func (e *expo) sample(name, lbls string, v float64) {
	if lbls == "" {
		fmt.Fprintf(e.w, "%s %s\n", name, formatFloat(v))
		return
	}
	fmt.Fprintf(e.w, "%s{%s} %s\n", name, lbls, formatFloat(v))
}

func (e *expo) gauge(name, help string, v float64) {
	e.family(name, "gauge", help)
	e.sample(name, "", v)
}

func (e *expo) counter(name, help string, v float64) {
	e.family(name, "counter", help)
	e.sample(name, "", v)
}

// labels renders name/value pairs as name="value",... with the format's
// escaping of backslash, double quote and newline.
func labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// residentBytes reads the resident set size from /proc/self/statm (Linux).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// cpuSeconds reads user+system time from /proc/self/stat (Linux), whose
// clock ticks are 100 per second on every Linux architecture Go supports.
func cpuSeconds() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields after it start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (utime + stime) / 100, true
}
