package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/server"
)

// TestServerConfigMLflowOptions: `mlflow server`'s command lines work with
// only the command name changed; options mltrack has no use for are
// accepted and reported, options it can't honour are refused with a reason.
func TestServerConfigMLflowOptions(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		ignored string // fmt of the ignored list
		err     string // part of the error; "" for none
		check   func(t *testing.T, cfg server.Config)
	}{
		{name: "plain", args: nil, ignored: "[]"},
		{name: "workers", args: []string{"--workers", "4"}, ignored: "[--workers]"},
		{name: "w", args: []string{"-w", "2"}, ignored: "[--workers]"},
		{name: "process options", args: []string{"--gunicorn-opts", "--timeout 120", "--uvicorn-opts", "--log-level debug", "--waitress-opts", "--threads 8", "--dev"},
			ignored: "[--dev --gunicorn-opts --uvicorn-opts --waitress-opts]"},
		{name: "prometheus dir from env", env: map[string]string{"MLFLOW_EXPOSE_PROMETHEUS": "/tmp/prom"}, ignored: "[--expose-prometheus]"},
		{name: "registry store is the backend store", args: []string{"--backend-store-uri", "sqlite:///x.db", "--registry-store-uri", "sqlite:///x.db"}, ignored: "[]"},
		{name: "registry store elsewhere", args: []string{"--registry-store-uri", "postgresql://u:secret@db/reg"}, err: "keeps the model registry in the backend store"},
		{name: "static prefix", args: []string{"--static-prefix", "/mlflow"}, err: "--static-prefix is not supported"},
		{name: "artifacts only", args: []string{"--artifacts-only"}, ignored: "[]", check: func(t *testing.T, cfg server.Config) {
			if !cfg.ArtifactsOnly {
				t.Error("--artifacts-only not set")
			}
		}},
		{name: "x-frame-options default", ignored: "[]", check: wantXFO("SAMEORIGIN")},
		{name: "x-frame-options flag", args: []string{"--x-frame-options", "DENY"}, ignored: "[]", check: wantXFO("DENY")},
		{name: "x-frame-options env", env: map[string]string{"MLFLOW_SERVER_X_FRAME_OPTIONS": "none"}, ignored: "[]", check: wantXFO("none")},
		{name: "x-frame-options bad", args: []string{"--x-frame-options", "ALLOW-FROM x"}, err: "want SAMEORIGIN, DENY or NONE"},
		{name: "unknown option", args: []string{"--no-such-option"}, err: "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"MLFLOW_EXPOSE_PROMETHEUS", "MLFLOW_SERVER_X_FRAME_OPTIONS", "MLFLOW_GUNICORN_OPTS", "MLFLOW_UVICORN_OPTS", "MLFLOW_REGISTRY_STORE_URI", "MLFLOW_STATIC_PREFIX", "MLFLOW_ARTIFACTS_ONLY"} {
				t.Setenv(k, c.env[k])
			}
			cfg, ignored, err := serverConfig(c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(ignored); got != c.ignored {
				t.Errorf("ignored %s, want %s", got, c.ignored)
			}
			if c.check != nil {
				c.check(t, cfg)
			}
		})
	}
}

func wantXFO(want string) func(t *testing.T, cfg server.Config) {
	return func(t *testing.T, cfg server.Config) {
		t.Helper()
		if cfg.XFrameOptions != want {
			t.Errorf("X-Frame-Options %q, want %q", cfg.XFrameOptions, want)
		}
	}
}
