package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/store/storetest"
)

func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Tracking { return openSQLite(t) })
}

func TestConformancePostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Tracking { return openPostgres(t) })
}

// openSQLite opens a store on a fresh SQLite file.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mlflow.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:///"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresAdminURI is the server the PostgreSQL tests create databases on.
func postgresAdminURI() string {
	if v := os.Getenv("MLTRACK_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgresql://root@127.0.0.1:5432/postgres?sslmode=disable"
}

// openPostgres opens a store on a fresh PostgreSQL database, dropped at
// cleanup. Without a server it fails under CI and skips otherwise.
func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	admin, err := sql.Open("pgx", postgresAdminURI())
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is unreachable at %s: %v", postgresAdminURI(), err)
		}
		t.Skipf("PostgreSQL is unreachable at %s (set CI=true to make this a failure): %v", postgresAdminURI(), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "mltrack_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(context.Background(), "postgresql://root@127.0.0.1:5432/"+name+"?sslmode=disable", sqlstore.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	return s
}
