package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

const experimentColumns = "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"

// CreateExperiment inserts an experiment with its tags and returns its id.
// An empty artifactLocation gets the default root's "<root>/<id>".
func (s *Store) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []mlflow.Tag) (string, error) {
	now := time.Now().UnixMilli()
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(
			"INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, 'default', ?, 'active', ?, ?) RETURNING experiment_id"),
			name, artifactLocation, now, now).Scan(&id)
		if s.d.isUniqueViolation(err) {
			return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Experiment(name=%s) already exists.", name)
		}
		if err != nil {
			return fmt.Errorf("store: create experiment: %w", err)
		}
		if artifactLocation == "" {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?"),
				s.experimentLocation(strconv.FormatInt(id, 10)), id); err != nil {
				return fmt.Errorf("store: set experiment location: %w", err)
			}
		}
		for _, t := range tags {
			if err := s.upsertExperimentTag(ctx, tx, id, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}

func (s *Store) upsertExperimentTag(ctx context.Context, tx *sql.Tx, id int64, t mlflow.Tag) error {
	_, err := tx.ExecContext(ctx, s.q(
		`INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?)
		 ON CONFLICT ("key", experiment_id) DO UPDATE SET value = excluded.value`), t.Key, t.Value, id)
	if err != nil {
		return fmt.Errorf("store: set experiment tag: %w", err)
	}
	return nil
}

func scanExperiment(row interface{ Scan(...any) error }) (mlflow.Experiment, error) {
	var (
		e     mlflow.Experiment
		id    int64
		loc   sql.NullString
		stage sql.NullString
		ctime sql.NullInt64
		utime sql.NullInt64
	)
	if err := row.Scan(&id, &e.Name, &loc, &stage, &ctime, &utime); err != nil {
		return e, err
	}
	e.ExperimentID = strconv.FormatInt(id, 10)
	e.ArtifactLocation, e.LifecycleStage = loc.String, stage.String
	e.CreationTime, e.LastUpdateTime = ctime.Int64, utime.Int64
	return e, nil
}

// GetExperiment returns an experiment with its tags.
func (s *Store) GetExperiment(ctx context.Context, id string) (*mlflow.Experiment, error) {
	n, err := mlflow.ParseExperimentID(id)
	if err != nil {
		return nil, err
	}
	return s.getExperiment(ctx, "experiment_id = ?", n, func() error { return mlflow.ExperimentNotFound(id) })
}

// GetExperimentByName returns the experiment of that name, active or deleted.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (*mlflow.Experiment, error) {
	return s.getExperiment(ctx, "name = ? AND workspace = 'default'", name, func() error {
		return mlflow.NotFound("Could not find experiment with name '%s'", name)
	})
}

func (s *Store) getExperiment(ctx context.Context, where string, arg any, notFound func() error) (*mlflow.Experiment, error) {
	e, err := scanExperiment(s.reader().QueryRowContext(ctx, s.q("SELECT "+experimentColumns+" FROM experiments WHERE "+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("store: get experiment: %w", err)
	}
	exps := []mlflow.Experiment{e}
	if err := s.loadExperimentTags(ctx, exps); err != nil {
		return nil, err
	}
	return &exps[0], nil
}

// loadExperimentTags fills the tags of experiments in one query.
func (s *Store) loadExperimentTags(ctx context.Context, exps []mlflow.Experiment) error {
	if len(exps) == 0 {
		return nil
	}
	idx := make(map[string]int, len(exps))
	args := make([]any, len(exps))
	for i, e := range exps {
		idx[e.ExperimentID] = i
		args[i], _ = strconv.ParseInt(e.ExperimentID, 10, 64)
	}
	rows, err := s.reader().QueryContext(ctx, s.q(`SELECT experiment_id, "key", value FROM experiment_tags WHERE experiment_id IN (`+placeholders(len(args))+`)`), args...)
	if err != nil {
		return fmt.Errorf("store: load experiment tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			t     mlflow.Tag
			value sql.NullString
		)
		if err := rows.Scan(&id, &t.Key, &value); err != nil {
			return fmt.Errorf("store: load experiment tags: %w", err)
		}
		t.Value = value.String
		i := idx[strconv.FormatInt(id, 10)]
		exps[i].Tags = append(exps[i].Tags, t)
	}
	return rows.Err()
}

// experimentStage returns the lifecycle stage of an experiment, or
// RESOURCE_DOES_NOT_EXIST.
func (s *Store) experimentStage(ctx context.Context, q querier, id string) (int64, string, error) {
	n, err := mlflow.ParseExperimentID(id)
	if err != nil {
		return 0, "", err
	}
	var stage sql.NullString
	err = q.QueryRowContext(ctx, s.q("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?"), n).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", mlflow.ExperimentNotFound(id)
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: get experiment: %w", err)
	}
	return n, stage.String, nil
}

// RenameExperiment renames an active experiment.
func (s *Store) RenameExperiment(ctx context.Context, id, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, stage, err := s.experimentStage(ctx, tx, id)
		if err != nil {
			return err
		}
		if stage != mlflow.StageActive {
			// MLflow answers INVALID_STATE with a 500; it is the client's
			// mistake, so mltrack answers 400 (docs/compatibility.md).
			return &mlflow.Error{Code: mlflow.InvalidState, Message: "Cannot rename a non-active experiment.", Status: 400}
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?"), name, time.Now().UnixMilli(), n)
		if s.d.isUniqueViolation(err) {
			// MLflow's code here is BAD_REQUEST (with SQL text as message).
			return mlflow.Errorf(mlflow.BadRequest, "Experiment(name=%s) already exists.", name)
		}
		if err != nil {
			return fmt.Errorf("store: rename experiment: %w", err)
		}
		return nil
	})
}

// DeleteExperiment marks an active experiment and its active runs deleted.
func (s *Store) DeleteExperiment(ctx context.Context, id string) error {
	return s.setExperimentStage(ctx, id, mlflow.StageActive, mlflow.StageDeleted)
}

// RestoreExperiment brings a deleted experiment and its deleted runs back.
func (s *Store) RestoreExperiment(ctx context.Context, id string) error {
	return s.setExperimentStage(ctx, id, mlflow.StageDeleted, mlflow.StageActive)
}

func (s *Store) setExperimentStage(ctx context.Context, id, from, to string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, stage, err := s.experimentStage(ctx, tx, id)
		if err != nil {
			return err
		}
		if stage != from {
			// MLflow answers both "already deleted" and "restore an active
			// experiment" as not found.
			return mlflow.ExperimentNotFound(id)
		}
		now := time.Now().UnixMilli()
		if _, err := tx.ExecContext(ctx, s.q("UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?"), to, now, n); err != nil {
			return fmt.Errorf("store: set experiment stage: %w", err)
		}
		// As MLflow: the experiment's runs follow it.
		var deletedTime any
		if to == mlflow.StageDeleted {
			deletedTime = now
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = ?"), to, deletedTime, n, from); err != nil {
			return fmt.Errorf("store: set run stages: %w", err)
		}
		return nil
	})
}

// SetExperimentTag sets a tag on an active experiment.
func (s *Store) SetExperimentTag(ctx context.Context, id string, tag mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, stage, err := s.experimentStage(ctx, tx, id)
		if err != nil {
			return err
		}
		if stage != mlflow.StageActive {
			return &mlflow.Error{Code: mlflow.InvalidState, Message: fmt.Sprintf("The experiment %s must be in the 'active' state. Current state is %s.", id, stage), Status: 400}
		}
		return s.upsertExperimentTag(ctx, tx, n, tag)
	})
}

// DeleteExperimentTag removes a tag from an active experiment.
func (s *Store) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, stage, err := s.experimentStage(ctx, tx, id)
		if err != nil {
			return err
		}
		if stage != mlflow.StageActive {
			return &mlflow.Error{Code: mlflow.InvalidState, Message: fmt.Sprintf("The experiment %s must be in the 'active' state. Current state is %s.", id, stage), Status: 400}
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM experiment_tags WHERE experiment_id = ? AND "key" = ?`), n, key)
		if err != nil {
			return fmt.Errorf("store: delete experiment tag: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return mlflow.NotFound("No tag with name: %s in experiment with id %s", key, id)
		}
		return nil
	})
}

// SearchExperiments answers one page of experiments/search in one query
// (plus one for the page's tags).
func (s *Store) SearchExperiments(ctx context.Context, q store.ExperimentQuery) ([]mlflow.Experiment, string, error) {
	var (
		where = []string{"e.workspace = 'default'"}
		args  []any
	)
	switch q.ViewType {
	case store.DeletedOnly:
		where = append(where, "e.lifecycle_stage = 'deleted'")
	case store.All:
	default:
		where = append(where, "e.lifecycle_stage = 'active'")
	}
	for _, c := range q.Filter {
		clause, cargs, err := s.experimentClause(c)
		if err != nil {
			return nil, "", err
		}
		where = append(where, clause)
		args = append(args, cargs...)
	}
	var order []string
	for _, k := range q.OrderBy {
		col, ok := experimentAttributeColumn(k.Key)
		if !ok {
			return nil, "", mlflow.InvalidParam("Invalid order_by entity `%s`", k.Key)
		}
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		order = append(order, "e."+col+dir)
	}
	if len(order) == 0 {
		order = []string{"e.creation_time DESC"}
	}
	order = append(order, "e.experiment_id ASC")
	query := "SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time FROM experiments e WHERE " +
		strings.Join(where, " AND ") + " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args = append(args, q.Page.MaxResults, q.Page.Offset)
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: search experiments: %w", err)
	}
	defer rows.Close()
	var exps []mlflow.Experiment
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: search experiments: %w", err)
		}
		exps = append(exps, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: search experiments: %w", err)
	}
	rows.Close()
	if err := s.loadExperimentTags(ctx, exps); err != nil {
		return nil, "", err
	}
	next := ""
	if len(exps) == q.Page.MaxResults && q.Page.MaxResults > 0 {
		next = search.EncodeOffsetToken(q.Page.Offset + len(exps))
	}
	return exps, next, nil
}

func experimentAttributeColumn(key string) (string, bool) {
	switch key {
	case "name", "experiment_id", "creation_time", "last_update_time", "lifecycle_stage", "artifact_location":
		return key, true
	}
	return "", false
}

// experimentClause compiles one comparison of an experiment filter.
func (s *Store) experimentClause(c search.Comparison) (string, []any, error) {
	switch c.Entity {
	case "attribute":
		col, ok := experimentAttributeColumn(c.Key)
		if !ok {
			return "", nil, mlflow.InvalidParam("Invalid attribute key '%s' specified.", c.Key)
		}
		return s.compare("e."+col, c)
	case "tag":
		inner, args, err := s.compare("t.value", c)
		if err != nil {
			return "", nil, err
		}
		return `EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t."key" = ? AND ` + inner + ")",
			append([]any{c.Key}, args...), nil
	}
	return "", nil, mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
}

// compare renders `col op ?` for one comparison.
func (s *Store) compare(col string, c search.Comparison) (string, []any, error) {
	var arg any = c.Value.Str
	if c.Value.IsNum {
		arg = c.Value.Num
	}
	switch c.Op {
	case "=", "!=", "<", "<=", ">", ">=":
		return col + " " + c.Op + " ?", []any{arg}, nil
	case "LIKE":
		return s.d.like(col, "?"), []any{arg}, nil
	case "ILIKE":
		return s.d.ilike(col, "?"), []any{arg}, nil
	case "IN", "NOT IN":
		if len(c.Value.List) == 0 {
			return "", nil, mlflow.InvalidParam("While parsing a list in the query, expected a non-empty list of string values")
		}
		args := make([]any, len(c.Value.List))
		for i, v := range c.Value.List {
			args[i] = v
		}
		return col + " " + c.Op + " (" + placeholders(len(args)) + ")", args, nil
	}
	return "", nil, mlflow.InvalidParam("Invalid comparator '%s'", c.Op)
}

// placeholders is "?, ?, ..." n times.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
