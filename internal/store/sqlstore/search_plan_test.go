package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/testdb"
)

// TestSearchFromMetricSameResults compares runs/search pages read from the
// ordering metric's index (alone or in two parts) with the general plan, on
// SQLite and PostgreSQL, over runs with ties, NaN,
// missing metrics, another experiment and deleted runs, in both directions
// and across pages.
func TestSearchFromMetricSameResults(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testSearchFromMetricSameResults(t, "sqlite:///"+filepath.Join(t.TempDir(), "m.db"))
	})
	t.Run("postgres", func(t *testing.T) { testSearchFromMetricSameResults(t, testdb.PostgresURI(t)) })
}

func testSearchFromMetricSameResults(t *testing.T, uri string) {
	s, err := Open(context.Background(), uri, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "plan", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateExperiment(ctx, "other", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ {
		e := exp
		if i%10 == 9 {
			e = other
		}
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: e, StartTime: int64(i % 7)})
		if err != nil {
			t.Fatal(err)
		}
		var ms []mlflow.Metric
		switch {
		case i%11 == 0: // no acc at all
		case i%13 == 0:
			ms = append(ms, mlflow.Metric{Key: "acc", Value: mlflow.Float(math.NaN()), Timestamp: 1})
		default:
			ms = append(ms, mlflow.Metric{Key: "acc", Value: mlflow.Float(float64(i%9) / 10), Timestamp: 1})
		}
		ms = append(ms, mlflow.Metric{Key: "loss", Value: mlflow.Float(i % 4), Timestamp: 1})
		if err := s.LogBatch(ctx, r.Info.RunID, ms, []mlflow.Tag{{Key: "opt", Value: []string{"adam", "sgd"}[i%2]}}, nil); err != nil {
			t.Fatal(err)
		}
		if i%17 == 0 {
			if err := s.DeleteRun(ctx, r.Info.RunID); err != nil {
				t.Fatal(err)
			}
		}
	}
	filters := [][]search.Comparison{
		{{Entity: "metric", Key: "acc", Op: ">", Value: search.Value{Num: 0.2, IsNum: true}}},
		{{Entity: "metric", Key: "acc", Op: ">=", Value: search.Value{Num: 0, IsNum: true}}, {Entity: "param", Key: "opt", Op: "=", Value: search.Value{Str: "adam"}}},
		{{Entity: "metric", Key: "acc", Op: "!=", Value: search.Value{Num: 0.3, IsNum: true}}},
		// Ordered by acc alone, not filtered on it: the runs with acc from
		// its index, then those without it.
		nil,
		{{Entity: "param", Key: "opt", Op: "=", Value: search.Value{Str: "sgd"}}},
		{{Entity: "metric", Key: "loss", Op: "<", Value: search.Value{Num: 2, IsNum: true}}},
	}
	for fi, f := range filters {
		for _, desc := range []bool{true, false} {
			for _, view := range []store.ViewType{store.ActiveOnly, store.All} {
				orderBy := []search.OrderKey{{Entity: "metric", Key: "acc", Desc: desc}, {Entity: "metric", Key: "loss"}}
				if !filtersMetric(f, "acc") {
					orderBy = orderBy[:1]
				}
				q := store.RunQuery{ExperimentIDs: []string{exp, other}, Filter: f, ViewType: view, OrderBy: orderBy}
				pages := func(from bool) []string {
					searchFromMetric = from
					defer func() { searchFromMetric = true }()
					var ids []string
					for off := 0; off < 200; off += 7 {
						q.Page = store.Page{MaxResults: 7, Offset: off}
						runs, _, err := s.SearchRuns(ctx, q)
						if err != nil {
							t.Fatal(err)
						}
						for _, r := range runs {
							ids = append(ids, r.Info.RunID)
						}
						if len(runs) < 7 {
							break
						}
					}
					return ids
				}
				got, want := pages(true), pages(false)
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("filter %d desc %v view %d: %d runs from the metric, %d by the general plan\n%v\n%v", fi, desc, view, len(got), len(want), got, want)
				}
			}
		}
	}
	if s.d.name() != "sqlite" {
		return // PostgreSQL's plan: TestSearchPlanFreshPostgres
	}
	query, _, err := s.compileRunSearch(store.RunQuery{ExperimentIDs: []string{exp}, Filter: filters[0], OrderBy: []search.OrderKey{{Entity: "metric", Key: "acc", Desc: true}}, Page: store.Page{MaxResults: 10}}, partAll)
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, "acc", 0, "acc", 0.2, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		_ = rows.Scan(&id, &parent, &unused, &detail)
		plan += detail + "\n"
	}
	rows.Close()
	if !strings.Contains(plan, "mltrack_latest_metrics_key_desc") {
		t.Errorf("the page is not read from the metric's index:\n%s", plan)
	}
}

// TestSearchPlanFreshPostgres fills a fresh PostgreSQL database with 2,000
// runs and checks, without any manual ANALYZE, that the filtered,
// metric-ordered search page is read from the ordering metric's index: with
// no statistics the planner joined the filter's index scans in nested loops
// instead (hundreds of times slower).
func TestSearchPlanFreshPostgres(t *testing.T) {
	s, err := Open(context.Background(), testdb.PostgresURI(t), Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "fresh", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			errs <- func() error {
				for i := w; i < 2000; i += 4 {
					r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(i)})
					if err != nil {
						return err
					}
					ms := []mlflow.Metric{{Key: "acc", Value: mlflow.Float(float64(i%1000) / 1000), Timestamp: 1}, {Key: "loss", Value: mlflow.Float(i), Timestamp: 1}}
					ps := []mlflow.Tag{{Key: "opt", Value: []string{"adam", "sgd"}[i%2]}, {Key: "lr", Value: strconv.Itoa(i % 7)}}
					if err := s.LogBatch(ctx, r.Info.RunID, ms, ps, []mlflow.Tag{{Key: "team", Value: "vision"}}); err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	q := store.RunQuery{ExperimentIDs: []string{exp},
		Filter: []search.Comparison{
			{Entity: "metric", Key: "acc", Op: ">", Value: search.Value{Num: 0.2, IsNum: true}},
			{Entity: "param", Key: "opt", Op: "=", Value: search.Value{Str: "adam"}},
		},
		OrderBy: []search.OrderKey{{Entity: "metric", Key: "acc", Desc: true}},
		Page:    store.Page{MaxResults: 100}}
	// The first page is read by keyset paging's first segment; an offset
	// page by the general statement read from the metric's index.
	o, ok := s.seekOrderOf(q)
	if !ok {
		t.Fatal("no keyset order for a metric")
	}
	seekQuery, seekArgs, err := s.compileSeek(q, o, o.segments()[0], nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	query, args, err := s.compileRunSearch(q, partAll)
	if err != nil {
		t.Fatal(err)
	}
	explain := func(query string, args []any) string {
		var plan string
		if err := s.each(ctx, s.db, "EXPLAIN "+query, args, func(rows *sql.Rows) error {
			var line string
			err := rows.Scan(&line)
			plan += line + "\n"
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	var plan string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		plan = explain(seekQuery, seekArgs) + "\n" + explain(query, args)
		if strings.Count(plan, "mltrack_latest_metrics_key_desc on latest_metrics o0") == 2 {
			for _, off := range []int{0, 100} {
				q.Page.Offset = off
				runs, _, err := s.SearchRuns(ctx, q)
				if err != nil || len(runs) != 100 {
					t.Fatalf("search at %d: %d runs, %v", off, len(runs), err)
				}
			}
			return
		}
	}
	t.Errorf("the page is not read from the metric's index:\n%s", plan)
}

// TestSearchSeekSameResults compares keyset paging (search_seek.go: the
// first page from the order's segments, the next ones after the cursor in
// mltrack's page token) with the general plan read by offset, page by page
// at several page sizes, on SQLite and PostgreSQL: runs with tied values and
// start times, NULL start times, NaN, missing metrics, deleted runs and two
// experiments, for each order keyset paging serves and several filters. A
// scan that starts from an MLflow offset token and then follows mltrack's
// tokens must read the same runs too.
func TestSearchSeekSameResults(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testSearchSeekSameResults(t, "sqlite:///"+filepath.Join(t.TempDir(), "k.db"))
	})
	t.Run("postgres", func(t *testing.T) { testSearchSeekSameResults(t, testdb.PostgresURI(t)) })
}

func testSearchSeekSameResults(t *testing.T, uri string) {
	s, err := Open(context.Background(), uri, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "seek", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateExperiment(ctx, "other", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var nullStart []any
	for i := 0; i < 150; i++ {
		e := exp
		if i%10 == 9 {
			e = other
		}
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: e, StartTime: int64(i % 6)})
		if err != nil {
			t.Fatal(err)
		}
		var ms []mlflow.Metric
		switch {
		case i%11 == 0: // no acc
		case i%13 == 0:
			ms = append(ms, mlflow.Metric{Key: "acc", Value: mlflow.Float(math.NaN()), Timestamp: 1})
		case i%19 == 0:
			ms = append(ms, mlflow.Metric{Key: "acc", Value: mlflow.Float(math.Inf(1 - 2*(i%2))), Timestamp: 1})
		default:
			ms = append(ms, mlflow.Metric{Key: "acc", Value: mlflow.Float(float64(i%5) / 4), Timestamp: 1})
		}
		ms = append(ms, mlflow.Metric{Key: "loss", Value: mlflow.Float(i % 4), Timestamp: 1})
		if err := s.LogBatch(ctx, r.Info.RunID, ms, []mlflow.Tag{{Key: "opt", Value: []string{"adam", "sgd"}[i%2]}}, nil); err != nil {
			t.Fatal(err)
		}
		if i%17 == 0 {
			if err := s.DeleteRun(ctx, r.Info.RunID); err != nil {
				t.Fatal(err)
			}
		}
		if i%8 == 3 {
			nullStart = append(nullStart, r.Info.RunID)
		}
	}
	// MLflow's schema allows a NULL start_time (a database other tools wrote).
	if _, err := s.writeDB.ExecContext(ctx, s.q("UPDATE runs SET start_time = NULL WHERE run_uuid IN ("+placeholders(len(nullStart))+")"), nullStart...); err != nil {
		t.Fatal(err)
	}
	num := func(v float64) search.Value { return search.Value{Num: v, IsNum: true} }
	filters := [][]search.Comparison{
		nil,
		{{Entity: "metric", Key: "acc", Op: ">", Value: num(0.2)}},
		{{Entity: "metric", Key: "acc", Op: ">=", Value: num(0)}, {Entity: "param", Key: "opt", Op: "=", Value: search.Value{Str: "adam"}}},
		{{Entity: "param", Key: "opt", Op: "=", Value: search.Value{Str: "sgd"}}},
		{{Entity: "metric", Key: "loss", Op: "<", Value: num(2)}},
	}
	orders := [][]search.OrderKey{
		nil,
		{{Entity: "attribute", Key: "start_time", Desc: true}},
		{{Entity: "metric", Key: "acc", Desc: true}},
		{{Entity: "metric", Key: "acc"}},
	}
	general := func(q store.RunQuery, size int) []string {
		searchSeek, searchFromMetric = false, false
		defer func() { searchSeek, searchFromMetric = true, true }()
		var ids []string
		for off := 0; ; off += size {
			q.Page = store.Page{MaxResults: size, Offset: off}
			runs, _, err := s.SearchRuns(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				ids = append(ids, r.Info.RunID)
			}
			if len(runs) < size {
				return ids
			}
		}
	}
	// follow pages by the tokens SearchRuns returns, from token.
	follow := func(q store.RunQuery, size int, token string) (ids []string, seeks int) {
		for range 1000 {
			off, err := search.DecodeOffsetToken(token)
			if err != nil {
				t.Fatal(err)
			}
			q.Page, q.After = store.Page{MaxResults: size, Offset: off}, search.DecodeRunCursor(token)
			if q.After != nil {
				seeks++
			}
			runs, next, err := s.SearchRuns(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				ids = append(ids, r.Info.RunID)
			}
			if next == "" {
				return ids, seeks
			}
			token = next
		}
		t.Fatal("still paging after 1000 pages")
		return nil, 0
	}
	for fi, f := range filters {
		for oi, ob := range orders {
			for _, view := range []store.ViewType{store.ActiveOnly, store.All} {
				q := store.RunQuery{ExperimentIDs: []string{exp, other}, Filter: f, ViewType: view, OrderBy: ob}
				all := general(q, 1000)
				if len(all) == 0 {
					t.Fatalf("filter %d order %d: nothing matches", fi, oi)
				}
				for _, size := range []int{1, 3, 7, 50, 200} {
					if got := general(q, size); !slices.Equal(got, all) {
						t.Fatalf("filter %d order %d view %d: the general plan's pages of %d differ from one page", fi, oi, view, size)
					}
					got, seeks := follow(q, size, "")
					if !slices.Equal(got, all) {
						t.Errorf("filter %d order %d view %d size %d: keyset pages differ from the general plan\n got %v\nwant %v", fi, oi, view, size, got, all)
					}
					if size < len(all) && seeks == 0 {
						t.Errorf("filter %d order %d view %d size %d: no page was read after a cursor", fi, oi, view, size)
					}
					// From MLflow's offset token, then mltrack's.
					if len(all) > 5 {
						got, _ := follow(q, size, search.EncodeOffsetToken(5))
						if !slices.Equal(got, all[5:]) {
							t.Errorf("filter %d order %d view %d size %d: from an offset token, keyset pages differ\n got %v\nwant %v", fi, oi, view, size, got, all[5:])
						}
					}
				}
				// A cursor of another search is ignored: its offset is used.
				q.After = &search.RunCursor{Query: "other", RunID: all[0]}
				q.Page = store.Page{MaxResults: 3, Offset: 2}
				runs, _, err := s.SearchRuns(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if n := min(len(all), 5); len(runs) != n-2 || (n > 2 && runs[0].Info.RunID != all[2]) {
					t.Errorf("filter %d order %d: a foreign cursor was not ignored", fi, oi)
				}
			}
		}
	}
}
