package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// Traces live in MLflow's tables as MLflow 3.6's SQLAlchemy store writes
// them: trace_info (request_id is the trace id, status the TraceState),
// trace_tags, trace_request_metadata, spans (content is the span's JSON,
// duration_ns a generated column) and assessments.

const traceInfoColumns = "request_id, experiment_id, timestamp_ms, execution_time_ms, status, client_request_id, request_preview, response_preview"

// insertRows writes rows into table with multi-row INSERTs of at most 512
// rows (fixed chunk sizes keep the statement cache small), with suffix
// (an ON CONFLICT clause or "") after the VALUES.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any, suffix string) error {
	n := strings.Count(cols, ",") + 1
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	for len(rows) > 0 {
		size := 1
		for size*2 <= len(rows) && size < 512 {
			size *= 2
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
		args := make([]any, 0, size*n)
		for i := 0; i < size; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, rows[i]...)
		}
		b.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
		rows = rows[size:]
	}
	return nil
}

const (
	upsertTraceTag  = ` ON CONFLICT ("key", request_id) DO UPDATE SET value = excluded.value`
	upsertTraceMeta = ` ON CONFLICT ("key", request_id) DO UPDATE SET value = excluded.value`
	upsertSpan      = ` ON CONFLICT (trace_id, span_id) DO UPDATE SET experiment_id = excluded.experiment_id, parent_span_id = excluded.parent_span_id, name = excluded.name, type = excluded.type, status = excluded.status, start_time_unix_nano = excluded.start_time_unix_nano, end_time_unix_nano = excluded.end_time_unix_nano, content = excluded.content`
)

// activeExperiment returns the experiment's number and artifact location,
// or MLflow's error when it is missing or deleted.
func (s *Store) activeExperiment(ctx context.Context, q querier, id string) (int64, string, error) {
	n, err := mlflow.ParseExperimentID(id)
	if err != nil {
		return 0, "", err
	}
	var stage, loc sql.NullString
	err = q.QueryRowContext(ctx, s.q("SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?"), n).Scan(&stage, &loc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", mlflow.ExperimentNotFound(id)
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: get experiment: %w", err)
	}
	if stage.String != mlflow.StageActive {
		return 0, "", &mlflow.Error{Code: mlflow.InvalidState, Message: fmt.Sprintf("The experiment %s must be in the 'active' state. Current state is %s.", id, stage.String), Status: 400}
	}
	return n, loc.String, nil
}

// traceArtifactLocation is <experiment location>/traces/<trace_id>/artifacts,
// joined on the URI's path as MLflow's append_to_uri_path.
func traceArtifactLocation(expLocation, traceID string) string {
	return artifact.AppendToURI(expLocation, "traces", traceID, "artifacts")
}

// StartTrace creates the trace of info, or completes the one log_spans
// created, keeping its spans (MLflow's start_trace merge).
func (s *Store) StartTrace(ctx context.Context, info mlflow.TraceInfo) (*mlflow.TraceInfo, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		exp, loc, err := s.activeExperiment(ctx, tx, info.ExperimentID)
		if err != nil {
			return err
		}
		var dur any
		if info.ExecutionDuration != nil {
			dur = *info.ExecutionDuration
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO trace_info (`+traceInfoColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (request_id) DO UPDATE SET experiment_id = excluded.experiment_id, timestamp_ms = excluded.timestamp_ms,
execution_time_ms = excluded.execution_time_ms, status = excluded.status, client_request_id = excluded.client_request_id,
request_preview = excluded.request_preview, response_preview = excluded.response_preview`),
			info.TraceID, exp, info.RequestTime, dur, info.State, nullStr(info.ClientRequestID), nullStr(info.RequestPreview), nullStr(info.ResponsePreview)); err != nil {
			return fmt.Errorf("store: start trace: %w", err)
		}
		tags := make([][]any, 0, len(info.Tags)+2)
		for _, k := range sortedKeys(info.Tags) {
			tags = append(tags, []any{k, info.Tags[k], info.TraceID})
		}
		tags = append(tags,
			[]any{mlflow.TraceTagArtifactLocation, traceArtifactLocation(loc, info.TraceID), info.TraceID},
			[]any{mlflow.TraceTagSpansLocation, mlflow.SpansLocationStore, info.TraceID})
		if err := s.insertRows(ctx, tx, "trace_tags", `"key", value, request_id`, dedupKeys(tags), upsertTraceTag); err != nil {
			return err
		}
		meta := make([][]any, 0, len(info.Metadata))
		for _, k := range sortedKeys(info.Metadata) {
			meta = append(meta, []any{k, info.Metadata[k], info.TraceID})
		}
		if err := s.insertRows(ctx, tx, "trace_request_metadata", `"key", value, request_id`, meta, upsertTraceMeta); err != nil {
			return err
		}
		for _, a := range info.Assessments {
			a.TraceID = info.TraceID
			if err := s.insertAssessment(ctx, tx, &a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetTraceInfo(ctx, info.TraceID)
}

// dedupKeys keeps the last row of each key (the first column).
func dedupKeys(rows [][]any) [][]any {
	seen := map[any]int{}
	out := rows[:0]
	for _, r := range rows {
		if i, ok := seen[r[0]]; ok {
			out[i] = r
			continue
		}
		seen[r[0]] = len(out)
		out = append(out, r)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func nullStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// LogSpans stores each batch's spans, creating its trace when it is new and
// widening its time range, as MLflow's log_spans; all batches of a request
// in one transaction, with one statement per table for all of them (the
// time range update stays one per trace).
func (s *Store) LogSpans(ctx context.Context, experimentID string, batches []store.SpanBatch) error {
	type traceState struct {
		exp               int64
		status            string
		reqPrev, respPrev sql.NullString
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ids := make([]any, 0, len(batches))
		for _, b := range batches {
			if len(b.Spans) > 0 {
				ids = append(ids, b.TraceID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		known := make(map[string]*traceState, len(ids))
		rows, err := tx.QueryContext(ctx, s.d.rebind("SELECT request_id, experiment_id, status, request_preview, response_preview FROM trace_info WHERE request_id IN ("+placeholders(len(ids))+")"), ids...)
		if err != nil {
			return fmt.Errorf("store: read traces: %w", err)
		}
		for rows.Next() {
			var id string
			st := &traceState{}
			if err := rows.Scan(&id, &st.exp, &st.status, &st.reqPrev, &st.respPrev); err != nil {
				rows.Close()
				return fmt.Errorf("store: read traces: %w", err)
			}
			known[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read traces: %w", err)
		}
		var (
			exp            int64
			loc            string
			looked         bool
			newTraces      [][]any
			newTags, spans [][]any
			updates        []func() error
		)
		for _, b := range batches {
			if len(b.Spans) == 0 {
				continue
			}
			minStart, maxEnd, hasEnd := b.Spans[0].Start, int64(0), false
			rootStatus := ""
			for _, sp := range b.Spans {
				minStart = min(minStart, sp.Start)
				if sp.End != nil {
					if !hasEnd || *sp.End > maxEnd {
						maxEnd = *sp.End
					}
					hasEnd = true
				}
				if sp.ParentSpanID == "" && rootStatus == "" {
					rootStatus = mlflow.TraceStateOK
					if sp.Status == "ERROR" {
						rootStatus = mlflow.TraceStateError
					}
				}
			}
			startMS, endMS := minStart/1_000_000, maxEnd/1_000_000
			st, ok := known[b.TraceID]
			if !ok {
				if !looked {
					if exp, loc, err = s.activeExperiment(ctx, tx, experimentID); err != nil {
						return err
					}
					looked = true
				}
				status := rootStatus
				if status == "" {
					status = mlflow.TraceStateInProgress
				}
				var dur any
				if hasEnd {
					dur = endMS - startMS
				}
				newTraces = append(newTraces, []any{b.TraceID, exp, startMS, dur, status, nil, nil, nil})
				newTags = append(newTags,
					[]any{mlflow.TraceTagSpansLocation, mlflow.SpansLocationStore, b.TraceID},
					[]any{mlflow.TraceTagArtifactLocation, traceArtifactLocation(loc, b.TraceID), b.TraceID})
				st = &traceState{exp: exp, status: status}
				known[b.TraceID] = st
			}
			// Widen the trace's range in SQL, so that concurrent batches
			// of one trace end with the earliest start and latest end.
			set := []string{"timestamp_ms = CASE WHEN timestamp_ms > ? THEN ? ELSE timestamp_ms END"}
			args := []any{startMS, startMS}
			if hasEnd {
				set = append(set, "execution_time_ms = (CASE WHEN timestamp_ms + execution_time_ms > ? THEN timestamp_ms + execution_time_ms ELSE ? END) - (CASE WHEN timestamp_ms > ? THEN ? ELSE timestamp_ms END)")
				args = append(args, endMS, endMS, startMS, startMS)
			}
			if rootStatus != "" && (st.status == mlflow.TraceStateInProgress || st.status == mlflow.TraceStateUnspecified) {
				set = append(set, "status = ?")
				args = append(args, rootStatus)
			}
			if !st.reqPrev.Valid && b.RequestPreview != nil {
				set = append(set, "request_preview = ?")
				args = append(args, *b.RequestPreview)
			}
			if !st.respPrev.Valid && b.ResponsePreview != nil {
				set = append(set, "response_preview = ?")
				args = append(args, *b.ResponsePreview)
			}
			args = append(args, b.TraceID)
			query := s.d.rebind("UPDATE trace_info SET " + strings.Join(set, ", ") + " WHERE request_id = ?")
			updates = append(updates, func() error {
				if _, err := tx.ExecContext(ctx, query, args...); err != nil {
					return fmt.Errorf("store: update trace: %w", err)
				}
				return nil
			})
			for _, sp := range b.Spans {
				var parent, end, typ any
				if sp.ParentSpanID != "" {
					parent = sp.ParentSpanID
				}
				if sp.End != nil {
					end = *sp.End
				}
				if sp.Type != nil {
					typ = *sp.Type
				}
				spans = append(spans, []any{b.TraceID, st.exp, sp.SpanID, parent, sp.Name, typ, sp.Status, sp.Start, end, sp.Content})
			}
		}
		if err := s.insertRows(ctx, tx, "trace_info", traceInfoColumns, newTraces, ""); err != nil {
			return err
		}
		if err := s.insertRows(ctx, tx, "trace_tags", `"key", value, request_id`, newTags, upsertTraceTag); err != nil {
			return err
		}
		if err := s.insertRows(ctx, tx, "spans", "trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content", dedupSpans(spans), upsertSpan); err != nil {
			return err
		}
		for _, u := range updates {
			if err := u(); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		n := 0
		for _, b := range batches {
			n += len(b.Spans)
		}
		s.wrote(n)
	}
	return err
}

// dedupSpans keeps the last row of each (trace, span) (one INSERT cannot
// upsert a row twice on PostgreSQL).
func dedupSpans(rows [][]any) [][]any {
	seen := map[[2]any]int{}
	out := rows[:0]
	for _, r := range rows {
		k := [2]any{r[0], r[2]}
		if i, ok := seen[k]; ok {
			out[i] = r
			continue
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	return out
}

// GetTraceInfo reads one trace's info, tags, metadata and assessments.
func (s *Store) GetTraceInfo(ctx context.Context, traceID string) (*mlflow.TraceInfo, error) {
	infos, err := s.readTraceInfos(ctx, s.reader(), "SELECT "+traceInfoColumns+" FROM trace_info WHERE request_id = ?", traceID)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, mlflow.TraceNotFound(traceID)
	}
	return &infos[0], nil
}

// readTraceInfos runs query (selecting traceInfoColumns) and reads the
// tags, metadata and assessments of the traces it answers.
func (s *Store) readTraceInfos(ctx context.Context, q querier, query string, args ...any) ([]mlflow.TraceInfo, error) {
	// Queries here vary with the number of ids and the filter: rebound
	// directly, not kept in the statement cache.
	rows, err := q.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read traces: %w", err)
	}
	var infos []mlflow.TraceInfo
	for rows.Next() {
		var (
			t                   mlflow.TraceInfo
			exp                 int64
			dur                 sql.NullInt64
			client, reqP, respP sql.NullString
		)
		if err := rows.Scan(&t.TraceID, &exp, &t.RequestTime, &dur, &t.State, &client, &reqP, &respP); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: read traces: %w", err)
		}
		t.ExperimentID = strconv.FormatInt(exp, 10)
		if dur.Valid {
			t.ExecutionDuration = &dur.Int64
		}
		t.ClientRequestID = ptrNull(client)
		t.RequestPreview = ptrNull(reqP)
		t.ResponsePreview = ptrNull(respP)
		t.Tags, t.Metadata = map[string]string{}, map[string]string{}
		infos = append(infos, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read traces: %w", err)
	}
	if len(infos) == 0 {
		return infos, nil
	}
	idx := make(map[string]int, len(infos))
	ids := make([]any, len(infos))
	for i, t := range infos {
		idx[t.TraceID] = i
		ids[i] = t.TraceID
	}
	in := placeholders(len(ids))
	for _, kv := range []struct {
		table string
		set   func(t *mlflow.TraceInfo, k, v string)
	}{
		{"trace_tags", func(t *mlflow.TraceInfo, k, v string) { t.Tags[k] = v }},
		{"trace_request_metadata", func(t *mlflow.TraceInfo, k, v string) { t.Metadata[k] = v }},
	} {
		rows, err := q.QueryContext(ctx, s.d.rebind(`SELECT request_id, "key", value FROM `+kv.table+` WHERE request_id IN (`+in+`)`), ids...)
		if err != nil {
			return nil, fmt.Errorf("store: read %s: %w", kv.table, err)
		}
		for rows.Next() {
			var id, k string
			var v sql.NullString
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read %s: %w", kv.table, err)
			}
			kv.set(&infos[idx[id]], k, v.String)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	as, err := s.readAssessments(ctx, q, "trace_id IN ("+in+")", ids...)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		i := idx[a.TraceID]
		infos[i].Assessments = append(infos[i].Assessments, a)
	}
	return infos, nil
}

func ptrNull(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// GetTraces reads the traces of ids (unknown ones left out) in the order
// given, with their spans: root spans first, then by start time.
func (s *Store) GetTraces(ctx context.Context, traceIDs []string) ([]mlflow.Trace, error) {
	if len(traceIDs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(traceIDs))
	for i, id := range traceIDs {
		ids[i] = id
	}
	in := placeholders(len(ids))
	q := s.reader()
	infos, err := s.readTraceInfos(ctx, q, "SELECT "+traceInfoColumns+" FROM trace_info WHERE request_id IN ("+in+")", ids...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*mlflow.Trace, len(infos))
	out := make([]mlflow.Trace, 0, len(infos))
	for _, id := range traceIDs {
		for _, info := range infos {
			if info.TraceID == id && byID[id] == nil {
				out = append(out, mlflow.Trace{Info: info})
				byID[id] = &out[len(out)-1]
			}
		}
	}
	rows, err := q.QueryContext(ctx, s.d.rebind(`SELECT trace_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content
FROM spans WHERE trace_id IN (`+in+`) ORDER BY trace_id, CASE WHEN parent_span_id IS NULL THEN 0 ELSE 1 END, start_time_unix_nano`), ids...)
	if err != nil {
		return nil, fmt.Errorf("store: read spans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			sp           mlflow.Span
			parent, name sql.NullString
			typ          sql.NullString
			end          sql.NullInt64
		)
		if err := rows.Scan(&sp.TraceID, &sp.SpanID, &parent, &name, &typ, &sp.Status, &sp.Start, &end, &sp.Content); err != nil {
			return nil, fmt.Errorf("store: read spans: %w", err)
		}
		sp.ParentSpanID, sp.Name = parent.String, name.String
		sp.Type = ptrNull(typ)
		if end.Valid {
			sp.End = &end.Int64
		}
		if t := byID[sp.TraceID]; t != nil {
			t.Spans = append(t.Spans, sp)
		}
	}
	return out, rows.Err()
}

// SetTraceTag sets a tag of an existing trace.
func (s *Store) SetTraceTag(ctx context.Context, traceID, key, value string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.traceExists(ctx, tx, traceID); err != nil {
			return err
		}
		return s.insertRows(ctx, tx, "trace_tags", `"key", value, request_id`, [][]any{{key, value, traceID}}, upsertTraceTag)
	})
}

func (s *Store) traceExists(ctx context.Context, q querier, traceID string) error {
	var one int
	err := q.QueryRowContext(ctx, s.q("SELECT 1 FROM trace_info WHERE request_id = ?"), traceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return mlflow.TraceNotFound(traceID)
	}
	if err != nil {
		return fmt.Errorf("store: read trace: %w", err)
	}
	return nil
}

// DeleteTraceTag removes a tag of a trace.
func (s *Store) DeleteTraceTag(ctx context.Context, traceID, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.traceExists(ctx, tx, traceID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM trace_tags WHERE request_id = ? AND "key" = ?`), traceID, key)
		if err != nil {
			return fmt.Errorf("store: delete trace tag: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No trace tag with key '%s' for trace with ID '%s'", key, traceID)
		}
		return nil
	})
}

// DeleteTraces deletes traces of one experiment (with their tags,
// metadata, spans and assessments) and answers how many.
func (s *Store) DeleteTraces(ctx context.Context, d store.DeleteTraces) (int, error) {
	exp, err := mlflow.ParseExperimentID(d.ExperimentID)
	if err != nil {
		return 0, err
	}
	var deleted int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		where := []string{"experiment_id = ?"}
		args := []any{exp}
		if d.MaxTimestamp > 0 {
			where = append(where, "timestamp_ms <= ?")
			args = append(args, d.MaxTimestamp)
		}
		if len(d.TraceIDs) > 0 {
			where = append(where, "request_id IN ("+placeholders(len(d.TraceIDs))+")")
			for _, id := range d.TraceIDs {
				args = append(args, id)
			}
		}
		sel := "SELECT request_id FROM trace_info WHERE " + strings.Join(where, " AND ") + " ORDER BY timestamp_ms"
		if d.MaxTraces > 0 {
			sel += " LIMIT " + strconv.Itoa(d.MaxTraces)
		}
		rows, err := tx.QueryContext(ctx, s.d.rebind(sel), args...)
		if err != nil {
			return fmt.Errorf("store: select traces to delete: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		deleted = len(ids)
		return s.deleteTraceRows(ctx, tx, ids)
	})
	return deleted, err
}

// deleteTraceRows removes traces and every row that refers to them, in
// chunks (the foreign keys cascade in MLflow's schema, but SQLite only
// cascades with foreign keys on, and the order keeps both dialects happy).
func (s *Store) deleteTraceRows(ctx context.Context, tx *sql.Tx, ids []any) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in := placeholders(len(chunk))
		for _, stmt := range []string{
			"DELETE FROM assessments WHERE trace_id IN (" + in + ")",
			"DELETE FROM spans WHERE trace_id IN (" + in + ")",
			"DELETE FROM trace_tags WHERE request_id IN (" + in + ")",
			"DELETE FROM trace_request_metadata WHERE request_id IN (" + in + ")",
			"DELETE FROM entity_associations WHERE source_id IN (" + in + ")",
			"DELETE FROM trace_info WHERE request_id IN (" + in + ")",
		} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(stmt), chunk...); err != nil {
				return fmt.Errorf("store: delete traces: %w", err)
			}
		}
	}
	return nil
}

// SearchTraces answers one page of traces/search in one query for the
// page (plus the tags, metadata and assessments of its traces).
func (s *Store) SearchTraces(ctx context.Context, q store.TraceQuery) ([]mlflow.TraceInfo, string, error) {
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	var (
		where []string
		args  []any
	)
	exps := make([]string, 0, len(q.ExperimentIDs))
	for _, id := range q.ExperimentIDs {
		n, err := mlflow.ParseExperimentID(id)
		if err != nil {
			return nil, "", err
		}
		exps = append(exps, "?")
		args = append(args, n)
	}
	where = append(where, "t.experiment_id IN ("+strings.Join(exps, ", ")+")")
	for _, c := range q.Filter {
		if c.Entity == "request_metadata" && c.Key == mlflow.TraceMetaSourceRun && c.Op == "=" {
			// run_id = 'x' also finds the traces linked to the run
			// (traces/link-to-run), as MLflow's run_id_filter.
			w, a, err := s.traceCondition(c)
			if err != nil {
				return nil, "", err
			}
			where = append(where, "(EXISTS (SELECT 1 FROM entity_associations ea WHERE ea.source_type = 'trace' AND ea.source_id = t.request_id AND ea.destination_type = 'run' AND ea.destination_id = ?) OR "+w+")")
			args = append(append(args, c.Value.Str), a...)
			continue
		}
		w, a, err := s.traceCondition(c)
		if err != nil {
			return nil, "", err
		}
		where = append(where, w)
		args = append(args, a...)
	}
	var (
		joins    []string
		joinArgs []any
		order    []string
	)
	for i, o := range q.OrderBy {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		switch o.Entity {
		case "tag", "request_metadata":
			table := "trace_tags"
			if o.Entity == "request_metadata" {
				table = "trace_request_metadata"
			}
			alias := "o" + strconv.Itoa(i)
			joins = append(joins, "LEFT JOIN "+table+" "+alias+" ON "+alias+".request_id = t.request_id AND "+alias+`."key" = ?`)
			joinArgs = append(joinArgs, o.Key)
			order = append(order, s.d.nullsLast(alias+".value", dir)...)
		default:
			col, err := traceColumn(o.Key)
			if err != nil {
				return nil, "", err
			}
			switch o.Key {
			case "timestamp_ms", "status", "request_id", "experiment_id":
				// NOT NULL columns: ordered plainly, so that an index
				// (experiment_id, timestamp_ms) can serve the page.
				order = append(order, col+dir)
			default:
				order = append(order, s.d.nullsLast(col, dir)...)
			}
		}
	}
	// MLflow's default and tie-breakers: newest first, then the id.
	if !slices.Contains(order, "t.timestamp_ms DESC") && !slices.Contains(order, "t.timestamp_ms ASC") {
		order = append(order, "t.timestamp_ms DESC")
	}
	order = append(order, "t.request_id ASC")
	query := "SELECT t.request_id, t.experiment_id, t.timestamp_ms, t.execution_time_ms, t.status, t.client_request_id, t.request_preview, t.response_preview FROM trace_info t " +
		strings.Join(joins, " ") + " WHERE " + strings.Join(where, " AND ") + " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args = append(append(joinArgs, args...), q.Page.MaxResults, q.Page.Offset)
	infos, err := s.readTraceInfosDyn(ctx, query, args)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(infos) == q.Page.MaxResults {
		next = search.EncodeOffsetToken(q.Page.Offset + len(infos))
	}
	return infos, next, nil
}

// readTraceInfosDyn is readTraceInfos for a query built per request: it is
// rebound directly instead of through the statement cache.
func (s *Store) readTraceInfosDyn(ctx context.Context, query string, args []any) ([]mlflow.TraceInfo, error) {
	return s.readTraceInfos(ctx, s.reader(), query, args...)
}

func traceColumn(key string) (string, error) {
	switch key {
	case "timestamp_ms":
		return "t.timestamp_ms", nil
	case "execution_time_ms":
		return "t.execution_time_ms", nil
	case "end_time_ms":
		return "(t.timestamp_ms + t.execution_time_ms)", nil
	case "status":
		return "t.status", nil
	case "request_id":
		return "t.request_id", nil
	case "client_request_id":
		return "t.client_request_id", nil
	case "experiment_id":
		return "t.experiment_id", nil
	}
	return "", mlflow.InvalidParam("Invalid attribute key '%s' specified.", key)
}

// traceCondition compiles one comparison of a trace filter.
func (s *Store) traceCondition(c search.Comparison) (string, []any, error) {
	switch c.Entity {
	case "tag", "request_metadata":
		table := "trace_tags"
		if c.Entity == "request_metadata" {
			table = "trace_request_metadata"
		}
		cond, args := s.valueCondition("x.value", c)
		return "EXISTS (SELECT 1 FROM " + table + ` x WHERE x.request_id = t.request_id AND x."key" = ? AND ` + cond + ")",
			append([]any{c.Key}, args...), nil
	case "span":
		col := map[string]string{"name": "sp.name", "type": "sp.type", "status": "sp.status", "content": "sp.content"}[c.Key]
		if col == "" {
			// span.attributes.<key>: MLflow matches the JSON text of the content.
			return "", nil, mlflow.InvalidParam("Invalid span attribute '%s'.", c.Key)
		}
		cond, args := s.valueCondition(col, c)
		return "EXISTS (SELECT 1 FROM spans sp WHERE sp.trace_id = t.request_id AND " + cond + ")", args, nil
	case "feedback", "expectation":
		cond, args := s.valueCondition("a.value", c)
		return "EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.request_id AND a.assessment_type = ? AND a.name = ? AND a.valid = ? AND " + cond + ")",
			append([]any{c.Entity, c.Key, true}, args...), nil
	}
	col, err := traceColumn(c.Key)
	if err != nil {
		return "", nil, err
	}
	cond, args := s.valueCondition(col, c)
	return cond, args, nil
}

// valueCondition compares col with c's operator and value.
func (s *Store) valueCondition(col string, c search.Comparison) (string, []any) {
	switch c.Op {
	case "IN", "NOT IN":
		args := make([]any, len(c.Value.List))
		for i, v := range c.Value.List {
			args[i] = v
		}
		if len(args) == 0 {
			if c.Op == "IN" {
				return "1 = 0", nil
			}
			return "1 = 1", nil
		}
		return col + " " + c.Op + " (" + placeholders(len(args)) + ")", args
	case "LIKE":
		return s.d.like(col, "?"), []any{c.Value.Str}
	case "ILIKE":
		return s.d.ilike(col, "?"), []any{c.Value.Str}
	}
	if c.Value.IsNum {
		return col + " " + c.Op + " ?", []any{int64(c.Value.Num)}
	}
	return col + " " + c.Op + " ?", []any{c.Value.Str}
}

// ---- assessments ----

const assessmentColumns = "assessment_id, trace_id, name, assessment_type, value, error, created_timestamp, last_updated_timestamp, source_type, source_id, run_id, span_id, rationale, overrides, valid, assessment_metadata"

func (s *Store) readAssessments(ctx context.Context, q querier, where string, args ...any) ([]mlflow.Assessment, error) {
	rows, err := q.QueryContext(ctx, s.d.rebind("SELECT "+assessmentColumns+" FROM assessments WHERE "+where+" ORDER BY created_timestamp, assessment_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read assessments: %w", err)
	}
	defer rows.Close()
	var out []mlflow.Assessment
	for rows.Next() {
		var (
			a                                              mlflow.Assessment
			errJSON, srcID, runID, spanID, rat, over, meta sql.NullString
		)
		if err := rows.Scan(&a.AssessmentID, &a.TraceID, &a.Name, &a.Type, &a.Value, &errJSON, &a.CreateTime, &a.LastUpdateTime,
			&a.Source.SourceType, &srcID, &runID, &spanID, &rat, &over, &a.Valid, &meta); err != nil {
			return nil, fmt.Errorf("store: read assessments: %w", err)
		}
		a.Error, a.Source.SourceID, a.RunID, a.SpanID = errJSON.String, srcID.String, runID.String, spanID.String
		a.Rationale, a.Overrides, a.Metadata = ptrNull(rat), over.String, meta.String
		out = append(out, a)
	}
	return out, rows.Err()
}

func emptyNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Store) insertAssessment(ctx context.Context, tx *sql.Tx, a *mlflow.Assessment) error {
	now := time.Now().UnixMilli()
	if a.AssessmentID == "" {
		a.AssessmentID = "a-" + randomID()
	}
	if a.CreateTime == 0 {
		a.CreateTime = now
	}
	if a.LastUpdateTime == 0 {
		a.LastUpdateTime = now
	}
	a.Valid = true
	return s.insertRows(ctx, tx, "assessments", assessmentColumns, [][]any{{
		a.AssessmentID, a.TraceID, a.Name, a.Type, a.Value, emptyNull(a.Error), a.CreateTime, a.LastUpdateTime,
		a.Source.SourceType, emptyNull(a.Source.SourceID), emptyNull(a.RunID), emptyNull(a.SpanID), nullStr(a.Rationale),
		emptyNull(a.Overrides), a.Valid, emptyNull(a.Metadata),
	}}, "")
}

// CreateAssessment adds an assessment to a trace; one that overrides
// another marks that one invalid.
func (s *Store) CreateAssessment(ctx context.Context, a mlflow.Assessment) (*mlflow.Assessment, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.traceExists(ctx, tx, a.TraceID); err != nil {
			return err
		}
		if a.Overrides != "" {
			res, err := tx.ExecContext(ctx, s.q("UPDATE assessments SET valid = ? WHERE trace_id = ? AND assessment_id = ?"), false, a.TraceID, a.Overrides)
			if err != nil {
				return fmt.Errorf("store: override assessment: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// MLflow's message leaves {trace_id} unformatted.
				return mlflow.NotFound("Assessment with ID '%s' not found for trace '{trace_id}'", a.Overrides)
			}
		}
		return s.insertAssessment(ctx, tx, &a)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAssessment reads one assessment of a trace.
func (s *Store) GetAssessment(ctx context.Context, traceID, assessmentID string) (*mlflow.Assessment, error) {
	return s.getAssessment(ctx, s.reader(), traceID, assessmentID)
}

func (s *Store) getAssessment(ctx context.Context, q querier, traceID, assessmentID string) (*mlflow.Assessment, error) {
	as, err := s.readAssessments(ctx, q, "trace_id = ? AND assessment_id = ?", traceID, assessmentID)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		if err := s.traceExists(ctx, q, traceID); err != nil {
			return nil, err
		}
		return nil, mlflow.AssessmentNotFound(traceID, assessmentID)
	}
	return &as[0], nil
}

// UpdateAssessment changes an assessment's name, value, rationale or
// metadata (merged), as MLflow's update_assessment.
func (s *Store) UpdateAssessment(ctx context.Context, traceID, assessmentID string, u store.AssessmentUpdate) (*mlflow.Assessment, error) {
	var out *mlflow.Assessment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		a, err := s.getAssessment(ctx, tx, traceID, assessmentID)
		if err != nil {
			return err
		}
		if u.Value != nil {
			if u.Feedback && a.Type != "feedback" {
				return mlflow.InvalidParam("Cannot update feedback value on an Expectation assessment.")
			}
			if !u.Feedback && a.Type != "expectation" {
				return mlflow.InvalidParam("Cannot update expectation value on a Feedback assessment.")
			}
			a.Value = *u.Value
			if u.Feedback {
				a.Error = ""
				if u.Error != nil {
					a.Error = *u.Error
				}
			}
		}
		if u.Name != nil {
			a.Name = *u.Name
		}
		if u.Rationale != nil && a.Type == "feedback" {
			a.Rationale = u.Rationale
		}
		if len(u.Metadata) > 0 {
			a.Metadata = mergeJSONObject(a.Metadata, u.Metadata)
		}
		a.LastUpdateTime = time.Now().UnixMilli()
		if _, err := tx.ExecContext(ctx, s.q("UPDATE assessments SET name = ?, value = ?, error = ?, last_updated_timestamp = ?, rationale = ?, assessment_metadata = ? WHERE trace_id = ? AND assessment_id = ?"),
			a.Name, a.Value, emptyNull(a.Error), a.LastUpdateTime, nullStr(a.Rationale), emptyNull(a.Metadata), traceID, assessmentID); err != nil {
			return fmt.Errorf("store: update assessment: %w", err)
		}
		out = a
		return nil
	})
	return out, err
}

// DeleteAssessment removes an assessment (a missing one is no error, as
// MLflow) and makes the one it overrode valid again.
func (s *Store) DeleteAssessment(ctx context.Context, traceID, assessmentID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.traceExists(ctx, tx, traceID); err != nil {
			return err
		}
		var over sql.NullString
		err := tx.QueryRowContext(ctx, s.q("SELECT overrides FROM assessments WHERE trace_id = ? AND assessment_id = ?"), traceID, assessmentID).Scan(&over)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: read assessment: %w", err)
		}
		if over.String != "" {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE assessments SET valid = ? WHERE assessment_id = ?"), true, over.String); err != nil {
				return fmt.Errorf("store: restore assessment: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM assessments WHERE trace_id = ? AND assessment_id = ?"), traceID, assessmentID); err != nil {
			return fmt.Errorf("store: delete assessment: %w", err)
		}
		return nil
	})
}

// mergeJSONObject merges m into the JSON object text old (m wins).
func mergeJSONObject(old string, m map[string]string) string {
	merged := map[string]any{}
	if old != "" {
		_ = json.Unmarshal([]byte(old), &merged)
	}
	for k, v := range m {
		merged[k] = v
	}
	b, _ := json.Marshal(merged)
	return string(b)
}

// LinkTracesToRun stores the trace -> run associations not yet stored.
func (s *Store) LinkTracesToRun(ctx context.Context, traceIDs []string, runID string) error {
	if len(traceIDs) == 0 {
		return nil
	}
	if len(traceIDs) > store.MaxLinkTraces {
		return mlflow.InvalidParam("Cannot link more than %d traces to a run in a single request. Provided %d traces.", store.MaxLinkTraces, len(traceIDs))
	}
	for _, id := range traceIDs {
		// entity_associations.source_id is VARCHAR(36).
		if err := mlflow.ValidateLength("trace_ids", id, 36); err != nil {
			return err
		}
	}
	now := time.Now().UnixMilli()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q("SELECT 1 FROM runs WHERE run_uuid = ?"), runID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return mlflow.RunNotFound(runID)
		}
		if err != nil {
			return fmt.Errorf("store: read run: %w", err)
		}
		seen := map[string]bool{}
		var rows [][]any
		for _, id := range traceIDs {
			if !seen[id] {
				seen[id] = true
				rows = append(rows, []any{strings.ReplaceAll(newUUID(), "-", ""), "trace", id, "run", runID, now})
			}
		}
		return s.insertRows(ctx, tx, "entity_associations", "association_id, source_type, source_id, destination_type, destination_id, created_time", rows, " ON CONFLICT DO NOTHING")
	})
}

// StartTraceV2 is MLflow's deprecated_start_trace_v2: no spans-location
// tag, so the client writes the spans to the artifact store.
func (s *Store) StartTraceV2(ctx context.Context, experimentID string, timestampMs int64, metadata, tags map[string]string) (*mlflow.TraceInfo, error) {
	id := strings.ReplaceAll(newUUID(), "-", "")
	err := s.tx(ctx, func(tx *sql.Tx) error {
		exp, loc, err := s.activeExperiment(ctx, tx, experimentID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) VALUES (?, ?, ?, NULL, ?)`),
			id, exp, timestampMs, mlflow.TraceStateInProgress); err != nil {
			return fmt.Errorf("store: start trace: %w", err)
		}
		return s.mergeTraceKVs(ctx, tx, id, metadata, tags, [][]any{{mlflow.TraceTagArtifactLocation, traceArtifactLocation(loc, id), id}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTraceInfo(ctx, id)
}

// mergeTraceKVs upserts a trace's metadata and tags (extra tags last).
func (s *Store) mergeTraceKVs(ctx context.Context, tx *sql.Tx, id string, metadata, tags map[string]string, extra [][]any) error {
	rows := make([][]any, 0, len(tags)+len(extra))
	for _, k := range sortedKeys(tags) {
		rows = append(rows, []any{k, tags[k], id})
	}
	rows = append(rows, extra...)
	if err := s.insertRows(ctx, tx, "trace_tags", `"key", value, request_id`, dedupKeys(rows), upsertTraceTag); err != nil {
		return err
	}
	meta := make([][]any, 0, len(metadata))
	for _, k := range sortedKeys(metadata) {
		meta = append(meta, []any{k, metadata[k], id})
	}
	return s.insertRows(ctx, tx, "trace_request_metadata", `"key", value, request_id`, meta, upsertTraceMeta)
}

// EndTraceV2 is MLflow's deprecated_end_trace_v2.
func (s *Store) EndTraceV2(ctx context.Context, traceID string, endMs int64, state string, metadata, tags map[string]string) (*mlflow.TraceInfo, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.traceExists(ctx, tx, traceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE trace_info SET execution_time_ms = ? - timestamp_ms, status = ? WHERE request_id = ?`), endMs, state, traceID); err != nil {
			return fmt.Errorf("store: end trace: %w", err)
		}
		return s.mergeTraceKVs(ctx, tx, traceID, metadata, tags, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.GetTraceInfo(ctx, traceID)
}
