package server

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mltrack/mltrack/internal/auth"
)

// TestWhoami: the UI asks who is signed in on every page load. With auth
// off the answer is 200 {"auth": false} (a 404 is a console error in the
// browser); with auth on it is the user, or 401 without credentials.
func TestWhoami(t *testing.T) {
	get := func(srv *Server, user, pass string) (int, map[string]any) {
		r := httptest.NewRequest("GET", "/api/2.0/mltrack/auth/whoami", nil)
		r.Header.Set("X-Requested-With", "XMLHttpRequest")
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}

	off := newTestServer(t, nil)
	if code, body := get(off, "", ""); code != 200 || body["auth"] != false || body["user"] != nil {
		t.Errorf("auth off: %d %v, want 200 {auth:false}", code, body)
	}

	dir := t.TempDir()
	on := newTestServer(t, func(c *Config) {
		ac := auth.DefaultConfig()
		ac.DatabaseURI = "sqlite:///" + filepath.Join(dir, "auth.db")
		ac.AdminPassword = "a-long-admin-password"
		c.Auth = &ac
	})
	if code, _ := get(on, "", ""); code != 401 {
		t.Errorf("auth on, no credentials: %d, want 401", code)
	}
	code, body := get(on, "admin", "a-long-admin-password")
	user, _ := body["user"].(map[string]any)
	if code != 200 || body["auth"] != true || user["username"] != "admin" || user["is_admin"] != true {
		t.Errorf("auth on, admin: %d %v", code, body)
	}
}
