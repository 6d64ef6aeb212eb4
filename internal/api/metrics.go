package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// metricRoutes lists the metrics/ endpoints.
func (a *API) metricRoutes() []route {
	return []route{
		{"GET", "metrics/get-history", http.HandlerFunc(a.getMetricHistory)},
		{"GET", "metrics/get-history-bulk-interval", wrap(a.getMetricHistoryBulkInterval)},
	}
}

// getMetricHistory answers metrics/get-history, streaming the points as
// the database yields them. With max_results it pages as MLflow does (a
// next_page_token when more points follow). Without it MLflow answers no
// points and a token for offset 0; mltrack answers the whole history
// (docs/compatibility.md).
func (a *API) getMetricHistory(w http.ResponseWriter, r *http.Request) {
	q, limit, err := historyQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var (
		bw      *bufio.Writer
		n       int
		more    bool
		keyJSON []byte
		buf     []byte
		last    mlflow.Metric
	)
	err = a.Tracking.MetricHistory(r.Context(), q, func(m mlflow.Metric) error {
		if limit >= 0 && n == limit {
			more = true // the one extra point asked for only to know this
			return nil
		}
		if bw == nil {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			bw = bufio.NewWriterSize(w, 64<<10)
			bw.WriteString(`{"metrics": [`)
			keyJSON, _ = json.Marshal(m.Key)
		} else {
			bw.WriteString(", ")
		}
		n++
		last = m
		buf = appendMetric(buf[:0], keyJSON, m)
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		if bw == nil {
			writeError(w, r, err)
			return
		}
		// The status is sent; all that is left is to cut the answer short.
		slog.ErrorContext(r.Context(), "metric history stream failed", "err", err)
		return
	}
	next := ""
	if more {
		next = historyToken(q.Offset+limit, n, last)
	}
	if bw == nil {
		resp := map[string]string{}
		if next != "" {
			resp["next_page_token"] = next
		}
		writeJSON(w, resp)
		return
	}
	bw.WriteString("]")
	if next != "" {
		bw.WriteString(`, "next_page_token": "` + next + `"`)
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		slog.DebugContext(r.Context(), "metric history write failed", "err", err)
	}
}

// historyQuery reads a get-history request; limit is -1 for no limit.
func historyQuery(r *http.Request) (store.HistoryQuery, int, error) {
	var q store.HistoryQuery
	p, err := readParams(r)
	if err != nil {
		return q, 0, err
	}
	if q.RunID, err = runID(p); err != nil {
		return q, 0, err
	}
	if q.Key, err = p.requiredStr("metric_key"); err != nil {
		return q, 0, err
	}
	token, err := p.str("page_token")
	if err != nil {
		return q, 0, err
	}
	if q.Offset, err = search.DecodeOffsetToken(token); err != nil {
		return q, 0, err
	}
	q.After = historyCursor(token)
	maxResults, present, err := p.int64Field("max_results")
	if err != nil {
		return q, 0, err
	}
	if !present {
		return q, -1, nil
	}
	limit := int(max(maxResults, 0))
	q.Limit = limit + 1
	return q, limit, nil
}

// appendMetric writes one point as MLflow does: {"key", "step",
// "timestamp", "value"}.
func appendMetric(b, keyJSON []byte, m mlflow.Metric) []byte {
	b = append(b, `{"key": `...)
	b = append(b, keyJSON...)
	b = append(b, `, "step": `...)
	b = strconv.AppendInt(b, m.Step, 10)
	b = append(b, `, "timestamp": `...)
	b = strconv.AppendInt(b, m.Timestamp, 10)
	b = append(b, `, "value": `...)
	b = m.Value.AppendJSON(b)
	return append(b, '}')
}

// historyPosition is what a get-history page token holds besides MLflow's
// offset: the last point answered, so that the next page continues right
// after it in the index instead of skipping offset points again. A token
// with only an offset (MLflow's, or one made by hand) still pages by offset.
type historyPosition struct {
	Offset    int      `json:"offset"`
	Timestamp *int64   `json:"ts,omitempty"`
	Step      *int64   `json:"step,omitempty"`
	Value     *float64 `json:"value,omitempty"`
	IsNaN     *bool    `json:"nan,omitempty"`
}

// historyToken is the page token after a page of n points ending at last.
func historyToken(offset, n int, last mlflow.Metric) string {
	if n == 0 {
		return search.EncodeOffsetToken(offset)
	}
	v, isNaN := mlflow.StoredMetricValue(float64(last.Value))
	b, _ := json.Marshal(historyPosition{Offset: offset, Timestamp: &last.Timestamp, Step: &last.Step, Value: &v, IsNaN: &isNaN})
	return base64.StdEncoding.EncodeToString(b)
}

// historyCursor reads the position in a token DecodeOffsetToken accepted;
// nil when the token has none.
func historyCursor(token string) *store.MetricCursor {
	if token == "" {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil
	}
	var p historyPosition
	if json.Unmarshal(raw, &p) != nil || p.Timestamp == nil || p.Step == nil || p.Value == nil || p.IsNaN == nil {
		return nil
	}
	return &store.MetricCursor{Timestamp: *p.Timestamp, Step: *p.Step, Value: *p.Value, IsNaN: *p.IsNaN}
}

func (a *API) getMetricHistoryBulkInterval(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	q := store.BulkIntervalQuery{MaxResults: mlflow.MaxResultsPerRunBulk}
	if q.RunIDs, err = p.strList("run_ids"); err != nil {
		return nil, err
	}
	if len(q.RunIDs) == 0 {
		return nil, mlflow.MissingParam("run_ids")
	}
	if len(q.RunIDs) > mlflow.MaxRunsBulkInterval {
		return nil, mlflow.InvalidParam("GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d run_ids. See the API docs for more information about request parameters.", mlflow.MaxRunsBulkInterval, len(q.RunIDs))
	}
	if q.Key, err = p.requiredStr("metric_key"); err != nil {
		return nil, err
	}
	start, hasStart, err := p.int64Field("start_step")
	if err != nil {
		return nil, err
	}
	end, hasEnd, err := p.int64Field("end_step")
	if err != nil {
		return nil, err
	}
	maxResults, hasMax, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if hasMax {
		if maxResults < 1 || maxResults > mlflow.MaxResultsPerRunBulk {
			return nil, mlflow.InvalidParam("max_results must be between 1 and %d. See the API docs for more information about request parameters.", mlflow.MaxResultsPerRunBulk)
		}
		q.MaxResults = int(maxResults)
	}
	switch {
	case hasStart && hasEnd:
		if start > end {
			return nil, mlflow.InvalidParam("end_step must be greater than start_step. Found start_step=%d and end_step=%d.", start, end)
		}
		q.StartStep, q.EndStep = &start, &end
	case hasStart || hasEnd:
		return nil, mlflow.InvalidParam("If either start step or end step are specified, both must be specified.")
	}
	metrics, err := a.Tracking.MetricHistoryBulkInterval(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return struct {
		Metrics []mlflow.Metric `json:"metrics,omitempty"`
	}{metrics}, nil
}
