package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// MLflow 3 logged models live in logged_models (status as the proto enum's
// number, lifecycle_stage 'active'/'deleted'), logged_model_params,
// logged_model_tags and logged_model_metrics.

const loggedModelColumns = "lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.creation_timestamp_ms, lm.last_updated_timestamp_ms, lm.status, lm.model_type, lm.source_run_id, lm.status_message"

func scanLoggedModel(row interface{ Scan(...any) error }) (mlflow.LoggedModel, error) {
	var (
		m                         mlflow.LoggedModel
		exp                       int64
		status                    sql.NullInt64
		modelType, runID, message sql.NullString
	)
	i := &m.Info
	if err := row.Scan(&i.ModelID, &exp, &i.Name, &i.ArtifactURI, &i.CreationTimestampMs, &i.LastUpdatedTimestampMs, &status, &modelType, &runID, &message); err != nil {
		return m, err
	}
	i.ExperimentID = strconv.FormatInt(exp, 10)
	i.Status = mlflow.LoggedModelStatus(status.Int64)
	i.ModelType, i.SourceRunID, i.StatusMessage = modelType.String, runID.String, message.String
	return m, nil
}

// loggedModelLocation returns an active logged model's artifact location and
// source run.
func (s *Store) loggedModelLocation(ctx context.Context, q querier, id string) (loc, runID string, err error) {
	var run sql.NullString
	err = q.QueryRowContext(ctx, s.q("SELECT artifact_location, source_run_id FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'"), id).Scan(&loc, &run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", mlflow.LoggedModelNotFound(id)
	}
	if err != nil {
		return "", "", fmt.Errorf("store: get logged model: %w", err)
	}
	return loc, run.String, nil
}

// loggedModelExperiment returns the experiment of an active logged model.
func (s *Store) loggedModelExperiment(ctx context.Context, q querier, id string) (int64, error) {
	var exp int64
	err := q.QueryRowContext(ctx, s.q("SELECT experiment_id FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'"), id).Scan(&exp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mlflow.LoggedModelNotFound(id)
	}
	if err != nil {
		return 0, fmt.Errorf("store: get logged model: %w", err)
	}
	return exp, nil
}

// CreateLoggedModel creates a PENDING logged model in an active experiment.
// Its files go to <experiment location>/models/<model_id>/artifacts.
func (s *Store) CreateLoggedModel(ctx context.Context, c store.CreateLoggedModel) (*mlflow.LoggedModel, error) {
	id := mlflow.LoggedModelPrefix + randomID()
	name := c.Name
	if name == "" {
		name = randomModelName()
	}
	var m *mlflow.LoggedModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		exp, stage, err := s.experimentStage(ctx, tx, c.ExperimentID)
		if err != nil {
			return err
		}
		if stage != mlflow.StageActive {
			return mlflow.InvalidParam("The experiment %s must be in the 'active' state. Current state is %s.", c.ExperimentID, stage)
		}
		var loc sql.NullString
		if err := tx.QueryRowContext(ctx, s.q("SELECT artifact_location FROM experiments WHERE experiment_id = ?"), exp).Scan(&loc); err != nil {
			return fmt.Errorf("store: create logged model: %w", err)
		}
		now := time.Now().UnixMilli()
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO logged_models
			(model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`),
			id, exp, name, mlflow.LoggedModelArtifactLocation(loc.String, id), now, now, int(mlflow.LoggedModelPending), c.ModelType, c.SourceRunID)
		if err != nil {
			return fmt.Errorf("store: create logged model: %w", err)
		}
		for _, p := range dedupeTags(c.Params) {
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?, ?, ?, ?)"), id, exp, p.Key, p.Value); err != nil {
				return fmt.Errorf("store: log logged model param: %w", err)
			}
		}
		for _, t := range dedupeTags(c.Tags) {
			if err := s.upsertLoggedModelTag(ctx, tx, id, exp, t); err != nil {
				return err
			}
		}
		m, err = s.getLoggedModel(ctx, tx, id)
		return err
	})
	return m, err
}

func (s *Store) upsertLoggedModelTag(ctx context.Context, q querier, id string, exp int64, t mlflow.Tag) error {
	_, err := q.ExecContext(ctx, s.q(`INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?, ?, ?, ?)
		ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`), id, exp, t.Key, t.Value)
	if err != nil {
		return fmt.Errorf("store: set logged model tag: %w", err)
	}
	return nil
}

// GetLoggedModel returns an active logged model with its tags, params and metrics.
func (s *Store) GetLoggedModel(ctx context.Context, id string) (*mlflow.LoggedModel, error) {
	return s.getLoggedModel(ctx, s.reader(), id)
}

func (s *Store) getLoggedModel(ctx context.Context, q querier, id string) (*mlflow.LoggedModel, error) {
	m, err := scanLoggedModel(q.QueryRowContext(ctx, s.q("SELECT "+loggedModelColumns+" FROM logged_models lm WHERE lm.model_id = ? AND lm.lifecycle_stage = 'active'"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mlflow.LoggedModelNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get logged model: %w", err)
	}
	ms := []mlflow.LoggedModel{m}
	if err := s.loadLoggedModelDetails(ctx, q, ms); err != nil {
		return nil, err
	}
	return &ms[0], nil
}

// loadLoggedModelDetails fills tags, params and metrics of a page of models.
func (s *Store) loadLoggedModelDetails(ctx context.Context, q querier, ms []mlflow.LoggedModel) error {
	if len(ms) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ms))
	args := make([]any, len(ms))
	for i, m := range ms {
		idx[m.Info.ModelID] = i
		args[i] = m.Info.ModelID
	}
	in := placeholders(len(args))
	for _, part := range []struct {
		query string
		add   func(i int, t mlflow.Tag)
	}{
		{"SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE model_id IN (" + in + ") ORDER BY model_id, tag_key",
			func(i int, t mlflow.Tag) { ms[i].Info.Tags = append(ms[i].Info.Tags, t) }},
		{"SELECT model_id, param_key, param_value FROM logged_model_params WHERE model_id IN (" + in + ") ORDER BY model_id, param_key",
			func(i int, t mlflow.Tag) { ms[i].Data.Params = append(ms[i].Data.Params, t) }},
	} {
		rows, err := q.QueryContext(ctx, s.q(part.query), args...)
		if err != nil {
			return fmt.Errorf("store: load logged model details: %w", err)
		}
		for rows.Next() {
			var (
				id    string
				t     mlflow.Tag
				value sql.NullString
			)
			if err := rows.Scan(&id, &t.Key, &value); err != nil {
				rows.Close()
				return fmt.Errorf("store: load logged model details: %w", err)
			}
			t.Value = value.String
			part.add(idx[id], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: load logged model details: %w", err)
		}
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_name, dataset_digest
		FROM logged_model_metrics WHERE model_id IN (`+in+`) ORDER BY model_id, `+s.d.insertionOrder()), args...)
	if err != nil {
		return fmt.Errorf("store: load logged model metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			met           mlflow.Metric
			value         sql.NullFloat64
			dname, digest sql.NullString
		)
		if err := rows.Scan(&met.ModelID, &met.Key, &met.Timestamp, &met.Step, &value, &met.RunID, &dname, &digest); err != nil {
			return fmt.Errorf("store: load logged model metrics: %w", err)
		}
		met.Value, met.DatasetName, met.DatasetDigest = mlflow.Float(value.Float64), dname.String, digest.String
		i := idx[met.ModelID]
		ms[i].Data.Metrics = append(ms[i].Data.Metrics, met)
	}
	return rows.Err()
}

// FinalizeLoggedModel sets a logged model's status.
func (s *Store) FinalizeLoggedModel(ctx context.Context, id string, status mlflow.LoggedModelStatus) (*mlflow.LoggedModel, error) {
	var m *mlflow.LoggedModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ? AND lifecycle_stage = 'active'"),
			int(status), time.Now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("store: finalize logged model: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.LoggedModelNotFound(id)
		}
		m, err = s.getLoggedModel(ctx, tx, id)
		return err
	})
	return m, err
}

// DeleteLoggedModel marks a logged model deleted (its rows and files stay,
// as with MLflow); deleting it twice is fine, an unknown id is not found.
func (s *Store) DeleteLoggedModel(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE model_id = ?"), time.Now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("store: delete logged model: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.LoggedModelNotFound(id)
		}
		return nil
	})
}

// SetLoggedModelTags sets (or overwrites) tags of an active logged model.
func (s *Store) SetLoggedModelTags(ctx context.Context, id string, tags []mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		exp, err := s.loggedModelExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, t := range dedupeTags(tags) {
			if err := s.upsertLoggedModelTag(ctx, tx, id, exp, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteLoggedModelTag removes a tag; a missing tag is RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.loggedModelExperiment(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM logged_model_tags WHERE model_id = ? AND tag_key = ?"), id, key)
		if err != nil {
			return fmt.Errorf("store: delete logged model tag: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No tag with key '%s' found for model with ID '%s'.", key, id)
		}
		return nil
	})
}

// LogLoggedModelParams adds params to an active logged model. Logging a
// param again with the same value is a no-op; with another value it is an
// error (params are immutable, as for runs).
func (s *Store) LogLoggedModelParams(ctx context.Context, id string, params []mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		exp, err := s.loggedModelExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, p := range dedupeTags(params) {
			var old string
			err := tx.QueryRowContext(ctx, s.q("SELECT param_value FROM logged_model_params WHERE model_id = ? AND param_key = ?"), id, p.Key).Scan(&old)
			switch {
			case err == nil && old == p.Value:
				continue
			case err == nil:
				return mlflow.InvalidParam("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for logged model ID '%s'. Attempted logging new value '%s'.", p.Key, old, id, p.Value)
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("store: log logged model param: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?, ?, ?, ?)"), id, exp, p.Key, p.Value); err != nil {
				return fmt.Errorf("store: log logged model param: %w", err)
			}
		}
		return nil
	})
}

// loggedModelColumn maps a filter or order_by attribute to its column.
func loggedModelColumn(key string) (col string, numeric bool, ok bool) {
	switch key {
	case "model_id", "name", "model_type", "source_run_id":
		return "lm." + key, false, true
	case "status":
		return "lm.status", true, true
	case "experiment_id":
		return "lm.experiment_id", true, true
	case "creation_timestamp", "creation_time", "creation_timestamp_ms":
		return "lm.creation_timestamp_ms", true, true
	case "last_updated_timestamp", "last_updated_time", "last_updated_timestamp_ms":
		return "lm.last_updated_timestamp_ms", true, true
	}
	return "", false, false
}

// datasetClause restricts logged_model_metrics rows (alias m) to datasets.
func datasetClause(ds []store.LoggedModelDataset) (string, []any) {
	if len(ds) == 0 {
		return "", nil
	}
	var (
		ors  []string
		args []any
	)
	for _, d := range ds {
		if d.DatasetDigest != "" {
			ors = append(ors, "(m.dataset_name = ? AND m.dataset_digest = ?)")
			args = append(args, d.DatasetName, d.DatasetDigest)
		} else {
			ors = append(ors, "m.dataset_name = ?")
			args = append(args, d.DatasetName)
		}
	}
	return " AND (" + strings.Join(ors, " OR ") + ")", args
}

// latestMetricExpr is the newest value of a metric of the model lm.
func latestMetricExpr(ds []store.LoggedModelDataset) (string, []any) {
	dc, dargs := datasetClause(ds)
	return "(SELECT m.metric_value FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND m.metric_name = ?" + dc +
		" ORDER BY m.metric_step DESC, m.metric_timestamp_ms DESC LIMIT 1)", dargs
}

// statusArg turns a status filter value into the stored number; a name that
// is not a status matches nothing.
func statusArg(v string) int {
	st, ok := mlflow.ParseLoggedModelStatus(v)
	if !ok {
		return -1
	}
	return int(st)
}

// SearchLoggedModels answers one page of logged-models/search.
func (s *Store) SearchLoggedModels(ctx context.Context, q store.LoggedModelQuery) ([]mlflow.LoggedModel, bool, error) {
	if len(q.ExperimentIDs) == 0 {
		return nil, false, nil
	}
	var args []any
	exps := make([]any, len(q.ExperimentIDs))
	for i, id := range q.ExperimentIDs {
		n, err := mlflow.ParseExperimentID(id)
		if err != nil {
			return nil, false, err
		}
		exps[i] = n
	}
	where := []string{"lm.lifecycle_stage = 'active'", "lm.experiment_id IN (" + placeholders(len(exps)) + ")"}
	args = append(args, exps...)
	hasMetricFilter := false
	for _, c := range q.Filter {
		var (
			clause string
			cargs  []any
			err    error
		)
		switch c.Entity {
		case "attribute":
			col, numeric, ok := loggedModelColumn(c.Key)
			if !ok {
				return nil, false, mlflow.InvalidParam("Invalid attribute key '%s' specified.", c.Key)
			}
			switch {
			case c.Key == "status":
				clause, cargs, err = statusCompare(col, c)
			case numeric:
				clause, cargs, err = integerCompare(col, c)
			default:
				clause, cargs, err = s.compare(col, asString(c))
			}
		case "metric":
			// As MLflow: any logged value of the metric (on the request's
			// datasets, if any) that satisfies the comparison, not only the
			// latest one.
			dc, dargs := datasetClause(q.Datasets)
			clause = "EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND m.metric_name = ? AND m.metric_value " + c.Op + " ?" + dc + ")"
			cargs = append([]any{c.Key, c.Value.Num}, dargs...)
			hasMetricFilter = true
			if !c.Value.IsNum || !oneOfOps(c.Op, "=", "!=", "<", "<=", ">", ">=") {
				err = mlflow.InvalidParam("Invalid comparison for metrics.%s", c.Key)
			}
		case "param", "tag":
			table, key, val := "logged_model_params", "param_key", "param_value"
			if c.Entity == "tag" {
				table, key, val = "logged_model_tags", "tag_key", "tag_value"
			}
			var inner string
			inner, cargs, err = s.compare("x."+val, asString(c))
			clause = "EXISTS (SELECT 1 FROM " + table + " x WHERE x.model_id = lm.model_id AND x." + key + " = ? AND " + inner + ")"
			cargs = append([]any{c.Key}, cargs...)
		default:
			err = mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
		if err != nil {
			return nil, false, err
		}
		where, args = append(where, clause), append(args, cargs...)
	}
	if len(q.Datasets) > 0 && !hasMetricFilter {
		// Datasets without a metric filter keep the models with any
		// metric on one of them, as MLflow does.
		dc, dargs := datasetClause(q.Datasets)
		where = append(where, "EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id"+dc+")")
		args = append(args, dargs...)
	}
	var (
		order     []string
		orderArgs []any
	)
	for _, o := range q.OrderBy {
		dir := direction(!o.Ascending)
		if key, ok := strings.CutPrefix(o.FieldName, "metrics."); ok {
			var ds []store.LoggedModelDataset
			if o.DatasetName != "" {
				ds = []store.LoggedModelDataset{{DatasetName: o.DatasetName, DatasetDigest: o.DatasetDigest}}
			}
			expr, dargs := latestMetricExpr(ds)
			// Models without the metric come last either way.
			order = append(order, "CASE WHEN "+expr+" IS NULL THEN 1 ELSE 0 END", expr+dir)
			orderArgs = append(orderArgs, key)
			orderArgs = append(orderArgs, dargs...)
			orderArgs = append(orderArgs, key)
			orderArgs = append(orderArgs, dargs...)
			continue
		}
		col, _, ok := loggedModelColumn(strings.TrimPrefix(strings.TrimPrefix(o.FieldName, "attributes."), "attribute."))
		if !ok {
			return nil, false, mlflow.InvalidParam("Invalid order by field name: %s", o.FieldName)
		}
		order = append(order, col+dir)
	}
	if len(order) == 0 {
		order = []string{"lm.creation_timestamp_ms DESC"}
	}
	order = append(order, "lm.model_id ASC")
	args = append(args, orderArgs...)
	query := "SELECT " + loggedModelColumns + " FROM logged_models lm WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args = append(args, q.Page.MaxResults+1, q.Page.Offset)
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: search logged models: %w", err)
	}
	var ms []mlflow.LoggedModel
	for rows.Next() {
		m, err := scanLoggedModel(rows)
		if err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("store: search logged models: %w", err)
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: search logged models: %w", err)
	}
	more := len(ms) > q.Page.MaxResults
	if more {
		ms = ms[:q.Page.MaxResults]
	}
	if err := s.loadLoggedModelDetails(ctx, s.reader(), ms); err != nil {
		return nil, false, err
	}
	return ms, more, nil
}

func oneOfOps(op string, ops ...string) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// statusCompare compares the numeric status column with status names.
func statusCompare(col string, c search.Comparison) (string, []any, error) {
	switch c.Op {
	case "=", "!=":
		return col + " " + c.Op + " ?", []any{statusArg(c.Value.Str)}, nil
	case "IN", "NOT IN":
		args := make([]any, len(c.Value.List))
		for i, v := range c.Value.List {
			args[i] = statusArg(v)
		}
		if len(args) == 0 {
			return "", nil, mlflow.InvalidParam("While parsing a list in the query, expected a non-empty list of values")
		}
		return col + " " + c.Op + " (" + placeholders(len(args)) + ")", args, nil
	}
	return "", nil, mlflow.InvalidParam("Invalid comparison operator for attributes.status: '%s'. Expected one of ('=', '!=', 'IN', 'NOT IN').", c.Op)
}

// Words for generated logged model names ("<adjective>-<noun>-<number>"),
// the shape of MLflow's generated names.
var (
	nameAdjectives = []string{"able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "gentle", "glad", "honest", "keen", "kind", "lively", "lucky", "merry", "nimble", "polite", "proud", "quick", "quiet", "rare", "sharp", "shy", "smart", "steady", "sunny", "swift", "tidy", "warm", "wise"}
	nameNouns      = []string{"ant", "bass", "bear", "bird", "cat", "colt", "crab", "deer", "dog", "dove", "eel", "elk", "finch", "fox", "frog", "goat", "hare", "hawk", "koi", "lark", "lynx", "mole", "moth", "newt", "owl", "panda", "pug", "ram", "seal", "slug", "toad", "wolf"}
)

func randomModelName() string {
	pick := func(n int) int {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
		return int(v.Int64())
	}
	return nameAdjectives[pick(len(nameAdjectives))] + "-" + nameNouns[pick(len(nameNouns))] + "-" + strconv.Itoa(pick(1000))
}

var _ store.LoggedModels = (*Store)(nil)
