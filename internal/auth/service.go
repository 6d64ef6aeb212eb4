// Package auth is mltrack's MLflow basic-auth compatible authentication and
// authorization: users with werkzeug password hashes and per-experiment and
// per-registered-model permissions in MLflow's auth database layout,
// personal access tokens, browser sessions with CSRF protection, and the
// middleware that enforces a permission on every route.
package auth

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// MLflow's basic_auth.ini defaults.
const (
	DefaultDatabaseURI    = "sqlite:///basic_auth.db"
	DefaultAdminUsername  = "admin"
	DefaultAdminPassword  = "password1234"
	DefaultPermissionName = "READ"
)

// Config configures the auth service.
type Config struct {
	// DatabaseURI is the auth database (MLflow's database_uri).
	DatabaseURI string
	// DefaultPermission applies where a user has no stored permission.
	DefaultPermission string
	// The admin created on first start when no user of that name exists.
	AdminUsername, AdminPassword string
	// SecureCookies marks session cookies Secure even on plain HTTP (a TLS
	// reverse proxy in front); cookies of TLS requests are always Secure.
	SecureCookies bool
	// SessionTTL is how long a browser sign-in lasts (default 24h).
	SessionTTL time.Duration
	// Lookup finds the experiment of runs and logged models.
	Lookup Lookup
	// ArtifactPath maps an artifact URI the server serves through its
	// entities (/model-versions/get-artifact) to its path below the
	// artifact root holding it (the proxy's destination or the default
	// artifact root), whose first segment is the experiment's ID; served
	// is false for a URI the server does not serve. Nil: only
	// mlflow-artifacts: URIs are served.
	ArtifactPath func(uri string) (path string, served bool)
	Log          *slog.Logger
}

// DefaultConfig is MLflow's basic_auth.ini.
func DefaultConfig() Config {
	return Config{
		DatabaseURI:       DefaultDatabaseURI,
		DefaultPermission: DefaultPermissionName,
		AdminUsername:     DefaultAdminUsername,
		AdminPassword:     DefaultAdminPassword,
	}
}

// ReadConfigFile overlays the [mlflow] section of an ini file like MLflow's
// basic_auth.ini (MLFLOW_AUTH_CONFIG_PATH) on cfg: default_permission,
// database_uri, admin_username, admin_password. authorization_function is
// accepted only with MLflow's default value.
func ReadConfigFile(path string, cfg *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("auth: config: %w", err)
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if section != "mlflow" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if !ok {
			return fmt.Errorf("auth: config %s:%d: want key = value", path, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "default_permission":
			cfg.DefaultPermission = v
		case "database_uri":
			cfg.DatabaseURI = v
		case "admin_username":
			cfg.AdminUsername = v
		case "admin_password":
			cfg.AdminPassword = v
		case "authorization_function":
			if v != "mlflow.server.auth:authenticate_request_basic_auth" {
				return fmt.Errorf("auth: config %s: authorization_function %q is not supported (only MLflow's basic auth)", path, v)
			}
		}
	}
	return sc.Err()
}

// Lookup is what the middleware needs from the tracking store. Methods
// answer an mlflow RESOURCE_DOES_NOT_EXIST error for unknown entities.
type Lookup interface {
	RunExperimentID(ctx context.Context, runID string) (string, error)
	LoggedModelExperimentID(ctx context.Context, modelID string) (string, error)
	TraceExperimentID(ctx context.Context, traceID string) (string, error)
	ExperimentIDByName(ctx context.Context, name string) (string, error)
	// GetModelVersionDownloadURI is where a model version's files are.
	GetModelVersionDownloadURI(ctx context.Context, name string, version int64) (string, error)
	// ExperimentsAtLocations maps each of locs that is an experiment's
	// artifact location to the lowest ID of the experiments with it.
	ExperimentsAtLocations(ctx context.Context, locs []string) (map[string]string, error)
	// ExistingDatasetExperimentIDs lists the experiments an evaluation
	// dataset is linked to.
	ExistingDatasetExperimentIDs(ctx context.Context, datasetID string) ([]string, error)
}

// Service authenticates requests and enforces permissions.
type Service struct {
	cfg         Config
	log         *slog.Logger
	db          *db
	defaultPerm Permission
	lookup      Lookup
	mux         *http.ServeMux
	rules       map[string]rule

	cacheKey []byte
	cacheMu  sync.Mutex
	cache    map[[32]byte]time.Time // verified (user, stored hash, password) -> expiry
}

// New opens (and creates or migrates) the auth database and makes sure the
// admin user exists.
func New(ctx context.Context, cfg Config) (*Service, error) {
	def := DefaultConfig()
	if cfg.DatabaseURI == "" {
		cfg.DatabaseURI = def.DatabaseURI
	}
	if cfg.DefaultPermission == "" {
		cfg.DefaultPermission = def.DefaultPermission
	}
	if cfg.AdminUsername == "" {
		cfg.AdminUsername = def.AdminUsername
	}
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = def.AdminPassword
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Lookup == nil {
		return nil, errors.New("auth: Config.Lookup is required")
	}
	perm, err := ParsePermission(cfg.DefaultPermission)
	if err != nil {
		return nil, fmt.Errorf("auth: default permission: %w", err)
	}
	d, err := openDB(ctx, cfg.DatabaseURI)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Log, db: d, defaultPerm: perm, lookup: cfg.Lookup, cache: map[[32]byte]time.Time{}}
	s.cacheKey = make([]byte, 32)
	_, _ = rand.Read(s.cacheKey)
	s.rules = buildRules()
	if err := s.bootstrapAdmin(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the auth database.
func (s *Service) Close() error { return s.db.Close() }

// DefaultPermission is the level that applies where no permission is stored.
func (s *Service) DefaultPermission() Permission { return s.defaultPerm }

func (s *Service) bootstrapAdmin(ctx context.Context) error {
	name := s.cfg.AdminUsername
	u, err := s.db.userByName(ctx, name)
	if err == nil {
		if VerifyPassword(u.PasswordHash, DefaultAdminPassword) {
			s.warnDefaultPassword(name)
		}
		return nil
	}
	if err := validatePassword(s.cfg.AdminPassword); err != nil {
		return fmt.Errorf("auth: admin password: %w", err)
	}
	hash, err := HashPassword(s.cfg.AdminPassword)
	if err != nil {
		return err
	}
	if _, err := s.db.createUser(ctx, name, hash, true); err != nil {
		// Another replica created it at the same time.
		if _, err2 := s.db.userByName(ctx, name); err2 == nil {
			return nil
		}
		return err
	}
	s.log.Info("created admin user", "username", name)
	if s.cfg.AdminPassword == DefaultAdminPassword {
		s.warnDefaultPassword(name)
	}
	return nil
}

func (s *Service) warnDefaultPassword(name string) {
	s.log.Warn("SECURITY: the admin user still has MLflow's default password 'password1234'; anyone can sign in as admin. "+
		"Change it now: PATCH /api/2.0/mlflow/users/update-password, or start with MLFLOW_AUTH_ADMIN_PASSWORD set on an empty auth database",
		"username", name)
}

// verifyCached checks a password against a user's stored hash, remembering
// successes for a few minutes: a hash costs ~0.2 s of CPU by design, and
// the client sends the password with every request. The cache key is an
// HMAC with a per-process key of the user, the stored hash and the
// password, so a new password or a deleted user never hits an old entry and
// the cache holds nothing an attacker could test guesses against.
func (s *Service) verifyCached(u *User, password string) bool {
	m := hmac.New(sha256.New, s.cacheKey)
	m.Write([]byte(u.Username + "\x00" + u.PasswordHash + "\x00" + password))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	now := time.Now()
	s.cacheMu.Lock()
	exp, ok := s.cache[k]
	s.cacheMu.Unlock()
	if ok && now.Before(exp) {
		return true
	}
	if !VerifyPassword(u.PasswordHash, password) {
		return false
	}
	s.cacheMu.Lock()
	if len(s.cache) >= 10000 {
		clear(s.cache)
	}
	s.cache[k] = now.Add(5 * time.Minute)
	s.cacheMu.Unlock()
	return true
}

// principal is an authenticated caller.
type principal struct {
	user *User
	// csrf is the session's CSRF token when the request was authenticated
	// by the session cookie, which writes must echo.
	csrf string
	// viaCookie is true for cookie-authenticated requests.
	viaCookie bool
}

// Cookie names.
const (
	SessionCookie = "mltrack_session"
	CSRFCookie    = "mltrack_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// errBadCredentials means credentials were given but are wrong.
var errBadCredentials = errors.New("auth: bad credentials")

// authenticate finds the caller: HTTP Basic (MLFLOW_TRACKING_USERNAME and
// _PASSWORD), Bearer (MLFLOW_TRACKING_TOKEN: a personal access token), or
// the session cookie. It returns nil, nil for an anonymous request.
func (s *Service) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "basic":
			name, pw, ok := r.BasicAuth()
			if !ok {
				return nil, errBadCredentials
			}
			u, err := s.db.userByName(ctx, name)
			if err != nil {
				if isNotFound(err) {
					// Spend the same time as for a known user, so that
					// timing does not tell which usernames exist.
					VerifyPassword("pbkdf2:sha256:600000$xxxxxxxxxxxxxxxx$00", pw)
					return nil, errBadCredentials
				}
				return nil, err
			}
			if !s.verifyCached(u, pw) {
				return nil, errBadCredentials
			}
			return &principal{user: u}, nil
		case "bearer":
			u, err := s.db.userByToken(ctx, strings.TrimSpace(cred), time.Now())
			if err != nil {
				return nil, err
			}
			if u == nil {
				return nil, errBadCredentials
			}
			return &principal{user: u}, nil
		default:
			return nil, errBadCredentials
		}
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		sess, err := s.db.sessionByID(ctx, c.Value, time.Now())
		if err != nil {
			return nil, err
		}
		if sess != nil {
			return &principal{user: sess.user, csrf: sess.csrf, viaCookie: true}, nil
		}
	}
	return nil, nil
}

type ctxKey struct{}

// UserFrom returns the authenticated user of a request that went through
// the middleware, or nil.
func UserFrom(ctx context.Context) *User {
	if p, ok := ctx.Value(ctxKey{}).(*principal); ok {
		return p.user
	}
	return nil
}

// permissionOn is a user's permission on a resource: the stored one, else
// the default.
func (s *Service) permissionOn(ctx context.Context, t permTable, resource string, u *User) (Permission, error) {
	name, ok, err := s.db.permission(ctx, t, resource, u.ID)
	if err != nil {
		return Permission{}, err
	}
	if !ok {
		return s.defaultPerm, nil
	}
	p, err := ParsePermission(name)
	if err != nil {
		// An unknown level in the database grants nothing.
		return NoPermissions, nil
	}
	return p, nil
}

func validatePassword(pw string) error {
	if len(pw) < 12 {
		return invalidParam("Password must be a string longer than 12 characters.")
	}
	return nil
}
