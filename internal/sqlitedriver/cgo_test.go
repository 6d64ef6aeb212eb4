//go:build cgosqlite

package sqlitedriver

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
)

// TestPragmas checks that the cgo driver runs modernc's _pragma
// parameters on each connection and passes the others to SQLite.
func TestPragmas(t *testing.T) {
	base, pragmas := splitPragmas("file:/x.db?_pragma=journal_mode(WAL)&mode=ro&_pragma=busy_timeout%2810000%29&_txlock=immediate")
	if base != "file:/x.db?mode=ro&_txlock=immediate" || !slices.Equal(pragmas, []string{"journal_mode(WAL)", "busy_timeout(10000)"}) {
		t.Fatalf("%q %q", base, pragmas)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "p.db")+"?_pragma=journal_mode(WAL)&_pragma=case_sensitive_like(1)&_pragma=temp_store(MEMORY)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var store int
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v", mode, err)
	}
	if err := db.QueryRow("PRAGMA temp_store").Scan(&store); err != nil || store != 2 {
		t.Fatalf("temp_store %d, %v", store, err)
	}
	var like bool
	if err := db.QueryRow("SELECT 'A' LIKE 'a'").Scan(&like); err != nil || like {
		t.Fatalf("LIKE is not case-sensitive: %v, %v", like, err)
	}
}
