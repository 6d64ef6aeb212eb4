package search

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// RunCursor is where a runs/search page ended, kept in mltrack's page
// token beside MLflow's offset so that the next page seeks to it instead
// of reading and dropping offset runs again. It holds the sort key of the
// page's last run; Query identifies the search it belongs to (the store
// computes it), so a token sent with another filter or order falls back to
// its offset, as MLflow would read it.
type RunCursor struct {
	Query string
	// HasMetric says the run has the ordering metric (IsNaN, Value); for a
	// search not ordered by a metric it is false.
	HasMetric bool
	IsNaN     bool
	Value     float64
	// StartTime is nil when the run's start_time is NULL.
	StartTime *int64
	RunID     string
}

// runToken is the JSON of a token with a cursor. Offset comes first, so
// that MLflow (which reads only "offset") pages it as its own.
type runToken struct {
	Offset    int      `json:"offset"`
	Query     string   `json:"q"`
	HasMetric bool     `json:"m,omitempty"`
	IsNaN     bool     `json:"nan,omitempty"`
	Value     *float64 `json:"v,omitempty"`
	StartTime *int64   `json:"t"`
	RunID     string   `json:"id"`
}

// EncodeRunToken is the page token after a page ending at c, offset runs
// from the start. A JSON number round-trips a float64 exactly.
func EncodeRunToken(offset int, c RunCursor) string {
	t := runToken{Offset: offset, Query: c.Query, HasMetric: c.HasMetric, IsNaN: c.IsNaN, StartTime: c.StartTime, RunID: c.RunID}
	if c.HasMetric {
		v := c.Value
		t.Value = &v
	}
	b, _ := json.Marshal(t)
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeRunCursor reads the cursor of a token DecodeOffsetToken accepted;
// nil when it has none (MLflow's tokens, hand-made ones).
func DecodeRunCursor(token string) *RunCursor {
	if token == "" {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil
	}
	var t runToken
	if json.Unmarshal(raw, &t) != nil || t.Query == "" || t.RunID == "" || t.HasMetric != (t.Value != nil) {
		return nil
	}
	c := &RunCursor{Query: t.Query, HasMetric: t.HasMetric, IsNaN: t.IsNaN, StartTime: t.StartTime, RunID: t.RunID}
	if t.Value != nil {
		c.Value = *t.Value
	}
	return c
}

// QueryFingerprint is a short stable digest of what identifies a search
// (experiments, filter, order, view), for RunCursor.Query.
func QueryFingerprint(parts ...any) string {
	b, _ := json.Marshal(parts)
	// FNV-1a, 64 bits.
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 36)
}
