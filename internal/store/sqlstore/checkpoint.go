package sqlstore

import (
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// WAL checkpoints off the write path (SQLite). In WAL mode every commit
// appends pages to the -wal file, and by default the committing connection
// copies them back into the database once the WAL holds 1000 pages: a write
// request now and then pays for the pages of the ones before it. Here a
// connection of its own runs PASSIVE checkpoints (which never block the
// writer or readers) a moment after writes, on another core, and the writer
// keeps SQLite's own automatic checkpoint only as a backstop for when this
// one falls behind (checkpointBackstopPages).

const (
	// checkpointEvery is the shortest time between two checkpoints; each
	// ends with an fsync of the database file.
	checkpointEvery = 200 * time.Millisecond
	// checkpointBackstopPages is the writer's wal_autocheckpoint.
	checkpointBackstopPages = 10000
)

type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup
}

// startCheckpointer checkpoints through db, a connection of its own to the
// store's database, after writes (wrote).
func (s *Store) startCheckpointer(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), quit: make(chan struct{})}
	s.ckpt = c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case <-c.kick:
			case <-c.quit:
				return
			}
			select { // let the writes of this moment land first
			case <-time.After(checkpointEvery):
			case <-c.quit:
				return
			}
			var busy, frames, copied int
			if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
				slog.Warn("sqlite checkpoint", "err", err)
			}
		}
	}()
}

// wrote tells the checkpointer that a write transaction committed.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.stop.Do(func() { close(c.quit) })
	c.wg.Wait()
	return c.db.Close()
}
