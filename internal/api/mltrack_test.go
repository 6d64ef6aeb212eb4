package api_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

type downsampled struct {
	Metrics []struct {
		RunID     string          `json:"run_id"`
		Key       string          `json:"key"`
		Step      int64           `json:"step"`
		Timestamp int64           `json:"timestamp"`
		Value     json.RawMessage `json:"value"`
	} `json:"metrics"`
	TotalPoints map[string]int64 `json:"total_points"`
	Downsampled bool             `json:"downsampled"`
}

func getDownsampled(t *testing.T, base string, q url.Values) (int, downsampled, string) {
	t.Helper()
	resp, err := http.Get(base + "/ajax-api/2.0/mltrack/metrics/get-history-downsampled?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var d downsampled
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, d, string(body)
}

func TestHistoryDownsampled(t *testing.T) {
	srv, s := newServer(t)
	ctx := context.Background()
	newRun := func(name string, n int, value func(i int) float64) string {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: name})
		if err != nil {
			t.Fatal(err)
		}
		var batch []mlflow.Metric
		for i := 0; i < n; i++ {
			batch = append(batch, mlflow.Metric{Key: "loss", Value: mlflow.Float(value(i)), Timestamp: 1000 + int64(i), Step: int64(i)})
			if len(batch) == 1000 || i == n-1 {
				if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		return r.Info.RunID
	}
	small := newRun("small", 5, func(i int) float64 {
		if i == 2 {
			return math.NaN()
		}
		return float64(i)
	})
	// 10,000 points: a flat line with one spike up at step 4321 and one
	// down at step 8765.
	big := newRun("big", 10000, func(i int) float64 {
		switch i {
		case 4321:
			return 100
		case 8765:
			return -100
		}
		return 1
	})

	code, d, body := getDownsampled(t, srv.URL, url.Values{"run_ids": {small}, "metric_key": {"loss"}})
	if code != 200 || d.Downsampled || len(d.Metrics) != 5 || d.TotalPoints[small] != 5 || string(d.Metrics[2].Value) != `"NaN"` {
		t.Fatalf("small: %d %s", code, body)
	}
	for i, m := range d.Metrics {
		if m.Step != int64(i) || m.RunID != small || m.Key != "loss" || m.Timestamp != 1000+int64(i) {
			t.Fatalf("small point %d: %+v", i, m)
		}
	}

	for _, x := range []string{"step", "timestamp"} {
		code, d, body = getDownsampled(t, srv.URL, url.Values{"run_ids": {big, small}, "metric_key": {"loss"}, "max_points": {"100"}, "x": {x}})
		if code != 200 || !d.Downsampled || d.TotalPoints[big] != 10000 || d.TotalPoints[small] != 5 {
			t.Fatalf("big by %s: %d %.300s", x, code, body)
		}
		var nBig int
		var spikes []int64
		last := int64(-1)
		for _, m := range d.Metrics {
			if m.RunID != big {
				continue
			}
			nBig++
			if m.Step <= last {
				t.Fatalf("by %s: steps not increasing at %d", x, m.Step)
			}
			last = m.Step
			if string(m.Value) == "100" || string(m.Value) == "-100" {
				spikes = append(spikes, m.Step)
			}
		}
		// 100 buckets of 100 points: first, last, and the two spikes.
		if nBig < 200 || nBig > 400 || len(spikes) != 2 || spikes[0] != 4321 || spikes[1] != 8765 || last != 9999 {
			t.Fatalf("by %s: %d points, spikes at %v, last step %d", x, nBig, spikes, last)
		}
	}

	// A zoomed range with few points in it is answered whole.
	code, d, body = getDownsampled(t, srv.URL, url.Values{"run_ids": {big}, "metric_key": {"loss"}, "start": {"4300"}, "end": {"4330"}})
	if code != 200 || d.Downsampled || len(d.Metrics) != 31 || d.TotalPoints[big] != 31 || d.Metrics[0].Step != 4300 {
		t.Fatalf("zoom: %d %.300s", code, body)
	}

	for _, c := range []struct {
		q      url.Values
		status int
		msg    string
	}{
		{url.Values{"metric_key": {"loss"}}, 400, "run_ids"},
		{url.Values{"run_ids": {big}}, 400, "metric_key"},
		{url.Values{"run_ids": {"0123456789abcdef0123456789abcdef"}, "metric_key": {"loss"}}, 404, "not found"},
		{url.Values{"run_ids": {big}, "metric_key": {"loss"}, "max_points": {"0"}}, 400, "max_points"},
		{url.Values{"run_ids": {big}, "metric_key": {"loss"}, "max_points": {"10001"}}, 400, "max_points"},
		{url.Values{"run_ids": {big}, "metric_key": {"loss"}, "max_points": {"many"}}, 400, "max_points"},
		{url.Values{"run_ids": {big}, "metric_key": {"loss"}, "x": {"wall"}}, 400, "'x'"},
		{url.Values{"run_ids": {big}, "metric_key": {"loss"}, "start": {"5"}, "end": {"4"}}, 400, "start"},
		{url.Values{"run_ids": strings.Split(strings.Repeat(big+",", 101), ",")[:101], "metric_key": {"loss"}}, 400, "at most 100"},
	} {
		code, _, body := getDownsampled(t, srv.URL, c.q)
		if code != c.status || !strings.Contains(body, c.msg) || !strings.Contains(body, `"error_code"`) {
			t.Errorf("%v: %d %s", c.q, code, body)
		}
	}
}
