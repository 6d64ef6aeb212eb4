package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// What `mltrack gc` reads and removes: the runs, experiments and logged
// models in the deleted lifecycle stage, and every row that belongs to them.
// Each hard delete is one transaction that first checks, inside the
// transaction, that the thing is still deleted, so a restore by a running
// server between planning and deleting is never undone.

// GCRun is a run as gc sees it.
type GCRun struct {
	ID, ExperimentID, ArtifactURI, LifecycleStage string
	// DeletedTime is in milliseconds since the epoch; 0 when unknown.
	DeletedTime int64
}

// GCExperiment is an experiment as gc sees it.
type GCExperiment struct {
	ID, Name, ArtifactLocation, LifecycleStage string
	LastUpdateTime                             int64
}

// GCLoggedModel is a logged model as gc sees it.
type GCLoggedModel struct {
	ID, ExperimentID, ArtifactLocation, LifecycleStage string
	LastUpdateTime                                     int64
}

const (
	gcRunColumns   = "run_uuid, experiment_id, artifact_uri, lifecycle_stage, deleted_time"
	gcExpColumns   = "experiment_id, name, artifact_location, lifecycle_stage, last_update_time"
	gcModelColumns = "model_id, experiment_id, artifact_location, lifecycle_stage, last_updated_timestamp_ms"
)

func gcAnys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// gcExperimentIDArgs parses experiment ids; a non-numeric id is an
// INVALID_PARAMETER_VALUE error.
func gcExperimentIDArgs(ids []string) ([]any, error) {
	out := make([]any, len(ids))
	for i, id := range ids {
		n, err := mlflow.ParseExperimentID(id)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func (s *Store) gcRuns(ctx context.Context, where string, args ...any) ([]GCRun, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT "+gcRunColumns+" FROM runs WHERE "+where+" ORDER BY run_uuid"), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs for gc: %w", err)
	}
	defer rows.Close()
	var out []GCRun
	for rows.Next() {
		var (
			r          GCRun
			exp        sql.NullInt64
			uri, stage sql.NullString
			deleted    sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &exp, &uri, &stage, &deleted); err != nil {
			return nil, fmt.Errorf("store: list runs for gc: %w", err)
		}
		r.ExperimentID = strconv.FormatInt(exp.Int64, 10)
		r.ArtifactURI, r.LifecycleStage, r.DeletedTime = uri.String, stage.String, deleted.Int64
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list runs for gc: %w", err)
	}
	return out, nil
}

// GCRunsByID returns the runs with these ids, in any stage; unknown ids are
// left out.
func (s *Store) GCRunsByID(ctx context.Context, ids []string) ([]GCRun, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.gcRuns(ctx, "run_uuid IN ("+placeholders(len(ids))+")", gcAnys(ids)...)
}

// GCDeletedRuns returns the runs in the deleted stage; with before > 0 only
// those deleted before that time (ms since the epoch), as MLflow's
// `gc --older-than` does (a run without a deletion time is then left alone).
func (s *Store) GCDeletedRuns(ctx context.Context, before int64) ([]GCRun, error) {
	if before > 0 {
		return s.gcRuns(ctx, "lifecycle_stage = 'deleted' AND deleted_time IS NOT NULL AND deleted_time < ?", before)
	}
	return s.gcRuns(ctx, "lifecycle_stage = 'deleted'")
}

// GCRunsOfExperiments returns every run, in any stage, of these experiments.
func (s *Store) GCRunsOfExperiments(ctx context.Context, experimentIDs []string) ([]GCRun, error) {
	if len(experimentIDs) == 0 {
		return nil, nil
	}
	args, err := gcExperimentIDArgs(experimentIDs)
	if err != nil {
		return nil, err
	}
	return s.gcRuns(ctx, "experiment_id IN ("+placeholders(len(args))+")", args...)
}

func (s *Store) gcExperiments(ctx context.Context, where string, args ...any) ([]GCExperiment, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT "+gcExpColumns+" FROM experiments WHERE "+where+" ORDER BY experiment_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list experiments for gc: %w", err)
	}
	defer rows.Close()
	var out []GCExperiment
	for rows.Next() {
		var (
			e          GCExperiment
			id         int64
			loc, stage sql.NullString
			updated    sql.NullInt64
		)
		if err := rows.Scan(&id, &e.Name, &loc, &stage, &updated); err != nil {
			return nil, fmt.Errorf("store: list experiments for gc: %w", err)
		}
		e.ID = strconv.FormatInt(id, 10)
		e.ArtifactLocation, e.LifecycleStage, e.LastUpdateTime = loc.String, stage.String, updated.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list experiments for gc: %w", err)
	}
	return out, nil
}

// GCExperimentsByID returns the experiments with these ids, in any stage;
// unknown ids are left out.
func (s *Store) GCExperimentsByID(ctx context.Context, ids []string) ([]GCExperiment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args, err := gcExperimentIDArgs(ids)
	if err != nil {
		return nil, err
	}
	return s.gcExperiments(ctx, "experiment_id IN ("+placeholders(len(args))+")", args...)
}

// GCDeletedExperiments returns the experiments in the deleted stage; with
// before > 0 only those last updated (deleted) before that time.
func (s *Store) GCDeletedExperiments(ctx context.Context, before int64) ([]GCExperiment, error) {
	if before > 0 {
		return s.gcExperiments(ctx, "lifecycle_stage = 'deleted' AND last_update_time IS NOT NULL AND last_update_time < ?", before)
	}
	return s.gcExperiments(ctx, "lifecycle_stage = 'deleted'")
}

func (s *Store) gcModels(ctx context.Context, where string, args ...any) ([]GCLoggedModel, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT "+gcModelColumns+" FROM logged_models WHERE "+where+" ORDER BY model_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list logged models for gc: %w", err)
	}
	defer rows.Close()
	var out []GCLoggedModel
	for rows.Next() {
		var (
			m     GCLoggedModel
			exp   int64
			stage sql.NullString
		)
		if err := rows.Scan(&m.ID, &exp, &m.ArtifactLocation, &stage, &m.LastUpdateTime); err != nil {
			return nil, fmt.Errorf("store: list logged models for gc: %w", err)
		}
		m.ExperimentID, m.LifecycleStage = strconv.FormatInt(exp, 10), stage.String
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list logged models for gc: %w", err)
	}
	return out, nil
}

// GCLoggedModelsByID returns the logged models with these ids, in any
// stage; unknown ids are left out.
func (s *Store) GCLoggedModelsByID(ctx context.Context, ids []string) ([]GCLoggedModel, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.gcModels(ctx, "model_id IN ("+placeholders(len(ids))+")", gcAnys(ids)...)
}

// GCDeletedLoggedModels returns the logged models in the deleted stage;
// with before > 0 only those last updated before that time.
func (s *Store) GCDeletedLoggedModels(ctx context.Context, before int64) ([]GCLoggedModel, error) {
	if before > 0 {
		return s.gcModels(ctx, "lifecycle_stage = 'deleted' AND last_updated_timestamp_ms < ?", before)
	}
	return s.gcModels(ctx, "lifecycle_stage = 'deleted'")
}

// GCLoggedModelsOfExperiments returns every logged model, in any stage, of
// these experiments.
func (s *Store) GCLoggedModelsOfExperiments(ctx context.Context, experimentIDs []string) ([]GCLoggedModel, error) {
	if len(experimentIDs) == 0 {
		return nil, nil
	}
	args, err := gcExperimentIDArgs(experimentIDs)
	if err != nil {
		return nil, err
	}
	return s.gcModels(ctx, "experiment_id IN ("+placeholders(len(args))+")", args...)
}

// gcExecAll runs statements in order; every ? in them stands for id.
func gcExecAll(ctx context.Context, tx *sql.Tx, s *Store, stmts []string, id any) error {
	for _, st := range stmts {
		args := make([]any, strings.Count(st, "?"))
		for i := range args {
			args[i] = id
		}
		if _, err := tx.ExecContext(ctx, s.q(st), args...); err != nil {
			return fmt.Errorf("store: gc %v: %w (in %.60q)", id, err, st)
		}
	}
	return nil
}

// Rows of runs, keyed by the selection of run ids in %s. inputs links runs
// to datasets (destination_id = run) and to logged models (source_id or
// destination_id = run); the ids are uuids, so matching either column is exact.
var runRowDeletes = []string{
	"DELETE FROM input_tags WHERE input_uuid IN (SELECT input_uuid FROM inputs WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s))",
	"DELETE FROM inputs WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s)",
	"DELETE FROM entity_associations WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s)",
	"DELETE FROM logged_model_metrics WHERE run_id IN (%[1]s)",
	"DELETE FROM metrics WHERE run_uuid IN (%[1]s)",
	"DELETE FROM latest_metrics WHERE run_uuid IN (%[1]s)",
	"DELETE FROM params WHERE run_uuid IN (%[1]s)",
	"DELETE FROM tags WHERE run_uuid IN (%[1]s)",
}

// Rows of logged models, keyed by the selection of model ids in %s.
var modelRowDeletes = []string{
	"DELETE FROM input_tags WHERE input_uuid IN (SELECT input_uuid FROM inputs WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s))",
	"DELETE FROM inputs WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s)",
	"DELETE FROM entity_associations WHERE source_id IN (%[1]s) OR destination_id IN (%[1]s)",
	"DELETE FROM logged_model_metrics WHERE model_id IN (%[1]s)",
	"DELETE FROM logged_model_params WHERE model_id IN (%[1]s)",
	"DELETE FROM logged_model_tags WHERE model_id IN (%[1]s)",
}

func gcExpand(stmts []string, sel string) []string {
	out := make([]string, len(stmts))
	for i, st := range stmts {
		out[i] = fmt.Sprintf(st, sel)
	}
	return out
}

// HardDeleteRun permanently removes a deleted run and its metrics, latest
// metrics, params, tags, inputs and their tags, and logged model metrics,
// in one transaction. A run that is not (or no longer) deleted is an
// INVALID_STATE error and nothing changes.
func (s *Store) HardDeleteRun(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := gcStillDeleted(ctx, tx, s, "runs", "run_uuid", id, "Run"); err != nil {
			return err
		}
		if err := gcExecAll(ctx, tx, s, gcExpand(runRowDeletes, "?"), id); err != nil {
			return err
		}
		return gcExecAll(ctx, tx, s, []string{"DELETE FROM runs WHERE run_uuid = ?"}, id)
	})
}

// HardDeleteLoggedModel permanently removes a deleted logged model with its
// params, tags, metrics and input/output links, in one transaction.
func (s *Store) HardDeleteLoggedModel(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := gcStillDeleted(ctx, tx, s, "logged_models", "model_id", id, "Logged model"); err != nil {
			return err
		}
		if err := gcExecAll(ctx, tx, s, gcExpand(modelRowDeletes, "?"), id); err != nil {
			return err
		}
		return gcExecAll(ctx, tx, s, []string{"DELETE FROM logged_models WHERE model_id = ?"}, id)
	})
}

// HardDeleteExperiment permanently removes a deleted experiment with its
// tags, every run and logged model still in it (and their rows), its
// datasets, traces and scorers, in one transaction.
func (s *Store) HardDeleteExperiment(ctx context.Context, id string) error {
	n, err := mlflow.ParseExperimentID(id)
	if err != nil {
		return err
	}
	runs := "SELECT run_uuid FROM runs WHERE experiment_id = ?"
	models := "SELECT model_id FROM logged_models WHERE experiment_id = ?"
	datasets := "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?"
	traces := "SELECT request_id FROM trace_info WHERE experiment_id = ?"
	var stmts []string
	stmts = append(stmts, gcExpand(runRowDeletes, runs)...)
	stmts = append(stmts, "DELETE FROM runs WHERE experiment_id = ?")
	stmts = append(stmts, gcExpand(modelRowDeletes, models)...)
	stmts = append(stmts, "DELETE FROM logged_models WHERE experiment_id = ?")
	stmts = append(stmts, gcExpand([]string{
		"DELETE FROM input_tags WHERE input_uuid IN (SELECT input_uuid FROM inputs WHERE source_id IN (%[1]s))",
		"DELETE FROM inputs WHERE source_id IN (%[1]s)",
	}, datasets)...)
	stmts = append(stmts,
		"DELETE FROM datasets WHERE experiment_id = ?",
		"DELETE FROM assessments WHERE trace_id IN ("+traces+")",
		"DELETE FROM spans WHERE experiment_id = ?",
		"DELETE FROM trace_tags WHERE request_id IN ("+traces+")",
		"DELETE FROM trace_request_metadata WHERE request_id IN ("+traces+")",
		"DELETE FROM entity_associations WHERE source_id IN ("+traces+") OR destination_id IN ("+traces+")",
		"DELETE FROM trace_info WHERE experiment_id = ?",
		"DELETE FROM scorer_versions WHERE scorer_id IN (SELECT scorer_id FROM scorers WHERE experiment_id = ?)",
		"DELETE FROM scorers WHERE experiment_id = ?",
		"DELETE FROM experiment_tags WHERE experiment_id = ?",
		"DELETE FROM experiments WHERE experiment_id = ?",
	)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := gcStillDeleted(ctx, tx, s, "experiments", "experiment_id", n, "Experiment"); err != nil {
			return err
		}
		return gcExecAll(ctx, tx, s, stmts, n)
	})
}

// gcStillDeleted checks inside the transaction that the row exists and is in
// the deleted stage, locking it on PostgreSQL so that a concurrent restore
// waits for the delete (and then finds nothing) instead of racing it.
func gcStillDeleted(ctx context.Context, tx *sql.Tx, s *Store, table, key string, id any, what string) error {
	q := "SELECT lifecycle_stage FROM " + table + " WHERE " + key + " = ?"
	if s.d.name() == "postgres" {
		q += " FOR UPDATE"
	}
	var stage sql.NullString
	err := tx.QueryRowContext(ctx, s.q(q), id).Scan(&stage)
	if err == sql.ErrNoRows {
		return mlflow.NotFound("%s %v does not exist", what, id)
	}
	if err != nil {
		return fmt.Errorf("store: gc: read %s %v: %w", strings.ToLower(what), id, err)
	}
	if stage.String != "deleted" {
		return mlflow.Errorf(mlflow.InvalidState, "%s %v is not in the deleted lifecycle stage (it is %q); only deleted ones can be removed permanently", what, id, stage.String)
	}
	return nil
}
