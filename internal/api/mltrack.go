package api

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// mltrack's own read-only endpoints, under /api/2.0/mltrack/ and
// /ajax-api/2.0/mltrack/ (docs/compatibility.md, "mltrack extensions").

// Limits of metrics/get-history-downsampled.
const (
	maxDownsampleRuns       = 100
	defaultDownsamplePoints = 2000
	maxDownsamplePoints     = 10000
)

// registerMltrack adds mltrack's extensions to mux.
func (a *API) registerMltrack(mux *http.ServeMux) {
	for _, prefix := range []string{"/api/2.0/mltrack/", "/ajax-api/2.0/mltrack/"} {
		mux.Handle("GET "+prefix+"metrics/get-history-downsampled", wrap(a.getHistoryDownsampled))
		if a.Webhooks != nil {
			mux.Handle("GET "+prefix+"webhooks/{webhook_id}/deliveries", wrap(a.listWebhookDeliveries))
		}
	}
}

// getHistoryDownsampled answers one metric of up to 100 runs for a chart:
// at most max_points buckets per run along x (step or timestamp), each
// keeping its first, lowest, highest and last point, so spikes stay
// visible however long the history is.
func (a *API) getHistoryDownsampled(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	q := store.DownsampleQuery{MaxPoints: defaultDownsamplePoints, X: "step"}
	if q.RunIDs, err = p.strList("run_ids"); err != nil {
		return nil, err
	}
	if len(q.RunIDs) == 0 {
		return nil, mlflow.MissingParam("run_ids")
	}
	if len(q.RunIDs) > maxDownsampleRuns {
		return nil, mlflow.InvalidParam("get-history-downsampled accepts at most %d run_ids. Received %d run_ids.", maxDownsampleRuns, len(q.RunIDs))
	}
	if q.Key, err = p.requiredStr("metric_key"); err != nil {
		return nil, err
	}
	n, has, err := p.int64Field("max_points")
	if err != nil {
		return nil, err
	}
	if has {
		if n < 1 || n > maxDownsamplePoints {
			return nil, mlflow.InvalidParam("max_points must be between 1 and %d. Received %d.", maxDownsamplePoints, n)
		}
		q.MaxPoints = int(n)
	}
	x, err := p.str("x")
	if err != nil {
		return nil, err
	}
	switch x {
	case "":
	case "step", "timestamp":
		q.X = x
	default:
		return nil, mlflow.InvalidParam("Invalid value '%s' for parameter 'x': it must be 'step' or 'timestamp'.", x)
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{{"start", &q.Start}, {"end", &q.End}} {
		v, has, err := p.int64Field(f.name)
		if err != nil {
			return nil, err
		}
		if has {
			*f.dst = &v
		}
	}
	if q.Start != nil && q.End != nil && *q.Start > *q.End {
		return nil, mlflow.InvalidParam("end must not be less than start. Found start=%d and end=%d.", *q.Start, *q.End)
	}
	res, err := a.Tracking.MetricHistoryDownsampled(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return encodeDownsampled(res), nil
}

// encodeDownsampled writes {"metrics": [...], "total_points": {...},
// "downsampled": bool}; values in MLflow's encoding ("NaN").
func encodeDownsampled(res *store.Downsampled) encoded {
	b := make([]byte, 0, 64+len(res.Points)*96)
	b = append(b, `{"metrics":[`...)
	for i, m := range res.Points {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"run_id":`...)
		b = appendString(b, m.RunID)
		b = append(b, `,"key":`...)
		b = appendString(b, m.Key)
		b = append(b, `,"step":`...)
		b = strconv.AppendInt(b, m.Step, 10)
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, m.Timestamp, 10)
		b = append(b, `,"value":`...)
		b = m.Value.AppendJSON(b)
		b = append(b, '}')
	}
	b = append(b, `],"total_points":{`...)
	ids := make([]string, 0, len(res.Total))
	for id := range res.Total {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, id)
		b = append(b, ':')
		b = strconv.AppendInt(b, res.Total[id], 10)
	}
	b = append(b, `},"downsampled":`...)
	b = strconv.AppendBool(b, res.Downsampled)
	return append(b, '}')
}
