package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// SearchRuns answers one page of runs/search: one statement selects the
// page's run ids (filter, order and paging all in SQL), then loadRuns reads
// those runs with a constant number of queries.
//
// For the orders keyset paging serves (search_seek.go), the first page and
// every page after one of mltrack's tokens seek in the order's indexes; a
// page token MLflow wrote (an offset alone) is read by offset, and the
// token after it is mltrack's.
func (s *Store) SearchRuns(ctx context.Context, q store.RunQuery) ([]mlflow.Run, string, error) {
	var (
		ids  []string
		last *search.RunCursor
		err  error
	)
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	o, seek := s.seekOrderOf(q)
	fp := ""
	if seek {
		fp = queryFingerprint(q)
	}
	switch {
	case seek && q.After != nil && q.After.Query == fp && o.segmentOf(q.After) >= 0:
		ids, last, err = s.seekRunIDs(ctx, q, o, o.segmentOf(q.After), q.After)
	case seek && q.Page.Offset == 0:
		ids, last, err = s.seekRunIDs(ctx, q, o, 0, nil)
	default:
		ids, err = s.searchRunIDs(ctx, q)
		// A negative offset (a hand-made token) reads from the start, and
		// MLflow's next offset counts from it: that token stays an offset.
		if err == nil && seek && q.Page.Offset > 0 && len(ids) > 0 && len(ids) == q.Page.MaxResults {
			last, err = s.cursorOf(ctx, o, ids[len(ids)-1])
		}
	}
	if err != nil {
		return nil, "", err
	}
	runs, err := s.loadRuns(ctx, ids, false)
	if err != nil {
		return nil, "", err
	}
	next := ""
	// As MLflow: a full page has a next token, even when nothing follows.
	if q.Page.MaxResults > 0 && len(ids) == q.Page.MaxResults {
		if last != nil {
			last.Query = fp
			next = search.EncodeRunToken(q.Page.Offset+len(ids), *last)
		} else {
			next = search.EncodeOffsetToken(q.Page.Offset + len(ids))
		}
	}
	return runs, next, nil
}

// searchRunIDs selects the ids of a page of runs.
//
// A page ordered by one metric alone, which the filter does not compare,
// lists the runs that have the metric first (in the metric's order, NaN
// last) and then those without it (newest first). It is read in those two
// parts: from the metric's index while the page lies among the runs that
// have it (usually the whole page), then from the runs without it, each
// part in index order, instead of reading and sorting every run.
func (s *Store) searchRunIDs(ctx context.Context, q store.RunQuery) ([]string, error) {
	if !searchFromMetric || len(q.OrderBy) != 1 || q.OrderBy[0].Entity != "metric" || filtersMetric(q.Filter, q.OrderBy[0].Key) {
		return s.runIDs(ctx, q, partAll)
	}
	ids, err := s.runIDs(ctx, q, partWithMetric)
	if err != nil || len(ids) == q.Page.MaxResults {
		return ids, err
	}
	// The page goes past the runs with the metric: it ends at offset +
	// len(ids), or, when the page starts past them, a count tells where.
	offset := max(q.Page.Offset, 0)
	with := offset + len(ids)
	if len(ids) == 0 && offset > 0 {
		if with, err = s.countRunsWithMetric(ctx, q); err != nil {
			return nil, err
		}
	}
	rest := q
	rest.Page = store.Page{MaxResults: q.Page.MaxResults - len(ids), Offset: max(offset-with, 0)}
	more, err := s.runIDs(ctx, rest, partWithoutMetric)
	return append(ids, more...), err
}

// searchPart says which runs of a page a statement selects (searchRunIDs).
type searchPart int

const (
	partAll             searchPart = iota // the page, in one statement
	partWithMetric                        // those with the first ordering metric, from its index
	partWithoutMetric                     // those without it, newest first
	partCountWithMetric                   // how many have it (one row: the count)
)

// countRunsWithMetric counts the runs that match and have the first
// ordering metric.
func (s *Store) countRunsWithMetric(ctx context.Context, q store.RunQuery) (int, error) {
	query, args, err := s.compileRunSearch(q, partCountWithMetric)
	if err != nil || query == "" {
		return 0, err
	}
	var n int
	if err := s.reader().QueryRowContext(ctx, s.q(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: search runs: count: %w", err)
	}
	return n, nil
}

// runIDs runs the statement of part of a page and returns the ids it selects.
func (s *Store) runIDs(ctx context.Context, q store.RunQuery, part searchPart) ([]string, error) {
	query, args, err := s.compileRunSearch(q, part)
	if err != nil || query == "" { // "": no experiments, nothing matches
		return nil, err
	}
	var ids []string
	if err := s.each(ctx, s.reader(), query, args, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: search runs: %w", err)
	}
	return ids, nil
}

// compileRunSearch builds the statement that selects a page of run ids, or
// the part of it that part says. It returns "" when nothing can match (no
// experiment ids).
func (s *Store) compileRunSearch(q store.RunQuery, part searchPart) (string, []any, error) {
	if len(q.ExperimentIDs) == 0 {
		return "", nil, nil
	}
	var (
		joins, order []string
		joinArgs     []any
	)

	// A page ordered first by a metric that the filter requires (every
	// metric comparison needs the run to have the metric) is read from that
	// metric's latest values, walking the mltrack_latest_metrics_key_*
	// index in order and stopping after the page, instead of reading every
	// run of the experiments and sorting them. Every run it may return has
	// the metric, so the NULL placement of the ORDER BY is moot and is_nan
	// alone puts NaN last.
	driving := searchFromMetric && len(q.OrderBy) > 0 && q.OrderBy[0].Entity == "metric" &&
		(filtersMetric(q.Filter, q.OrderBy[0].Key) || part == partWithMetric || part == partCountWithMetric)
	onDriving := ""
	if driving {
		onDriving = q.OrderBy[0].Key
	}
	where, whereArgs, err := s.runWhere(q, onDriving)
	if err != nil {
		return "", nil, err
	}
	var drivingArgs []any
	orderedByStart := false
	orderBy := q.OrderBy
	if part == partWithoutMetric {
		where = append(where, `NOT EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_uuid = r.run_uuid AND x."key" = ?)`)
		whereArgs = append(whereArgs, orderBy[0].Key)
		orderBy = orderBy[1:]
	}
	for i, k := range orderBy {
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		alias := "o" + strconv.Itoa(i)
		switch k.Entity {
		case "attribute":
			col, ok := runAttributeColumn(k.Key)
			if !ok {
				return "", nil, mlflow.InvalidParam("Invalid attribute key '%s' specified.", k.Key)
			}
			if col == "start_time" {
				orderedByStart = true
			}
			order = append(order, s.d.nullsLast("r."+col, dir)...)
		case "metric":
			if i == 0 && driving {
				drivingArgs = append(drivingArgs, k.Key)
				order = append(order, alias+".is_nan", alias+".value"+dir)
				continue
			}
			// Runs without the metric sort last, NaN just before them, in
			// both directions (MLflow's _get_orderby_clauses).
			joins = append(joins, `LEFT JOIN latest_metrics `+alias+` ON `+alias+`.run_uuid = r.run_uuid AND `+alias+`."key" = ?`)
			joinArgs = append(joinArgs, k.Key)
			order = append(order, "CASE WHEN "+alias+".is_nan = true THEN 1 WHEN "+alias+".value IS NULL THEN 2 ELSE 0 END", alias+".value"+dir)
		case "param", "tag":
			table := "params"
			if k.Entity == "tag" {
				table = "tags"
			}
			joins = append(joins, `LEFT JOIN `+table+` `+alias+` ON `+alias+`.run_uuid = r.run_uuid AND `+alias+`."key" = ?`)
			joinArgs = append(joinArgs, k.Key)
			order = append(order, s.d.nullsLast(alias+".value", dir)...)
		default:
			return "", nil, mlflow.InvalidParam("Invalid order_by entity type '%s'", k.Entity)
		}
	}
	if !orderedByStart {
		order = append(order, "r.start_time DESC")
	}
	order = append(order, "r.run_uuid ASC")

	var b strings.Builder
	selected := "r.run_uuid"
	if part == partCountWithMetric {
		selected = "COUNT(*)"
	}
	if driving {
		b.WriteString("SELECT " + selected + " FROM latest_metrics o0 JOIN runs r ON r.run_uuid = o0.run_uuid")
		where = append([]string{`o0."key" = ?`}, where...)
		whereArgs = append(drivingArgs, whereArgs...)
	} else {
		b.WriteString("SELECT " + selected + " FROM runs r")
	}
	for _, j := range joins {
		b.WriteString(" ")
		b.WriteString(j)
	}
	b.WriteString(" WHERE ")
	b.WriteString(strings.Join(where, " AND "))
	if part == partCountWithMetric {
		return b.String(), append(joinArgs, whereArgs...), nil
	}
	b.WriteString(" ORDER BY ")
	b.WriteString(strings.Join(order, ", "))
	b.WriteString(" LIMIT ? OFFSET ?")
	args := append(joinArgs, whereArgs...)
	// MLflow accepts a negative offset from a hand-made token and reads from
	// the start (SQLite's OFFSET semantics); PostgreSQL refuses one.
	args = append(args, q.Page.MaxResults, max(q.Page.Offset, 0))
	return b.String(), args, nil
}

// runWhere compiles what every plan of a search requires of a run r: its
// experiments, its lifecycle stage and the filter. A plan read from the
// latest values of metric driving (o0, that run's row of that key) compares
// them there rather than in a subquery that finds the same row again, and
// the comparison bounds the walk of the metric's index.
func (s *Store) runWhere(q store.RunQuery, driving string) ([]string, []any, error) {
	var (
		where []string
		args  []any
	)
	exps := make([]any, len(q.ExperimentIDs))
	for i, id := range q.ExperimentIDs {
		n, err := mlflow.ParseExperimentID(id)
		if err != nil {
			return nil, nil, err
		}
		exps[i] = n
	}
	where = append(where, "r.experiment_id IN ("+placeholders(len(exps))+")")
	args = append(args, exps...)
	switch q.ViewType {
	case store.DeletedOnly:
		where = append(where, "r.lifecycle_stage = 'deleted'")
	case store.All:
	default:
		where = append(where, "r.lifecycle_stage = 'active'")
	}
	for _, c := range q.Filter {
		if driving != "" && c.Entity == "metric" && c.Key == driving {
			clause, cargs, err := s.compare("o0.value", c)
			if err != nil {
				return nil, nil, err
			}
			where = append(where, clause)
			args = append(args, cargs...)
			continue
		}
		clause, cargs, err := s.runClause(c)
		if err != nil {
			return nil, nil, err
		}
		where = append(where, clause)
		args = append(args, cargs...)
	}
	return where, args, nil
}

// searchFromMetric enables that plan; tests turn it off to compare.
var searchFromMetric = true

// filtersMetric reports whether the filter compares metric key, which only
// runs that have that metric can satisfy.
func filtersMetric(filter []search.Comparison, key string) bool {
	for _, c := range filter {
		if c.Entity == "metric" && c.Key == key {
			return true
		}
	}
	return false
}

// runAttributeColumn maps a canonical run attribute to its runs column.
func runAttributeColumn(key string) (string, bool) {
	switch key {
	case "run_id":
		return "run_uuid", true
	case "run_name":
		return "name", true
	case "status", "user_id", "start_time", "end_time", "artifact_uri", "lifecycle_stage":
		return key, true
	}
	return "", false
}

// runClause compiles one comparison of a run filter.
func (s *Store) runClause(c search.Comparison) (string, []any, error) {
	sub := func(from, cond string, col string) (string, []any, error) {
		inner, args, err := s.compare(col, c)
		if err != nil {
			return "", nil, err
		}
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + cond + " AND " + inner + ")", args, nil
	}
	keyed := func(table string) (string, []any, error) {
		clause, args, err := sub(table+" x", `x.run_uuid = r.run_uuid AND x."key" = ?`, "x.value")
		if err != nil {
			return "", nil, err
		}
		return clause, append([]any{c.Key}, args...), nil
	}
	switch c.Entity {
	case "attribute":
		col, ok := runAttributeColumn(c.Key)
		if !ok {
			return "", nil, mlflow.InvalidParam("Invalid attribute key '%s' specified.", c.Key)
		}
		return s.compare("r."+col, c)
	case "metric":
		return keyed("latest_metrics")
	case "param":
		return keyed("params")
	case "tag":
		return keyed("tags")
	case "dataset":
		const datasetInput = "inputs i JOIN datasets d ON d.dataset_uuid = i.source_id"
		const forRun = "i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id = r.run_uuid"
		switch c.Key {
		case "name":
			return sub(datasetInput, forRun, "d.name")
		case "digest":
			return sub(datasetInput, forRun, "d.digest")
		case "context":
			clause, args, err := sub("inputs i JOIN input_tags t ON t.input_uuid = i.input_uuid", forRun+" AND t.name = ?", "t.value")
			if err != nil {
				return "", nil, err
			}
			return clause, append([]any{mlflow.DatasetContextTag}, args...), nil
		}
		return "", nil, mlflow.InvalidParam("Invalid dataset key '%s' specified.", c.Key)
	}
	return "", nil, mlflow.InvalidParam("Invalid entity type '%s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", c.Entity)
}
