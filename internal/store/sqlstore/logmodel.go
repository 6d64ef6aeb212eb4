package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// LogModelHistory appends a model description to the run's
// mlflow.log-model.history tag (a JSON list), as MLflow's legacy
// runs/log-model does, reading and writing the tag in one transaction so
// that concurrent calls do not lose entries.
func (s *Store) LogModelHistory(ctx context.Context, runID string, model json.RawMessage) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.activeRun(ctx, tx, runID); err != nil {
			return err
		}
		var current sql.NullString
		err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM tags WHERE run_uuid = ? AND "key" = ?`), runID, mlflow.TagLoggedModels).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: read model history: %w", err)
		}
		var history []json.RawMessage
		if current.Valid && current.String != "" {
			// A tag that is not a JSON list (written by hand) starts over.
			_ = json.Unmarshal([]byte(current.String), &history)
		}
		history = append(history, model)
		b, err := json.Marshal(history)
		if err != nil {
			return fmt.Errorf("store: encode model history: %w", err)
		}
		return s.upsertTags(ctx, tx, runID, []mlflow.Tag{{Key: mlflow.TagLoggedModels, Value: string(b)}})
	})
}
