package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Planner statistics (PostgreSQL). The planner chooses plans from the
// statistics ANALYZE collects, and autovacuum analyzes a table only after
// autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × rows
// changes, checked every autovacuum_naptime (a minute), and never when
// autovacuum is off. Until then a fresh database has no statistics and the
// planner guesses one row per table: a filtered, metric-ordered runs/search
// over 2,000 new runs joined the filter's index scans in nested loops
// (960,000 index entries read, 600 ms) instead of walking the ordering
// metric's index (3 ms).
//
// So the store applies autovacuum's own rule itself, promptly: at Open, when
// the store has written analyzeRows rows since its last check (at most once
// per analyzeGap), and every analyzeEvery for what other replicas wrote, it
// lists MLflow's tables whose changes since their last ANALYZE pass that
// threshold and analyzes them. The check is one catalog query; ANALYZE reads
// a bounded sample (300 × default_statistics_target rows) whatever the
// table's size. Replicas sharing the database take turns through an advisory
// lock: one analyzes, the others skip.

const (
	analyzeRows  = 500
	analyzeGap   = time.Second
	analyzeEvery = 10 * time.Second
	// analyzeLock is the advisory lock key of the analyze pass.
	analyzeLock = 7236852
)

// staleTablesQuery lists the store's tables whose changes since their last
// ANALYZE exceed autovacuum's threshold (per-table storage parameters
// aside).
const staleTablesQuery = `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
	WHERE s.schemaname = current_schema() AND s.relname = ANY(?)
	AND s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
		+ current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
	ORDER BY s.relname`

type analyzer struct {
	tables  []string     // MLflow's tables
	written atomic.Int64 // rows written since the last poke
	poke    chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (s *Store) startAnalyzer() {
	if s.d.name() != "postgres" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &analyzer{poke: make(chan struct{}, 1), cancel: cancel}
	for t := range schemaColumns() {
		a.tables = append(a.tables, t)
	}
	s.analyzer = a
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		tick := time.NewTicker(analyzeEvery)
		defer tick.Stop()
		for {
			if err := s.analyzeStale(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("store: analyze", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(analyzeGap):
			}
			select {
			case <-ctx.Done():
				return
			case <-a.poke:
			case <-tick.C:
			}
		}
	}()
}

func (s *Store) stopAnalyzer() {
	if a := s.analyzer; a != nil {
		a.cancel()
		a.wg.Wait()
	}
}

// wrote counts rows the store wrote, and asks for a statistics check once
// they add up to analyzeRows.
func (s *Store) wrote(rows int) {
	a := s.analyzer
	if a == nil {
		return
	}
	if a.written.Add(int64(rows)) < analyzeRows {
		return
	}
	a.written.Store(0)
	select {
	case a.poke <- struct{}{}:
	default:
	}
}

// analyzeStale analyzes the tables whose statistics are missing or stale,
// unless another replica is doing so.
func (s *Store) analyzeStale(ctx context.Context) error {
	return s.txDirect(ctx, func(tx *sql.Tx) error {
		var mine bool
		if err := tx.QueryRowContext(ctx, s.q("SELECT pg_try_advisory_xact_lock(?)"), analyzeLock).Scan(&mine); err != nil {
			return fmt.Errorf("store: analyze lock: %w", err)
		}
		if !mine {
			return nil
		}
		var stale []string
		if err := s.each(ctx, tx, staleTablesQuery, []any{s.analyzer.tables}, func(rows *sql.Rows) error {
			var t string
			if err := rows.Scan(&t); err != nil {
				return err
			}
			stale = append(stale, t)
			return nil
		}); err != nil {
			return fmt.Errorf("store: find stale statistics: %w", err)
		}
		for _, t := range stale {
			// t is one of MLflow's table names, matched by the query above.
			if _, err := tx.ExecContext(ctx, "ANALYZE "+t); err != nil {
				return fmt.Errorf("store: analyze %s: %w", t, err)
			}
		}
		return nil
	})
}
