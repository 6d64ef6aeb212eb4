package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// extraIndexes are indexes mltrack adds to MLflow's schema, each named
// mltrack_* so they are recognisable. MLflow ignores indexes it did not
// create, so a database stays usable by MLflow. docs/architecture.md lists
// each with what it serves and what it costs on inserts.
var extraIndexes = []string{
	// metrics/get-history and the downsampled history: one run's points of
	// one metric in (timestamp, step, value) order, and the keyset
	// continuation of its page token, without reading other runs' points
	// (MLflow's primary key starts with the key, shared by every run).
	`CREATE INDEX IF NOT EXISTS mltrack_metrics_run_key_time ON metrics (run_uuid, "key", timestamp, step, value, is_nan)`,
	// runs/search ordered by a metric the filter requires: the metric's
	// latest values in page order (non-NaN first), ascending or descending,
	// so that the page is read from the front of the index.
	`CREATE INDEX IF NOT EXISTS mltrack_latest_metrics_key_asc ON latest_metrics ("key", is_nan, value, run_uuid)`,
	`CREATE INDEX IF NOT EXISTS mltrack_latest_metrics_key_desc ON latest_metrics ("key", is_nan, value DESC, run_uuid)`,
	// runs/search of one experiment in the default order (newest first,
	// MLflow's tie-break on run_uuid), the runs table's usual view: the
	// page is read from the index instead of sorting every run.
	`CREATE INDEX IF NOT EXISTS mltrack_runs_experiment_start ON runs (experiment_id, start_time DESC, run_uuid)`,
	// Evaluation dataset records page by page in MLflow's order (created
	// time, record id) with the keyset continuation of the page token,
	// instead of sorting the whole dataset for every page.
	`CREATE INDEX IF NOT EXISTS mltrack_dataset_records_page ON evaluation_dataset_records (dataset_id, created_time, dataset_record_id)`,
}

// ensureIndexes creates the extra indexes and mltrack's own tables
// (webhookTables) that are missing, in one
// transaction. On PostgreSQL it holds the schema-creation advisory lock:
// replicas starting together would otherwise race on CREATE INDEX IF NOT
// EXISTS (which is not atomic there) and one would fail.
func (s *Store) ensureIndexes(ctx context.Context) error {
	return s.txDirect(ctx, func(tx *sql.Tx) error {
		if s.d.name() == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7236851)"); err != nil {
				return fmt.Errorf("store: lock for index creation: %w", err)
			}
		}
		for _, stmt := range append(extraIndexes, webhookTables...) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: create index: %w (in %.80q)", err, stmt)
			}
		}
		return nil
	})
}
