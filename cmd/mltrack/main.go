// Command mltrack is an MLflow-compatible tracking server in one binary.
//
//	mltrack server [flags]   serve the MLflow REST API, artifact proxy and UI
//	mltrack gc [flags]       permanently remove deleted runs, experiments, logged models
//	mltrack version          print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
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

// envBool reads a boolean environment variable as MLflow's click options do.
func envBool(key string, def bool) bool {
	v, ok := os.LookupEnv(key)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// envInt64 reads an integer environment variable.
func envInt64(key string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(key), 10, 64); err == nil {
		return n
	}
	return def
}

// envDuration reads a duration environment variable (as "30s").
func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

// envFloat reads a number environment variable.
func envFloat(key string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return f
	}
	return def
}

// serverConfig fills the server configuration from flags, with MLflow's
// flag names, environment variables and defaults. ignored names the
// `mlflow server` options that were given and that mltrack has no use for,
// for runServer to log.
func serverConfig(args []string) (cfg server.Config, ignored []string, err error) {
	fs := flag.NewFlagSet("mltrack server", flag.ContinueOnError)
	port, _ := strconv.Atoi(server.Getenv("MLFLOW_PORT", "5000"))
	fs.StringVar(&cfg.Host, "host", server.Getenv("MLFLOW_HOST", "127.0.0.1"), "address to listen on")
	fs.StringVar(&cfg.Host, "h", server.Getenv("MLFLOW_HOST", "127.0.0.1"), "shorthand for --host")
	fs.IntVar(&cfg.Port, "port", port, "port to listen on")
	fs.IntVar(&cfg.Port, "p", port, "shorthand for --port")
	fs.StringVar(&cfg.BackendStoreURI, "backend-store-uri", server.Getenv("MLFLOW_BACKEND_STORE_URI", server.DefaultBackendStoreURI), "database: sqlite:///path or postgresql://user@host/db")
	fs.StringVar(&cfg.DefaultArtifactRoot, "default-artifact-root", server.Getenv("MLFLOW_DEFAULT_ARTIFACT_ROOT", ""), "artifact location of new experiments (default mlflow-artifacts:/ when serving artifacts, else ./mlruns)")
	fs.StringVar(&cfg.ArtifactsDest, "artifacts-destination", server.Getenv("MLFLOW_ARTIFACTS_DESTINATION", "./mlartifacts"), "where the artifact proxy stores artifacts: a folder, file:// or s3://bucket/prefix")
	serve := fs.Bool("serve-artifacts", envBool("MLFLOW_SERVE_ARTIFACTS", true), "serve artifacts through the server (proxy)")
	noServe := fs.Bool("no-serve-artifacts", false, "do not serve artifacts")
	allowedHosts := fs.String("allowed-hosts", server.Getenv("MLFLOW_SERVER_ALLOWED_HOSTS", ""), "comma-separated Host header patterns to accept (default: localhost and private networks)")
	origins := fs.String("cors-allowed-origins", server.Getenv("MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", ""), "comma-separated origins allowed to make state-changing API calls")
	disableSec := fs.Bool("disable-security-middleware", envBool("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", false), "turn off host and CORS checks")
	maxUpload := fs.Int64("max-artifact-upload-bytes", envInt64("MLTRACK_MAX_ARTIFACT_UPLOAD_BYTES", 0), "largest artifact upload the proxy accepts, in bytes (0: no limit)")
	appName := fs.String("app-name", "", "application to serve: basic-auth turns on MLflow-compatible authentication (as mlflow server --app-name basic-auth)")
	authOn := fs.Bool("auth", envBool("MLTRACK_AUTH", false), "turn on authentication and permissions (same as --app-name basic-auth)")
	authDB := fs.String("auth-database-uri", "", "auth database: sqlite:///path or postgresql://... (default: database_uri of MLFLOW_AUTH_CONFIG_PATH, else sqlite:///basic_auth.db)")
	authDefault := fs.String("auth-default-permission", "", "permission of users on resources they have no grant for: READ (default, as MLflow), USE, EDIT, MANAGE or NO_PERMISSIONS")
	authSecure := fs.Bool("auth-secure-cookies", envBool("MLTRACK_AUTH_SECURE_COOKIES", false), "mark session cookies Secure on plain HTTP too (TLS terminated by a reverse proxy)")
	fs.Int64Var(&cfg.MaxRequestBodyBytes, "max-request-body-bytes", envInt64("MLTRACK_MAX_REQUEST_BODY_BYTES", server.DefaultMaxRequestBodyBytes), "largest body of an API request other than an artifact transfer, in bytes (at most 32 MiB)")
	fs.DurationVar(&cfg.RequestReadTimeout, "request-read-timeout", envDuration("MLTRACK_REQUEST_READ_TIMEOUT", server.DefaultRequestReadTimeout), "time a client has to send the body of an API request (artifact transfers excepted; negative: no limit)")
	fs.DurationVar(&cfg.RequestWriteTimeout, "request-write-timeout", envDuration("MLTRACK_REQUEST_WRITE_TIMEOUT", server.DefaultRequestWriteTimeout), "time to answer an API request, from its headers to the last byte of the answer (artifact transfers excepted; negative: no limit)")
	fs.DurationVar(&cfg.HeaderReadTimeout, "header-read-timeout", envDuration("MLTRACK_HEADER_READ_TIMEOUT", server.DefaultHeaderReadTimeout), "time a client has to send a request's headers, on every route")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", envDuration("MLTRACK_IDLE_TIMEOUT", server.DefaultIdleTimeout), "time a kept-alive connection may wait for its next request")
	rate := fs.Float64("rate-limit", envFloat("MLTRACK_RATE_LIMIT", 0), "requests per second allowed to each client address and, with auth, each user (token bucket, per replica; 0: no limit)")
	burst := fs.Int("rate-limit-burst", int(envInt64("MLTRACK_RATE_LIMIT_BURST", 0)), "requests a client may send at once above --rate-limit (default: the rate, at least 1)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert-file", server.Getenv("MLTRACK_TLS_CERT_FILE", ""), "PEM certificate (chain) to serve HTTPS with (needs --tls-key-file)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key-file", server.Getenv("MLTRACK_TLS_KEY_FILE", ""), "PEM private key of --tls-cert-file")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", server.Getenv("MLTRACK_PPROF_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this address, a listener of its own, e.g. 127.0.0.1:6060 (default: off)")
	fs.StringVar(&cfg.XFrameOptions, "x-frame-options", server.Getenv("MLFLOW_SERVER_X_FRAME_OPTIONS", "SAMEORIGIN"), "X-Frame-Options header: SAMEORIGIN, DENY, or NONE (no header: the UI may be embedded anywhere)")
	registryURI := fs.String("registry-store-uri", server.Getenv("MLFLOW_REGISTRY_STORE_URI", ""), "must be the backend store URI if given: mltrack keeps the model registry in the backend store")
	staticPrefix := fs.String("static-prefix", server.Getenv("MLFLOW_STATIC_PREFIX", ""), "not supported: serve mltrack at the root of its host (a reverse proxy can map a path prefix)")
	fs.BoolVar(&cfg.ArtifactsOnly, "artifacts-only", envBool("MLFLOW_ARTIFACTS_ONLY", false), "serve only the artifact proxy, with no backend store (the tracking API answers 503), as mlflow server --artifacts-only")
	// Accepted for command-line compatibility with `mlflow server`, so that
	// switching changes only the command name: mltrack runs no worker
	// processes, has no Python web server to pass options to, always serves
	// /metrics and has no development mode.
	workers := fs.Int("workers", 0, "ignored (MLflow compatibility)")
	w := fs.Int("w", 0, "ignored (MLflow compatibility)")
	dev := fs.Bool("dev", false, "ignored (MLflow compatibility)")
	noUse := map[string]*string{
		"--gunicorn-opts":     fs.String("gunicorn-opts", server.Getenv("MLFLOW_GUNICORN_OPTS", ""), "ignored (MLflow compatibility)"),
		"--uvicorn-opts":      fs.String("uvicorn-opts", server.Getenv("MLFLOW_UVICORN_OPTS", ""), "ignored (MLflow compatibility)"),
		"--waitress-opts":     fs.String("waitress-opts", "", "ignored (MLflow compatibility)"),
		"--expose-prometheus": fs.String("expose-prometheus", server.Getenv("MLFLOW_EXPOSE_PROMETHEUS", ""), "ignored (MLflow compatibility): /metrics is always served"),
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	for name, v := range noUse {
		if *v != "" {
			ignored = append(ignored, name)
		}
	}
	if *dev {
		ignored = append(ignored, "--dev")
	}
	if *workers != 0 || *w != 0 {
		ignored = append(ignored, "--workers")
	}
	slices.Sort(ignored)
	switch strings.ToUpper(cfg.XFrameOptions) {
	case "SAMEORIGIN", "DENY", "NONE":
	default:
		return cfg, nil, fmt.Errorf("--x-frame-options %q: want SAMEORIGIN, DENY or NONE", cfg.XFrameOptions)
	}
	if *registryURI != "" && *registryURI != cfg.BackendStoreURI {
		return cfg, nil, fmt.Errorf("--registry-store-uri %q: mltrack keeps the model registry in the backend store; leave it out or give the backend store URI", server.MaskURI(*registryURI))
	}
	if *staticPrefix != "" {
		return cfg, nil, fmt.Errorf("--static-prefix is not supported: serve mltrack at the root of its host, behind a reverse proxy that maps %s/ to /", *staticPrefix)
	}
	cfg.ServeArtifacts = *serve && !*noServe
	cfg.AllowedHosts = server.SplitList(*allowedHosts)
	if len(cfg.AllowedHosts) == 0 {
		cfg.AllowedHosts = server.DefaultAllowedHosts()
	}
	cfg.CORSAllowedOrigins = server.SplitList(*origins)
	cfg.DisableSecurity = *disableSec
	cfg.MaxArtifactUploadBytes = *maxUpload
	if *rate != 0 || *burst != 0 {
		cfg.RateLimit = &server.RateLimit{Rate: *rate, Burst: *burst}
	}
	switch *appName {
	case "":
	case "basic-auth":
		*authOn = true
	default:
		return cfg, nil, fmt.Errorf("--app-name %q is not supported (only basic-auth)", *appName)
	}
	if *authOn {
		ac, err := authConfig(*authDB, *authDefault)
		if err != nil {
			return cfg, nil, err
		}
		ac.SecureCookies = *authSecure
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
	if err == flag.ErrHelp {
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
		"request_read_timeout", cfg.RequestReadTimeout.String(), "request_write_timeout", cfg.RequestWriteTimeout.String(), "header_read_timeout", cfg.HeaderReadTimeout.String(), "idle_timeout", cfg.IdleTimeout.String(), "pprof_addr", cfg.PprofAddr)
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
