package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// scorerExperiment checks that an experiment exists and is active, as
// MLflow's scorer methods do first.
func (s *Store) scorerExperiment(ctx context.Context, q querier, id string) (int64, error) {
	n, stage, err := s.experimentStage(ctx, q, id)
	if err != nil {
		return 0, err
	}
	if stage != mlflow.StageActive {
		return 0, mlflow.InvalidParam("The experiment %s must be in the 'active' state. Current state is %s.", id, stage)
	}
	return n, nil
}

func scorerNotFound(name, exp string, version *int64) error {
	if version != nil {
		return mlflow.NotFound("Scorer with name '%s' and version %d not found for experiment %s.", name, *version, exp)
	}
	return mlflow.NotFound("Scorer with name '%s' not found for experiment %s.", name, exp)
}

// scorerID is the id of a scorer of an active experiment, "" when none.
func (s *Store) scorerID(ctx context.Context, q querier, exp int64, name string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, s.q("SELECT scorer_id FROM scorers WHERE experiment_id = ? AND scorer_name = ?"), exp, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: get scorer: %w", err)
	}
	return id, nil
}

const scorerVersionQuery = `SELECT s.experiment_id, s.scorer_name, v.scorer_version, v.serialized_scorer, v.creation_time, v.scorer_id
	FROM scorer_versions v JOIN scorers s ON s.scorer_id = v.scorer_id `

func scanScorers(rows *sql.Rows) ([]store.ScorerVersion, error) {
	defer rows.Close()
	out := []store.ScorerVersion{}
	for rows.Next() {
		var v store.ScorerVersion
		var ct sql.NullInt64
		if err := rows.Scan(&v.ExperimentID, &v.ScorerName, &v.ScorerVersion, &v.SerializedScorer, &ct, &v.ScorerID); err != nil {
			return nil, fmt.Errorf("store: scorers: %w", err)
		}
		v.CreationTime = ct.Int64
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scorers: %w", err)
	}
	return out, nil
}

// RegisterScorer adds the next version of a scorer.
func (s *Store) RegisterScorer(ctx context.Context, experimentID, name, serialized string) (*store.ScorerVersion, error) {
	var out *store.ScorerVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		exp, err := s.scorerExperiment(ctx, tx, experimentID)
		if err != nil {
			return err
		}
		id, err := s.scorerID(ctx, tx, exp, name)
		if err != nil {
			return err
		}
		if id == "" {
			h := randomID()
			id = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] // str(uuid4())
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO scorers (experiment_id, scorer_name, scorer_id) VALUES (?, ?, ?)"), exp, name, id); err != nil {
				return fmt.Errorf("store: register scorer: %w", err)
			}
		}
		var max sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q("SELECT MAX(scorer_version) FROM scorer_versions WHERE scorer_id = ?"), id).Scan(&max); err != nil {
			return fmt.Errorf("store: register scorer: %w", err)
		}
		v := store.ScorerVersion{ExperimentID: exp, ScorerName: name, ScorerVersion: max.Int64 + 1, SerializedScorer: serialized, CreationTime: time.Now().UnixMilli(), ScorerID: id}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO scorer_versions (scorer_id, scorer_version, serialized_scorer, creation_time) VALUES (?, ?, ?, ?)"),
			id, v.ScorerVersion, serialized, v.CreationTime); err != nil {
			return fmt.Errorf("store: register scorer: %w", err)
		}
		out = &v
		return nil
	})
	return out, err
}

// ListScorers returns the latest version of each scorer of an experiment.
func (s *Store) ListScorers(ctx context.Context, experimentID string) ([]store.ScorerVersion, error) {
	q := s.reader()
	exp, err := s.scorerExperiment(ctx, q, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, s.q(scorerVersionQuery+`WHERE s.experiment_id = ?
		AND v.scorer_version = (SELECT MAX(v2.scorer_version) FROM scorer_versions v2 WHERE v2.scorer_id = v.scorer_id)
		ORDER BY s.scorer_name`), exp)
	if err != nil {
		return nil, fmt.Errorf("store: list scorers: %w", err)
	}
	return scanScorers(rows)
}

// ListScorerVersions returns every version of a scorer, oldest first.
func (s *Store) ListScorerVersions(ctx context.Context, experimentID, name string) ([]store.ScorerVersion, error) {
	q := s.reader()
	exp, err := s.scorerExperiment(ctx, q, experimentID)
	if err != nil {
		return nil, err
	}
	id, err := s.scorerID(ctx, q, exp, name)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, scorerNotFound(name, experimentID, nil)
	}
	rows, err := q.QueryContext(ctx, s.q(scorerVersionQuery+"WHERE v.scorer_id = ? ORDER BY v.scorer_version"), id)
	if err != nil {
		return nil, fmt.Errorf("store: list scorer versions: %w", err)
	}
	vs, err := scanScorers(rows)
	if err == nil && len(vs) == 0 {
		return nil, scorerNotFound(name, experimentID, nil)
	}
	return vs, err
}

// GetScorer returns one version of a scorer, or its latest.
func (s *Store) GetScorer(ctx context.Context, experimentID, name string, version *int64) (*store.ScorerVersion, error) {
	q := s.reader()
	exp, err := s.scorerExperiment(ctx, q, experimentID)
	if err != nil {
		return nil, err
	}
	id, err := s.scorerID(ctx, q, exp, name)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, scorerNotFound(name, experimentID, nil)
	}
	var rows *sql.Rows
	if version != nil {
		rows, err = q.QueryContext(ctx, s.q(scorerVersionQuery+"WHERE v.scorer_id = ? AND v.scorer_version = ?"), id, *version)
	} else {
		rows, err = q.QueryContext(ctx, s.q(scorerVersionQuery+"WHERE v.scorer_id = ? ORDER BY v.scorer_version DESC LIMIT 1"), id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get scorer: %w", err)
	}
	vs, err := scanScorers(rows)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, scorerNotFound(name, experimentID, version)
	}
	return &vs[0], nil
}

// DeleteScorer deletes one version, or the whole scorer.
func (s *Store) DeleteScorer(ctx context.Context, experimentID, name string, version *int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		exp, err := s.scorerExperiment(ctx, tx, experimentID)
		if err != nil {
			return err
		}
		id, err := s.scorerID(ctx, tx, exp, name)
		if err != nil {
			return err
		}
		if id == "" {
			return scorerNotFound(name, experimentID, nil)
		}
		var res sql.Result
		if version != nil {
			res, err = tx.ExecContext(ctx, s.q("DELETE FROM scorer_versions WHERE scorer_id = ? AND scorer_version = ?"), id, *version)
		} else {
			res, err = tx.ExecContext(ctx, s.q("DELETE FROM scorer_versions WHERE scorer_id = ?"), id)
		}
		if err != nil {
			return fmt.Errorf("store: delete scorer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scorerNotFound(name, experimentID, version)
		}
		if version == nil {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM scorers WHERE scorer_id = ?"), id); err != nil {
				return fmt.Errorf("store: delete scorer: %w", err)
			}
		}
		return nil
	})
}
