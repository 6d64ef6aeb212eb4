package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// Keyset paging of runs/search.
//
// For the orders the runs table and most clients use (none, which is
// newest first; attributes.start_time DESC; one metric, either way) a page
// is read as a walk along an index from a position, in segments of the
// order that each index serves:
//
//   - ordered by metric k: the runs whose k is a number, by value (the
//     mltrack_latest_metrics_key_* index), then those whose k is NaN, then,
//     unless the filter compares k, the runs without k (newest first);
//   - newest first: the runs with a start_time (mltrack_runs_experiment_start),
//     and those without one, after them or, on PostgreSQL's plain DESC,
//     before them.
//
// Ties go to start_time DESC, then run_uuid, as in the general plan. The
// first page starts at the first segment; a next page starts right after
// the last run of the previous one, whose sort key its page token holds
// (search.RunCursor), so every page costs about the same whatever its
// position. A page token with only an offset (MLflow's) is read by the
// general plan, by offset.

// seekOrder is an order keyset paging serves.
type seekOrder struct {
	metric      string // the ordering metric; "" when ordered by start_time
	desc        bool   // the metric's direction
	needsMetric bool   // the filter compares the metric: runs without it never match
	nullsFirst  bool   // runs with a NULL start_time come before the others
}

// seekSegment is one part of a seekOrder.
type seekSegment struct {
	byMetric  bool // the runs with the metric, NaN or not as isNaN
	isNaN     bool
	nullStart bool // ordered by start_time: those whose start_time is NULL
}

// searchSeek enables keyset paging; tests turn it off to compare.
var searchSeek = true

// seekOrderOf returns the seekOrder of q, if keyset paging serves it.
func (s *Store) seekOrderOf(q store.RunQuery) (seekOrder, bool) {
	if !searchSeek {
		return seekOrder{}, false
	}
	// The general plan's "r.start_time DESC" puts NULL first on PostgreSQL
	// and last on SQLite; an explicit start_time DESC is NULLS LAST on both.
	plainNulls := s.d.name() != "sqlite"
	switch {
	case len(q.OrderBy) == 0:
		return seekOrder{nullsFirst: plainNulls}, true
	case len(q.OrderBy) != 1:
		return seekOrder{}, false
	}
	k := q.OrderBy[0]
	switch {
	case k.Entity == "attribute" && k.Key == "start_time" && k.Desc:
		return seekOrder{}, true
	case k.Entity == "metric":
		return seekOrder{metric: k.Key, desc: k.Desc, needsMetric: filtersMetric(q.Filter, k.Key), nullsFirst: plainNulls}, true
	}
	return seekOrder{}, false
}

func (o seekOrder) segments() []seekSegment {
	var segs []seekSegment
	if o.metric != "" {
		segs = append(segs, seekSegment{byMetric: true}, seekSegment{byMetric: true, isNaN: true})
		if o.needsMetric {
			return segs
		}
	}
	if o.nullsFirst {
		return append(segs, seekSegment{nullStart: true}, seekSegment{})
	}
	return append(segs, seekSegment{}, seekSegment{nullStart: true})
}

// segmentOf returns the index of the segment that holds the run at c, or
// -1 when c cannot be a position in o.
func (o seekOrder) segmentOf(c *search.RunCursor) int {
	if c.HasMetric && o.metric == "" {
		return -1
	}
	for i, seg := range o.segments() {
		if seg.byMetric && c.HasMetric && seg.isNaN == c.IsNaN {
			return i
		}
		if !seg.byMetric && !c.HasMetric && seg.nullStart == (c.StartTime == nil) {
			return i
		}
	}
	return -1
}

// queryFingerprint identifies a search for the cursors of its page tokens.
func queryFingerprint(q store.RunQuery) string {
	return search.QueryFingerprint(q.ExperimentIDs, q.Filter, q.OrderBy, q.ViewType)
}

// seekRunIDs reads a page of o from segment first on, right after cur
// when it is set (a position in segment first), and returns its ids and
// the cursor of its last run.
func (s *Store) seekRunIDs(ctx context.Context, q store.RunQuery, o seekOrder, first int, cur *search.RunCursor) ([]string, *search.RunCursor, error) {
	segs := o.segments()
	var (
		ids  []string
		last *search.RunCursor
	)
	for i := first; i < len(segs) && len(ids) < q.Page.MaxResults; i++ {
		from := cur
		if i != first {
			from = nil
		}
		query, args, err := s.compileSeek(q, o, segs[i], from, q.Page.MaxResults-len(ids))
		if err != nil {
			return nil, nil, err
		}
		seg := segs[i]
		if err := s.each(ctx, s.reader(), query, args, func(rows *sql.Rows) error {
			c := search.RunCursor{HasMetric: seg.byMetric, IsNaN: seg.isNaN}
			var start sql.NullInt64
			dest := []any{&c.RunID, &start}
			if seg.byMetric {
				dest = append(dest, &c.Value)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if start.Valid {
				c.StartTime = &start.Int64
			}
			ids = append(ids, c.RunID)
			last = &c
			return nil
		}); err != nil {
			return nil, nil, fmt.Errorf("store: search runs: %w", err)
		}
	}
	return ids, last, nil
}

// compileSeek builds the statement that reads up to limit runs of segment
// seg of o, after cur when it is set.
func (s *Store) compileSeek(q store.RunQuery, o seekOrder, seg seekSegment, cur *search.RunCursor, limit int) (string, []any, error) {
	driving := ""
	if seg.byMetric {
		driving = o.metric
	}
	where, whereArgs, err := s.runWhere(q, driving)
	if err != nil {
		return "", nil, err
	}
	var (
		b     strings.Builder
		args  []any
		order string
	)
	if seg.byMetric {
		b.WriteString(`SELECT r.run_uuid, r.start_time, o0.value FROM latest_metrics o0 JOIN runs r ON r.run_uuid = o0.run_uuid WHERE o0."key" = ?`)
		args = append(args, o.metric)
		if seg.isNaN {
			b.WriteString(" AND o0.is_nan = true")
		} else {
			b.WriteString(" AND o0.is_nan = false")
		}
		dir, op := " ASC", " >"
		if o.desc {
			dir, op = " DESC", " <"
		}
		if cur != nil {
			// After the cursor: a further value, or the same value and a
			// later tie-break. The first term bounds the index walk.
			args = append(args, cur.Value, cur.Value)
			b.WriteString(" AND o0.value" + op + "= ? AND (o0.value <> ? OR " + o.tieBreak(cur, &args) + ")")
		}
		order = "o0.is_nan, o0.value" + dir + ", r.start_time DESC, r.run_uuid ASC"
	} else {
		b.WriteString("SELECT r.run_uuid, r.start_time FROM runs r WHERE ")
		if seg.nullStart {
			b.WriteString("r.start_time IS NULL")
		} else {
			b.WriteString("r.start_time IS NOT NULL")
		}
		if o.metric != "" {
			b.WriteString(` AND NOT EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_uuid = r.run_uuid AND x."key" = ?)`)
			args = append(args, o.metric)
		}
		if cur != nil {
			if seg.nullStart {
				b.WriteString(" AND r.run_uuid > ?")
				args = append(args, cur.RunID)
			} else {
				// The first term bounds the walk of mltrack_runs_experiment_start.
				b.WriteString(" AND r.start_time <= ? AND (r.start_time < ? OR r.run_uuid > ?)")
				args = append(args, *cur.StartTime, *cur.StartTime, cur.RunID)
			}
		}
		order = "r.start_time DESC, r.run_uuid ASC"
	}
	for _, w := range where {
		b.WriteString(" AND ")
		b.WriteString(w)
	}
	args = append(args, whereArgs...)
	b.WriteString(" ORDER BY " + order + " LIMIT ?")
	args = append(args, limit)
	return b.String(), args, nil
}

// tieBreak is the condition that a run of the same metric value comes
// after the cursor: start_time DESC (NULL where o puts it), then run_uuid.
// Its arguments are appended to args.
func (o seekOrder) tieBreak(cur *search.RunCursor, args *[]any) string {
	if cur.StartTime == nil {
		*args = append(*args, cur.RunID)
		if o.nullsFirst {
			return "(r.start_time IS NOT NULL OR r.run_uuid > ?)"
		}
		return "(r.start_time IS NULL AND r.run_uuid > ?)"
	}
	*args = append(*args, *cur.StartTime, *cur.StartTime, cur.RunID)
	if o.nullsFirst {
		return "(r.start_time < ? OR (r.start_time = ? AND r.run_uuid > ?))"
	}
	return "(r.start_time < ? OR (r.start_time = ? AND r.run_uuid > ?) OR r.start_time IS NULL)"
}

// cursorOf reads the sort key of run id under o, for the page token after
// a page read by offset.
func (s *Store) cursorOf(ctx context.Context, o seekOrder, id string) (*search.RunCursor, error) {
	c := &search.RunCursor{RunID: id}
	var (
		start sql.NullInt64
		value sql.NullFloat64
		isNaN sql.NullBool
	)
	var err error
	if o.metric == "" {
		err = s.reader().QueryRowContext(ctx, s.q("SELECT start_time FROM runs WHERE run_uuid = ?"), id).Scan(&start)
	} else {
		err = s.reader().QueryRowContext(ctx, s.q(`SELECT r.start_time, m.value, m.is_nan FROM runs r LEFT JOIN latest_metrics m ON m.run_uuid = r.run_uuid AND m."key" = ? WHERE r.run_uuid = ?`), o.metric, id).Scan(&start, &value, &isNaN)
	}
	if err != nil {
		return nil, fmt.Errorf("store: search runs: cursor: %w", err)
	}
	if start.Valid {
		c.StartTime = &start.Int64
	}
	if value.Valid {
		c.HasMetric, c.Value, c.IsNaN = true, value.Float64, isNaN.Valid && isNaN.Bool
	}
	return c, nil
}
