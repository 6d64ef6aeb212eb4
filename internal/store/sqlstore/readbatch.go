package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Batched reads. A run is read with half a dozen queries (the run, its
// latest metrics, params, tags, inputs, model inputs and outputs). On
// PostgreSQL each is a network round trip, and database/sql hands every
// column of every row over as an interface value before converting it
// again for Scan. So on PostgreSQL the queries of one read go out as one
// pgx batch (one round trip; they run one after another in one implicit
// transaction) on a connection taken from the pool, and rows are scanned
// by pgx itself into their destinations. On SQLite, where a query is a
// function call, they run one by one through the prepared reader
// statements.

// rowScanner is what *sql.Rows and pgx.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// readQuery is one query of a read batch and what to do with each row.
type readQuery struct {
	what  string // for errors: "load params"
	query string // with ? placeholders
	args  []any
	row   func(rowScanner) error
}

// readBatch runs the queries on the reader pool and calls each one's row
// function for its rows, in order: the rows of one query are all handled
// before those of the next.
func (s *Store) readBatch(ctx context.Context, qs []readQuery) error {
	if s.d.name() != "postgres" {
		for _, q := range qs {
			if err := s.each(ctx, s.reader(), q.query, q.args, func(rows *sql.Rows) error { return q.row(rows) }); err != nil {
				return fmt.Errorf("store: %s: %w", q.what, err)
			}
		}
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: %w", qs[0].what, err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: %s: unexpected driver connection %T", qs[0].what, dc)
		}
		b := &pgx.Batch{}
		for _, q := range qs {
			b.Queue(s.q(q.query), q.args...)
		}
		br := c.Conn().SendBatch(ctx, b)
		for _, q := range qs {
			if err := eachBatchRow(br, q.row); err != nil {
				_ = br.Close()
				return fmt.Errorf("store: %s: %w", q.what, err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("store: %s: %w", qs[len(qs)-1].what, err)
		}
		return nil
	})
}

func eachBatchRow(br pgx.BatchResults, fn func(rowScanner) error) error {
	rows, err := br.Query()
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

// inList is the condition "IN (?, ...)" on a column for the ids, with its
// arguments; on PostgreSQL "= ANY(?)" with one array argument instead, so
// that the statement's text (and pgx's prepared statement) is the same
// whatever the number of ids.
func (s *Store) inList(ids []string) (string, []any) {
	if s.d.name() == "postgres" {
		return "= ANY(?)", []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "IN (" + placeholders(len(ids)) + ")", args
}
