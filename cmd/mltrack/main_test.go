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
		{name: "unknown option", args: []string{"--no-such-option"}, err: "flag provided but not defined: --no-such-option"},
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

// TestServerConfigRefusesMisconfiguration: a value that does not parse, from
// a flag or its environment variable, and arguments the parser would
// otherwise drop stop the server at start-up with a message naming them,
// never a silent default.
func TestServerConfigRefusesMisconfiguration(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		err  []string // parts of the error
	}{
		{name: "MLFLOW_PORT not a number", env: map[string]string{"MLFLOW_PORT": "abc"}, err: []string{`MLFLOW_PORT="abc"`, "--port", "not an integer"}},
		{name: "--port not a number", args: []string{"--port", "abc"}, err: []string{`invalid value "abc" for flag --port`}},
		{name: "port out of range", args: []string{"--port", "70000"}, err: []string{"--port 70000", "0 to 65535"}},
		{name: "MLFLOW_PORT out of range", env: map[string]string{"MLFLOW_PORT": "-1"}, err: []string{"--port -1"}},
		{name: "arguments after a positional word", args: []string{"extra", "--port", "5112"}, err: []string{`unexpected argument "extra"`}},
		{name: "positional word at the end", args: []string{"--port", "5112", "extra"}, err: []string{`unexpected argument "extra"`}},
		{name: "MLTRACK_ size not a number", env: map[string]string{"MLTRACK_MAX_REQUEST_BODY_BYTES": "10MB"}, err: []string{`MLTRACK_MAX_REQUEST_BODY_BYTES="10MB"`, "--max-request-body-bytes", "not an integer"}},
		{name: "MLTRACK_ upload size not a number", env: map[string]string{"MLTRACK_MAX_ARTIFACT_UPLOAD_BYTES": "1e9x"}, err: []string{"MLTRACK_MAX_ARTIFACT_UPLOAD_BYTES"}},
		{name: "MLTRACK_ duration without unit", env: map[string]string{"MLTRACK_REQUEST_READ_TIMEOUT": "30"}, err: []string{`MLTRACK_REQUEST_READ_TIMEOUT="30"`, "not a duration"}},
		{name: "MLTRACK_ rate not a number", env: map[string]string{"MLTRACK_RATE_LIMIT": "fast"}, err: []string{`MLTRACK_RATE_LIMIT="fast"`, "not a number"}},
		{name: "MLTRACK_ burst not a number", env: map[string]string{"MLTRACK_RATE_LIMIT_BURST": "2.5"}, err: []string{"MLTRACK_RATE_LIMIT_BURST"}},
		{name: "boolean not a boolean", env: map[string]string{"MLFLOW_SERVE_ARTIFACTS": "maybe"}, err: []string{`MLFLOW_SERVE_ARTIFACTS="maybe"`, "not a boolean"}},
		{name: "MLTRACK_AUTH not a boolean", env: map[string]string{"MLTRACK_AUTH": "enabled"}, err: []string{"MLTRACK_AUTH"}},
		{name: "two bad variables, both named", env: map[string]string{"MLFLOW_PORT": "x", "MLTRACK_IDLE_TIMEOUT": "y"}, err: []string{"MLFLOW_PORT", "MLTRACK_IDLE_TIMEOUT"}},
		{name: "unknown flag, GNU style", args: []string{"--backend-store"}, err: []string{"flag provided but not defined: --backend-store", "mltrack server --help"}},
		{name: "flag without its value, GNU style", args: []string{"--port"}, err: []string{"flag needs an argument: --port"}},
		{name: "bad value, GNU style", args: []string{"--idle-timeout", "5"}, err: []string{`invalid value "5" for flag --idle-timeout`}},
	}
	vars := []string{"MLFLOW_PORT", "MLTRACK_MAX_REQUEST_BODY_BYTES", "MLTRACK_MAX_ARTIFACT_UPLOAD_BYTES", "MLTRACK_REQUEST_READ_TIMEOUT", "MLTRACK_RATE_LIMIT", "MLTRACK_RATE_LIMIT_BURST", "MLFLOW_SERVE_ARTIFACTS", "MLTRACK_AUTH", "MLTRACK_IDLE_TIMEOUT"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range vars {
				t.Setenv(k, c.env[k])
			}
			_, _, err := serverConfig(c.args)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range c.err {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestServerConfigFromEnvironment: every kind of value is read from its
// environment variable, booleans as click reads them, and a flag wins over
// its variable.
func TestServerConfigFromEnvironment(t *testing.T) {
	t.Setenv("MLFLOW_PORT", "5123")
	t.Setenv("MLTRACK_MAX_REQUEST_BODY_BYTES", "1048576")
	t.Setenv("MLTRACK_REQUEST_READ_TIMEOUT", "45s")
	t.Setenv("MLTRACK_RATE_LIMIT", "2.5")
	t.Setenv("MLFLOW_SERVE_ARTIFACTS", "off")
	t.Setenv("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", "Yes")
	cfg, _, err := serverConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 5123 || cfg.MaxRequestBodyBytes != 1<<20 || cfg.RequestReadTimeout.String() != "45s" || cfg.RateLimit == nil || cfg.RateLimit.Rate != 2.5 || cfg.ServeArtifacts || !cfg.DisableSecurity {
		t.Errorf("config from the environment: %+v", cfg)
	}
	cfg, _, err = serverConfig([]string{"--port=5200", "-p", "5300", "--serve-artifacts"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 5300 || !cfg.ServeArtifacts {
		t.Errorf("flags over the environment: port %d, serve artifacts %v", cfg.Port, cfg.ServeArtifacts)
	}
}
