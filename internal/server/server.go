// Package server assembles mltrack's HTTP server: the MLflow REST API, the
// artifact proxy, the embedded UI, health endpoints and the middleware
// around them.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/api"
	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/auth"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// Version is the MLflow version mltrack answers on /version: clients check
// it to pick features, so it is the MLflow version whose API we serve.
const Version = "3.6.0"

// DefaultBackendStoreURI is the backend store of `mlflow server` and
// `mltrack server` when none is given.
const DefaultBackendStoreURI = "sqlite:///mlflow.db"

// Config is the whole server configuration, filled from flags and the
// environment in one place (cmd/mltrack).
type Config struct {
	Host                string
	Port                int
	BackendStoreURI     string
	DefaultArtifactRoot string
	ArtifactsDest       string
	ServeArtifacts      bool
	AllowedHosts        []string
	CORSAllowedOrigins  []string
	// DisableSecurity turns off host and CORS checks
	// (MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE=true).
	DisableSecurity bool
	// ArtifactsOnly serves the artifact proxy alone, with no backend store
	// (--artifacts-only, as MLflow): the tracking API answers 503.
	ArtifactsOnly bool
	// XFrameOptions is the X-Frame-Options header of every answer
	// (--x-frame-options, MLflow's default SAMEORIGIN); "NONE" sends none.
	XFrameOptions string
	// MaxArtifactUploadBytes bounds one artifact upload through the proxy;
	// 0 is no limit.
	MaxArtifactUploadBytes int64
	ShutdownTimeout        time.Duration
	// Auth turns on MLflow basic-auth compatible authentication and
	// permissions (--app-name basic-auth); nil leaves the server open.
	Auth *auth.Config
	// MaxRequestBodyBytes bounds the body of a request other than an
	// artifact transfer (0: DefaultMaxRequestBodyBytes, also the largest).
	MaxRequestBodyBytes int64
	// RequestReadTimeout and RequestWriteTimeout bound the reading of the
	// body and the whole answer of such a request (0: the defaults,
	// negative: none).
	RequestReadTimeout  time.Duration
	RequestWriteTimeout time.Duration
	// HeaderReadTimeout bounds the reading of a request's headers and
	// IdleTimeout the wait for the next request on a kept-alive
	// connection, for every route (0: the defaults).
	HeaderReadTimeout time.Duration
	IdleTimeout       time.Duration
	// RateLimit limits requests per client address and, with auth on, per
	// user; nil is no limit.
	RateLimit *RateLimit
	// TLSCertFile and TLSKeyFile make the server speak HTTPS.
	TLSCertFile, TLSKeyFile string
	// PprofAddr, when set, serves Go's profiler on a listener of its own
	// (pprof.go); the API's listener never serves it.
	PprofAddr string
	// Webhooks configures registry webhook delivery.
	Webhooks WebhookConfig
}

// WebhookConfig is the webhook settings, MLflow's environment variables
// where MLflow has them.
type WebhookConfig struct {
	// EncryptionKey is the Fernet key of webhook secrets
	// (MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY); empty: a key for this process
	// only, as MLflow (secrets can't be read after a restart).
	EncryptionKey string
	// AllowedSchemes are the receiver URL schemes (MLFLOW_WEBHOOK_ALLOWED_SCHEMES, default https).
	AllowedSchemes []string
	// AllowPrivateIPs lets receivers be on loopback, private and
	// link-local addresses (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS).
	AllowPrivateIPs bool
	// MaxRetries, Timeout and Workers are MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES,
	// MLFLOW_WEBHOOK_REQUEST_TIMEOUT and MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS.
	MaxRetries int
	Timeout    time.Duration
	Workers    int
	// MaxAge is how long an undelivered event is retried.
	MaxAge time.Duration
	// LogRetention is how long delivery log lines are kept.
	LogRetention time.Duration
}

// Server is a configured mltrack server.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     *sqlstore.Store
	artifacts artifact.Repository // the proxy's root; nil without --serve-artifacts
	resolver  *artifact.Resolver  // the roots artifacts are read from on a client's behalf
	auth      *auth.Service       // nil when auth is off
	http      *http.Server
	metrics   *metrics
	limits    *limiter // per client address and user; nil without a rate limit
	hooks     *api.Webhooks
}

// New opens the store and builds the handler.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := checkHardening(&cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log}
	if cfg.ArtifactsOnly {
		if err := checkArtifactsOnly(cfg); err != nil {
			return nil, err
		}
		s.metrics = newMetrics(nil)
		if err := s.openArtifacts(ctx); err != nil {
			return nil, err
		}
		s.http = s.newHTTPServer()
		return s, nil
	}
	root := cfg.DefaultArtifactRoot
	if root == "" {
		if cfg.ServeArtifacts {
			root = "mlflow-artifacts:"
		} else {
			root = "./mlruns"
		}
	}
	if artifact.URIScheme(root) == "" {
		// As MLflow: a local default root is stored as an absolute URI, so
		// that clients on this machine can write there directly.
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, err
		}
		root = "file://" + filepath.ToSlash(abs)
	}
	st, err := sqlstore.Open(ctx, cfg.BackendStoreURI, sqlstore.Options{DefaultArtifactRoot: root})
	if err != nil {
		return nil, err
	}
	s.store = st
	s.metrics = newMetrics(st.Stats)
	if err := s.openWebhooks(); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.openAuth(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.ServeArtifacts {
		if err := s.openArtifacts(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.resolver = &artifact.Resolver{Proxy: s.artifacts, Roots: map[string]artifact.Repository{}}
	switch {
	case strings.HasPrefix(root, artifact.ProxyScheme+":"):
	case artifact.URIScheme(root) == "http" || artifact.URIScheme(root) == "https":
		// Another server's artifact proxy (an `--artifacts-only` server, as
		// in MLflow's split deployment): clients write and read there
		// directly; this server only records the location.
	default:
		repo, err := artifact.Open(ctx, root)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("default artifact root %s: %w", MaskURI(root), err)
		}
		// Clients write there themselves; the server only reads (listings
		// and downloads for the UI). A root the server can't use is worth
		// a warning at start-up, not a refusal: clients may hold
		// credentials the server lacks.
		if err := artifact.Check(ctx, repo); err != nil {
			log.Warn("the default artifact root is not usable by the server: artifact listings and downloads through it will fail", "default_artifact_root", MaskURI(root), "err", err)
		}
		s.resolver.Roots[root] = repo
	}
	s.http = s.newHTTPServer()
	return s, nil
}

// openArtifacts opens the artifact proxy's root, --artifacts-destination.
func (s *Server) openArtifacts(ctx context.Context) error {
	dest := s.cfg.ArtifactsDest
	if dest == "" {
		dest = "./mlartifacts"
	}
	var err error
	if s.artifacts, err = artifact.Open(ctx, dest); err != nil {
		return fmt.Errorf("artifacts destination %s: %w", MaskURI(dest), err)
	}
	if err := artifact.Check(ctx, s.artifacts); err != nil {
		return fmt.Errorf("artifacts destination %s: %w", MaskURI(dest), err)
	}
	return nil
}

// checkArtifactsOnly refuses what an artifacts-only server can't do, as
// MLflow refuses a backend store URI with --artifacts-only.
func checkArtifactsOnly(cfg Config) error {
	switch {
	case !cfg.ServeArtifacts:
		return errors.New("--artifacts-only serves the artifact proxy: it can't be combined with --no-serve-artifacts")
	case cfg.BackendStoreURI != "" && cfg.BackendStoreURI != DefaultBackendStoreURI:
		return fmt.Errorf("--artifacts-only: a server in artifacts-only mode has no backend store; leave out --backend-store-uri (got %s)", MaskURI(cfg.BackendStoreURI))
	case cfg.Auth != nil:
		return errors.New("--artifacts-only can't be combined with auth: permissions are checked against the tracking store; run the proxy inside the tracking server instead")
	}
	return nil
}

// newHTTPServer is the listener's configuration. No ReadTimeout or
// WriteTimeout: artifact transfers of many GB stream for minutes. Slow
// clients are bounded by ReadHeaderTimeout and IdleTimeout.
func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Addr:              net.JoinHostPort(s.cfg.Host, fmt.Sprint(s.cfg.Port)),
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.HeaderReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// closeStore closes the backend store, if the server has one.
func (s *Server) closeStore() error {
	if s.store == nil {
		return nil
	}
	return s.store.Close()
}

// Handler is the whole HTTP handler with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(Version))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		if s.store == nil { // artifacts only: nothing to reach but the proxy's root
			plain(w, http.StatusOK, "OK")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			plain(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		plain(w, http.StatusOK, "OK")
	})
	mux.Handle("GET /metrics", s.metrics)
	if s.store != nil {
		a := &api.API{Tracking: s.store, Registry: s.store, LoggedModels: s.store, Traces: s.store, Datasets: s.store, Scorers: s.store, Artifacts: s.resolver, Webhooks: s.hooks}
		a.Register(mux)
		a.RegisterDownloads(mux)
	} else {
		registerArtifactsOnly(mux)
	}
	registerUI(mux)
	var h http.Handler = mux
	if s.auth != nil {
		s.auth.Register(mux)
		h = s.auth.Middleware(s.limitUsers(mux))
	} else {
		registerAuthOff(mux)
	}
	if s.artifacts != nil {
		api.RegisterArtifactProxy(mux, s.artifacts, api.ArtifactProxyOptions{MaxUploadBytes: s.cfg.MaxArtifactUploadBytes})
		h = api.GuardArtifactPaths(h)
	}
	h = compressAnswers(h)
	h = s.harden(h)
	if !s.cfg.DisableSecurity {
		h = security(h, s.cfg.AllowedHosts, s.cfg.CORSAllowedOrigins, s.cfg.XFrameOptions)
	}
	return logRequests(s.log, mux, s.metrics, h)
}

// Run serves until ctx is done, then shuts down gracefully: in-flight
// requests finish (up to ShutdownTimeout) and the database is closed.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		s.closeStore()
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a given listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.PprofAddr != "" {
		stop, err := s.servePprof(s.cfg.PprofAddr)
		if err != nil {
			s.closeAuth()
			s.closeStore()
			return err
		}
		defer stop()
	}
	// The webhook deliverer stops before the store closes, so that the
	// attempts in flight finish and are recorded.
	stopHooks := func() {}
	if s.hooks != nil {
		hctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.hooks.Deliverer.Run(hctx); close(done) }()
		stopHooks = func() { cancel(); <-done }
	}
	errc := make(chan error, 1)
	if s.cfg.TLSCertFile != "" {
		s.log.Info("mltrack listening", "addr", "https://"+ln.Addr().String())
		go func() { errc <- s.http.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile) }()
	} else {
		s.log.Info("mltrack listening", "addr", "http://"+ln.Addr().String())
		go func() { errc <- s.http.Serve(ln) }()
	}
	select {
	case err := <-errc:
		stopHooks()
		s.closeAuth()
		s.closeStore()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	timeout := s.cfg.ShutdownTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.http.Shutdown(sctx)
	stopHooks()
	s.closeAuth()
	if cerr := s.closeStore(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// SplitList splits a comma-separated flag or environment value.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Getenv is os.Getenv with a default.
func Getenv(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// MaskURI hides the password in a URI for logging.
func MaskURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close closes the store of a server that was never Run (tests).
func (s *Server) Close() error {
	s.closeAuth()
	return s.closeStore()
}
