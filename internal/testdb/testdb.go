// Package testdb gives tests fresh databases: a SQLite file in a temporary
// folder, or a PostgreSQL database on 127.0.0.1:5432 created for the test
// and dropped after it.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresAdminURI is the maintenance database tests connect to; override
// with MLTRACK_TEST_POSTGRES.
func PostgresAdminURI() string {
	if v := os.Getenv("MLTRACK_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgresql://root@127.0.0.1:5432/postgres?sslmode=disable"
}

// SQLiteURI is the backend store URI of a new SQLite file.
func SQLiteURI(t testing.TB) string {
	t.Helper()
	return "sqlite:///" + filepath.Join(t.TempDir(), "mlflow.db")
}

// PostgresURI creates an empty PostgreSQL database for the test and returns
// its URI; the database is dropped when the test ends. Without a reachable
// PostgreSQL the test fails under CI and is skipped elsewhere.
func PostgresURI(t testing.TB) string {
	t.Helper()
	name := "mltrack_test_" + randomHex(6)
	admin := connectAdmin(t)
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	admin.Close(ctx)
	t.Cleanup(func() { DropPostgres(t, name) })
	cfg, _ := pgx.ParseConfig(PostgresAdminURI())
	return "postgresql://" + cfg.User + "@" + cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + name + "?sslmode=disable"
}

// DropPostgres drops a test database, ending its connections first.
func DropPostgres(t testing.TB, name string) {
	admin := connectAdmin(t)
	defer admin.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

func connectAdmin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresAdminURI())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is not reachable at %s (start it with scripts/ensure-postgres.sh): %v", PostgresAdminURI(), err)
		}
		t.Skipf("PostgreSQL is not reachable (%v); run scripts/ensure-postgres.sh. CI never skips this.", err)
	}
	return conn
}

// Backends runs fn once per backend, as a subtest named "sqlite" or "postgres",
// with a fresh database URI.
func Backends(t *testing.T, fn func(t *testing.T, uri string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURI(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURI(t)) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
