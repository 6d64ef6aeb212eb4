package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/testdb"
	"github.com/mltrack/mltrack/internal/testshared"
)

// readShared reads a file of the project's reference material, ../shared
// beside the module root.
func readShared(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(testshared.Path(t, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func open(t *testing.T, uri string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), uri, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", uri, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqliteSchema is the sorted list of CREATE statements of a SQLite file.
func sqliteSchema(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// mltrack's own indexes (mltrack_*, see indexes.go) are checked apart.
	rows, err := db.Query("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'mltrack%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s+";")
	}
	slices.Sort(out)
	return out
}

func TestSQLiteSchemaIsMLflows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlflow.db")
	open(t, "sqlite:///"+path).Close()
	got := sqliteSchema(t, path)
	var want []string
	for _, st := range strings.Split(readShared(t, "mlflow-schema/sqlite-schema.sql"), ";\n") {
		if st = strings.TrimSpace(st); st != "" {
			// sqlite3 .schema shows tables rebuilt by migrations as
			// "IF NOT EXISTS"; sqlite_master holds them without it.
			st = strings.Replace(st, "CREATE TABLE IF NOT EXISTS ", "CREATE TABLE ", 1)
			want = append(want, strings.TrimSuffix(st, ";")+";")
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("missing or different: %.200s", w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("extra: %.200s", g)
			}
		}
	}
	db, _ := sql.Open("sqlite", "file:"+path+"?mode=ro")
	defer db.Close()
	var extra []string
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'mltrack%' AND sql IS NOT NULL ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		extra = append(extra, n)
	}
	rows.Close()
	if !slices.Equal(extra, mltrackIndexes) {
		t.Errorf("mltrack's indexes = %v, want %v", extra, mltrackIndexes)
	}
	var tables []string
	rows, err = db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'mltrack%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if !slices.Equal(tables, mltrackTables) {
		t.Errorf("mltrack's tables = %v, want %v", tables, mltrackTables)
	}
	var rev, name, loc, ws string
	if err := db.QueryRow("SELECT version_num FROM alembic_version").Scan(&rev); err != nil || rev != "1b5f0d9ad7c1" {
		t.Errorf("alembic_version = %q, %v", rev, err)
	}
	if err := db.QueryRow("SELECT name, artifact_location, workspace FROM experiments WHERE experiment_id = 0").Scan(&name, &loc, &ws); err != nil ||
		name != "Default" || loc != "mlflow-artifacts:/0" || ws != "default" {
		t.Errorf("experiment 0 = %q %q %q, %v", name, loc, ws, err)
	}
}

var pgNoise = regexp.MustCompile(`(?m)^(--.*|\\(un)?restrict .*|SET .*|SELECT pg_catalog\.set_config.*)$`)

func normalizePgDump(s string) string {
	s = pgNoise.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "public.", "")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// mltrackIndexes are the indexes mltrack adds to MLflow's schema
// (indexes.go, docs/architecture.md), sorted.
var mltrackIndexes = []string{"mltrack_dataset_records_page", "mltrack_latest_metrics_key_asc", "mltrack_latest_metrics_key_desc", "mltrack_metrics_run_key_time", "mltrack_runs_experiment_start",
	"mltrack_webhook_deliveries_webhook", "mltrack_webhook_outbox_due", "mltrack_webhook_outbox_webhook"}

// mltrackTables are mltrack's own tables (webhook delivery, webhooks.go), sorted.
var mltrackTables = []string{"mltrack_webhook_deliveries", "mltrack_webhook_outbox"}

// splitMltrackTables takes the CREATE TABLE blocks and the constraints of
// mltrack's own tables out of a pg_dump and returns their names, sorted.
func splitMltrackTables(dump string) (string, []string) {
	var keep, names []string
	lines := strings.Split(dump, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if rest, ok := strings.CutPrefix(l, "CREATE TABLE mltrack"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, "mltrack"+name)
			for i < len(lines) && lines[i] != ");" {
				i++
			}
			continue
		}
		if strings.HasPrefix(l, "ALTER TABLE ONLY mltrack") {
			i++ // and its ADD CONSTRAINT line
			continue
		}
		keep = append(keep, l)
	}
	slices.Sort(names)
	return strings.Join(keep, "\n"), names
}

// splitMltrackIndexes takes mltrack's CREATE INDEX lines out of a pg_dump
// and returns their index names, sorted.
func splitMltrackIndexes(dump string) (string, []string) {
	var keep, names []string
	for _, l := range strings.Split(dump, "\n") {
		if rest, ok := strings.CutPrefix(l, "CREATE INDEX mltrack"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, "mltrack"+name)
			continue
		}
		keep = append(keep, l)
	}
	slices.Sort(names)
	return strings.Join(keep, "\n"), names
}

func TestPostgresSchemaIsMLflows(t *testing.T) {
	uri := testdb.PostgresURI(t)
	open(t, uri).Close()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Fatalf("pg_dump is needed to compare schemas: %v", err)
	}
	out, err := exec.Command("pg_dump", "--schema-only", "--no-owner", "--no-privileges", uri).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	got := normalizePgDump(string(out))
	var extra []string
	got, extra = splitMltrackIndexes(got)
	if !slices.Equal(extra, mltrackIndexes) {
		t.Errorf("mltrack's indexes = %v, want %v", extra, mltrackIndexes)
	}
	got, extra = splitMltrackTables(got)
	if !slices.Equal(extra, mltrackTables) {
		t.Errorf("mltrack's tables = %v, want %v", extra, mltrackTables)
	}
	want := normalizePgDump(readShared(t, "mlflow-schema/postgres-schema.sql"))
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("schema differs from MLflow's at line %d:\n got: %s\nwant: %s", i+1, g, w)
			}
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpensMLflowDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlflow.db")
	copyFile(t, testshared.Path(t, "mlflow-db", "mlflow-3.6.sqlite"), path)
	s := open(t, "sqlite:///"+path)
	e, err := s.GetExperimentByName(context.Background(), "food11-classifier")
	if err != nil || e.ExperimentID != "1" {
		t.Fatalf("food11-classifier = %+v, %v", e, err)
	}
}

func TestRefusesOlderRevisionUntouched(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		open(t, uri).Close()
		raw := rawDB(t, uri)
		if _, err := raw.ExecContext(ctx, "UPDATE alembic_version SET version_num = 'bf29a5ff90ea'"); err != nil {
			t.Fatal(err)
		}
		before := countExperiments(t, raw)
		_, err := sqlstore.Open(ctx, uri, sqlstore.Options{})
		if !errors.Is(err, sqlstore.ErrSchema) || !strings.Contains(err.Error(), "mlflow db upgrade") {
			t.Fatalf("older revision: err = %v, want ErrSchema telling to run mlflow db upgrade", err)
		}
		var rev string
		_ = raw.QueryRowContext(ctx, "SELECT version_num FROM alembic_version").Scan(&rev)
		if rev != "bf29a5ff90ea" || countExperiments(t, raw) != before {
			t.Fatalf("database was modified: revision %q", rev)
		}
	})
}

func TestNewerRevision(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		open(t, uri).Close()
		raw := rawDB(t, uri)
		if _, err := raw.ExecContext(ctx, "UPDATE alembic_version SET version_num = 'ffffffffffff'"); err != nil {
			t.Fatal(err)
		}
		// Everything mltrack needs is there: used as is.
		open(t, uri).Close()
		// A newer MLflow that dropped a column mltrack reads: refused.
		if _, err := raw.ExecContext(ctx, "ALTER TABLE params RENAME COLUMN value TO val"); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Open(ctx, uri, sqlstore.Options{})
		if !errors.Is(err, sqlstore.ErrSchema) || !strings.Contains(err.Error(), "params.value") {
			t.Fatalf("err = %v, want ErrSchema naming params.value", err)
		}
	})
}

func TestRefusesForeignDatabase(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		raw := rawDB(t, uri)
		if _, err := raw.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Open(context.Background(), uri, sqlstore.Options{})
		if !errors.Is(err, sqlstore.ErrSchema) {
			t.Fatalf("err = %v, want ErrSchema", err)
		}
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM customers").Scan(&n); err != nil {
			t.Fatalf("foreign table damaged: %v", err)
		}
	})
}

func rawDB(t *testing.T, uri string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if rest, ok := strings.CutPrefix(uri, "sqlite:///"); ok {
		db, err = sql.Open("sqlite", "file:"+rest)
	} else {
		db, err = sql.Open("pgx", uri)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countExperiments(t *testing.T, db *sql.DB) int {
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM experiments").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
