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
	query, args, err := s.compileRunSearch(q, partAll)
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		plan = ""
		if err := s.each(ctx, s.db, "EXPLAIN "+query, args, func(rows *sql.Rows) error {
			var line string
			err := rows.Scan(&line)
			plan += line + "\n"
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "mltrack_latest_metrics_key_desc on latest_metrics o0") {
			runs, _, err := s.SearchRuns(ctx, q)
			if err != nil || len(runs) != 100 {
				t.Fatalf("search: %d runs, %v", len(runs), err)
			}
			return
		}
	}
	t.Errorf("the page is not read from the metric's index:\n%s", plan)
}
