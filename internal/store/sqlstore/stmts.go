package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// Prepared statements, on SQLite only: modernc's SQLite parses every
// statement text it is given, and parsing a 500-row INSERT costs about as
// much as running it. (pgx caches prepared statements per connection by
// itself.)
//
// The writer statements are prepared once at Open, on the single writer
// connection, and used inside transactions through tx.StmtContext, which
// finds them already prepared on the transaction's connection. They cannot
// be prepared lazily: preparing on the writer pool while a transaction
// holds its only connection would wait forever.

// stmtKey names a multi-row INSERT of n rows.
type stmtKey struct {
	head, tail string
	n          int
}

// maxChunk is the largest multi-row INSERT prepared; a batch is written in
// chunks of 512, 256, ..., 1 rows.
const maxChunk = 512

// preparedInserts are the inserts of the metric write path.
var preparedInserts = []struct {
	head  string
	ncols int
	tail  string
}{
	{metricsInsert, 6, metricsInsertTail},
	{latestInsert, 6, latestInsertTail},
}

// preparedQueries are fixed statements of the write path.
var preparedQueries = []string{runStateQuery, "SAVEPOINT request", "ROLLBACK TO request", "RELEASE request"}

// writerStmts are statements prepared on the SQLite writer connection.
type writerStmts struct {
	inserts map[stmtKey]*sql.Stmt
	queries map[string]*sql.Stmt
}

func (s *Store) prepareWriter(ctx context.Context) error {
	if s.d.name() != "sqlite" {
		return nil
	}
	w := &writerStmts{inserts: map[stmtKey]*sql.Stmt{}, queries: map[string]*sql.Stmt{}}
	for _, ins := range preparedInserts {
		for n := 1; n <= maxChunk; n *= 2 {
			st, err := s.writeDB.PrepareContext(ctx, insertText(ins.head, ins.ncols, n, ins.tail))
			if err != nil {
				return fmt.Errorf("store: prepare: %w", err)
			}
			w.inserts[stmtKey{ins.head, ins.tail, n}] = st
		}
	}
	for _, q := range preparedQueries {
		st, err := s.writeDB.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		w.queries[q] = st
	}
	s.wstmts = w
	return nil
}

// insertText is `head VALUES (?, ...), ... tail` for n rows of ncols.
func insertText(head string, ncols, n int, tail string) string {
	row := "(" + placeholders(ncols) + ")"
	var b strings.Builder
	b.Grow(len(head) + len(tail) + n*(len(row)+2) + 8)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	return b.String()
}

// preparedInsert returns the writer's statement for n rows, or nil.
func (s *Store) preparedInsert(head, tail string, n int) *sql.Stmt {
	if s.wstmts == nil {
		return nil
	}
	return s.wstmts.inserts[stmtKey{head, tail, n}]
}

// queryRowTx runs a single-row query in a write transaction, prepared when
// it is one of preparedQueries.
func (s *Store) queryRowTx(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	if tx, ok := q.(*sql.Tx); ok && s.wstmts != nil {
		if st := s.wstmts.queries[query]; st != nil {
			return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
	}
	return q.QueryRowContext(ctx, s.q(query), args...)
}

// readStmts caches statements prepared on the SQLite reader pool, for the
// fixed-shape queries of reads (database/sql prepares each again on every
// pooled connection that runs it, once).
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxReadStmts bounds the reader statement cache: queries with IN lists
// come in many shapes (one per list length), and past this many the rest
// are run unprepared.
const maxReadStmts = 256

// readStmt returns query prepared on the reader pool (SQLite), or nil on
// PostgreSQL or when the cache is full.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s.d.name() != "sqlite" {
		return nil, nil
	}
	s.rstmts.mu.Lock()
	defer s.rstmts.mu.Unlock()
	if st := s.rstmts.m[query]; st != nil {
		return st, nil
	}
	if len(s.rstmts.m) >= maxReadStmts {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.rstmts.m == nil {
		s.rstmts.m = map[string]*sql.Stmt{}
	}
	s.rstmts.m[query] = st
	return st, nil
}

// closeStmts closes the prepared statements.
func (s *Store) closeStmts() {
	if w := s.wstmts; w != nil {
		for _, st := range w.inserts {
			st.Close()
		}
		for _, st := range w.queries {
			st.Close()
		}
	}
	s.rstmts.mu.Lock()
	for _, st := range s.rstmts.m {
		st.Close()
	}
	s.rstmts.m = nil
	s.rstmts.mu.Unlock()
}
