// Package sqlstore is the SQL implementation of the store interfaces, on
// SQLite and PostgreSQL, in MLflow's own schema. Queries are written once
// with `?` placeholders; the few dialect differences live in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"                   // registers the "pgx" driver
	_ "github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver
)

// Options configures a Store.
type Options struct {
	// DefaultArtifactRoot is where new experiments' artifacts go:
	// "mlflow-artifacts:" when the server proxies artifacts, else a URI or
	// folder. A new experiment's location is DefaultArtifactRoot + "/" + id
	// ("mlflow-artifacts:/<id>" for the proxy).
	DefaultArtifactRoot string
	// MaxOpenConns sizes the PostgreSQL pool (default 16) and the SQLite
	// reader pool (default 4).
	MaxOpenConns int
}

// Store is the SQL store. It is safe for concurrent use.
type Store struct {
	d       dialect
	db      *sql.DB // readers (and writers on PostgreSQL)
	writeDB *sql.DB // the single SQLite writer connection; == db on PostgreSQL
	opts    Options

	rebound sync.Map // query text with ? -> dialect's text

	wstmts *writerStmts  // SQLite: statements prepared on the writer
	group  *groupWriter  // SQLite: the group-commit writer
	ckpt   *checkpointer // SQLite: WAL checkpoints off the write path
	rstmts readStmts     // SQLite: statements prepared on the readers

	analyzer     *analyzer     // PostgreSQL: keeps planner statistics fresh
	metricWriter *metricWriter // PostgreSQL: merges concurrent metric writes

	webhookEvents atomic.Int64 // events this store queued for webhooks
}

// Open connects to the database named by an MLflow backend store URI
// (sqlite:///relative.db, sqlite:////abs/path.db, postgresql://...,
// postgresql+psycopg2://...), creates MLflow's schema in an empty database,
// and checks an existing one.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	if opts.DefaultArtifactRoot == "" {
		opts.DefaultArtifactRoot = "mlflow-artifacts:"
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 16
	}
	scheme, _, ok := strings.Cut(uri, "://")
	if !ok {
		return nil, fmt.Errorf("store: backend store URI %q has no scheme (want sqlite:///path or postgresql://...)", uri)
	}
	if i := strings.IndexByte(scheme, '+'); i >= 0 { // postgresql+psycopg2 and friends
		scheme = scheme[:i]
	}
	s := &Store{opts: opts}
	var err error
	switch scheme {
	case "sqlite":
		err = s.openSQLite(uri)
	case "postgresql", "postgres":
		err = s.openPostgres(uri)
	default:
		return nil, fmt.Errorf("store: unsupported backend store URI scheme %q (want sqlite or postgresql)", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := s.ensureSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareWriter(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.startGroupWriter()
	s.startAnalyzer()
	s.startMetricWriters()
	return s, nil
}

// sqlitePath turns sqlite:///rel/x.db into rel/x.db and sqlite:////abs/x.db
// into /abs/x.db, as SQLAlchemy does. sqlite:// alone is an in-memory database.
func sqlitePath(uri string) (path string, query string) {
	rest := strings.TrimPrefix(uri, "sqlite://")
	rest, query, _ = strings.Cut(rest, "?")
	if rest == "" || rest == "/" || rest == "/:memory:" {
		return ":memory:", query
	}
	return strings.TrimPrefix(rest, "/"), query
}

// CheckSQLitePath refuses a SQLite database file whose folder does not
// exist or is not a folder, naming the path: mltrack creates the file, not
// folders, as MLflow (SQLAlchemy's sqlite fails "unable to open database
// file" there), so that a mistyped path is an error at start-up rather than
// a new, empty database somewhere unexpected.
func CheckSQLitePath(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("SQLite database %s: its folder %s does not exist (create it, or fix the path: sqlite:///relative/path.db or sqlite:////absolute/path.db)", sqliteAbs(path), sqliteAbs(dir))
	case err != nil:
		return fmt.Errorf("SQLite database %s: %w", sqliteAbs(path), err)
	case !st.IsDir():
		return fmt.Errorf("SQLite database %s: %s is not a folder", sqliteAbs(path), sqliteAbs(dir))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("SQLite database %s is a folder, not a file", sqliteAbs(path))
	}
	return nil
}

// sqliteAbs is a database path as an error shows it: absolute, so that a
// relative path's working directory is visible.
func sqliteAbs(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (s *Store) openSQLite(uri string) error {
	s.d = sqliteDialect{}
	path, _ := sqlitePath(uri)
	memory := path == ":memory:"
	if !memory {
		if err := CheckSQLitePath(path); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=case_sensitive_like(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	var dsn string
	if memory {
		// One shared in-memory database for every connection.
		dsn = "file:mltrack-mem-" + randomID()[:12] + "?mode=memory&cache=shared&" + pragmas
	} else {
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=journal_mode(WAL)&" + pragmas
	}
	wdsn := dsn
	if !memory {
		wdsn += "&_pragma=wal_autocheckpoint(" + strconv.Itoa(checkpointBackstopPages) + ")"
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// SQLite has one writer at a time: one connection for all writes means
	// writers queue in Go instead of failing with "database is locked".
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil {
		// SQLite's own message ("unable to open database file (14)")
		// does not say which file.
		w.Close()
		return fmt.Errorf("store: open SQLite database %s: %w", sqliteAbs(path), err)
	}
	s.writeDB = w
	if memory {
		s.db = w
		return nil
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	n := min(s.opts.MaxOpenConns, 4)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.db = r
	c, err := sql.Open("sqlite", dsn)
	if err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	s.startCheckpointer(c)
	return nil
}

func (s *Store) openPostgres(uri string) error {
	s.d = postgresDialect{}
	// pgx understands postgres:// and postgresql:// but not the driver suffix.
	if scheme, rest, _ := strings.Cut(uri, "://"); strings.Contains(scheme, "+") {
		uri = "postgresql://" + rest
	}
	if _, err := pgx.ParseConfig(uri); err != nil {
		// pgx's message quotes the URI, and for a password with reserved
		// characters pieces of the password with it.
		return fmt.Errorf("store: the PostgreSQL URI %s does not parse as postgresql://user:password@host:port/database?options; URL-encode reserved characters of the password (@ as %%40, / as %%2F, : as %%3A, # as %%23, ? as %%3F, %% as %%25) or pass the password apart in PGPASSWORD", redactedPostgresURI(uri))
	}
	db, err := sql.Open("pgx", uri)
	if err != nil {
		return fmt.Errorf("store: open postgresql: %w", err)
	}
	db.SetMaxOpenConns(s.opts.MaxOpenConns)
	db.SetMaxIdleConns(s.opts.MaxOpenConns)
	s.db, s.writeDB = db, db
	return nil
}

// redactedPostgresURI shows a URI that did not parse without anything
// between the scheme and the last "@" (where a password would be).
func redactedPostgresURI(uri string) string {
	scheme, rest, _ := strings.Cut(uri, "://")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		return scheme + "://xxxxx@" + rest[i+1:]
	}
	return scheme + "://" + rest
}

// Close closes the database connections.
func (s *Store) Close() error {
	s.stopGroupWriter()
	s.stopMetricWriters()
	s.stopAnalyzer()
	s.closeStmts()
	errs := []error{s.ckpt.close()}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.writeDB != nil && s.writeDB != s.db {
		errs = append(errs, s.writeDB.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.writeDB.PingContext(ctx) }

// Dialect names the SQL dialect: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name() }

// q rewrites a query written with ? placeholders for the dialect.
func (s *Store) q(query string) string {
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	r := s.d.rebind(query)
	s.rebound.Store(query, r)
	return r
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader is the pool for read-only queries. On SQLite a read right after a
// write by the same client sees it (WAL readers see committed data).
func (s *Store) reader() querier { return s.db }
