package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/testdb"
)

// TestSecretsNeverLogged starts the real binary with secrets in every
// place an operator puts them — a password in the PostgreSQL URI (the test
// server trusts any password), AWS keys in the environment for an S3
// artifact store, the auth admin's password — drives requests that succeed
// and that fail (bad credentials, unknown runs, an S3 upload that cannot
// reach its endpoint, a request with a token), and checks that no secret
// appears anywhere in the server's output.
func TestSecretsNeverLogged(t *testing.T) {
	const (
		dbPassword    = "Db-Secret-7f3a9c"
		awsSecret     = "AwsSecretKey-0c1d2e3f4a5b6c7d8e9f"
		awsToken      = "AwsSessionToken-91b2c3d4e5"
		adminPassword = "Admin-Secret-5e6f7a8b9c"
		wrongPassword = "Wrong-Secret-1a2b3c4d"
		bearer        = "mlt_Bearer-Secret-0f9e8d7c"
	)
	plain := testdb.PostgresURI(t)
	cfg, err := pgx.ParseConfig(plain)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(plain)
	u.User = url.UserPassword(cfg.User, dbPassword)
	dbURI := u.String()
	authURI := testdb.SQLiteURI(t)

	// The S3 store knows these keys, so that the server starts (it probes
	// the store); it goes away before the requests, which then fail.
	s3 := artifacttest.StartVersityGWWithKeys(t, "AKIAEXAMPLEKEYID", awsSecret)
	s3.CreateBucket(t, "bucket")
	env := []string{
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEYID",
		"AWS_SECRET_ACCESS_KEY=" + awsSecret,
		"AWS_REGION=us-east-1",
		"MLFLOW_S3_ENDPOINT_URL=" + s3.Endpoint, // stopped once the server is up
		"MLFLOW_AUTH_ADMIN_PASSWORD=" + adminPassword,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	args := []string{"--backend-store-uri", dbURI, "--artifacts-destination", "s3://bucket/prefix",
		"--app-name", "basic-auth", "--auth-database-uri", authURI}
	// First with a session token the store does not accept: the start-up
	// probe refuses, and says so without the token.
	refused := startServer(t, append(env[:len(env):len(env)], "AWS_SESSION_TOKEN="+awsToken), args...)
	select {
	case <-refused.done:
	case <-time.After(60 * time.Second):
		t.Fatal("a session token the store refuses did not stop the server")
	}
	if out := refused.output(); !strings.Contains(out, "AWS_SESSION_TOKEN") {
		t.Errorf("the refusal does not name AWS_SESSION_TOKEN:\n%s", out)
	}
	srv := startServer(t, env, args...)
	srv.waitReady(t, 30*time.Second)
	s3.Stop()
	hc := newHTTPClient(2)

	do := func(method, path, user, pass, token, body string) int {
		req, _ := http.NewRequest(method, srv.base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	checks := []struct {
		method, path, user, pass, token, body string
		want                                  int
	}{
		{"POST", "/api/2.0/mlflow/experiments/create", "admin", adminPassword, "", `{"name": "secret-test"}`, 200},
		{"GET", "/api/2.0/mlflow/runs/get?run_id=nope", "admin", adminPassword, "", "", 404},
		{"GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", "admin", wrongPassword, "", "", 401},
		{"GET", "/api/2.0/mlflow/experiments/get?experiment_id=0&password=" + wrongPassword, "", "", bearer, "", 401},
		{"POST", "/api/2.0/mlflow/runs/create", "admin", adminPassword, "", `{"experiment_id": "no-such"}`, 400},
		{"PUT", "/api/2.0/mlflow-artifacts/artifacts/1/file.txt", "admin", adminPassword, "", "payload", 0}, // S3 unreachable: a 5xx
		{"GET", "/api/2.0/mlflow-artifacts/artifacts?path=1", "admin", adminPassword, "", "", 0},
		{"POST", "/api/2.0/mlflow/users/create", "admin", adminPassword, "", `{"username": "bob", "password": "` + wrongPassword + `"}`, 200},
		{"PATCH", "/api/2.0/mlflow/users/update-password", "admin", adminPassword, "", `{"username": "bob", "password": "short"}`, 400},
	}
	for _, c := range checks {
		st := do(c.method, c.path, c.user, c.pass, c.token, c.body)
		if c.want != 0 && st != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, st, c.want)
		}
		if c.want == 0 && st < 500 {
			t.Errorf("%s %s with S3 unreachable: %d, want a 5xx (the failure this test needs logged)", c.method, c.path, st)
		}
	}
	srv.stop()
	log := refused.output() + srv.output()
	if !strings.Contains(log, "xxxxx") {
		t.Errorf("the start-up line does not show the masked database URI:\n%s", log)
	}
	if !strings.Contains(log, `"level":"ERROR"`) && !strings.Contains(log, `"level":"WARN"`) {
		t.Errorf("no failure was logged; the test drove none:\n%s", log)
	}
	for _, s := range []string{dbPassword, awsSecret, awsToken, adminPassword, wrongPassword, bearer, url.QueryEscape(dbPassword)} {
		if strings.Contains(log, s) {
			t.Errorf("secret %q appears in the server's output", s)
		}
	}
	t.Logf("%d lines of server output, no secret in them", strings.Count(log, "\n"))
}
