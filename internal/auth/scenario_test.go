package auth_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver

	"github.com/mltrack/mltrack/internal/auth"
)

func ids(list any, key string) []string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		out = append(out, fmt.Sprint(it.(map[string]any)[key]))
	}
	return out
}

// TestTwoUsersScenario is the story: an admin creates users A and
// B; A works with a personal access token; B sees nothing of A's until A
// grants READ, then reads but cannot write until A grants EDIT.
func TestTwoUsersScenario(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "NO_PERMISSIONS")
		admin := basic("admin", adminPW)
		s.must(admin, "POST", "users/create", map[string]any{"username": "alice", "password": "alice-password-1"})
		b := s.createUser("bob", "bob-password-123")
		aliceBasic := basic("alice", "alice-password-1")

		tok := s.must(aliceBasic, "POST", "/api/2.0/mltrack/tokens/create", map[string]any{"name": "laptop", "expires_in_days": 30})
		secret := tok["token"].(string)
		tokenID := tok["token_info"].(map[string]any)["id"].(string)
		if !strings.HasPrefix(secret, "mlt_") {
			t.Fatalf("token %q", secret)
		}
		a := cred{token: secret}
		exp := s.must(a, "POST", "experiments/create", map[string]any{"name": "alice-exp"})["experiment_id"].(string)
		// A logs two runs and registers a model from the first, with the
		// calls (and the Bearer token) the mlflow client sends.
		var runIDs []string
		for i := 0; i < 2; i++ {
			run := s.must(a, "POST", "runs/create", map[string]any{"experiment_id": exp, "run_name": fmt.Sprintf("alice-run-%d", i)})
			runID := run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
			runIDs = append(runIDs, runID)
			s.must(a, "POST", "runs/log-batch", map[string]any{"run_id": runID,
				"metrics": []map[string]any{{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}, {"key": "loss", "value": 0.25, "timestamp": 2, "step": 1}},
				"params":  []map[string]any{{"key": "lr", "value": "0.1"}}})
			s.must(a, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+exp+"/"+runID+"/artifacts/model/MLmodel", []byte("flavors: {}\n"))
			s.must(a, "POST", "runs/update", map[string]any{"run_id": runID, "status": "FINISHED", "end_time": 3})
		}
		runID := runIDs[0]
		lm := s.must(a, "POST", "logged-models", map[string]any{"experiment_id": exp, "name": "m", "source_run_id": runID})
		lmID := lm["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
		s.must(a, "POST", "registered-models/create", map[string]any{"name": "alice-model"})
		s.must(a, "POST", "model-versions/create", map[string]any{"name": "alice-model", "source": "models:/" + lmID, "run_id": runID})

		// The tokens page lists the token without its secret.
		list := s.must(aliceBasic, "GET", "/api/2.0/mltrack/tokens/list", nil)
		if got := ids(list["tokens"], "id"); !slices.Equal(got, []string{tokenID}) || strings.Contains(fmt.Sprint(list), secret) {
			t.Fatalf("tokens/list = %v", list)
		}

		bobSees := func() (experiments, models []string, runs int) {
			t.Helper()
			experiments = ids(s.must(b, "GET", "experiments/search?max_results=100", nil)["experiments"], "experiment_id")
			models = ids(s.must(b, "GET", "registered-models/search", nil)["registered_models"], "name")
			r := s.must(b, "POST", "runs/search", map[string]any{"experiment_ids": []string{exp}})
			runs = len(ids(r["runs"], "info"))
			return
		}
		// Before any grant: B sees nothing and is refused.
		if e, m, r := bobSees(); slices.Contains(e, exp) || slices.Contains(m, "alice-model") || r != 0 {
			t.Fatalf("bob sees %v %v %d runs before any grant", e, m, r)
		}
		if r := s.do(b, "GET", "experiments/get?experiment_id="+exp, nil); r.status != http.StatusForbidden {
			t.Fatalf("bob get experiment: %d %s", r.status, r.body)
		}
		for _, path := range []string{"logged-models/" + lmID, "runs/get?run_id=" + runID, "metrics/get-history?metric_key=loss&run_id=" + runID,
			"/api/2.0/mlflow-artifacts/artifacts/" + exp + "/" + runID + "/artifacts/model/MLmodel", "registered-models/get?name=alice-model"} {
			if r := s.do(b, "GET", path, nil); r.status != http.StatusForbidden {
				t.Fatalf("bob GET %s before any grant: %d %s", path, r.status, r.body)
			}
		}
		// B cannot grant himself anything.
		if r := s.do(b, "POST", "experiments/permissions/create", map[string]any{"experiment_id": exp, "username": "bob", "permission": "MANAGE"}); r.status != http.StatusForbidden {
			t.Fatalf("bob self-grant: %d", r.status)
		}

		// A (the creator, so MANAGE) grants READ.
		s.must(a, "POST", "experiments/permissions/create", map[string]any{"experiment_id": exp, "username": "bob", "permission": "READ"})
		s.must(a, "POST", "registered-models/permissions/create", map[string]any{"name": "alice-model", "username": "bob", "permission": "READ"})
		if e, m, r := bobSees(); !slices.Contains(e, exp) || !slices.Contains(m, "alice-model") || r != 2 {
			t.Fatalf("bob sees %v %v %d runs after READ", e, m, r)
		}
		s.must(b, "GET", "experiments/get?experiment_id="+exp, nil)
		s.must(b, "GET", "model-versions/get?name=alice-model&version=1", nil)
		if h := s.must(b, "GET", "metrics/get-history?metric_key=loss&run_id="+runID, nil); len(h["metrics"].([]any)) != 2 {
			t.Fatalf("bob reads the history with READ: %v", h)
		}
		if r := s.do(b, "GET", "/api/2.0/mlflow-artifacts/artifacts/"+exp+"/"+runID+"/artifacts/model/MLmodel", nil); r.status != http.StatusOK || string(r.body) != "flavors: {}\n" {
			t.Fatalf("bob downloads an artifact with READ: %d %q", r.status, r.body)
		}
		write := func() int {
			return s.do(b, "POST", "experiments/set-experiment-tag", map[string]any{"experiment_id": exp, "key": "by", "value": "bob"}).status
		}
		if st := write(); st != http.StatusForbidden {
			t.Fatalf("bob writes with READ: %d", st)
		}
		if r := s.do(b, "POST", "runs/log-metric", map[string]any{"run_id": runID, "key": "x", "value": 1, "timestamp": 1}); r.status != http.StatusForbidden {
			t.Fatalf("bob logs to alice's run with READ: %d", r.status)
		}
		if r := s.do(b, "POST", "runs/create", map[string]any{"experiment_id": exp}); r.status != http.StatusForbidden {
			t.Fatalf("bob creates a run in alice's experiment with READ: %d", r.status)
		}
		if r := s.do(b, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+exp+"/"+runID+"/artifacts/bob.txt", []byte("x")); r.status != http.StatusForbidden {
			t.Fatalf("bob uploads an artifact with READ: %d", r.status)
		}
		if r := s.do(b, "PATCH", "registered-models/update", map[string]any{"name": "alice-model", "description": "x"}); r.status != http.StatusForbidden {
			t.Fatalf("bob updates the model with READ: %d", r.status)
		}

		// EDIT: B writes, but still cannot delete or manage.
		s.must(a, "PATCH", "experiments/permissions/update", map[string]any{"experiment_id": exp, "username": "bob", "permission": "EDIT"})
		if st := write(); st != http.StatusOK {
			t.Fatalf("bob writes with EDIT: %d", st)
		}
		s.must(b, "POST", "runs/log-metric", map[string]any{"run_id": runID, "key": "bob", "value": 7, "timestamp": 4, "step": 0})
		bobRun := s.must(b, "POST", "runs/create", map[string]any{"experiment_id": exp, "run_name": "bob-run"})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
		s.must(b, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+exp+"/"+bobRun+"/artifacts/bob.txt", []byte("x"))
		if got := s.must(a, "GET", "metrics/get-history?metric_key=bob&run_id="+runID, nil)["metrics"].([]any); len(got) != 1 {
			t.Fatalf("alice sees bob's metric: %v", got)
		}
		if r := s.do(b, "POST", "experiments/delete", map[string]any{"experiment_id": exp}); r.status != http.StatusForbidden {
			t.Fatalf("bob deletes with EDIT: %d", r.status)
		}
		got := s.must(a, "GET", "experiments/permissions/get?experiment_id="+exp+"&username=bob", nil)
		if got["experiment_permission"].(map[string]any)["permission"] != "EDIT" {
			t.Fatalf("permission = %v", got)
		}

		// Revoking the token locks A's scripts out.
		s.must(aliceBasic, "DELETE", "/api/2.0/mltrack/tokens/revoke", map[string]any{"id": tokenID})
		if r := s.do(a, "GET", "experiments/get?experiment_id="+exp, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", r.status)
		}
		// B cannot revoke or list A's tokens.
		tok2 := s.must(aliceBasic, "POST", "/api/2.0/mltrack/tokens/create", map[string]any{"name": "ci"})
		id2 := tok2["token_info"].(map[string]any)["id"].(string)
		if r := s.do(b, "DELETE", "/api/2.0/mltrack/tokens/revoke", map[string]any{"id": id2}); r.status != http.StatusNotFound {
			t.Fatalf("bob revokes alice's token: %d", r.status)
		}
		if r := s.do(b, "GET", "/api/2.0/mltrack/tokens/list?username=alice", nil); r.status != http.StatusForbidden {
			t.Fatalf("bob lists alice's tokens: %d", r.status)
		}
		s.must(cred{token: tok2["token"].(string)}, "GET", "experiments/get?experiment_id="+exp, nil)

		// A new password works at once, the old one no longer.
		s.must(aliceBasic, "PATCH", "users/update-password", map[string]any{"username": "alice", "password": "alice-password-2"})
		if r := s.do(aliceBasic, "GET", "experiments/get?experiment_id="+exp, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("old password: %d", r.status)
		}
		s.must(basic("alice", "alice-password-2"), "GET", "experiments/get?experiment_id="+exp, nil)
		// Deleting a user ends its tokens.
		s.must(admin, "DELETE", "users/delete", map[string]any{"username": "alice"})
		if r := s.do(cred{token: tok2["token"].(string)}, "GET", "experiments/search", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("token of a deleted user: %d", r.status)
		}
	})
}

// infoIDs is the info.<key> of each item of a list (runs, logged models).
func infoIDs(list any, key string) []string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		out = append(out, fmt.Sprint(it.(map[string]any)["info"].(map[string]any)[key]))
	}
	return out
}

// TestSearchPagingFiltered pages through every search as a user who may
// read every third experiment and registered model: experiments/search,
// registered-models/search, model-versions/search (filtered after the
// query), and runs/search and logged-models/search across all the
// experiments (filtered in the request). Every readable item comes exactly
// once, in the store's order, and no unreadable one, at every page size.
func TestSearchPagingFiltered(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "NO_PERMISSIONS")
		owner := s.createUser("owner", passwordOf("owner"))
		reader := s.createUser("reader", passwordOf("reader"))
		var allExps []string
		readable := map[string]bool{} // experiment IDs, model names, run IDs, logged model IDs
		for i := 0; i < 23; i++ {
			id := s.must(owner, "POST", "experiments/create", map[string]any{"name": fmt.Sprintf("e%02d", i)})["experiment_id"].(string)
			allExps = append(allExps, id)
			run := s.must(owner, "POST", "runs/create", map[string]any{"experiment_id": id, "start_time": i})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
			lm := s.must(owner, "POST", "logged-models", map[string]any{"experiment_id": id, "name": fmt.Sprintf("lm%02d", i)})["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
			name := fmt.Sprintf("m%02d", i)
			s.must(owner, "POST", "registered-models/create", map[string]any{"name": name})
			s.must(owner, "POST", "model-versions/create", map[string]any{"name": name, "source": "mlflow-artifacts:/" + id + "/x"})
			if i%3 == 1 {
				s.grantExperiment(id, "reader", "READ")
				s.grantModel(name, "reader", "READ")
				for _, k := range []string{id, name, run, lm} {
					readable[k] = true
				}
			}
		}
		// Each search as the admin (unfiltered) in one page, kept to what
		// the reader may read, is what the reader must get page by page.
		admin := basic("admin", adminPW)
		type search struct {
			name  string
			fetch func(c cred, max int, token string) (page []string, next string)
		}
		post := func(path, list string, idOf func(any, string) []string, key string, body map[string]any) func(cred, int, string) ([]string, string) {
			return func(c cred, max int, token string) ([]string, string) {
				b := map[string]any{"max_results": max, "page_token": token}
				for k, v := range body {
					b[k] = v
				}
				r := s.must(c, "POST", path, b)
				next, _ := r["next_page_token"].(string)
				return idOf(r[list], key), next
			}
		}
		get := func(path, list, key string) func(cred, int, string) ([]string, string) {
			return func(c cred, max int, token string) ([]string, string) {
				r := s.must(c, "GET", path+"?"+url.Values{"max_results": {fmt.Sprint(max)}, "page_token": {token}}.Encode(), nil)
				next, _ := r["next_page_token"].(string)
				return ids(r[list], key), next
			}
		}
		searches := []search{
			{"experiments/search", post("experiments/search", "experiments", ids, "experiment_id", nil)},
			{"registered-models/search", get("registered-models/search", "registered_models", "name")},
			{"model-versions/search", get("model-versions/search", "model_versions", "name")},
			{"runs/search", post("runs/search", "runs", infoIDs, "run_id", map[string]any{"experiment_ids": allExps})},
			{"logged-models/search", post("logged-models/search", "models", infoIDs, "model_id", map[string]any{"experiment_ids": allExps})},
		}
		for _, sr := range searches {
			all, next := sr.fetch(admin, 1000, "")
			if next != "" || len(all) < 23 {
				t.Fatalf("%s as admin: %d items, next %q", sr.name, len(all), next)
			}
			var want []string
			for _, x := range all {
				if readable[x] {
					want = append(want, x)
				}
			}
			if len(want) != 8 {
				t.Fatalf("%s: fixture has %d readable items, want 8: %v", sr.name, len(want), want)
			}
			for _, pageSize := range []int{1, 2, 3, 7, 100} {
				var got []string
				token := ""
				for pages := 0; pages <= 50; pages++ {
					page, next := sr.fetch(reader, pageSize, token)
					if len(page) > pageSize {
						t.Fatalf("%s: page of %d > max_results %d", sr.name, len(page), pageSize)
					}
					got = append(got, page...)
					if token = next; token == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, page size %d: %v, want %v", sr.name, pageSize, got, want)
				}
			}
		}
	})
}

// TestCookieSignInAndCSRF covers the browser path: sign-in, the cookie's
// attributes, CSRF-protected writes, sign-out, and the public sign-in page.
func TestCookieSignInAndCSRF(t *testing.T) {
	s := startServer(t, "sqlite:///"+filepath.Join(t.TempDir(), "auth.db"), "READ")
	s.createUser("carol", "carol-password-1")
	login := "/api/2.0/mltrack/auth/login"
	if r := s.do(anon, "POST", login, map[string]any{"username": "carol", "password": "wrong-password"}); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("bad login: %d %v", r.status, r.header)
	}
	if r := s.do(anon, "POST", login, map[string]any{"username": "carol", "password": "carol-password-1"}, "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d", r.status)
	}
	r := s.do(anon, "POST", login, map[string]any{"username": "carol", "password": "carol-password-1"})
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	res := &http.Response{Header: r.header}
	var sess, csrfCookie *http.Cookie
	for _, c := range res.Cookies() {
		switch c.Name {
		case auth.SessionCookie:
			sess = c
		case auth.CSRFCookie:
			csrfCookie = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie %+v (want HttpOnly, SameSite=Lax, not Secure on plain HTTP)", sess)
	}
	csrf := r.json(t)["csrf_token"].(string)
	if csrfCookie == nil || csrfCookie.HttpOnly || csrfCookie.Value != csrf {
		t.Fatalf("csrf cookie %+v", csrfCookie)
	}
	cookie := cred{cookies: []*http.Cookie{sess}}
	if me := s.must(cookie, "GET", "/api/2.0/mltrack/auth/whoami", nil); me["user"].(map[string]any)["username"] != "carol" {
		t.Fatalf("whoami %v", me)
	}
	// A cookie-authenticated write needs the CSRF header ...
	if r := s.do(cookie, "POST", "experiments/create", map[string]any{"name": "c1"}); r.status != http.StatusForbidden {
		t.Fatalf("write without CSRF token: %d", r.status)
	}
	bad := cookie
	bad.csrf = strings.Repeat("0", len(csrf))
	if r := s.do(bad, "POST", "experiments/create", map[string]any{"name": "c1"}); r.status != http.StatusForbidden {
		t.Fatalf("write with a wrong CSRF token: %d", r.status)
	}
	good := cookie
	good.csrf = csrf
	if r := s.do(good, "POST", "experiments/create", map[string]any{"name": "c1"}, "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Fatalf("write from another origin: %d", r.status)
	}
	s.must(good, "POST", "experiments/create", map[string]any{"name": "c1"})
	// ... and a token from the same session: another session's does not do.
	r2 := s.do(anon, "POST", login, map[string]any{"username": "carol", "password": "carol-password-1"})
	other := r2.json(t)["csrf_token"].(string)
	mixed := cookie
	mixed.csrf = other
	if r := s.do(mixed, "POST", "experiments/create", map[string]any{"name": "c2"}); r.status != http.StatusForbidden {
		t.Fatalf("write with another session's CSRF token: %d", r.status)
	}
	// Sign-out ends the session.
	s.must(good, "POST", "/api/2.0/mltrack/auth/logout", nil)
	if r := s.do(cookie, "GET", "/api/2.0/mltrack/auth/whoami", nil, "X-Requested-With", "fetch"); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("after logout: %d %v", r.status, r.header)
	}

	// Pages: the UI sends anonymous visitors to /signin, which is public;
	// the form signs in and redirects back.
	if r := s.do(anon, "GET", "/experiments/1", nil); r.status != http.StatusFound || r.header.Get("Location") != "/signin?next=%2Fexperiments%2F1" {
		t.Fatalf("anonymous UI page: %d %v", r.status, r.header.Get("Location"))
	}
	if r := s.do(anon, "GET", "/signin?next=/experiments/1", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), `name="password"`) {
		t.Fatalf("signin page: %d", r.status)
	}
	for _, h := range []string{"/health", "/version"} {
		if r := s.do(anon, "GET", h, nil); r.status != http.StatusOK {
			t.Fatalf("%s: %d", h, r.status)
		}
	}
	form := url.Values{"username": {"carol"}, "password": {"carol-password-1"}, "next": {"//evil.example/"}}.Encode()
	if r := s.do(anon, "POST", "/signin", form); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" || !strings.Contains(r.header.Get("Set-Cookie"), auth.SessionCookie) {
		t.Fatalf("signin form: %d %v", r.status, r.header)
	}
	if r := s.do(anon, "POST", "/signin", url.Values{"username": {"carol"}, "password": {"nope"}}.Encode()); r.status != http.StatusUnauthorized {
		t.Fatalf("signin form with a wrong password: %d", r.status)
	}
}

// TestMLflowAuthDatabase opens an auth database laid out as MLflow before
// 3.6 left it (no alembic_version_auth), with a user whose password hash
// werkzeug's scrypt wrote: the user signs in, and the database ends at
// MLflow 3.6's head revision.
func TestMLflowAuthDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "basic_auth.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE users (id INTEGER NOT NULL, username VARCHAR(255), password_hash VARCHAR(255), is_admin BOOLEAN, PRIMARY KEY (id), UNIQUE (username))`,
		`CREATE TABLE experiment_permissions (id INTEGER NOT NULL, experiment_id VARCHAR(255) NOT NULL, user_id INTEGER NOT NULL, permission VARCHAR(255), PRIMARY KEY (id), CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id), CONSTRAINT unique_experiment_user UNIQUE (experiment_id, user_id))`,
		`CREATE TABLE registered_model_permissions (id INTEGER NOT NULL, name VARCHAR(255) NOT NULL, user_id INTEGER NOT NULL, permission VARCHAR(255), PRIMARY KEY (id), CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id), CONSTRAINT unique_name_user UNIQUE (name, user_id))`,
		// werkzeug scrypt hash of "password1234", and a pbkdf2 one of the same.
		`INSERT INTO users (id, username, password_hash, is_admin) VALUES (1, 'admin', 'scrypt:32768:8:1$ZxPq8mNvB2kLrT5w$40b65e0211d01c8e6ec9bcfa57a4b3e892ec0d0a81e230cd5b5e61d7696274fcdeab1df954dbbc4b9da53d15e8f97b93def4412d1c25f65899a2bb1fc1886b3c', 1)`,
		`INSERT INTO users (id, username, password_hash, is_admin) VALUES (2, 'dave', 'pbkdf2:sha256:600000$NfNqbpl7D3vxMWk0$3dd22f5da0876c76206f5c712edde2457ca5f7eb6b2e7a8d2796495f44a1dad1', 0)`,
		`INSERT INTO experiment_permissions (experiment_id, user_id, permission) VALUES ('0', 2, 'NO_PERMISSIONS')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := startServer(t, "sqlite:///"+path, "READ")
	s.must(basic("admin", "password1234"), "GET", "/api/2.0/mltrack/users/list", nil)
	if r := s.do(basic("dave", "password1234"), "GET", "experiments/get?experiment_id=0", nil); r.status != http.StatusForbidden {
		t.Fatalf("dave's NO_PERMISSIONS on experiment 0 from MLflow's table: %d", r.status)
	}
	s.must(basic("dave", "password1234"), "GET", "/api/2.0/mltrack/auth/whoami", nil)
	db, _ = sql.Open("sqlite", path)
	defer db.Close()
	var rev string
	if err := db.QueryRow("SELECT version_num FROM alembic_version_auth").Scan(&rev); err != nil || rev != "0965eb92f5f0" {
		t.Fatalf("alembic_version_auth = %q, %v", rev, err)
	}
	if _, err := db.Exec("SELECT id, experiment_id, scorer_name, user_id, permission FROM scorer_permissions"); err != nil {
		t.Fatalf("scorer_permissions: %v", err)
	}
}

// TestAuthInTheBackendDatabase keeps users and permissions in the tracking
// database itself (--auth-database-uri the same as --backend-store-uri):
// both schemas live side by side, and users, grants and the creator's
// MANAGE survive a restart.
func TestAuthInTheBackendDatabase(t *testing.T) {
	authBackends(t, func(t *testing.T, uri string) {
		var exp string
		t.Run("first start", func(t *testing.T) {
			s := startServerOn(t, uri, uri, "NO_PERMISSIONS")
			a := s.createUser("alice", "alice-password-1")
			s.createUser("bob", "bob-password-123")
			exp = s.must(a, "POST", "experiments/create", map[string]any{"name": "shared-db"})["experiment_id"].(string)
			s.must(a, "POST", "experiments/permissions/create", map[string]any{"experiment_id": exp, "username": "bob", "permission": "READ"})
		})
		s := startServerOn(t, uri, uri, "NO_PERMISSIONS")
		a, b := basic("alice", "alice-password-1"), basic("bob", "bob-password-123")
		s.must(b, "GET", "experiments/get?experiment_id="+exp, nil)
		if r := s.do(b, "POST", "experiments/set-experiment-tag", map[string]any{"experiment_id": exp, "key": "k", "value": "v"}); r.status != http.StatusForbidden {
			t.Fatalf("bob writes with READ after the restart: %d", r.status)
		}
		s.must(a, "POST", "experiments/set-experiment-tag", map[string]any{"experiment_id": exp, "key": "k", "value": "v"})
		if r := s.do(basic("bob", "wrong-password!!"), "GET", "experiments/get?experiment_id="+exp, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.status)
		}
	})
}
