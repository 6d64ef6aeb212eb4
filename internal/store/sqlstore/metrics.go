package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

func nan() float64 { return math.NaN() }

// LogBatch writes params, metrics and tags of one active run in one
// transaction, as MLflow's log_batch does: a param may be logged again only
// with the same value; a metric point logged twice is kept once; the latest
// value of each metric moves to the point with the greatest (step,
// timestamp, value); tags are upserted.
func (s *Store) LogBatch(ctx context.Context, runID string, metrics []mlflow.Metric, params, tags []mlflow.Tag) error {
	if s.d.name() == "postgres" && len(metrics) > 0 && len(params) == 0 && len(tags) == 0 && !namesModel(metrics) {
		err := s.logMetricsPostgres(ctx, runID, metrics)
		if err == nil {
			s.wrote(len(metrics))
		}
		return err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		expID, err := s.activeRun(ctx, tx, runID)
		if err != nil {
			return err
		}
		if err := s.logParams(ctx, tx, runID, params); err != nil {
			return err
		}
		if err := s.logMetrics(ctx, tx, runID, metrics); err != nil {
			return err
		}
		if err := s.logModelMetrics(ctx, tx, expID, runID, metrics); err != nil {
			return err
		}
		return s.upsertTags(ctx, tx, runID, tags)
	})
	if err == nil {
		s.wrote(len(metrics) + len(params) + len(tags))
	}
	return err
}

func (s *Store) logParams(ctx context.Context, tx *sql.Tx, runID string, params []mlflow.Tag) error {
	if len(params) == 0 {
		return nil
	}
	args := make([]any, 0, len(params)+1)
	args = append(args, runID)
	for _, p := range params {
		args = append(args, p.Key)
	}
	existing := make(map[string]string, len(params))
	if err := s.each(ctx, tx, `SELECT "key", value FROM params WHERE run_uuid = ? AND "key" IN (`+placeholders(len(params))+")", args, func(rows *sql.Rows) error {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		existing[k] = v
		return nil
	}); err != nil {
		return fmt.Errorf("store: read params: %w", err)
	}
	var changes []mlflow.ParamChange
	insert := make([]any, 0, 3*len(params))
	for _, p := range params {
		old, ok := existing[p.Key]
		switch {
		case ok && old != p.Value:
			changes = append(changes, mlflow.ParamChange{Key: p.Key, Old: old, New: p.Value})
		case !ok:
			existing[p.Key] = p.Value
			insert = append(insert, p.Key, p.Value, runID)
		}
	}
	if len(changes) > 0 {
		return &mlflow.ParamChangeError{RunID: runID, Changes: changes}
	}
	if _, err := s.insertValues(ctx, tx, `INSERT INTO params ("key", value, run_uuid)`, 3, insert, ""); err != nil {
		return fmt.Errorf("store: log params: %w", err)
	}
	return nil
}

// storedPoint is a metric point as it is stored.
type storedPoint struct {
	key       string
	value     float64
	timestamp int64
	step      int64
	isNaN     bool
}

// comparePK orders points as the metrics primary key ("key", timestamp,
// step, run_uuid, value, is_nan) within one run.
func comparePK(a, b storedPoint) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := cmp.Compare(a.timestamp, b.timestamp); c != 0 {
		return c
	}
	if c := cmp.Compare(a.step, b.step); c != 0 {
		return c
	}
	if c := cmp.Compare(a.value, b.value); c != 0 {
		return c
	}
	switch {
	case a.isNaN == b.isNaN:
		return 0
	case a.isNaN:
		return 1
	}
	return -1
}

// after reports whether p replaces q as the latest value (MLflow's rule).
func (p storedPoint) after(q storedPoint) bool {
	if p.step != q.step {
		return p.step > q.step
	}
	if p.timestamp != q.timestamp {
		return p.timestamp > q.timestamp
	}
	return p.value > q.value
}

const (
	metricsInsert     = `INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan)`
	metricsInsertTail = " ON CONFLICT DO NOTHING"
	latestInsert      = `INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid)`
	latestInsertTail  = ` ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan
		WHERE excluded.step > latest_metrics.step
		   OR (excluded.step = latest_metrics.step AND (excluded.timestamp > latest_metrics.timestamp
		   OR (excluded.timestamp = latest_metrics.timestamp AND excluded.value > latest_metrics.value)))`
)

// batchPoints turns a batch into the points to store, in primary key order
// without duplicates, and the latest point of each key, in first-seen order.
func batchPoints(metrics []mlflow.Metric) (points, latest []storedPoint) {
	points = make([]storedPoint, 0, len(metrics))
	idx := make(map[string]int)
	for _, m := range metrics {
		v, isNaN := mlflow.StoredMetricValue(float64(m.Value))
		p := storedPoint{m.Key, v, m.Timestamp, m.Step, isNaN}
		points = append(points, p)
		if i, ok := idx[m.Key]; !ok {
			idx[m.Key] = len(latest)
			latest = append(latest, p)
		} else if p.after(latest[i]) {
			latest[i] = p
		}
	}
	// In primary key order, each B-tree insert lands next to the previous
	// one (SQLite keeps the page at hand), and points logged twice in the
	// batch sit side by side, so they are dropped without a map.
	slices.SortFunc(points, comparePK)
	points = slices.Compact(points)
	return points, latest
}

func (s *Store) logMetrics(ctx context.Context, tx *sql.Tx, runID string, metrics []mlflow.Metric) error {
	if len(metrics) == 0 {
		return nil
	}
	points, latest := batchPoints(metrics)
	args := make([]any, 0, 6*len(points))
	for _, p := range points {
		args = append(args, p.key, p.value, p.timestamp, runID, p.step, p.isNaN)
	}
	if _, err := s.insertValues(ctx, tx, metricsInsert, 6, args, metricsInsertTail); err != nil {
		return fmt.Errorf("store: log metrics: %w", err)
	}
	largs := make([]any, 0, 6*len(latest))
	for _, p := range latest {
		largs = append(largs, p.key, p.value, p.timestamp, p.step, p.isNaN, runID)
	}
	if _, err := s.insertValues(ctx, tx, latestInsert, 6, largs, latestInsertTail); err != nil {
		return fmt.Errorf("store: update latest metrics: %w", err)
	}
	return nil
}

// namesModel reports whether a metric names a logged model.
func namesModel(metrics []mlflow.Metric) bool {
	for _, m := range metrics {
		if m.ModelID != "" {
			return true
		}
	}
	return false
}

// logModelMetrics records the metrics that name a logged model in
// logged_model_metrics as well, as MLflow 3 does (the client logs a model's
// metrics through log-batch with model_id set). Metrics naming a model that
// does not exist are kept on the run only.
func (s *Store) logModelMetrics(ctx context.Context, tx *sql.Tx, expID int64, runID string, metrics []mlflow.Metric) error {
	var ids []any
	seen := map[string]bool{}
	for _, m := range metrics {
		if m.ModelID != "" && !seen[m.ModelID] {
			seen[m.ModelID] = true
			ids = append(ids, m.ModelID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	exists := map[string]bool{}
	if err := s.each(ctx, tx, "SELECT model_id FROM logged_models WHERE model_id IN ("+placeholders(len(ids))+")", ids, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		exists[id] = true
		return nil
	}); err != nil {
		return fmt.Errorf("store: read logged models: %w", err)
	}
	datasets := map[[2]string]any{}
	args := make([]any, 0, 10*len(metrics))
	for _, m := range metrics {
		if !exists[m.ModelID] {
			continue
		}
		var datasetID any
		if m.DatasetName != "" {
			k := [2]string{m.DatasetName, m.DatasetDigest}
			id, ok := datasets[k]
			if !ok {
				var uuid string
				err := tx.QueryRowContext(ctx, s.q("SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?"), expID, m.DatasetName, m.DatasetDigest).Scan(&uuid)
				if err == nil {
					id = uuid
				} else if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("store: read dataset: %w", err)
				}
				datasets[k] = id
			}
			datasetID = id
		}
		v, _ := mlflow.StoredMetricValue(float64(m.Value))
		args = append(args, m.ModelID, m.Key, m.Timestamp, m.Step, v, expID, runID, datasetID, nullString(m.DatasetName), nullString(m.DatasetDigest))
	}
	if _, err := s.insertValues(ctx, tx, `INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id, dataset_uuid, dataset_name, dataset_digest)`, 10, args, " ON CONFLICT DO NOTHING"); err != nil {
		return fmt.Errorf("store: log model metrics: %w", err)
	}
	return nil
}

// LogInputs links datasets (created once per experiment by name and
// digest) and logged models to an active run as inputs. A dataset already
// linked to the run is left as it is, with its first tags.
func (s *Store) LogInputs(ctx context.Context, runID string, datasets []mlflow.DatasetInput, models []mlflow.ModelInput) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		expID, err := s.activeRun(ctx, tx, runID)
		if err != nil {
			return err
		}
		for _, in := range datasets {
			d := in.Dataset
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id, name, digest) DO NOTHING`),
				randomID(), expID, d.Name, d.Digest, d.SourceType, d.Source, nullString(d.Schema), nullString(d.Profile)); err != nil {
				return fmt.Errorf("store: log dataset: %w", err)
			}
			var datasetID string
			if err := tx.QueryRowContext(ctx, s.q("SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?"), expID, d.Name, d.Digest).Scan(&datasetID); err != nil {
				return fmt.Errorf("store: log dataset: %w", err)
			}
			inputID := randomID()
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
				VALUES (?, 'DATASET', ?, 'RUN', ?, 0) ON CONFLICT DO NOTHING`), inputID, datasetID, runID)
			if err != nil {
				return fmt.Errorf("store: log dataset input: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 || len(in.Tags) == 0 {
				continue
			}
			args := make([]any, 0, 3*len(in.Tags))
			for _, t := range dedupeTags(in.Tags) {
				args = append(args, inputID, t.Key, t.Value)
			}
			if _, err := s.insertValues(ctx, tx, "INSERT INTO input_tags (input_uuid, name, value)", 3, args, ""); err != nil {
				return fmt.Errorf("store: log input tags: %w", err)
			}
		}
		for _, m := range models {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
				VALUES (?, 'RUN_INPUT', ?, 'MODEL_INPUT', ?, 0) ON CONFLICT DO NOTHING`), randomID(), runID, m.ModelID); err != nil {
				return fmt.Errorf("store: log model input: %w", err)
			}
		}
		return nil
	})
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LogOutputs links logged models to an active run as outputs at a step.
// MLflow answers a model linked twice with a 400 carrying SQL text; mltrack
// answers RESOURCE_ALREADY_EXISTS (docs/compatibility.md).
func (s *Store) LogOutputs(ctx context.Context, runID string, models []mlflow.ModelOutput) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.activeRun(ctx, tx, runID); err != nil {
			return err
		}
		for _, m := range models {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
				VALUES (?, 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, ?)`), randomID(), runID, m.ModelID, m.Step)
			if s.d.isUniqueViolation(err) {
				return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Model %s is already logged as an output of run %s", m.ModelID, runID)
			}
			if err != nil {
				return fmt.Errorf("store: log model output: %w", err)
			}
		}
		return nil
	})
}

// MetricHistory streams a metric's points in MLflow's order (timestamp,
// step, value), paged by q.Offset and q.Limit, or continuing after q.After.
func (s *Store) MetricHistory(ctx context.Context, q store.HistoryQuery, fn func(mlflow.Metric) error) error {
	db := s.reader()
	if _, _, err := s.runState(ctx, db, q.RunID); err != nil {
		return err
	}
	// The order is the mltrack_metrics_run_key_time index's: no sort, and
	// a keyset continuation starts right at its point in the index, where
	// OFFSET would read and drop every earlier point again.
	query := `SELECT timestamp, step, value, is_nan FROM metrics WHERE run_uuid = ? AND "key" = ?`
	args := []any{q.RunID, q.Key}
	offset := max(q.Offset, 0)
	if a := q.After; a != nil {
		query += ` AND (timestamp, step, value, is_nan) > (?, ?, ?, ?)`
		args = append(args, a.Timestamp, a.Step, a.Value, a.IsNaN)
		offset = 0
	}
	query += ` ORDER BY timestamp, step, value, is_nan`
	switch {
	case q.Limit > 0:
		query += " LIMIT ? OFFSET ?"
		args = append(args, q.Limit, offset)
	case offset > 0:
		query += " LIMIT ? OFFSET ?"
		args = append(args, math.MaxInt32, offset)
	}
	rows, err := db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("store: metric history: %w", err)
	}
	return streamPoints(ctx, rows, q.Key, fn)
}

// historyBatch is how many points the reading goroutine hands over at once.
const historyBatch = 512

// streamPoints reads (timestamp, step, value, is_nan) rows on a goroutine
// of its own and calls fn for each point on the caller's, so that stepping
// through the database and encoding the answer run on two cores at once.
// It closes rows.
func streamPoints(ctx context.Context, rows *sql.Rows, key string, fn func(mlflow.Metric) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []mlflow.Metric, 2)
	free := make(chan []mlflow.Metric, 3)
	var readErr error
	go func() {
		defer close(full)
		defer rows.Close()
		batch := make([]mlflow.Metric, 0, historyBatch)
		var ts, step, v, isNaN any
		for rows.Next() {
			if err := rows.Scan(&ts, &step, &v, &isNaN); err != nil {
				readErr = err
				return
			}
			m := mlflow.Metric{Key: key, Timestamp: asInt64(ts), Step: asInt64(step)}
			m.Value = metricValue(asFloat64(v), asBool(isNaN))
			batch = append(batch, m)
			if len(batch) == historyBatch {
				select {
				case full <- batch:
				case <-ctx.Done():
					return
				}
				select {
				case batch = <-free:
				default:
					batch = make([]mlflow.Metric, 0, historyBatch)
				}
			}
		}
		if readErr = rows.Err(); readErr == nil && len(batch) > 0 {
			select {
			case full <- batch:
			case <-ctx.Done():
			}
		}
	}()
	for batch := range full {
		for _, m := range batch {
			if err := fn(m); err != nil {
				cancel()
				for range full { // let the reader finish and close rows
				}
				return err
			}
		}
		select {
		case free <- batch[:0]:
		default:
		}
	}
	if readErr != nil {
		return fmt.Errorf("store: metric history: %w", readErr)
	}
	return nil
}

// asInt64, asFloat64 and asBool read the driver values of integer, real
// and boolean columns (SQLite gives integers for booleans and may give
// an integer for a REAL column holding a whole number). Scanning into
// any and converting here skips database/sql's reflective conversion,
// which costs more than the read itself on long histories.
func asInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int32:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func asFloat64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return 0
}

func asBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	}
	return false
}

// MetricHistoryBulkInterval answers metrics/get-history-bulk-interval with
// MLflow's sampling: over the union of the runs' steps in [start, end]
// (default [0, last step]) it keeps at most MaxResults evenly spaced steps
// plus the last one, adds each run's first and last step in range, and
// returns every run's points at those steps, ordered by (step, timestamp),
// at most 25000 per run.
func (s *Store) MetricHistoryBulkInterval(ctx context.Context, q store.BulkIntervalQuery) ([]mlflow.Metric, error) {
	db := s.reader()
	if len(q.RunIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(q.RunIDs)+1)
	for _, id := range q.RunIDs {
		args = append(args, id)
	}
	in := "(" + placeholders(len(q.RunIDs)) + ")"
	exists := map[string]bool{}
	if err := s.each(ctx, db, "SELECT run_uuid FROM runs WHERE run_uuid IN "+in, args, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		exists[id] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: metric history: %w", err)
	}
	for _, id := range q.RunIDs {
		if !exists[id] {
			return nil, mlflow.RunNotFound(id)
		}
	}
	args = append(args, q.Key)
	var allSteps []int64
	if err := s.each(ctx, db, `SELECT DISTINCT step FROM metrics WHERE run_uuid IN `+in+` AND "key" = ? ORDER BY step`, args, func(rows *sql.Rows) error {
		var st int64
		if err := rows.Scan(&st); err != nil {
			return err
		}
		allSteps = append(allSteps, st)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: metric history steps: %w", err)
	}
	var start, end int64
	if q.StartStep != nil && q.EndStep != nil {
		start, end = *q.StartStep, *q.EndStep
	} else if len(allSteps) > 0 {
		end = allSteps[len(allSteps)-1]
	}
	steps := map[int64]bool{}
	if err := s.each(ctx, db, `SELECT MIN(step), MAX(step) FROM metrics WHERE run_uuid IN `+in+` AND "key" = ? GROUP BY run_uuid`, args, func(rows *sql.Rows) error {
		var lo, hi int64
		if err := rows.Scan(&lo, &hi); err != nil {
			return err
		}
		for _, st := range []int64{lo, hi} {
			if start <= st && st <= end {
				steps[st] = true
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: metric history steps: %w", err)
	}
	for _, st := range sampleSteps(start, end, q.MaxResults, allSteps) {
		steps[st] = true
	}
	if len(steps) == 0 {
		return nil, nil
	}
	stepArgs := make([]any, 0, len(steps))
	for st := range steps {
		stepArgs = append(stepArgs, st)
	}
	byRun := map[string][]mlflow.Metric{}
	if err := s.each(ctx, db, `SELECT run_uuid, timestamp, step, value, is_nan FROM metrics WHERE run_uuid IN `+in+` AND "key" = ? AND step IN (`+placeholders(len(stepArgs))+`) ORDER BY step, timestamp`,
		append(args, stepArgs...), func(rows *sql.Rows) error {
			var (
				m     = mlflow.Metric{Key: q.Key}
				v     float64
				isNaN bool
			)
			if err := rows.Scan(&m.RunID, &m.Timestamp, &m.Step, &v, &isNaN); err != nil {
				return err
			}
			if len(byRun[m.RunID]) >= mlflow.MaxResultsMetricHistory {
				return nil
			}
			m.Value = metricValue(v, isNaN)
			byRun[m.RunID] = append(byRun[m.RunID], m)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("store: metric history: %w", err)
	}
	var out []mlflow.Metric
	for _, id := range q.RunIDs {
		out = append(out, byRun[id]...)
	}
	return out, nil
}

// sampleSteps picks at most maxResults evenly spaced steps of the sorted
// allSteps within [start, end], plus the last one in range.
func sampleSteps(start, end int64, maxResults int, allSteps []int64) []int64 {
	lo := sort.Search(len(allSteps), func(i int) bool { return allSteps[i] >= start })
	hi := sort.Search(len(allSteps), func(i int) bool { return allSteps[i] > end })
	n := hi - lo
	if n <= maxResults || maxResults <= 0 {
		if maxResults <= 0 {
			return nil
		}
		return allSteps[lo:hi]
	}
	interval := float64(n) / float64(maxResults)
	out := make([]int64, 0, maxResults+1)
	for i := 0; i < maxResults; i++ {
		idx := lo + int(float64(i)*interval)
		if idx < hi {
			out = append(out, allSteps[idx])
		}
	}
	return append(out, allSteps[hi-1])
}
