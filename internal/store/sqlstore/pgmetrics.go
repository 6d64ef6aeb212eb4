package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Metric writes on PostgreSQL. LogBatch of metrics alone (log-metric, and
// most log-batch calls) is one statement: it reads the runs' states and
// writes points and latest values only for active runs, with the points as
// arrays (unnest), so the text is the same whatever the batch and pgx
// prepares it once per connection. A lone statement is its own
// transaction: one round trip where the transaction path takes five
// (BEGIN, run state, two INSERTs, COMMIT).
//
// Small requests (log-metric) arriving together are merged into one such
// statement by a writer goroutine (group commit without savepoints): it
// takes a request and whatever else is queued, up to maxMetricGroup, so
// there is one statement and one commit for all of them. On two cores with
// four log-metric clients, one writer did 2,800-3,000 calls/s, two writers
// 2,100, a statement per request 1,850-1,950 (more writers make smaller
// groups). Large batches, whose cost is the rows rather than the statement,
// run at once on their own, so they neither wait behind each other nor hold
// up the small ones. Every request is answered after its statement has
// committed. A request for a missing or inactive run writes nothing
// and gets its own error; if the merged statement fails as a whole, each
// of its requests is run again alone and answered with its own outcome.
// Nothing is cached between requests: replicas sharing the database see
// each other's writes.

const (
	// metricWriters is how many merged statements may run at once.
	metricWriters = 1
	// maxMetricGroup bounds the requests merged into one statement.
	maxMetricGroup = 64
	// smallMetricBatch is the most points of a request that is merged.
	smallMetricBatch = 64
)

// logMetricsPostgresQuery writes points ($2..$7) and latest values ($8..$13)
// of the runs $1, each row naming its run; the writes of a run that is not
// active are left out. It answers the state of each run that exists.
const logMetricsPostgresQuery = `WITH run AS (
	SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid = ANY($1)
), points AS (
	` + metricsInsert + `
	SELECT p.k, p.v, p.t, p.r, p.s, p.n FROM unnest($2::text[], $3::text[], $4::float8[], $5::int8[], $6::int8[], $7::bool[]) AS p (r, k, v, t, s, n)
	WHERE EXISTS (SELECT 1 FROM run WHERE run.run_uuid = p.r AND run.lifecycle_stage = 'active')` + metricsInsertTail + `
), latest AS (
	` + latestInsert + `
	SELECT l.k, l.v, l.t, l.s, l.n, l.r FROM unnest($8::text[], $9::text[], $10::float8[], $11::int8[], $12::int8[], $13::bool[]) AS l (r, k, v, t, s, n)
	WHERE EXISTS (SELECT 1 FROM run WHERE run.run_uuid = l.r AND run.lifecycle_stage = 'active')` + latestInsertTail + `
)
SELECT run_uuid, lifecycle_stage FROM run`

type metricReq struct {
	ctx     context.Context
	runID   string
	metrics []mlflow.Metric
	done    chan error
}

type metricWriter struct {
	reqs chan *metricReq
	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup
}

func (s *Store) startMetricWriters() {
	if s.d.name() != "postgres" {
		return
	}
	w := &metricWriter{reqs: make(chan *metricReq, maxMetricGroup), quit: make(chan struct{})}
	s.metricWriter = w
	for range metricWriters {
		w.wg.Go(func() {
			serveBatches(w.reqs, w.quit, maxMetricGroup, func(r *metricReq) { r.done <- errClosed }, s.runMetricGroup)
		})
	}
}

func (s *Store) stopMetricWriters() {
	if w := s.metricWriter; w != nil {
		w.stop.Do(func() { close(w.quit) })
		w.wg.Wait()
	}
}

// logMetricsPostgres writes a metrics-only LogBatch: a small one through
// the metric writers, a large one at once.
func (s *Store) logMetricsPostgres(ctx context.Context, runID string, metrics []mlflow.Metric) error {
	r := &metricReq{ctx: ctx, runID: runID, metrics: metrics, done: make(chan error, 1)}
	if len(metrics) > smallMetricBatch {
		errs, err := s.writeMetrics(ctx, []*metricReq{r})
		if err != nil {
			return err
		}
		return errs[0]
	}
	return submit(ctx, s.metricWriter.reqs, s.metricWriter.quit, r, r.done)
}

// runMetricGroup writes the requests in one statement and answers each.
func (s *Store) runMetricGroup(batch []*metricReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// The statement is not cancelled with any one request: it writes for all.
	ctx := context.WithoutCancel(live[0].ctx)
	errs, err := s.writeMetrics(ctx, live)
	if err != nil && len(live) > 1 {
		// Something failed the whole statement (a deadlock, a value
		// PostgreSQL refuses): each request alone gets its own outcome.
		for _, r := range live {
			e, err := s.writeMetrics(ctx, []*metricReq{r})
			if err != nil {
				r.done <- err
			} else {
				r.done <- e[0]
			}
		}
		return
	}
	for i, r := range live {
		if err != nil {
			r.done <- err
		} else {
			r.done <- errs[i]
		}
	}
}

// runPoint is a point of one run.
type runPoint struct {
	run string
	storedPoint
}

func compareRunPK(a, b runPoint) int {
	if c := strings.Compare(a.run, b.run); c != 0 {
		return c
	}
	return comparePK(a.storedPoint, b.storedPoint)
}

// writeMetrics runs the statement for the requests: errs[i] is request i's
// own outcome (its run missing or not active), err a failure of the whole
// statement, which then wrote nothing.
func (s *Store) writeMetrics(ctx context.Context, reqs []*metricReq) (errs []error, err error) {
	var (
		runs   []string
		points []runPoint
		latest []runPoint
	)
	seenRun := map[string]bool{}
	latestIdx := map[[2]string]int{}
	for _, r := range reqs {
		if !seenRun[r.runID] {
			seenRun[r.runID] = true
			runs = append(runs, r.runID)
		}
		ps, ls := batchPoints(r.metrics)
		for _, p := range ps {
			points = append(points, runPoint{r.runID, p})
		}
		// One latest row per run and key: the greatest of the requests'.
		for _, l := range ls {
			k := [2]string{r.runID, l.key}
			if i, ok := latestIdx[k]; !ok {
				latestIdx[k] = len(latest)
				latest = append(latest, runPoint{r.runID, l})
			} else if l.after(latest[i].storedPoint) {
				latest[i].storedPoint = l
			}
		}
	}
	// Rows in key order: requests writing the same rows lock them in the
	// same order, so concurrent statements wait for each other instead of
	// deadlocking; points logged twice sit side by side.
	slices.SortFunc(points, compareRunPK)
	points = slices.Compact(points)
	slices.SortFunc(latest, func(a, b runPoint) int {
		return cmp.Or(strings.Compare(a.run, b.run), strings.Compare(a.key, b.key))
	})
	args := append(append([]any{runs}, metricColumns(points)...), metricColumns(latest)...)
	stages := make(map[string]string, len(runs))
	if err := s.each(ctx, s.db, logMetricsPostgresQuery, args, func(rows *sql.Rows) error {
		var id string
		var stage sql.NullString
		if err := rows.Scan(&id, &stage); err != nil {
			return err
		}
		stages[id] = stage.String
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: log metrics: %w", err)
	}
	errs = make([]error, len(reqs))
	for i, r := range reqs {
		switch stage, ok := stages[r.runID]; {
		case !ok:
			errs[i] = mlflow.RunNotFound(r.runID)
		case stage != mlflow.StageActive:
			errs[i] = mlflow.RunNotActive(r.runID, stage)
		}
	}
	return errs, nil
}

// metricColumns lays points out as the statement's arrays: run, key,
// value, timestamp, step, is_nan.
func metricColumns(ps []runPoint) []any {
	var (
		runs       = make([]string, len(ps))
		keys       = make([]string, len(ps))
		values     = make([]float64, len(ps))
		timestamps = make([]int64, len(ps))
		steps      = make([]int64, len(ps))
		nans       = make([]bool, len(ps))
	)
	for i, p := range ps {
		runs[i], keys[i], values[i], timestamps[i], steps[i], nans[i] = p.run, p.key, p.value, p.timestamp, p.step, p.isNaN
	}
	return []any{runs, keys, values, timestamps, steps, nans}
}
