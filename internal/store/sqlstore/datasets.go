package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// SearchDatasets answers the UI's experiments/search-datasets as MLflow's
// SQL store does: the datasets joined to their inputs, with the input's
// mlflow.data.context tag when it has one. MLflow leaves the order to the
// database; here it is by experiment, name, digest and context.
func (s *Store) SearchDatasets(ctx context.Context, experimentIDs []string) ([]mlflow.DatasetSummary, error) {
	if len(experimentIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(experimentIDs)+2)
	args = append(args, mlflow.DatasetContextTag)
	for _, id := range experimentIDs {
		n, err := mlflow.ParseExperimentID(id)
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	args = append(args, store.MaxDatasetSummaries)
	query := `SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value
		FROM datasets d
		JOIN inputs i ON i.source_id = d.dataset_uuid
		LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = ?
		WHERE d.experiment_id IN (` + placeholders(len(experimentIDs)) + `)
		ORDER BY d.experiment_id, d.name, d.digest, t.value
		LIMIT ?`
	var out []mlflow.DatasetSummary
	err := s.each(ctx, s.reader(), query, args, func(rows *sql.Rows) error {
		var (
			exp     int64
			sum     mlflow.DatasetSummary
			context sql.NullString
		)
		if err := rows.Scan(&exp, &sum.Name, &sum.Digest, &context); err != nil {
			return err
		}
		sum.ExperimentID, sum.Context = strconv.FormatInt(exp, 10), context.String
		out = append(out, sum)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: search datasets: %w", err)
	}
	return out, nil
}
