package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// The lookups the auth middleware needs to find the experiment a request
// acts on. Each answers RESOURCE_DOES_NOT_EXIST for an unknown entity.

// RunExperimentID returns the experiment ID of a run.
func (s *Store) RunExperimentID(ctx context.Context, runID string) (string, error) {
	return s.lookupExperimentID(ctx, "SELECT experiment_id FROM runs WHERE run_uuid = ?", runID,
		func() error { return mlflow.NotFound("Run with id=%s not found", runID) })
}

// LoggedModelExperimentID returns the experiment ID of a logged model.
func (s *Store) LoggedModelExperimentID(ctx context.Context, modelID string) (string, error) {
	return s.lookupExperimentID(ctx, "SELECT experiment_id FROM logged_models WHERE model_id = ?", modelID,
		func() error { return mlflow.NotFound("Logged model with ID '%s' not found.", modelID) })
}

// TraceExperimentID returns the experiment ID of a trace.
func (s *Store) TraceExperimentID(ctx context.Context, traceID string) (string, error) {
	return s.lookupExperimentID(ctx, "SELECT experiment_id FROM trace_info WHERE request_id = ?", traceID,
		func() error { return mlflow.TraceNotFound(traceID) })
}

// ExperimentIDByName returns the ID of the experiment with a name.
func (s *Store) ExperimentIDByName(ctx context.Context, name string) (string, error) {
	return s.lookupExperimentID(ctx, "SELECT experiment_id FROM experiments WHERE name = ? AND workspace = 'default'", name,
		func() error { return mlflow.NotFound("Could not find experiment with name '%s'", name) })
}

func (s *Store) lookupExperimentID(ctx context.Context, query, arg string, notFound func() error) (string, error) {
	var id int64
	err := s.reader().QueryRowContext(ctx, s.q(query), arg).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound()
	}
	if err != nil {
		return "", fmt.Errorf("store: look up experiment: %w", err)
	}
	return strconv.FormatInt(id, 10), nil
}

// ExperimentsAtLocations maps each of locs that is some experiment's
// artifact_location to the lowest ID of the experiments with it (the
// auth middleware asks for every folder above an artifact path, to find
// the experiment owning it).
func (s *Store) ExperimentsAtLocations(ctx context.Context, locs []string) (map[string]string, error) {
	if len(locs) == 0 {
		return nil, nil
	}
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT artifact_location, MIN(experiment_id) FROM experiments WHERE artifact_location IN ("+placeholders(len(locs))+") GROUP BY artifact_location"), gcAnys(locs)...)
	if err != nil {
		return nil, fmt.Errorf("store: experiments at locations: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var (
			loc string
			id  int64
		)
		if err := rows.Scan(&loc, &id); err != nil {
			return nil, fmt.Errorf("store: experiments at locations: %w", err)
		}
		out[loc] = strconv.FormatInt(id, 10)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: experiments at locations: %w", err)
	}
	return out, nil
}
