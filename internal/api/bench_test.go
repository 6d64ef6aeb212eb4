package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

func post(b *testing.B, c *http.Client, url string, body any) {
	buf, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(buf))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkLogMetricHTTP is runs/log-metric over HTTP from 4 concurrent clients.
func BenchmarkLogMetricHTTP(b *testing.B) {
	srv, s := newServer(b)
	r, err := s.CreateRun(context.Background(), store.CreateRun{ExperimentID: "0", RunName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	url := srv.URL + "/api/2.0/mlflow/runs/log-metric"
	var step atomic.Int64
	b.SetParallelism(2) // 2 x GOMAXPROCS(2) = 4 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		for pb.Next() {
			n := step.Add(1)
			post(b, c, url, map[string]any{"run_id": r.Info.RunID, "key": "loss", "value": 0.5, "timestamp": n, "step": n})
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkGetHistoryHTTP reads a 100,000-point metric over HTTP in one
// answer; BenchmarkGetHistoryPagedHTTP in pages of 25,000 as the Python
// client asks (the load tool's figure).
func BenchmarkGetHistoryHTTP(b *testing.B) { benchHistory(b, 0) }

// BenchmarkGetHistoryPagedHTTP: see BenchmarkGetHistoryHTTP.
func BenchmarkGetHistoryPagedHTTP(b *testing.B) { benchHistory(b, 25000) }

func benchHistory(b *testing.B, page int) {
	srv, s := newServer(b)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]mlflow.Metric, 1000)
	for i := 0; i < 100; i++ {
		for j := range batch {
			n := int64(i*1000 + j)
			batch[j] = mlflow.Metric{Key: "loss", Value: mlflow.Float(float64(n) / 7), Timestamp: 1700000000000 + n, Step: n}
		}
		if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	url := fmt.Sprintf("%s/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=loss", srv.URL, r.Info.RunID)
	if page > 0 {
		url += fmt.Sprintf("&max_results=%d", page)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		token, total := "", 0
		for {
			u := url
			if token != "" {
				u += "&page_token=" + token
			}
			resp, err := http.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			var body struct {
				Metrics       []json.RawMessage `json:"metrics"`
				NextPageToken string            `json:"next_page_token"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("status %d, %v", resp.StatusCode, err)
			}
			total += len(body.Metrics)
			if token = body.NextPageToken; token == "" || len(body.Metrics) == 0 {
				break
			}
		}
		if total != 100000 {
			b.Fatalf("%d points", total)
		}
	}
}

// BenchmarkLogBatchHTTP is runs/log-batch of 1000 metrics over HTTP from
// one client (the load tool's log-batch figure).
func BenchmarkLogBatchHTTP(b *testing.B) {
	srv, s := newServer(b)
	r, err := s.CreateRun(context.Background(), store.CreateRun{ExperimentID: "0", RunName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	url := srv.URL + "/api/2.0/mlflow/runs/log-batch"
	type metric struct {
		Key       string  `json:"key"`
		Value     float64 `json:"value"`
		Timestamp int64   `json:"timestamp"`
		Step      int64   `json:"step"`
	}
	c := &http.Client{}
	ms := make([]metric, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ms {
			ms[j] = metric{Key: fmt.Sprintf("m%d", j%10), Value: float64(j) / 3, Timestamp: 1700000000000 + int64(i), Step: int64(i*100 + j/10)}
		}
		post(b, c, url, map[string]any{"run_id": r.Info.RunID, "metrics": ms})
	}
	b.ReportMetric(float64(b.N*len(ms))/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkGetRunHTTP is runs/get of a run with 500 params and 500
// metrics over HTTP from 4 concurrent clients (the load tool's figure).
func BenchmarkGetRunHTTP(b *testing.B) {
	srv, s := newServer(b)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for chunk := 0; chunk < 5; chunk++ {
		var ms []mlflow.Metric
		var ps []mlflow.Tag
		for k := 0; k < 100; k++ {
			n := chunk*100 + k
			ms = append(ms, mlflow.Metric{Key: fmt.Sprintf("metric_%d", n), Value: mlflow.Float(n), Timestamp: 1700000000000, Step: 1})
			ps = append(ps, mlflow.Tag{Key: fmt.Sprintf("param_%d", n), Value: fmt.Sprint("value-", n)})
		}
		if err := s.LogBatch(ctx, r.Info.RunID, ms, ps, nil); err != nil {
			b.Fatal(err)
		}
	}
	url := srv.URL + "/api/2.0/mlflow/runs/get?run_id=" + r.Info.RunID
	b.SetParallelism(2) // 2 x GOMAXPROCS(2) = 4 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
