package server

import (
	"context"
	"io"
	"net/http"

	"github.com/mltrack/mltrack/internal/auth"
)

// openAuth starts the auth service when the configuration asks for it; the
// tracking store answers its lookups (the experiment of a run, ...).
func (s *Server) openAuth(ctx context.Context) error {
	if s.cfg.Auth == nil {
		return nil
	}
	c := *s.cfg.Auth
	c.Lookup = s.store
	c.Log = s.log
	c.ArtifactPath = func(uri string) (string, bool) {
		_, p, err := s.resolver.Resolve(uri)
		return p, err == nil
	}
	svc, err := auth.New(ctx, c)
	if err != nil {
		return err
	}
	s.auth = svc
	s.log.Info("authentication on (MLflow basic-auth)", "auth_database_uri", MaskURI(c.DatabaseURI),
		"default_permission", svc.DefaultPermission().Name)
	return nil
}

func (s *Server) closeAuth() {
	if s.auth != nil {
		_ = s.auth.Close()
	}
}

// AuthService is the server's auth service, nil when auth is off.
func (s *Server) AuthService() *auth.Service { return s.auth }

// registerAuthOff answers the UI's "who am I" when auth is off: 200 with
// {"auth": false}, instead of a 404 the browser logs as an error on every
// page load. With auth on, the auth package serves the route (and says
// "auth": true with the user).
func registerAuthOff(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/2.0/mltrack/auth/whoami", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"auth":false}`)
	})
}
