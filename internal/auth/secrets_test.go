package auth_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/auth"
)

// openAuthDB opens a test's auth database directly.
func openAuthDB(t *testing.T, uri string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", uri
	if path, ok := strings.CutPrefix(uri, "sqlite:///"); ok {
		driver, dsn = "sqlite", "/"+strings.TrimPrefix(path, "/")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dumpTable is every value of every row of a table, as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&out, "%v\t", v)
		}
		out.WriteString("\n")
	}
	return out.String()
}

// TestSecretsStoredHashed reads the auth database directly: passwords are
// salted PBKDF2 hashes, access tokens and session IDs are stored as their
// SHA-256 only, and none of the secrets is anywhere in the tables.
func TestSecretsStoredHashed(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "READ")
		const pw = "erin-password-1"
		erin := s.createUser("erin", pw)
		s.createUser("frank", pw) // same password, so the salt must differ
		tok := s.must(erin, "POST", "/api/2.0/mltrack/tokens/create", map[string]any{"name": "ci"})
		secret := tok["token"].(string)
		r := s.do(anon, "POST", "/api/2.0/mltrack/auth/login", map[string]any{"username": "erin", "password": pw})
		if r.status != http.StatusOK {
			t.Fatalf("login: %d", r.status)
		}
		var session string
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == auth.SessionCookie {
				session = c.Value
			}
		}
		if session == "" || len(secret) < 40 {
			t.Fatalf("session %q, token %q", session, secret)
		}
		s.must(cred{token: secret}, "GET", "/api/2.0/mltrack/auth/whoami", nil)

		db := openAuthDB(t, authURI)
		all := ""
		for _, table := range []string{"users", "mltrack_access_tokens", "mltrack_sessions"} {
			all += dumpTable(t, db, table)
		}
		for name, v := range map[string]string{"password": pw, "token": secret, "token without its prefix": strings.TrimPrefix(secret, "mlt_"), "session ID": session} {
			if strings.Contains(all, v) {
				t.Errorf("the %s is stored in clear", name)
			}
		}
		sum := func(v string) string { h := sha256.Sum256([]byte(v)); return hex.EncodeToString(h[:]) }
		var n int
		if err := db.QueryRow("SELECT count(*) FROM mltrack_access_tokens WHERE token_hash = $1", sum(secret)).Scan(&n); err != nil || n != 1 {
			t.Errorf("token stored as its SHA-256: %d rows, %v", n, err)
		}
		if err := db.QueryRow("SELECT count(*) FROM mltrack_sessions WHERE token_hash = $1", sum(session)).Scan(&n); err != nil || n != 1 {
			t.Errorf("session stored as its SHA-256: %d rows, %v", n, err)
		}
		hashes := map[string]string{}
		rows, err := db.Query("SELECT username, password_hash FROM users WHERE username IN ('erin', 'frank')")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var u, h string
			_ = rows.Scan(&u, &h)
			hashes[u] = h
		}
		rows.Close()
		for u, h := range hashes {
			if !strings.HasPrefix(h, "pbkdf2:sha256:600000$") {
				t.Errorf("%s's password hash %q: want werkzeug's pbkdf2:sha256:600000$salt$hash", u, h)
			}
		}
		if len(hashes) != 2 || hashes["erin"] == hashes["frank"] {
			t.Errorf("one password, two users: hashes %v (want different salts)", hashes)
		}
	})
}
