package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/auth"
	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/testdb"
)

const adminPW = "admin-password-123"

// testServer is a real mltrack server with auth on, listening on a port.
type testServer struct {
	t    *testing.T
	base string
	srv  *server.Server
	svc  *auth.Service
}

// authBackends runs fn with an auth database on SQLite and on PostgreSQL.
func authBackends(t *testing.T, fn func(t *testing.T, authURI string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:///"+filepath.Join(t.TempDir(), "basic_auth.db"))
	})
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.PostgresURI(t)) })
}

func startServer(t *testing.T, authURI, defaultPerm string) *testServer {
	t.Helper()
	// The tracking store is on the same kind of database as the auth
	// store, so that the PostgreSQL run checks both on PostgreSQL.
	backend := "sqlite:///" + filepath.Join(t.TempDir(), "mlflow.db")
	if strings.HasPrefix(authURI, "postgres") {
		backend = testdb.PostgresURI(t)
	}
	return startServerOn(t, backend, authURI, defaultPerm)
}

// startServerOn starts a server on the given tracking and auth databases;
// it stops when the test ends.
func startServerOn(t *testing.T, backend, authURI, defaultPerm string) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{
		Host:            "127.0.0.1",
		BackendStoreURI: backend,
		ArtifactsDest:   filepath.Join(dir, "mlartifacts"),
		ServeArtifacts:  true,
		AllowedHosts:    []string{"*"},
		Auth: &auth.Config{DatabaseURI: authURI, DefaultPermission: defaultPerm,
			AdminUsername: "admin", AdminPassword: adminPW},
		// The matrix's webhooks point at a closed local port.
		Webhooks: server.WebhookConfig{AllowedSchemes: []string{"http"}, AllowPrivateIPs: true, Timeout: 2 * time.Second},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	srv.Handler() // make sure routes are registered before the test looks at the mux
	return &testServer{t: t, base: "http://" + ln.Addr().String(), srv: srv, svc: srv.AuthService()}
}

// cred is how a test client authenticates.
type cred struct {
	user, pass string // HTTP Basic
	token      string // Bearer
	cookies    []*http.Cookie
	csrf       string
}

var anon = cred{}

func basic(user, pass string) cred { return cred{user: user, pass: pass} }

var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d %q is not JSON: %v", r.status, r.body, err)
	}
	return m
}

// do sends a request; body is JSON-encoded unless it is nil, a string or []byte.
func (s *testServer) do(c cred, method, path string, body any, hdr ...string) resp {
	s.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd, ct = strings.NewReader(b), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/api/2.0/mlflow/" + path
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	if c.csrf != "" {
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b, res.Header}
}

// must sends a request that has to succeed and returns its JSON.
func (s *testServer) must(c cred, method, path string, body any) map[string]any {
	s.t.Helper()
	r := s.do(c, method, path, body)
	if r.status != http.StatusOK {
		s.t.Fatalf("%s %s as %q: %d %s", method, path, c.user, r.status, r.body)
	}
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	return r.json(s.t)
}

func (s *testServer) createUser(name, pw string) cred {
	s.t.Helper()
	s.must(basic("admin", adminPW), "POST", "users/create", map[string]any{"username": name, "password": pw})
	return basic(name, pw)
}

func (s *testServer) grantExperiment(expID, user, perm string) {
	s.t.Helper()
	s.must(basic("admin", adminPW), "POST", "experiments/permissions/create", map[string]any{"experiment_id": expID, "username": user, "permission": perm})
}

func (s *testServer) grantModel(name, user, perm string) {
	s.t.Helper()
	s.must(basic("admin", adminPW), "POST", "registered-models/permissions/create", map[string]any{"name": name, "username": user, "permission": perm})
}

var uniq atomic.Int64

func unique(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "-" + strconv.FormatInt(uniq.Add(1), 10)
}
