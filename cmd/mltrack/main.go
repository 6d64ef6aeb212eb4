// Command mltrack is an MLflow-compatible tracking server in one binary.
//
//	mltrack server [flags]   serve the MLflow REST API, artifact proxy and UI
//	mltrack gc [flags]       permanently remove deleted runs, experiments, logged models
//	mltrack version          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mltrack/mltrack/internal/auth"
	"github.com/mltrack/mltrack/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		if err := runServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "mltrack:", err)
			os.Exit(1)
		}
	case "gc":
		if err := runGC(os.Args[2:], os.Stdout, os.Stderr); err != nil && err != flag.ErrHelp {
			fmt.Fprintln(os.Stderr, "mltrack gc:", err)
			os.Exit(1)
		}
	case "version", "--version", "-v":
		fmt.Printf("mltrack %s (MLflow API %s)\n", version, server.Version)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "mltrack: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `mltrack: an MLflow-compatible tracking server

Usage:
  mltrack server [flags]   run the tracking server (mltrack server --help for flags)
  mltrack gc [flags]       permanently remove deleted runs, experiments and logged models
  mltrack version          print the version
`)
}

// The groups of `mltrack server --help`, in order.
const (
	groupStore     = "Store"
	groupArtifacts = "Artifacts"
	groupNetwork   = "Network"
	groupAuth      = "Authentication"
	groupLimits    = "Limits"
	groupOps       = "Operations"
	groupWebhooks  = "Webhooks"
	groupIgnored   = "Accepted for mlflow server compatibility, no effect"
)

const serverHelpHeader = `Usage: mltrack server [flags]

Serves MLflow's REST API, the artifact proxy and the web UI. The flags are
mlflow server's, with its environment variables; a flag given on the command
line wins over its environment variable. A value that does not parse, from
either, stops the server at start-up.
`

const serverHelpFooter = `
S3 artifact stores read MLFLOW_S3_ENDPOINT_URL, MLFLOW_S3_IGNORE_TLS,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
AWS_REGION and AWS_DEFAULT_REGION (docs/configuration.md). Authentication
reads MLFLOW_AUTH_CONFIG_PATH, MLFLOW_AUTH_ADMIN_USERNAME and
MLFLOW_AUTH_ADMIN_PASSWORD (docs/security.md). Webhook secrets are encrypted
with the Fernet key in MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY (docs/configuration.md).
`

// serverFlags is what the flags of `mltrack server` fill besides
// server.Config.
type serverFlags struct {
	serve, noServe, disableSec                 bool
	allowedHosts, origins                      string
	appName, authDB, authDefault               string
	authOn, authSecure                         bool
	rate                                       float64
	burst                                      int
	registryURI, staticPrefix                  string
	workers, gunicorn, uvicorn, waitress, prom string
	dev                                        bool
	hookSchemes                                string
	hookTimeout                                int
}

// newServerOptions declares every flag of `mltrack server`, bound to cfg
// and f, with MLflow's flag names, environment variables and defaults.
func newServerOptions(cfg *server.Config, f *serverFlags) *options {
	s := newOptions("mltrack server", groupStore, groupArtifacts, groupNetwork, groupAuth, groupLimits, groupOps, groupWebhooks, groupIgnored)

	s.String(&cfg.BackendStoreURI, option{group: groupStore, name: "backend-store-uri", env: "MLFLOW_BACKEND_STORE_URI", metavar: "URI",
		usage: "database of runs, experiments and models: sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user:password@host:5432/db (the SQLite file's folder must exist)",
		def:   server.DefaultBackendStoreURI}, server.DefaultBackendStoreURI)
	s.String(&f.registryURI, option{group: groupStore, name: "registry-store-uri", env: "MLFLOW_REGISTRY_STORE_URI", metavar: "URI",
		usage: "must be the backend store URI if given: mltrack keeps the model registry in the backend store"}, "")

	s.String(&cfg.DefaultArtifactRoot, option{group: groupArtifacts, name: "default-artifact-root", env: "MLFLOW_DEFAULT_ARTIFACT_ROOT", metavar: "URI",
		usage: "artifact location of new experiments",
		def:   "mlflow-artifacts:/ when serving artifacts, else ./mlruns"}, "")
	s.String(&cfg.ArtifactsDest, option{group: groupArtifacts, name: "artifacts-destination", env: "MLFLOW_ARTIFACTS_DESTINATION", metavar: "URI",
		usage: "where the artifact proxy stores artifacts: a folder, file:///path or s3://bucket/prefix; checked at start-up (the folder must be writable, the bucket reachable with the credentials given)",
		def:   "./mlartifacts"}, "./mlartifacts")
	s.Bool(&f.serve, option{group: groupArtifacts, name: "serve-artifacts", env: "MLFLOW_SERVE_ARTIFACTS",
		usage: "serve artifact uploads, downloads and listings through the server (proxy)", def: "on"}, true)
	s.Bool(&f.noServe, option{group: groupArtifacts, name: "no-serve-artifacts",
		usage: "do not serve artifacts (as MLFLOW_SERVE_ARTIFACTS=false)"}, false)
	s.Bool(&cfg.ArtifactsOnly, option{group: groupArtifacts, name: "artifacts-only", env: "MLFLOW_ARTIFACTS_ONLY",
		usage: "serve only the artifact proxy, with no backend store (the tracking API answers 503), as mlflow server --artifacts-only", def: "off"}, false)

	s.String(&cfg.Host, option{group: groupNetwork, name: "host", short: "h", env: "MLFLOW_HOST", metavar: "HOST",
		usage: "address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 for every network (use --allowed-hosts to restrict clients)", def: "127.0.0.1"}, "127.0.0.1")
	s.Int(&cfg.Port, option{group: groupNetwork, name: "port", short: "p", env: "MLFLOW_PORT", metavar: "PORT",
		usage: "port to listen on (0: any free port)", def: "5000"}, 5000)
	s.String(&f.allowedHosts, option{group: groupNetwork, name: "allowed-hosts", env: "MLFLOW_SERVER_ALLOWED_HOSTS", metavar: "LIST",
		usage: "comma-separated Host header patterns to accept, e.g. mlflow.example.com,mlflow.example.com:* (a guard against DNS rebinding)",
		def:   "localhost and private networks"}, "")
	s.String(&f.origins, option{group: groupNetwork, name: "cors-allowed-origins", env: "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", metavar: "LIST",
		usage: "comma-separated origins allowed to make state-changing API calls from a browser", def: "localhost origins"}, "")
	s.Bool(&f.disableSec, option{group: groupNetwork, name: "disable-security-middleware", env: "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",
		usage: "turn off the Host, CORS and X-Frame-Options checks (testing only)", def: "off"}, false)
	s.String(&cfg.XFrameOptions, option{group: groupNetwork, name: "x-frame-options", env: "MLFLOW_SERVER_X_FRAME_OPTIONS", metavar: "VALUE",
		usage: "X-Frame-Options header: SAMEORIGIN, DENY, or NONE (no header: the UI may be embedded anywhere)", def: "SAMEORIGIN"}, "SAMEORIGIN")
	s.String(&cfg.TLSCertFile, option{group: groupNetwork, name: "tls-cert-file", env: "MLTRACK_TLS_CERT_FILE", metavar: "FILE",
		usage: "PEM certificate (chain) to serve HTTPS with (needs --tls-key-file)", def: "plain HTTP"}, "")
	s.String(&cfg.TLSKeyFile, option{group: groupNetwork, name: "tls-key-file", env: "MLTRACK_TLS_KEY_FILE", metavar: "FILE",
		usage: "PEM private key of --tls-cert-file"}, "")
	s.String(&f.staticPrefix, option{group: groupNetwork, name: "static-prefix", env: "MLFLOW_STATIC_PREFIX", metavar: "PREFIX",
		usage: "not supported: serve mltrack at the root of its host (a reverse proxy can map a path prefix)"}, "")

	s.String(&f.appName, option{group: groupAuth, name: "app-name", env: "MLTRACK_APP_NAME", metavar: "NAME",
		usage: "application to serve: basic-auth turns on MLflow-compatible authentication (as mlflow server --app-name basic-auth)", def: "none: no authentication"}, "")
	s.Bool(&f.authOn, option{group: groupAuth, name: "auth", env: "MLTRACK_AUTH",
		usage: "turn on authentication and permissions (same as --app-name basic-auth)", def: "off"}, false)
	s.String(&f.authDB, option{group: groupAuth, name: "auth-database-uri", env: "MLTRACK_AUTH_DATABASE_URI", metavar: "URI",
		usage: "database of users and permissions: sqlite:///path or postgresql://...",
		def:   "database_uri of MLFLOW_AUTH_CONFIG_PATH, else sqlite:///basic_auth.db"}, "")
	s.String(&f.authDefault, option{group: groupAuth, name: "auth-default-permission", env: "MLTRACK_AUTH_DEFAULT_PERMISSION", metavar: "PERMISSION",
		usage: "permission of users on resources they have no grant for: READ, USE, EDIT, MANAGE or NO_PERMISSIONS", def: "READ, as MLflow"}, "")
	s.Bool(&f.authSecure, option{group: groupAuth, name: "auth-secure-cookies", env: "MLTRACK_AUTH_SECURE_COOKIES",
		usage: "mark session cookies Secure on plain HTTP too (TLS terminated by a reverse proxy)", def: "off"}, false)

	s.Int64(&cfg.MaxRequestBodyBytes, option{group: groupLimits, name: "max-request-body-bytes", env: "MLTRACK_MAX_REQUEST_BODY_BYTES", metavar: "BYTES",
		usage: "largest body of an API request other than an artifact transfer (at most 32 MiB)", def: "33554432 (32 MiB)"}, server.DefaultMaxRequestBodyBytes)
	s.Int64(&cfg.MaxArtifactUploadBytes, option{group: groupLimits, name: "max-artifact-upload-bytes", env: "MLTRACK_MAX_ARTIFACT_UPLOAD_BYTES", metavar: "BYTES",
		usage: "largest artifact upload the proxy accepts (0: no limit)", def: "0"}, 0)
	s.Duration(&cfg.RequestReadTimeout, option{group: groupLimits, name: "request-read-timeout", env: "MLTRACK_REQUEST_READ_TIMEOUT", metavar: "DURATION",
		usage: "time a client has to send the body of an API request (artifact transfers excepted; negative: no limit)", def: server.DefaultRequestReadTimeout.String()}, server.DefaultRequestReadTimeout)
	s.Duration(&cfg.RequestWriteTimeout, option{group: groupLimits, name: "request-write-timeout", env: "MLTRACK_REQUEST_WRITE_TIMEOUT", metavar: "DURATION",
		usage: "time to answer an API request, from its headers to the last byte of the answer (artifact transfers excepted; negative: no limit)", def: server.DefaultRequestWriteTimeout.String()}, server.DefaultRequestWriteTimeout)
	s.Duration(&cfg.HeaderReadTimeout, option{group: groupLimits, name: "header-read-timeout", env: "MLTRACK_HEADER_READ_TIMEOUT", metavar: "DURATION",
		usage: "time a client has to send a request's headers, on every route", def: server.DefaultHeaderReadTimeout.String()}, server.DefaultHeaderReadTimeout)
	s.Duration(&cfg.IdleTimeout, option{group: groupLimits, name: "idle-timeout", env: "MLTRACK_IDLE_TIMEOUT", metavar: "DURATION",
		usage: "time a kept-alive connection may wait for its next request", def: server.DefaultIdleTimeout.String()}, server.DefaultIdleTimeout)
	s.Float64(&f.rate, option{group: groupLimits, name: "rate-limit", env: "MLTRACK_RATE_LIMIT", metavar: "PER_SECOND",
		usage: "requests per second allowed to each client address and, with auth, each user (token bucket, per replica; 0: no limit)", def: "0"}, 0)
	s.Int(&f.burst, option{group: groupLimits, name: "rate-limit-burst", env: "MLTRACK_RATE_LIMIT_BURST", metavar: "N",
		usage: "requests a client may send at once above --rate-limit", def: "the rate, at least 1"}, 0)

	s.String(&cfg.PprofAddr, option{group: groupOps, name: "pprof-addr", env: "MLTRACK_PPROF_ADDR", metavar: "ADDR",
		usage: "serve Go's profiler (/debug/pprof/) on this address, a listener of its own, e.g. 127.0.0.1:6060", def: "off"}, "")

	s.String(&f.hookSchemes, option{group: groupWebhooks, name: "webhook-allowed-schemes", env: "MLFLOW_WEBHOOK_ALLOWED_SCHEMES", metavar: "LIST",
		usage: "comma-separated URL schemes webhook receivers may use", def: "https"}, "https")
	s.Bool(&cfg.Webhooks.AllowPrivateIPs, option{group: groupWebhooks, name: "webhook-allow-private-ips", env: "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS",
		usage: "let webhook receivers be on loopback, private and link-local addresses (refused when saved and when delivering otherwise: SSRF)", def: "off"}, false)
	s.Int(&f.hookTimeout, option{group: groupWebhooks, name: "webhook-request-timeout", env: "MLFLOW_WEBHOOK_REQUEST_TIMEOUT", metavar: "SECONDS",
		usage: "time one webhook delivery attempt may take", def: "30"}, 30)
	s.Int(&cfg.Webhooks.MaxRetries, option{group: groupWebhooks, name: "webhook-request-max-retries", env: "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", metavar: "N",
		usage: "retries at MLflow's pace (1 s, 2 s, 4 s, ... up to 60 s) before slower ones (doubling up to 5 minutes)", def: "3"}, 3)
	s.Int(&cfg.Webhooks.Workers, option{group: groupWebhooks, name: "webhook-delivery-max-workers", env: "MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS", metavar: "N",
		usage: "webhook deliveries in flight at once", def: "10"}, 10)
	s.Duration(&cfg.Webhooks.MaxAge, option{group: groupWebhooks, name: "webhook-max-delivery-age", env: "MLTRACK_WEBHOOK_MAX_DELIVERY_AGE", metavar: "DURATION",
		usage: "how long an undelivered webhook event is retried before it is given up", def: "72h0m0s"}, 72*time.Hour)
	s.Duration(&cfg.Webhooks.LogRetention, option{group: groupWebhooks, name: "webhook-log-retention", env: "MLTRACK_WEBHOOK_LOG_RETENTION", metavar: "DURATION",
		usage: "how long webhook delivery log lines are kept", def: "720h0m0s"}, 30*24*time.Hour)

	// Accepted for command-line compatibility with `mlflow server`, so that
	// switching changes only the command name: mltrack runs no worker
	// processes, has no Python web server to pass options to, always serves
	// /metrics and has no development mode.
	s.String(&f.workers, option{group: groupIgnored, name: "workers", short: "w", env: "MLFLOW_WORKERS", metavar: "N", usage: "worker processes: mltrack is one process"}, "")
	s.String(&f.gunicorn, option{group: groupIgnored, name: "gunicorn-opts", env: "MLFLOW_GUNICORN_OPTS", metavar: "OPTS", usage: "options of gunicorn"}, "")
	s.String(&f.uvicorn, option{group: groupIgnored, name: "uvicorn-opts", env: "MLFLOW_UVICORN_OPTS", metavar: "OPTS", usage: "options of uvicorn"}, "")
	s.String(&f.waitress, option{group: groupIgnored, name: "waitress-opts", metavar: "OPTS", usage: "options of waitress"}, "")
	s.String(&f.prom, option{group: groupIgnored, name: "expose-prometheus", env: "MLFLOW_EXPOSE_PROMETHEUS", metavar: "DIR", usage: "Prometheus metrics folder: /metrics is always served"}, "")
	s.Bool(&f.dev, option{group: groupIgnored, name: "dev", usage: "development mode"}, false)
	return s
}

// serverConfig fills the server configuration from flags and the
// environment, with MLflow's flag names, environment variables and
// defaults. ignored names the `mlflow server` options that were given and
// that mltrack has no use for, for runServer to log. --help prints the
// flags to stdout and returns flag.ErrHelp.
func serverConfig(args []string) (cfg server.Config, ignored []string, err error) {
	return serverConfigTo(args, os.Stdout)
}

func serverConfigTo(args []string, stdout io.Writer) (cfg server.Config, ignored []string, err error) {
	var f serverFlags
	s := newServerOptions(&cfg, &f)
	if err := s.parse(args, serverHelpHeader, stdout); err != nil {
		if err == errHelp {
			fmt.Fprint(stdout, serverHelpFooter)
		}
		return cfg, nil, err
	}
	for name, v := range map[string]string{"--workers": f.workers, "--gunicorn-opts": f.gunicorn, "--uvicorn-opts": f.uvicorn, "--waitress-opts": f.waitress, "--expose-prometheus": f.prom} {
		if v != "" {
			ignored = append(ignored, name)
		}
	}
	if f.dev {
		ignored = append(ignored, "--dev")
	}
	slices.Sort(ignored)
	if cfg.Port < 0 || cfg.Port > 65535 {
		return cfg, nil, fmt.Errorf("--port %d: want a port number from 0 to 65535", cfg.Port)
	}
	switch strings.ToUpper(cfg.XFrameOptions) {
	case "SAMEORIGIN", "DENY", "NONE":
	default:
		return cfg, nil, fmt.Errorf("--x-frame-options %q: want SAMEORIGIN, DENY or NONE", cfg.XFrameOptions)
	}
	if f.registryURI != "" && f.registryURI != cfg.BackendStoreURI {
		return cfg, nil, fmt.Errorf("--registry-store-uri %q: mltrack keeps the model registry in the backend store; leave it out or give the backend store URI", server.MaskURI(f.registryURI))
	}
	if f.staticPrefix != "" {
		return cfg, nil, fmt.Errorf("--static-prefix is not supported: serve mltrack at the root of its host, behind a reverse proxy that maps %s/ to /", f.staticPrefix)
	}
	cfg.ServeArtifacts = f.serve && !f.noServe
	cfg.Webhooks.AllowedSchemes = server.SplitList(f.hookSchemes)
	cfg.Webhooks.Timeout = time.Duration(f.hookTimeout) * time.Second
	// The key is read from the environment only: a flag would show it in ps.
	cfg.Webhooks.EncryptionKey = os.Getenv("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY")
	cfg.AllowedHosts = server.SplitList(f.allowedHosts)
	if len(cfg.AllowedHosts) == 0 {
		cfg.AllowedHosts = server.DefaultAllowedHosts()
	}
	cfg.CORSAllowedOrigins = server.SplitList(f.origins)
	cfg.DisableSecurity = f.disableSec
	if f.rate != 0 || f.burst != 0 {
		cfg.RateLimit = &server.RateLimit{Rate: f.rate, Burst: f.burst}
	}
	switch f.appName {
	case "":
	case "basic-auth":
		f.authOn = true
	default:
		return cfg, nil, fmt.Errorf("--app-name %q is not supported (only basic-auth)", f.appName)
	}
	if f.authOn {
		ac, err := authConfig(f.authDB, f.authDefault)
		if err != nil {
			return cfg, nil, err
		}
		ac.SecureCookies = f.authSecure
		cfg.Auth = &ac
	}
	return cfg, ignored, nil
}

// authConfig is MLflow's basic_auth.ini defaults, overlaid by the ini file
// MLFLOW_AUTH_CONFIG_PATH names, then MLFLOW_AUTH_ADMIN_USERNAME and
// MLFLOW_AUTH_ADMIN_PASSWORD, then the flags.
func authConfig(dbURI, defaultPerm string) (auth.Config, error) {
	c := auth.DefaultConfig()
	if path := os.Getenv("MLFLOW_AUTH_CONFIG_PATH"); path != "" {
		if err := auth.ReadConfigFile(path, &c); err != nil {
			return c, err
		}
	}
	c.AdminUsername = server.Getenv("MLFLOW_AUTH_ADMIN_USERNAME", c.AdminUsername)
	c.AdminPassword = server.Getenv("MLFLOW_AUTH_ADMIN_PASSWORD", c.AdminPassword)
	if dbURI != "" {
		c.DatabaseURI = dbURI
	}
	if defaultPerm != "" {
		c.DefaultPermission = defaultPerm
	}
	if _, err := auth.ParsePermission(c.DefaultPermission); err != nil {
		return c, fmt.Errorf("auth default permission: %w", err)
	}
	return c, nil
}

func runServer(args []string) error {
	cfg, ignored, err := serverConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	log.Info("mltrack starting", "version", version, "backend_store_uri", server.MaskURI(cfg.BackendStoreURI),
		"default_artifact_root", cfg.DefaultArtifactRoot, "artifacts_destination", server.MaskURI(cfg.ArtifactsDest),
		"serve_artifacts", cfg.ServeArtifacts, "artifacts_only", cfg.ArtifactsOnly, "host", cfg.Host, "port", cfg.Port, "auth", cfg.Auth != nil,
		"tls", cfg.TLSCertFile != "", "rate_limit", cfg.RateLimit, "max_request_body_bytes", cfg.MaxRequestBodyBytes,
		"request_read_timeout", cfg.RequestReadTimeout.String(), "request_write_timeout", cfg.RequestWriteTimeout.String(), "header_read_timeout", cfg.HeaderReadTimeout.String(), "idle_timeout", cfg.IdleTimeout.String(), "pprof_addr", cfg.PprofAddr,
		"webhook_allowed_schemes", cfg.Webhooks.AllowedSchemes, "webhook_allow_private_ips", cfg.Webhooks.AllowPrivateIPs, "webhook_encryption_key_set", cfg.Webhooks.EncryptionKey != "",
		"webhook_max_retries", cfg.Webhooks.MaxRetries, "webhook_timeout", cfg.Webhooks.Timeout.String(), "webhook_max_delivery_age", cfg.Webhooks.MaxAge.String())
	if len(ignored) > 0 {
		log.Warn("mlflow server options with no use in mltrack, ignored", "options", ignored)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
