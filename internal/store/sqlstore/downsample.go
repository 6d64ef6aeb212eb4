package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// MetricHistoryDownsampled answers mltrack's downsampled history (see
// store.Tracking). Each run's points in range are read once through the
// mltrack_metrics_run_key_time index, split by timestamp into one part per
// core read in parallel; each point is folded into its bucket as it
// arrives, so memory is O(buckets) whatever the history's length. The
// first MaxPoints points are kept as well, and answered as they are when
// the range holds no more than that.
func (s *Store) MetricHistoryDownsampled(ctx context.Context, q store.DownsampleQuery) (*store.Downsampled, error) {
	db := s.reader()
	for _, id := range q.RunIDs {
		if _, _, err := s.runState(ctx, db, id); err != nil {
			return nil, err
		}
	}
	out := &store.Downsampled{Total: make(map[string]int64, len(q.RunIDs))}
	seen := map[string]bool{}
	for _, id := range q.RunIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		b, err := s.downsampleRun(ctx, id, q)
		if err != nil {
			return nil, err
		}
		if b == nil {
			out.Total[id] = 0
			continue
		}
		out.Total[id] = b.n
		if !b.all() {
			out.Downsampled = true
		}
		for _, p := range b.points() {
			m := mlflow.Metric{RunID: id, Key: q.Key, Value: mlflow.Float(p.value)}
			if q.X == "timestamp" {
				m.Step, m.Timestamp = p.other, p.x
			} else {
				m.Step, m.Timestamp = p.x, p.other
			}
			out.Points = append(out.Points, m)
		}
	}
	return out, nil
}

// downsampleParts is how many parts of a history are read in parallel.
var downsampleParts = max(1, min(runtime.GOMAXPROCS(0), 4))

// downsampleRun buckets one run's points; nil when it has none in range.
func (s *Store) downsampleRun(ctx context.Context, id string, q store.DownsampleQuery) (*buckets, error) {
	x, other := "step", "timestamp"
	if q.X == "timestamp" {
		x, other = "timestamp", "step"
	}
	where := `run_uuid = ? AND "key" = ?`
	args := []any{id, q.Key}
	if q.Start != nil {
		where += " AND " + x + " >= ?"
		args = append(args, *q.Start)
	}
	if q.End != nil {
		where += " AND " + x + " <= ?"
		args = append(args, *q.End)
	}
	// The timestamps in range, from two index seeks; the first also gives
	// the earliest point's step.
	var tsLo, tsHi, firstStep sql.NullInt64
	if err := s.queryRowRead(ctx, "SELECT timestamp, step FROM metrics WHERE "+where+" ORDER BY timestamp LIMIT 1", args...).Scan(&tsLo, &firstStep); err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("store: downsample: %w", err)
	}
	if !tsLo.Valid {
		return nil, nil
	}
	if err := s.queryRowRead(ctx, "SELECT timestamp FROM metrics WHERE "+where+" ORDER BY timestamp DESC LIMIT 1", args...).Scan(&tsHi); err != nil {
		return nil, fmt.Errorf("store: downsample: %w", err)
	}
	h := historyParts{x: x, other: other, where: where + " AND timestamp >= ? AND timestamp <= ?", args: args,
		parts: splitRange(tsLo.Int64, tsHi.Int64, downsampleParts)}
	if x == "timestamp" {
		return s.bucketHistory(ctx, h, tsLo.Int64, tsHi.Int64, q.MaxPoints)
	}

	// The range of steps. For a whole history it is first taken from index
	// seeks: the earliest point's step and the latest value's, which is the
	// greatest (MLflow's latest value has the greatest step). Should a point
	// fall outside it after all (steps that went down), the history is read
	// again with the range a MIN/MAX scan finds, which a part of a history
	// always uses.
	if q.Start == nil && q.End == nil && downsampleGuessSteps {
		var latest sql.NullInt64
		if err := s.queryRowRead(ctx, `SELECT step FROM latest_metrics WHERE run_uuid = ? AND "key" = ?`, id, q.Key).Scan(&latest); err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("store: downsample: %w", err)
		}
		if latest.Valid && firstStep.Int64 <= latest.Int64 {
			b, err := s.bucketHistory(ctx, h, firstStep.Int64, latest.Int64, q.MaxPoints)
			if err != nil || !b.outside {
				return b, err
			}
		}
	}
	lo, hi, err := s.stepRange(ctx, h)
	if err != nil {
		return nil, err
	}
	return s.bucketHistory(ctx, h, lo, hi, q.MaxPoints)
}

// historyParts is one run's points of one metric in range (where, args),
// cut by timestamp into parts read in parallel; x is the downsampling axis.
type historyParts struct {
	x, other, where string
	args            []any
	parts           [][2]int64
}

func (h historyParts) partArgs(i int) []any {
	return append(slices.Clone(h.args), h.parts[i][0], h.parts[i][1])
}

// stepRange scans the parts for their least and greatest step.
func (s *Store) stepRange(ctx context.Context, h historyParts) (lo, hi int64, err error) {
	los, his := make([]sql.NullInt64, len(h.parts)), make([]sql.NullInt64, len(h.parts))
	err = inParallel(len(h.parts), func(i int) error {
		return s.queryRowRead(ctx, "SELECT MIN(step), MAX(step) FROM metrics WHERE "+h.where, h.partArgs(i)...).Scan(&los[i], &his[i])
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: downsample: %w", err)
	}
	first := true
	for i := range los {
		if !los[i].Valid {
			continue
		}
		if first || los[i].Int64 < lo {
			lo = los[i].Int64
		}
		if first || his[i].Int64 > hi {
			hi = his[i].Int64
		}
		first = false
	}
	return lo, hi, nil
}

// bucketHistory reads the parts in parallel into n buckets over [lo, hi]
// on x and merges them.
func (s *Store) bucketHistory(ctx context.Context, h historyParts, lo, hi int64, n int) (*buckets, error) {
	bs := make([]*buckets, len(h.parts))
	err := inParallel(len(h.parts), func(i int) error {
		b := newBuckets(lo, hi, n, i)
		bs[i] = b
		rows, err := s.db.QueryContext(ctx, s.q("SELECT "+h.x+", "+h.other+", CASE WHEN is_nan THEN NULL ELSE value END FROM metrics WHERE "+h.where), h.partArgs(i)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var xv, ov, v any
		for rows.Next() {
			if err := rows.Scan(&xv, &ov, &v); err != nil {
				return err
			}
			val := math.NaN()
			if v != nil {
				val = asFloat64(v)
			}
			b.add(dsPoint{x: asInt64(xv), other: asInt64(ov), value: val})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: downsample: %w", err)
	}
	for _, b := range bs[1:] {
		bs[0].merge(b)
	}
	return bs[0], nil
}

// downsampleGuessSteps enables taking a history's step range from index
// seeks; tests turn it off to compare.
var downsampleGuessSteps = true

// splitRange cuts [lo, hi] into at most n contiguous parts.
func splitRange(lo, hi int64, n int) [][2]int64 {
	span := uint64(hi - lo)
	if span < uint64(n) {
		return [][2]int64{{lo, hi}}
	}
	out := make([][2]int64, 0, n)
	start := lo
	for i := 1; i <= n; i++ {
		end := hi
		if i < n {
			end = lo + int64(span/uint64(n)*uint64(i))
		}
		out = append(out, [2]int64{start, end})
		start = end + 1
	}
	return out
}

// inParallel runs fn(0..n-1) on goroutines and returns the first error.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// queryRowRead runs a single-row query on the readers, prepared on SQLite.
func (s *Store) queryRowRead(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := s.readStmt(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, s.q(query), args...)
}

// dsPoint is a point on the downsampling axis x; other is the other axis.
type dsPoint struct {
	x, other int64
	value    float64
	seq      int64 // part << 40 | arrival order: the index order, for ties
}

// bucket keeps the first, lowest, highest and last point of its range.
type bucket struct {
	n                      int
	first, low, high, last dsPoint
	hasValue               bool // low and high are set (some point is not NaN)
}

// buckets folds the points of [lo, hi] into equal-width buckets, and keeps
// the first max points as they are.
type buckets struct {
	lo   int64
	span uint64 // hi - lo + 1, 0 when that overflows
	bs   []bucket
	keep []dsPoint
	max  int
	n    int64
	seq  int64
	// outside is set when a point lies outside [lo, hi] (it is counted in
	// the nearest bucket).
	outside bool
}

func newBuckets(lo, hi int64, n, part int) *buckets {
	return &buckets{lo: lo, span: uint64(hi-lo) + 1, bs: make([]bucket, n), max: n, seq: int64(part) << 40}
}

// all reports whether every point is kept as it is.
func (b *buckets) all() bool { return b.n <= int64(b.max) }

func (b *buckets) add(p dsPoint) {
	p.seq = b.seq
	b.seq++
	b.n++
	if len(b.keep) < b.max {
		b.keep = append(b.keep, p)
	}
	// Bucket i holds x in [lo + i*span/n, lo + (i+1)*span/n), computed in
	// 128 bits so that timestamps cannot overflow.
	off := uint64(p.x - b.lo)
	var i int
	if b.span == 0 {
		i = int(off / (math.MaxUint64/uint64(len(b.bs)) + 1))
	} else {
		h, l := bits.Mul64(off, uint64(len(b.bs)))
		q, _ := bits.Div64(h%b.span, l, b.span)
		if h >= b.span {
			q = uint64(len(b.bs)) // outside the range: clamped below
		}
		i = int(q)
	}
	if p.x < b.lo || i >= len(b.bs) {
		b.outside = true
	}
	i = min(max(i, 0), len(b.bs)-1)
	b.bs[i].add(p)
}

func (k *bucket) add(p dsPoint) {
	if k.n == 0 {
		k.first, k.last = p, p
	} else {
		if before(p, k.first) {
			k.first = p
		}
		if before(k.last, p) {
			k.last = p
		}
	}
	k.n++
	if !math.IsNaN(p.value) {
		if !k.hasValue {
			k.low, k.high, k.hasValue = p, p, true
		} else {
			if p.value < k.low.value || p.value == k.low.value && p.seq < k.low.seq {
				k.low = p
			}
			if p.value > k.high.value || p.value == k.high.value && p.seq < k.high.seq {
				k.high = p
			}
		}
	}
}

// before orders points by x, then index order.
func before(p, q dsPoint) bool {
	return p.x < q.x || p.x == q.x && p.seq < q.seq
}

// merge folds the points of o (another part, same range) into b.
func (b *buckets) merge(o *buckets) {
	b.n += o.n
	b.outside = b.outside || o.outside
	for _, p := range o.keep {
		if len(b.keep) < b.max {
			b.keep = append(b.keep, p)
		}
	}
	for i := range o.bs {
		ob := &o.bs[i]
		if ob.n == 0 {
			continue
		}
		k := &b.bs[i]
		n := k.n + ob.n
		for _, p := range []dsPoint{ob.first, ob.last} {
			k.add(p)
		}
		if ob.hasValue {
			k.add(ob.low)
			k.add(ob.high)
		}
		k.n = n
	}
}

// points lists the points kept, in (x, index) order, each once.
func (b *buckets) points() []dsPoint {
	var out []dsPoint
	if b.all() {
		out = slices.Clone(b.keep)
	} else {
		out = make([]dsPoint, 0, 4*len(b.bs))
		for _, k := range b.bs {
			if k.n == 0 {
				continue
			}
			out = append(out, k.first, k.last)
			if k.hasValue {
				out = append(out, k.low, k.high)
			}
		}
	}
	slices.SortFunc(out, func(p, q dsPoint) int {
		if c := cmp.Compare(p.x, q.x); c != 0 {
			return c
		}
		return cmp.Compare(p.seq, q.seq)
	})
	return slices.CompactFunc(out, func(p, q dsPoint) bool { return p.seq == q.seq })
}
