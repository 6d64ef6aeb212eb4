package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit (SQLite): SQLite has one writer at a time, and each commit
// appends every page the transaction touched to the WAL. Write requests
// arriving together (log-metric from many clients) are therefore run by one
// writer goroutine in one transaction, each in a SAVEPOINT of its own so
// that one request's error undoes only its own writes. Every request is
// answered after the COMMIT that includes it (or with the error that undid
// it), so a 200 still means the data is committed.

// maxGroup bounds the requests of one group transaction.
const maxGroup = 64

type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	err  error
	done chan error
}

type groupWriter struct {
	reqs chan *writeReq
	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup
}

// errClosed answers writes after Close.
var errClosed = errors.New("store: closed")

func (s *Store) startGroupWriter() {
	if s.d.name() != "sqlite" || s.db == s.writeDB { // in-memory: one connection for everything
		return
	}
	g := &groupWriter{reqs: make(chan *writeReq, maxGroup), quit: make(chan struct{})}
	s.group = g
	g.wg.Go(func() {
		serveBatches(g.reqs, g.quit, maxGroup, func(r *writeReq) { r.done <- errClosed }, func(batch []*writeReq) {
			s.runGroup(batch)
			s.ckpt.wrote()
		})
	})
}

// serveBatches takes requests from reqs until quit is closed: each time
// the first to arrive and all others already queued (at most max), handed
// to run together. Once quit is closed, what is still queued is refused.
func serveBatches[R any](reqs chan R, quit chan struct{}, max int, refuse func(R), run func([]R)) {
	for {
		var first R
		select {
		case first = <-reqs:
		case <-quit:
			for {
				select {
				case r := <-reqs:
					refuse(r)
				default:
					return
				}
			}
		}
		batch := []R{first}
	fill:
		for len(batch) < max {
			select {
			case r := <-reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		run(batch)
	}
}

func (s *Store) stopGroupWriter() {
	if g := s.group; g != nil {
		g.stop.Do(func() { close(g.quit) })
		g.wg.Wait()
	}
}

// tx runs fn in one write transaction, committed when fn returns nil. On
// SQLite it goes through the group writer.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	g := s.group
	if g == nil {
		return s.txDirect(ctx, fn)
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	return submit(ctx, g.reqs, g.quit, r, r.done)
}

// submit queues r for a serveBatches loop and waits for its answer on done.
// A request that could not be queued (ctx done, store closed) gets the
// reason; once queued, it is always answered.
func submit[R any](ctx context.Context, reqs chan<- R, quit <-chan struct{}, r R, done <-chan error) error {
	select {
	case reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-quit:
		return errClosed
	}
	return <-done
}

// txDirect runs fn in a transaction of its own.
func (s *Store) txDirect(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// runGroup runs queued requests in one transaction and answers each.
func (s *Store) runGroup(batch []*writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].done <- s.txDirect(live[0].ctx, live[0].fn)
		return
	}
	fail := func(err error) {
		for _, r := range live {
			r.done <- err
		}
	}
	tx, err := s.writeDB.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return
	}
	ctx := context.Background()
	for _, r := range live {
		if _, err := s.execTx(ctx, tx, "SAVEPOINT request"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		if r.err = r.fn(tx); r.err != nil {
			// Undo this request's writes only. If even that fails, the
			// transaction is in an unknown state: undo everything.
			if _, err := s.execTx(ctx, tx, "ROLLBACK TO request"); err != nil {
				_ = tx.Rollback()
				fail(fmt.Errorf("store: rollback to savepoint: %w (after %w)", err, r.err))
				return
			}
		}
		if _, err := s.execTx(ctx, tx, "RELEASE request"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("store: release savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("store: commit: %w", err))
		return
	}
	for _, r := range live {
		r.done <- r.err
	}
}

// execTx runs a statement in tx, prepared when it is one of preparedQueries.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s.wstmts != nil {
		if st := s.wstmts.queries[query]; st != nil {
			return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	return tx.ExecContext(ctx, s.q(query), args...)
}
