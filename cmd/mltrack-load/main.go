// Command mltrack-load drives an MLflow-compatible tracking server over HTTP
// with the scenarios of mltrack's performance targets and prints what it
// measured. It works against mltrack and against MLflow's own server, so
// both can be measured side by side on one machine.
//
//	mltrack-load -target http://127.0.0.1:5000 [-pid 1234] [-scenarios all]
//
// Scenarios: log-batch (1000 metrics a request), log-metric (4 concurrent
// clients), create-run, search (a filtered, metric-ordered page of 100 out
// of 2,000 runs), history (get-history of a 100k-point metric, paged as the
// Python client does), get-run (a run with 500 params and 500 metrics),
// downsample (mltrack's get-history-downsampled of a 1M-point metric to
// 2000 buckets; mltrack only), and by name only: otlp (OTLP ingestion,
// batches of 500 spans, 4 clients), search-traces (a page of 100 with a tag
// filter among 100,000 traces), get-trace (a trace of 1,000 spans).
// With -pid, the server's peak resident memory (VmHWM) is printed at the end.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	base string
	http *http.Client
}

func (c *client) call(method, path string, body any, out any) error {
	b, _, err := c.roundTrip(method, path, body)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// roundTrip sends a request and reads the whole answer. The duration is
// the server's part as the client sees it: from sending the request to the
// last byte of the answer, without encoding the request body or decoding
// the answer.
func (c *client) roundTrip(method, path string, body any) ([]byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	if resp.StatusCode != 200 {
		return nil, took, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b, took, nil
}

func (c *client) post(path string, body, out any) error {
	return c.call("POST", "/api/2.0/mlflow/"+path, body, out)
}
func (c *client) get(path string, q url.Values, out any) error {
	return c.call("GET", "/api/2.0/mlflow/"+path+"?"+q.Encode(), nil, out)
}

type metric struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (c *client) experiment(name string) string {
	var r struct {
		ExperimentID string `json:"experiment_id"`
	}
	must(c.post("experiments/create", map[string]any{"name": name}, &r))
	return r.ExperimentID
}

func (c *client) run(exp string) string {
	var r struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	must(c.post("runs/create", map[string]any{"experiment_id": exp, "start_time": time.Now().UnixMilli()}, &r))
	return r.Run.Info.RunID
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mltrack-load:", err)
		os.Exit(1)
	}
}

// parallel runs n calls of fn over `clients` goroutines and returns the
// wall time and each call's latency.
func parallel(clients, n int, fn func(i int) error) (time.Duration, []time.Duration) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				must(fn(i))
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), lat
}

func pct(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
}

func main() {
	target := flag.String("target", "http://127.0.0.1:5000", "server base URL")
	pid := flag.Int("pid", 0, "server process id, to report its peak memory")
	which := flag.String("scenarios", "all", "comma-separated: log-batch,log-metric,create-run,search,history,get-run,downsample,otlp,search-traces,get-trace")
	scale := flag.Float64("scale", 1, "multiply request counts (0.1 for a quick check)")
	batchClients := flag.Int("batch-clients", 1, "concurrent clients of the log-batch scenario")
	flag.Parse()
	c := &client{base: strings.TrimSuffix(*target, "/"), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	want := func(s string) bool {
		// downsample is mltrack's own endpoint and the trace scenarios are
		// MLflow 3's: asked for by name only.
		return *which == "all" && s != "downsample" && s != "otlp" && s != "search-traces" && s != "get-trace" || slices.Contains(strings.Split(*which, ","), s)
	}
	n := func(k int) int { return max(1, int(float64(k)**scale)) }
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	exp := c.experiment("load-" + tag)
	now := time.Now().UnixMilli()

	if want("log-batch") {
		run := c.run(exp)
		reqs := n(200)
		d, lat := parallel(*batchClients, reqs, func(i int) error {
			ms := make([]metric, 1000)
			for j := range ms {
				ms[j] = metric{Key: "m" + strconv.Itoa(j%10), Value: float64(j), Timestamp: now + int64(i), Step: int64(i*100 + j/10)}
			}
			return c.post("runs/log-batch", map[string]any{"run_id": run, "metrics": ms}, nil)
		})
		fmt.Printf("log-batch   %8.0f points/s  (%d requests of 1000 metrics, %d client(s), p50 %s, p99 %s)\n",
			float64(reqs*1000)/d.Seconds(), reqs, *batchClients, ms(pct(lat, .5)), ms(pct(lat, .99)))
	}
	if want("log-metric") {
		run := c.run(exp)
		calls := n(20000)
		d, lat := parallel(4, calls, func(i int) error {
			return c.post("runs/log-metric", map[string]any{"run_id": run, "key": "loss", "value": 1 / float64(i+1), "timestamp": now + int64(i), "step": i}, nil)
		})
		fmt.Printf("log-metric  %8.0f calls/s   (%d calls, 4 clients, p50 %s, p99 %s)\n", float64(calls)/d.Seconds(), calls, ms(pct(lat, .5)), ms(pct(lat, .99)))
	}
	if want("create-run") {
		runs := n(5000)
		d, lat := parallel(4, runs, func(i int) error {
			return c.post("runs/create", map[string]any{"experiment_id": exp, "start_time": now}, nil)
		})
		fmt.Printf("create-run  %8.0f runs/s    (%d runs, 4 clients, p50 %s)\n", float64(runs)/d.Seconds(), runs, ms(pct(lat, .5)))
	}
	if want("search") {
		sexp := c.experiment("load-search-" + tag)
		total := 2000
		parallel(4, total, func(i int) error {
			id := c.run(sexp)
			return c.post("runs/log-batch", map[string]any{"run_id": id,
				"metrics": []metric{{Key: "acc", Value: float64(i%1000) / 1000, Timestamp: now, Step: 0}, {Key: "loss", Value: float64(i), Timestamp: now}},
				"params":  []kv{{"opt", []string{"adam", "sgd"}[i%2]}, {"lr", strconv.Itoa(i % 7)}},
				"tags":    []kv{{"team", "vision"}}}, nil)
		})
		body := map[string]any{"experiment_ids": []string{sexp}, "filter": "metrics.acc > 0.2 and params.opt = 'adam'",
			"order_by": []string{"metrics.acc DESC"}, "max_results": 100}
		var got struct {
			Runs []json.RawMessage `json:"runs"`
		}
		must(c.post("runs/search", body, &got))
		if len(got.Runs) != 100 {
			must(fmt.Errorf("search returned %d runs, want 100", len(got.Runs)))
		}
		_, lat := parallel(1, n(200), func(int) error { return c.post("runs/search", body, nil) })
		fmt.Printf("search      %8s p50      (page of 100 of %d runs, filter on a metric and a param, ordered by a metric; p99 %s)\n", ms(pct(lat, .5)), total, ms(pct(lat, .99)))
	}
	if want("history") {
		run := c.run(exp)
		points := 100000
		parallel(2, points/1000, func(i int) error {
			ms := make([]metric, 1000)
			for j := range ms {
				step := int64(i*1000 + j)
				ms[j] = metric{Key: "loss", Value: 1 / float64(step+1), Timestamp: now + step, Step: step}
			}
			return c.post("runs/log-batch", map[string]any{"run_id": run, "metrics": ms}, nil)
		})
		// Each fetch's latency is the sum of its pages' round trips; the
		// client's own JSON decoding is timed apart (Go's encoding/json
		// takes longer to decode 100k points than the server to send them).
		fetches := n(20)
		lat, total := make([]time.Duration, fetches), make([]time.Duration, fetches)
		for i := range fetches {
			start := time.Now()
			tok, got := "", 0
			for {
				q := url.Values{"run_id": {run}, "metric_key": {"loss"}, "max_results": {"25000"}}
				if tok != "" {
					q.Set("page_token", tok)
				}
				b, took, err := c.roundTrip("GET", "/api/2.0/mlflow/metrics/get-history?"+q.Encode(), nil)
				must(err)
				lat[i] += took
				var r struct {
					Metrics       []json.RawMessage `json:"metrics"`
					NextPageToken string            `json:"next_page_token"`
				}
				must(json.Unmarshal(b, &r))
				got += len(r.Metrics)
				if tok = r.NextPageToken; tok == "" || len(r.Metrics) == 0 {
					break
				}
			}
			total[i] = time.Since(start)
			if got != points {
				must(fmt.Errorf("history has %d points, want %d", got, points))
			}
		}
		fmt.Printf("history     %8s p50      (%d points, pages of 25000 as the Python client asks; p99 %s; with the client's JSON decoding %s p50)\n",
			ms(pct(lat, .5)), points, ms(pct(lat, .99)), ms(pct(total, .5)))
	}
	if want("get-run") {
		run := c.run(exp)
		for b := range 5 {
			var ps []kv
			var mets []metric
			for j := range 100 {
				k := strconv.Itoa(b*100 + j)
				ps = append(ps, kv{"param_" + k, "value-" + k})
				mets = append(mets, metric{Key: "metric_" + k, Value: float64(j), Timestamp: now, Step: 1})
			}
			must(c.post("runs/log-batch", map[string]any{"run_id": run, "params": ps, "metrics": mets}, nil))
		}
		calls := n(5000)
		d, lat := parallel(4, calls, func(int) error {
			return c.get("runs/get", url.Values{"run_id": {run}}, nil)
		})
		fmt.Printf("get-run     %8.0f runs/s    (500 params + 500 metrics, 4 clients, p50 %s)\n", float64(calls)/d.Seconds(), ms(pct(lat, .5)))
	}
	if want("downsample") {
		run := c.run(exp)
		points := 1000000
		parallel(2, points/1000, func(i int) error {
			ms := make([]metric, 1000)
			for j := range ms {
				step := int64(i*1000 + j)
				ms[j] = metric{Key: "loss", Value: math.Sin(float64(step)/5000) + float64(step%997)/997, Timestamp: now + step, Step: step}
			}
			return c.post("runs/log-batch", map[string]any{"run_id": run, "metrics": ms}, nil)
		})
		fetches := n(20)
		lat := make([]time.Duration, fetches)
		for i := range fetches {
			q := url.Values{"run_ids": {run}, "metric_key": {"loss"}, "max_points": {"2000"}}
			b, took, err := c.roundTrip("GET", "/ajax-api/2.0/mltrack/metrics/get-history-downsampled?"+q.Encode(), nil)
			must(err)
			lat[i] = took
			var r struct {
				Metrics     []json.RawMessage `json:"metrics"`
				TotalPoints map[string]int64  `json:"total_points"`
				Downsampled bool              `json:"downsampled"`
			}
			must(json.Unmarshal(b, &r))
			if r.TotalPoints[run] != int64(points) || !r.Downsampled || len(r.Metrics) == 0 || len(r.Metrics) > 8000 {
				must(fmt.Errorf("downsampled history: %d of %d points, downsampled %v", len(r.Metrics), r.TotalPoints[run], r.Downsampled))
			}
		}
		fmt.Printf("downsample  %8s p50      (%d points, 2000 buckets, mltrack's get-history-downsampled; p99 %s)\n", ms(pct(lat, .5)), points, ms(pct(lat, .99)))
	}
	traceScenarios(c, want, n, tag)
	if *pid > 0 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(*pid) + "/status")
		must(err)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				fmt.Println("peak memory", strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "(server VmHWM)")
			}
		}
	}
}
