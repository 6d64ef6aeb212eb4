package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// SchemaRevision is the alembic revision of MLflow's schema that mltrack
// creates and expects (MLflow 3.6).
const SchemaRevision = "1b5f0d9ad7c1"

var (
	//go:embed schema/sqlite.sql
	sqliteSchema string
	//go:embed schema/postgres.sql
	postgresSchema string
	// revisions lists MLflow's alembic revisions in upgrade order, ending
	// with SchemaRevision.
	//go:embed schema/revisions.txt
	revisionList string
)

// ErrSchema is wrapped by every refusal to use a database's schema.
var ErrSchema = errors.New("store: unusable database schema")

// ensureSchema creates MLflow's schema in an empty database and checks the
// revision of an existing one. A database it refuses is left untouched.
func (s *Store) ensureSchema(ctx context.Context) error {
	has, err := s.hasTable(ctx, "alembic_version")
	if err != nil {
		return fmt.Errorf("store: inspect database: %w", err)
	}
	if !has {
		n, err := s.countTables(ctx)
		if err != nil {
			return fmt.Errorf("store: inspect database: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: the database has %d tables but no alembic_version table; it was not created by MLflow or mltrack, so mltrack leaves it alone (point --backend-store-uri at an empty database or an MLflow one)", ErrSchema, n)
		}
		return s.createSchema(ctx)
	}
	var rev string
	err = s.writeDB.QueryRowContext(ctx, "SELECT version_num FROM alembic_version").Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		// MLflow may have died between creating tables and stamping them.
		return fmt.Errorf("%w: alembic_version is empty; the database was never fully created; run `mlflow db upgrade <uri>` or start from an empty database", ErrSchema)
	}
	if err != nil {
		return fmt.Errorf("store: read schema revision: %w", err)
	}
	return s.checkRevision(ctx, rev)
}

func (s *Store) checkRevision(ctx context.Context, rev string) error {
	revs := strings.Fields(revisionList)
	i := slices.Index(revs, rev)
	switch {
	case rev == SchemaRevision:
		return nil
	case i >= 0:
		return fmt.Errorf("%w: the database is at MLflow schema revision %s, older than the %s (MLflow 3.6) that mltrack needs; upgrade it first with `mlflow db upgrade <backend-store-uri>` (MLflow 3.6 or newer), then start mltrack again", ErrSchema, rev, SchemaRevision)
	}
	// An unknown revision: most likely a newer MLflow. Its migrations add,
	// they rarely remove, so use it when everything mltrack reads is there.
	missing, err := s.missingColumns(ctx)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the database is at unknown MLflow schema revision %s and lacks %s; mltrack needs MLflow's schema at %s or a newer one that keeps these", ErrSchema, rev, strings.Join(missing, ", "), SchemaRevision)
	}
	return nil
}

func (s *Store) hasTable(ctx context.Context, name string) (bool, error) {
	var q string
	if s.d.name() == "sqlite" {
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	} else {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	err := s.writeDB.QueryRowContext(ctx, s.q(q), name).Scan(&n)
	return n > 0, err
}

func (s *Store) countTables(ctx context.Context) (int, error) {
	var q string
	if s.d.name() == "sqlite" {
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	} else {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	var n int
	err := s.writeDB.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

// createSchema creates every table, index and initial row in one transaction.
func (s *Store) createSchema(ctx context.Context) error {
	schema := sqliteSchema
	if s.d.name() == "postgres" {
		schema = postgresSchema
	}
	now := time.Now().UnixMilli()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.d.name() == "postgres" {
			// Replicas starting together on an empty database: one creates.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7236851)"); err != nil {
				return fmt.Errorf("store: lock for schema creation: %w", err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'alembic_version'").Scan(&n); err != nil {
				return fmt.Errorf("store: inspect database: %w", err)
			}
			if n > 0 {
				return nil // another replica created it meanwhile
			}
		}
		for _, stmt := range splitStatements(schema) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: create schema: %w (in %.80q)", err, stmt)
			}
		}
		inits := []struct {
			q    string
			args []any
		}{
			{"INSERT INTO alembic_version (version_num) VALUES (?)", []any{SchemaRevision}},
			{"INSERT INTO workspaces (name, description) VALUES ('default', 'Default workspace for legacy resources')", nil},
			{"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace) VALUES (0, 'Default', ?, 'active', ?, ?, 'default')",
				[]any{s.experimentLocation("0"), now, now}},
		}
		for _, in := range inits {
			if _, err := tx.ExecContext(ctx, s.q(in.q), in.args...); err != nil {
				return fmt.Errorf("store: insert initial rows: %w", err)
			}
		}
		if s.d.name() == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT setval('experiments_experiment_id_seq', 1, false)"); err != nil {
				return fmt.Errorf("store: set experiment id sequence: %w", err)
			}
		}
		return nil
	})
}

// experimentLocation is the artifact location of a new experiment.
func (s *Store) experimentLocation(id string) string {
	return mlflow.AppendURIPath(s.opts.DefaultArtifactRoot, id)
}

// splitStatements splits a schema file into statements (no statement in
// MLflow's schema has a semicolon inside it).
func splitStatements(schema string) []string {
	var out []string
	for _, st := range strings.Split(schema, ";\n") {
		var lines []string
		for _, l := range strings.Split(st, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		if st := strings.TrimSpace(strings.Join(lines, "\n")); st != "" {
			out = append(out, strings.TrimSuffix(st, ";"))
		}
	}
	return out
}

var (
	createTableRe = regexp.MustCompile(`(?m)^CREATE TABLE (?:IF NOT EXISTS )?"?(\w+)"? \(`)
	columnRe      = regexp.MustCompile(`^\t"?(\w+)"? [A-Z]`)
)

// schemaColumns lists table -> columns of the schema mltrack creates.
func schemaColumns() map[string][]string {
	cols := map[string][]string{}
	var table string
	for _, l := range strings.Split(sqliteSchema, "\n") {
		if m := createTableRe.FindStringSubmatch(l); m != nil {
			table = m[1]
			continue
		}
		if table == "" {
			continue
		}
		if strings.HasPrefix(l, ")") {
			table = ""
			continue
		}
		// Columns added by ALTER TABLE sit on one line after another column.
		for _, part := range strings.Split(l, ", ") {
			if !strings.HasPrefix(part, "\t") {
				part = "\t" + part
			}
			if m := columnRe.FindStringSubmatch(part); m != nil && m[1] != "CONSTRAINT" && m[1] != "FOREIGN" && m[1] != "CHECK" && m[1] != "PRIMARY" && m[1] != "UNIQUE" {
				cols[table] = append(cols[table], m[1])
			}
		}
	}
	return cols
}

// missingColumns reports the tables and columns of MLflow 3.6's schema that
// the database lacks.
func (s *Store) missingColumns(ctx context.Context) ([]string, error) {
	q := "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
	if s.d.name() == "sqlite" {
		q = "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p WHERE m.type = 'table'"
	}
	rows, err := s.writeDB.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: inspect columns: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("store: inspect columns: %w", err)
		}
		have[t+"."+c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: inspect columns: %w", err)
	}
	var missing []string
	for table, cols := range schemaColumns() {
		for _, c := range cols {
			if !have[table+"."+c] {
				missing = append(missing, table+"."+c)
			}
		}
	}
	slices.Sort(missing)
	return missing, nil
}
