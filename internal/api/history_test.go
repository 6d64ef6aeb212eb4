package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

type historyPage struct {
	Metrics       []json.RawMessage `json:"metrics"`
	NextPageToken string            `json:"next_page_token"`
}

func getHistoryPage(t *testing.T, base, run string, maxResults int, token string) historyPage {
	t.Helper()
	q := url.Values{"run_id": {run}, "metric_key": {"m"}}
	if maxResults >= 0 {
		q.Set("max_results", fmt.Sprint(maxResults))
	}
	if token != "" {
		q.Set("page_token", token)
	}
	resp, err := http.Get(base + "/api/2.0/mlflow/metrics/get-history?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p historyPage
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	return p
}

// TestHistoryPaging pages through a history with ties on (timestamp, step)
// and NaN values, with every page size, by the tokens mltrack answers
// (keyset continuation) and by MLflow's offset-only tokens: both must give
// the whole history once, in order.
func TestHistoryPaging(t *testing.T) {
	srv, s := newServer(t)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "paging"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []mlflow.Metric
	for i := 0; i < 7; i++ {
		ts := int64(100 + i/3) // three points share each timestamp
		for _, v := range []float64{2, math.NaN(), 0, -1, math.Inf(1)} {
			batch = append(batch, mlflow.Metric{Key: "m", Value: mlflow.Float(v), Timestamp: ts, Step: int64(i % 2)})
		}
	}
	if err := s.LogBatch(ctx, r.Info.RunID, batch, nil, nil); err != nil {
		t.Fatal(err)
	}
	all := getHistoryPage(t, srv.URL, r.Info.RunID, -1, "")
	if len(all.Metrics) == 0 {
		t.Fatal("no points")
	}
	want := fmt.Sprint(all.Metrics)
	for size := 1; size <= len(all.Metrics)+1; size++ {
		for _, offsetOnly := range []bool{false, true} {
			var got []json.RawMessage
			token, seen := "", 0
			for pages := 0; pages < 100; pages++ {
				p := getHistoryPage(t, srv.URL, r.Info.RunID, size, token)
				got = append(got, p.Metrics...)
				seen += len(p.Metrics)
				if p.NextPageToken == "" || len(p.Metrics) == 0 {
					break
				}
				token = p.NextPageToken
				if offsetOnly {
					token = search.EncodeOffsetToken(seen)
				}
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("pages of %d (offset only %v):\n got %s\nwant %s", size, offsetOnly, got, want)
			}
		}
	}
}
