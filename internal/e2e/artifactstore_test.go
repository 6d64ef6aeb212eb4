package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
)

// TestArtifactStoreDown starts the artifact proxy on an S3 store that then
// goes away (its endpoint refuses connections): artifact calls get the
// retryable 503 TEMPORARILY_UNAVAILABLE naming the artifact store (not the
// database), and the tracking API goes on answering. (A store that is down
// at start-up stops the server: TestStartupRefusesMisconfiguration.)
func TestArtifactStoreDown(t *testing.T) {
	s3 := artifacttest.StartVersityGW(t)
	s3.CreateBucket(t, "bucket")
	env := []string{"MLFLOW_S3_ENDPOINT_URL=" + s3.Endpoint,
		"AWS_ACCESS_KEY_ID=" + s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3.SecretKey, "AWS_MAX_ATTEMPTS=1"}
	srv := startServer(t, env, "--backend-store-uri", "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"),
		"--artifacts-destination", "s3://bucket/artifacts")
	srv.waitReady(t, 30*time.Second)
	s3.Stop()
	c := newClient(t, srv.base)

	for _, req := range []struct{ method, path string }{
		{"PUT", "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/a.txt"},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/a.txt"},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts?path=0"},
	} {
		var in any
		if req.method == "PUT" {
			in = "hello"
		}
		st, body := c.call(req.method, req.path, in, nil)
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		if st != http.StatusServiceUnavailable || e.ErrorCode != "TEMPORARILY_UNAVAILABLE" || !strings.Contains(e.Message, "artifact store") {
			t.Errorf("S3 down: %s %s = %d %s, want 503 TEMPORARILY_UNAVAILABLE about the artifact store", req.method, req.path, st, body)
		}
	}
	if st, body := c.call("POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 10}, nil); st != http.StatusOK {
		t.Errorf("S3 down: experiments/search = %d %s, want 200", st, body)
	}
	if strings.Contains(srv.output(), `"database unavailable"`) {
		t.Errorf("an artifact store failure was logged as the database's:\n%s", srv.output())
	}
}
