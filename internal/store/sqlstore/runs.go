package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/mltrack/mltrack/internal/sqlitedriver"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// The runs part of the tracking store. Rows are laid out as MLflow's SQL
// store writes them (runs.source_type 'UNKNOWN', empty source columns,
// deleted_time set on delete), so MLflow reads what mltrack writes.

// maxArgs bounds the bound parameters of one statement: SQLite's default
// limit is 32766, PostgreSQL's 65535.
const maxArgs = 30000

// loadChunk is how many runs loadRuns reads per round of queries.
const loadChunk = 500

// CreateRun inserts a run with its tags into an active experiment. The run
// is named as MLflow names it: run_name, else the mlflow.runName tag, else a
// generated name; the mlflow.runName tag is added when absent.
func (s *Store) CreateRun(ctx context.Context, r store.CreateRun) (*mlflow.Run, error) {
	tagName := ""
	for _, t := range r.Tags {
		if t.Key == mlflow.TagRunName {
			tagName = t.Value
		}
	}
	if r.RunName != "" && tagName != "" && r.RunName != tagName {
		return nil, mlflow.InvalidParam("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", r.RunName, tagName)
	}
	name := r.RunName
	if name == "" {
		name = tagName
	}
	if name == "" {
		name = mlflow.GenerateRunName()
	}
	tags := dedupeTags(append(append([]mlflow.Tag(nil), r.Tags...), mlflow.Tag{Key: mlflow.TagRunName, Value: name}))
	if tagName != "" {
		// Keep the client's order: its own mlflow.runName tag stays where it was.
		tags = dedupeTags(r.Tags)
	}
	id := randomID()
	startTime := r.StartTime
	run := &mlflow.Run{
		Info: mlflow.RunInfo{
			ExperimentID:   r.ExperimentID,
			LifecycleStage: mlflow.StageActive,
			RunID:          id,
			RunName:        name,
			RunUUID:        id,
			StartTime:      &startTime,
			Status:         mlflow.RunRunning,
			UserID:         r.UserID,
		},
		Data: mlflow.RunData{Tags: tags},
	}
	expID, err := mlflow.ParseExperimentID(r.ExperimentID)
	if err != nil {
		return nil, err
	}
	if s.d.name() == "postgres" {
		done, err := s.createRunPostgres(ctx, run, expID)
		if err != nil {
			return nil, err
		}
		if done {
			s.wrote(1 + len(tags))
			return run, nil
		}
		// The location has a query or fragment: its artifact URI is built
		// in Go (mlflow.AppendURIPath), in the transaction below.
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var stage, loc sql.NullString
		err = tx.QueryRowContext(ctx, s.q("SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?"), expID).Scan(&stage, &loc)
		if errors.Is(err, sql.ErrNoRows) {
			return mlflow.ExperimentNotFound(r.ExperimentID)
		}
		if err != nil {
			return fmt.Errorf("store: create run: %w", err)
		}
		if stage.String != mlflow.StageActive {
			return mlflow.ExperimentNotActive(r.ExperimentID, stage.String)
		}
		run.Info.ArtifactURI = mlflow.AppendURIPath(loc.String, id, mlflow.RunArtifactsFolder)
		if _, err := tx.ExecContext(ctx, s.q(runInsert+`
			VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)`),
			id, name, r.UserID, startTime, run.Info.ArtifactURI, expID); err != nil {
			return fmt.Errorf("store: create run: %w", err)
		}
		return s.upsertTags(ctx, tx, id, tags)
	})
	if err != nil {
		return nil, err
	}
	s.wrote(1 + len(tags))
	return run, nil
}

// runInsert names the columns of a new run, as MLflow's SQL store writes
// them (source columns empty, source_type 'UNKNOWN').
const runInsert = `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)`

// createRunPostgresQuery creates run $2 with its tags in experiment $1 when
// the experiment is active, in one statement (one round trip instead of
// five: BEGIN, the experiment's state, two INSERTs, COMMIT). It answers the
// experiment's state and the new run's artifact URI (NULL when nothing was
// written); no row when the experiment does not exist. The artifact URI is
// <location>/<run_id>/artifacts joined as text, which is
// mlflow.AppendURIPath only for a location without "?" or "#": for one
// with them nothing is written and CreateRun takes the general path.
const createRunPostgresQuery = `WITH e AS (
	SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = $1::integer
), r AS (
	` + runInsert + `
	SELECT $2::text, $3::text, 'UNKNOWN', '', '', $4::text, 'RUNNING', $5::bigint, NULL, '', 'active',
		rtrim(COALESCE(e.artifact_location, ''), '/') || '/' || $2::text || '/' || $6::text, $1::integer, NULL
	FROM e WHERE e.lifecycle_stage = 'active' AND strpos(COALESCE(e.artifact_location, ''), '?') = 0 AND strpos(COALESCE(e.artifact_location, ''), '#') = 0
	RETURNING artifact_uri
), t AS (
	INSERT INTO tags ("key", value, run_uuid)
	SELECT k, v, $2::text FROM unnest($7::text[], $8::text[]) AS x (k, v) WHERE EXISTS (SELECT 1 FROM r)
)
SELECT e.lifecycle_stage, (SELECT artifact_uri FROM r) FROM e`

// createRunPostgres writes run (its id, name, user, start time and tags
// set) as CreateRun does, in one statement, and sets its artifact URI.
// done is false, with nothing written, when the experiment's location has
// a query or fragment.
func (s *Store) createRunPostgres(ctx context.Context, run *mlflow.Run, expID int64) (done bool, err error) {
	keys := make([]string, len(run.Data.Tags))
	values := make([]string, len(run.Data.Tags))
	for i, t := range run.Data.Tags {
		keys[i], values[i] = t.Key, t.Value
	}
	var stage, uri sql.NullString
	err = s.writeDB.QueryRowContext(ctx, createRunPostgresQuery, expID, run.Info.RunID, run.Info.RunName, run.Info.UserID,
		*run.Info.StartTime, mlflow.RunArtifactsFolder, keys, values).Scan(&stage, &uri)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, mlflow.ExperimentNotFound(run.Info.ExperimentID)
	case err != nil:
		return false, fmt.Errorf("store: create run: %w", err)
	case stage.String != mlflow.StageActive:
		return false, mlflow.ExperimentNotActive(run.Info.ExperimentID, stage.String)
	case !uri.Valid:
		return false, nil
	}
	run.Info.ArtifactURI = uri.String
	return true, nil
}

// dedupeTags keeps one tag per key (the last value, at the first position),
// as one statement may not write a key twice.
func dedupeTags(tags []mlflow.Tag) []mlflow.Tag {
	idx := make(map[string]int, len(tags))
	out := make([]mlflow.Tag, 0, len(tags))
	for _, t := range tags {
		if i, ok := idx[t.Key]; ok {
			out[i].Value = t.Value
			continue
		}
		idx[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

// GetRun returns a run with its latest metrics, params, tags, inputs and
// outputs, whatever its lifecycle stage.
func (s *Store) GetRun(ctx context.Context, id string) (*mlflow.Run, error) {
	runs, err := s.loadRuns(ctx, []string{id}, true)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, mlflow.RunNotFound(id)
	}
	return &runs[0], nil
}

const runInfoColumns = "run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id"

func scanRunInfo(row interface{ Scan(...any) error }) (mlflow.RunInfo, error) {
	var (
		info                           mlflow.RunInfo
		name, user, status, stage, uri sql.NullString
		start, end                     sql.NullInt64
		expID                          sql.NullInt64
	)
	if err := row.Scan(&info.RunID, &name, &user, &status, &start, &end, &stage, &uri, &expID); err != nil {
		return info, err
	}
	info.RunUUID = info.RunID
	info.RunName, info.UserID, info.Status = name.String, user.String, status.String
	info.LifecycleStage, info.ArtifactURI = stage.String, uri.String
	info.ExperimentID = strconv.FormatInt(expID.Int64, 10)
	if start.Valid {
		v := start.Int64
		info.StartTime = &v
	}
	if end.Valid {
		v := end.Int64
		info.EndTime = &v
	}
	return info, nil
}

// loadRuns reads the runs with the given ids, in that order (unknown ids are
// left out), with a constant number of queries per chunk of runs: one each
// for the runs, latest metrics, params, tags, dataset inputs (with their
// tags) and, with models, logged-model inputs and outputs (MLflow's
// runs/get has them, its runs/search does not).
func (s *Store) loadRuns(ctx context.Context, ids []string, models bool) ([]mlflow.Run, error) {
	out := make([]mlflow.Run, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), loadChunk)
		runs, err := s.loadRunChunk(ctx, ids[:n], models)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) loadRunChunk(ctx context.Context, ids []string, models bool) ([]mlflow.Run, error) {
	in, args := s.inList(ids)
	byID := make(map[string]*mlflow.Run, len(ids))
	// The scan destinations of the rows of metrics, params and tags, one
	// set for all rows rather than one allocation per row.
	var sc struct {
		id, key, text   string
		value           float64
		timestamp, step int64
		isNaN           bool
	}
	qs := []readQuery{{
		what:  "load runs",
		query: "SELECT " + runInfoColumns + " FROM runs WHERE run_uuid " + in,
		row: func(rows rowScanner) error {
			info, err := scanRunInfo(rows)
			if err != nil {
				return err
			}
			byID[info.RunID] = &mlflow.Run{Info: info, Outputs: &mlflow.RunOutputs{}}
			return nil
		},
	}, {
		what: "load latest metrics",
		// A NULL timestamp reads as 0, as it is answered.
		query: `SELECT run_uuid, "key", value, COALESCE(timestamp, 0), step, is_nan FROM latest_metrics WHERE run_uuid ` + in,
		row: func(rows rowScanner) error {
			if err := rows.Scan(&sc.id, &sc.key, &sc.value, &sc.timestamp, &sc.step, &sc.isNaN); err != nil {
				return err
			}
			if r := byID[sc.id]; r != nil {
				r.Data.Metrics = append(r.Data.Metrics, mlflow.Metric{Key: sc.key, Value: metricValue(sc.value, sc.isNaN), Timestamp: sc.timestamp, Step: sc.step})
			}
			return nil
		},
	}}
	kv := func(what, table string, add func(r *mlflow.Run, t mlflow.Tag)) readQuery {
		if s.d.name() == "sqlite" {
			return jsonRunRows(what, table, `"key", value`, in, func(id string, v []jsonValue) error {
				if r := byID[id]; r != nil {
					add(r, mlflow.Tag{Key: v[0].text, Value: v[1].text})
				}
				return nil
			})
		}
		return readQuery{
			what: what,
			// A NULL tag value reads as "", as it is answered.
			query: `SELECT run_uuid, "key", COALESCE(value, '') FROM ` + table + ` WHERE run_uuid ` + in,
			row: func(rows rowScanner) error {
				if err := rows.Scan(&sc.id, &sc.key, &sc.text); err != nil {
					return err
				}
				if r := byID[sc.id]; r != nil {
					add(r, mlflow.Tag{Key: sc.key, Value: sc.text})
				}
				return nil
			},
		}
	}
	qs = append(qs,
		kv("load params", "params", func(r *mlflow.Run, t mlflow.Tag) { r.Data.Params = append(r.Data.Params, t) }),
		kv("load tags", "tags", func(r *mlflow.Run, t mlflow.Tag) { r.Data.Tags = append(r.Data.Tags, t) }))
	if s.d.name() == "sqlite" && sqlitedriver.ExactRealText {
		// One JSON row per run instead of a row per value (jsonrows.go);
		// not on the cgo build, whose REAL-to-text conversion can be off
		// by one unit in the last place.
		qs[1] = jsonRunRows("load latest metrics", "latest_metrics", `"key", value, timestamp, step, is_nan`, in, func(id string, v []jsonValue) error {
			value, err := v[1].float()
			if err != nil {
				return err
			}
			m := mlflow.Metric{Key: v[0].text, Value: metricValue(value, v[4].bool())}
			if m.Timestamp, err = v[2].int(); err != nil {
				return err
			}
			if m.Step, err = v[3].int(); err != nil {
				return err
			}
			if r := byID[id]; r != nil {
				r.Data.Metrics = append(r.Data.Metrics, m)
			}
			return nil
		})
	}

	// Dataset inputs, one row per (input, input tag); LEFT JOIN keeps inputs
	// without tags.
	type inputKey struct{ run, input string }
	inputIdx := map[inputKey]int{}
	qs = append(qs, readQuery{
		what: "load dataset inputs",
		query: `SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile, t.name, t.value
		FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
		LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid
		WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id ` + in,
		row: func(rows rowScanner) error {
			var (
				runID, inputID          string
				d                       mlflow.Dataset
				schema, profile, tk, tv sql.NullString
			)
			if err := rows.Scan(&runID, &inputID, &d.Name, &d.Digest, &d.SourceType, &d.Source, &schema, &profile, &tk, &tv); err != nil {
				return err
			}
			r := byID[runID]
			if r == nil {
				return nil
			}
			k := inputKey{runID, inputID}
			i, ok := inputIdx[k]
			if !ok {
				d.Schema, d.Profile = schema.String, profile.String
				i = len(r.Inputs.DatasetInputs)
				inputIdx[k] = i
				r.Inputs.DatasetInputs = append(r.Inputs.DatasetInputs, mlflow.DatasetInput{Dataset: d})
			}
			if tk.Valid {
				r.Inputs.DatasetInputs[i].Tags = append(r.Inputs.DatasetInputs[i].Tags, mlflow.Tag{Key: tk.String, Value: tv.String})
			}
			return nil
		},
	})

	// As MLflow: runs/get has model inputs and outputs, runs/search only
	// the outputs.
	kinds := "'RUN_INPUT', 'RUN_OUTPUT'"
	if !models {
		kinds = "'RUN_OUTPUT'"
	}
	qs = append(qs, readQuery{
		what: "load model inputs and outputs",
		query: `SELECT source_id, source_type, destination_id, step FROM inputs
		WHERE source_type IN (` + kinds + `) AND source_id ` + in + ` ORDER BY source_type, source_id, destination_id`,
		row: func(rows rowScanner) error {
			var (
				runID, kind, model string
				step               sql.NullInt64
			)
			if err := rows.Scan(&runID, &kind, &model, &step); err != nil {
				return err
			}
			r := byID[runID]
			if r == nil {
				return nil
			}
			if kind == "RUN_INPUT" {
				r.Inputs.ModelInputs = append(r.Inputs.ModelInputs, mlflow.ModelInput{ModelID: model})
			} else {
				r.Outputs.ModelOutputs = append(r.Outputs.ModelOutputs, mlflow.ModelOutput{ModelID: model, Step: step.Int64})
			}
			return nil
		},
	})

	// Each query's args are the ids.
	for i := range qs {
		qs[i].args = args
	}
	if err := s.readBatch(ctx, qs); err != nil {
		return nil, err
	}
	return inOrder(ids, byID), nil
}

// jsonRunRows reads the columns cols of the rows of table whose run_uuid is
// in the list `in` as one JSON text per run (SQLite, see jsonrows.go) and
// calls fn with each row's values.
func jsonRunRows(what, table, cols, in string, fn func(id string, vals []jsonValue) error) readQuery {
	n := strings.Count(cols, ",") + 1
	return readQuery{
		what:  what,
		query: `SELECT run_uuid, json_group_array(json_array(` + cols + `)) FROM ` + table + ` WHERE run_uuid ` + in + ` GROUP BY run_uuid`,
		row: func(rows rowScanner) error {
			var id, text string
			if err := rows.Scan(&id, &text); err != nil {
				return err
			}
			return eachJSONRow(text, n, func(vals []jsonValue) error { return fn(id, vals) })
		},
	}
}

// inOrder lists the runs found in the order their ids were asked.
func inOrder(ids []string, byID map[string]*mlflow.Run) []mlflow.Run {
	out := make([]mlflow.Run, 0, len(byID))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			out = append(out, *r)
			delete(byID, id) // an id asked twice is answered once
		}
	}
	return out
}

// each runs a query and calls fn for every row.
func (s *Store) each(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	var (
		rows *sql.Rows
		err  error
	)
	if db, ok := q.(*sql.DB); ok && db == s.db && s.d.name() == "sqlite" {
		var st *sql.Stmt
		if st, err = s.readStmt(ctx, query); err != nil {
			return err
		}
		if st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = q.QueryContext(ctx, s.q(query), args...)
		}
	} else {
		rows, err = q.QueryContext(ctx, s.q(query), args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// metricValue turns a stored metric value back into what MLflow answers.
func metricValue(v float64, isNaN bool) mlflow.Float {
	if isNaN {
		return mlflow.Float(nan())
	}
	return mlflow.Float(v)
}

const runStateQuery = "SELECT lifecycle_stage, experiment_id FROM runs WHERE run_uuid = ?"

// runState returns a run's lifecycle stage and experiment, or RESOURCE_DOES_NOT_EXIST.
func (s *Store) runState(ctx context.Context, q querier, id string) (stage string, expID int64, err error) {
	var st sql.NullString
	var exp sql.NullInt64
	err = s.queryRowTx(ctx, q, runStateQuery, id).Scan(&st, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, mlflow.RunNotFound(id)
	}
	if err != nil {
		return "", 0, fmt.Errorf("store: get run: %w", err)
	}
	return st.String, exp.Int64, nil
}

// activeRun checks that a run exists and is active; it returns its experiment.
func (s *Store) activeRun(ctx context.Context, q querier, id string) (int64, error) {
	stage, exp, err := s.runState(ctx, q, id)
	if err != nil {
		return 0, err
	}
	if stage != mlflow.StageActive {
		return 0, mlflow.RunNotActive(id, stage)
	}
	return exp, nil
}

// UpdateRun changes an active run's status, end time and name (a new name
// also sets the mlflow.runName tag) and returns the updated info.
func (s *Store) UpdateRun(ctx context.Context, u store.UpdateRun) (*mlflow.RunInfo, error) {
	var info mlflow.RunInfo
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.activeRun(ctx, tx, u.RunID); err != nil {
			return err
		}
		var (
			sets []string
			args []any
		)
		if u.Status != nil {
			sets, args = append(sets, "status = ?"), append(args, *u.Status)
		}
		if u.EndTime != nil {
			sets, args = append(sets, "end_time = ?"), append(args, *u.EndTime)
		}
		if u.RunName != nil && *u.RunName != "" {
			sets, args = append(sets, "name = ?"), append(args, *u.RunName)
			if err := s.upsertTags(ctx, tx, u.RunID, []mlflow.Tag{{Key: mlflow.TagRunName, Value: *u.RunName}}); err != nil {
				return err
			}
		}
		if len(sets) > 0 {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE runs SET "+strings.Join(sets, ", ")+" WHERE run_uuid = ?"), append(args, u.RunID)...); err != nil {
				return fmt.Errorf("store: update run: %w", err)
			}
		}
		var err error
		info, err = scanRunInfo(tx.QueryRowContext(ctx, s.q("SELECT "+runInfoColumns+" FROM runs WHERE run_uuid = ?"), u.RunID))
		if err != nil {
			return fmt.Errorf("store: update run: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// DeleteRun marks a run deleted (again, if it already is, as MLflow does).
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	return s.setRunStage(ctx, id, mlflow.StageDeleted, time.Now().UnixMilli())
}

// RestoreRun marks a run active.
func (s *Store) RestoreRun(ctx context.Context, id string) error {
	return s.setRunStage(ctx, id, mlflow.StageActive, nil)
}

func (s *Store) setRunStage(ctx context.Context, id, stage string, deletedTime any) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?"), stage, deletedTime, id)
		if err != nil {
			return fmt.Errorf("store: set run stage: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.RunNotFound(id)
		}
		return nil
	})
}

// DeleteTag removes a tag from an active run.
func (s *Store) DeleteTag(ctx context.Context, runID, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.activeRun(ctx, tx, runID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM tags WHERE run_uuid = ? AND "key" = ?`), runID, key)
		if err != nil {
			return fmt.Errorf("store: delete tag: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No tag with name: %s in run with id %s", key, runID)
		}
		return nil
	})
}

// insertValues runs `head VALUES (?, ...), ... tail` for rows of ncols
// values laid flat in args, in as few statements as the parameter limit
// allows.
func (s *Store) insertValues(ctx context.Context, q querier, head string, ncols int, args []any, tail string) (int64, error) {
	perStmt := maxArgs / ncols
	tx, _ := q.(*sql.Tx)
	var total int64
	for len(args) > 0 {
		n := min(len(args)/ncols, perStmt)
		var res sql.Result
		var err error
		if st := s.chunkStmt(tx, head, tail, &n); st != nil {
			res, err = tx.StmtContext(ctx, st).ExecContext(ctx, args[:n*ncols]...)
		} else {
			res, err = q.ExecContext(ctx, s.q(insertText(head, ncols, n, tail)), args[:n*ncols]...)
		}
		if err != nil {
			return total, err
		}
		k, _ := res.RowsAffected()
		total += k
		args = args[n*ncols:]
	}
	return total, nil
}

// chunkStmt returns a prepared INSERT for the largest power-of-two chunk
// of at most *n rows and sets *n to its size, or nil when none is prepared.
func (s *Store) chunkStmt(tx *sql.Tx, head, tail string, n *int) *sql.Stmt {
	if tx == nil || s.wstmts == nil {
		return nil
	}
	c := maxChunk
	for c > *n {
		c /= 2
	}
	st := s.preparedInsert(head, tail, c)
	if st != nil {
		*n = c
	}
	return st
}

// upsertTags sets run tags; a mlflow.runName tag also renames the run.
func (s *Store) upsertTags(ctx context.Context, tx *sql.Tx, runID string, tags []mlflow.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	tags = dedupeTags(tags)
	args := make([]any, 0, 3*len(tags))
	for _, t := range tags {
		args = append(args, t.Key, t.Value, runID)
		if t.Key == mlflow.TagRunName {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE runs SET name = ? WHERE run_uuid = ?"), t.Value, runID); err != nil {
				return fmt.Errorf("store: rename run: %w", err)
			}
		}
	}
	if _, err := s.insertValues(ctx, tx, `INSERT INTO tags ("key", value, run_uuid)`, 3, args,
		` ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value`); err != nil {
		return fmt.Errorf("store: set tags: %w", err)
	}
	return nil
}

var _ store.Tracking = (*Store)(nil)
