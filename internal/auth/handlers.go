package auth

import (
	"context"
	_ "embed"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Register adds MLflow's auth endpoints (users, experiment and registered
// model permissions), mltrack's own (sign-in, tokens) and the sign-in and
// sign-up pages to mux, and remembers mux for Middleware.
func (s *Service) Register(mux *http.ServeMux) {
	s.mux = mux
	h := func(f func(r *http.Request) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v, err := f(r)
			if err != nil {
				if _, ok := mlflow.AsError(err); !ok {
					s.log.Error("auth: handler", "path", r.URL.Path, "err", err)
				}
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		}
	}
	for _, p := range apiPrefixes {
		mux.HandleFunc("POST "+p+"users/create", h(s.createUser))
		mux.HandleFunc("GET "+p+"users/get", h(s.getUser))
		mux.HandleFunc("PATCH "+p+"users/update-password", h(s.updatePassword))
		mux.HandleFunc("PATCH "+p+"users/update-admin", h(s.updateAdmin))
		mux.HandleFunc("DELETE "+p+"users/delete", h(s.deleteUser))
		for _, t := range []struct {
			path  string
			table permTable
		}{{"experiments/permissions/", experimentPerms}, {"registered-models/permissions/", modelPerms}} {
			mux.HandleFunc("POST "+p+t.path+"create", h(s.permissionHandler(t.table, "create")))
			mux.HandleFunc("GET "+p+t.path+"get", h(s.permissionHandler(t.table, "get")))
			mux.HandleFunc("PATCH "+p+t.path+"update", h(s.permissionHandler(t.table, "update")))
			mux.HandleFunc("DELETE "+p+t.path+"delete", h(s.permissionHandler(t.table, "delete")))
		}
	}
	login := h(s.login)
	mux.HandleFunc("POST "+ownPrefix+"auth/login", func(w http.ResponseWriter, r *http.Request) {
		login(w, r.WithContext(context.WithValue(r.Context(), writerKey{}, w)))
	})
	mux.HandleFunc("POST "+ownPrefix+"auth/logout", s.logout)
	mux.HandleFunc("GET "+ownPrefix+"auth/whoami", h(s.whoami))
	mux.HandleFunc("POST "+ownPrefix+"tokens/create", h(s.createToken))
	mux.HandleFunc("GET "+ownPrefix+"tokens/list", h(s.listTokens))
	mux.HandleFunc("DELETE "+ownPrefix+"tokens/revoke", h(s.revokeToken))
	mux.HandleFunc("GET "+ownPrefix+"users/list", h(s.listUsers))
	mux.HandleFunc("GET /signin", s.signinPage)
	mux.HandleFunc("POST /signin", s.signinForm)
	mux.HandleFunc("GET /signup", s.signupPage)
	mux.HandleFunc("POST /signup", s.signupPage)
}

// caller is the request's authenticated user (the middleware guarantees one
// on every non-public route).
func caller(r *http.Request) *User { return UserFrom(r.Context()) }

func params(r *http.Request) (*fields, error) { return readFields(r) }

// userJSON is MLflow's User.to_json.
func (s *Service) userJSON(ctx context.Context, u *User) (map[string]any, error) {
	exps, err := s.db.permissions(ctx, experimentPerms, u.ID)
	if err != nil {
		return nil, err
	}
	models, err := s.db.permissions(ctx, modelPerms, u.ID)
	if err != nil {
		return nil, err
	}
	ep := []map[string]any{}
	for id, p := range exps {
		ep = append(ep, map[string]any{"experiment_id": id, "user_id": u.ID, "permission": p})
	}
	mp := []map[string]any{}
	for name, p := range models {
		mp = append(mp, map[string]any{"name": name, "user_id": u.ID, "permission": p})
	}
	return map[string]any{"id": u.ID, "username": u.Username, "is_admin": u.IsAdmin,
		"experiment_permissions": ep, "registered_model_permissions": mp, "scorer_permissions": []any{}}, nil
}

func (s *Service) createUser(r *http.Request) (any, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, mlflow.Errorf(mlflow.BadRequest, "Invalid content type. Must be application/json")
	}
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, _, _ := f.get("username")
	pw, _, _ := f.get("password")
	if name == "" || pw == "" {
		return nil, mlflow.Errorf(mlflow.BadRequest, "Username and password cannot be empty.")
	}
	if err := validatePassword(pw); err != nil {
		return nil, err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return nil, err
	}
	u, err := s.db.createUser(r.Context(), name, hash, false)
	if err != nil {
		return nil, err
	}
	j, err := s.userJSON(r.Context(), u)
	return map[string]any{"user": j}, err
}

func (s *Service) getUser(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, err := f.required("username")
	if err != nil {
		return nil, err
	}
	u, err := s.db.userByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	j, err := s.userJSON(r.Context(), u)
	return map[string]any{"user": j}, err
}

func (s *Service) updatePassword(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, err := f.required("username")
	if err != nil {
		return nil, err
	}
	pw, err := f.required("password")
	if err != nil {
		return nil, err
	}
	if err := validatePassword(pw); err != nil {
		return nil, err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.db.setPassword(r.Context(), name, hash)
}

func (s *Service) updateAdmin(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, err := f.required("username")
	if err != nil {
		return nil, err
	}
	var admin bool
	if f.body != nil {
		raw, ok := f.body["is_admin"]
		if !ok || json.Unmarshal(raw, &admin) != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, missingParam("is_admin")
			}
			admin, _ = strconv.ParseBool(s)
		}
	} else {
		v, err := f.required("is_admin")
		if err != nil {
			return nil, err
		}
		admin, _ = strconv.ParseBool(v)
	}
	return struct{}{}, s.db.setAdmin(r.Context(), name, admin)
}

func (s *Service) deleteUser(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, err := f.required("username")
	if err != nil {
		return nil, err
	}
	if u := caller(r); u != nil && u.Username == name {
		return nil, mlflow.InvalidParam("You cannot delete your own account.")
	}
	return struct{}{}, s.db.deleteUser(r.Context(), name)
}

func (s *Service) listUsers(r *http.Request) (any, error) {
	users, err := s.db.listUsers(r.Context())
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, u := range users {
		out = append(out, map[string]any{"id": u.ID, "username": u.Username, "is_admin": u.IsAdmin})
	}
	return map[string]any{"users": out}, nil
}

// permissionHandler serves MLflow's experiments/permissions/* and
// registered-models/permissions/* endpoints.
func (s *Service) permissionHandler(t permTable, op string) func(r *http.Request) (any, error) {
	respKey := "experiment_permission"
	if t.key == "name" {
		respKey = "registered_model_permission"
	}
	return func(r *http.Request) (any, error) {
		ctx := r.Context()
		f, err := params(r)
		if err != nil {
			return nil, err
		}
		resource, err := f.required(t.key)
		if err != nil {
			return nil, err
		}
		if t.key == experimentPerms.key {
			// Stored as the check reads it: a grant on "01" is on experiment 1.
			if resource, err = canonicalExperimentID(resource); err != nil {
				return nil, err
			}
		}
		username, err := f.required("username")
		if err != nil {
			return nil, err
		}
		var perm string
		if op == "create" || op == "update" {
			if perm, err = f.required("permission"); err != nil {
				return nil, err
			}
			if _, err := ParsePermission(perm); err != nil {
				return nil, err
			}
		}
		u, err := s.db.userByName(ctx, username)
		if err != nil {
			return nil, err
		}
		switch op {
		case "create":
			if err := s.db.createPermission(ctx, t, resource, u, perm); err != nil {
				return nil, err
			}
		case "update":
			return struct{}{}, s.db.updatePermission(ctx, t, resource, u, perm)
		case "delete":
			return struct{}{}, s.db.deletePermission(ctx, t, resource, u)
		case "get":
			p, ok, err := s.db.permission(ctx, t, resource, u.ID)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, t.notFound(resource, username)
			}
			perm = p
		}
		return map[string]any{respKey: map[string]any{t.key: resource, "user_id": u.ID, "permission": perm}}, nil
	}
}

// Personal access tokens: POST tokens/create {"name", "expires_in_days"?,
// "username"? (admins, for another user)} answers the token once; list and
// revoke never show it again.

func (s *Service) tokenSubject(r *http.Request, f *fields) (*User, error) {
	me := caller(r)
	name, _, err := f.get("username")
	if err != nil {
		return nil, err
	}
	if name == "" || name == me.Username {
		return me, nil
	}
	if !me.IsAdmin {
		return nil, &mlflow.Error{Code: mlflow.PermissionDenied, Message: "Permission denied", Status: http.StatusForbidden}
	}
	return s.db.userByName(r.Context(), name)
}

func (s *Service) createToken(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	u, err := s.tokenSubject(r, f)
	if err != nil {
		return nil, err
	}
	name, err := f.required("name")
	if err != nil {
		return nil, err
	}
	if len(name) > 255 {
		return nil, mlflow.InvalidParam("Token name must be at most 255 characters.")
	}
	var expires int64
	if v, ok, err := f.get("expires_in_days"); err != nil {
		return nil, err
	} else if ok && v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days <= 0 || days > 3650 {
			return nil, mlflow.InvalidParam("expires_in_days must be a whole number of days between 1 and 3650.")
		}
		expires = time.Now().Add(time.Duration(days) * 24 * time.Hour).UnixMilli()
	}
	t, secret, err := s.db.createToken(r.Context(), u, name, expires)
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": secret, "token_info": t}, nil
}

func (s *Service) listTokens(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	u, err := s.tokenSubject(r, f)
	if err != nil {
		return nil, err
	}
	ts, err := s.db.listTokens(r.Context(), u.ID)
	return map[string]any{"tokens": ts}, err
}

func (s *Service) revokeToken(r *http.Request) (any, error) {
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	id, err := f.required("id")
	if err != nil {
		return nil, err
	}
	owner, err := s.db.tokenOwner(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if me := caller(r); owner != me.ID && !me.IsAdmin {
		// Someone else's token is answered as unknown.
		return nil, mlflow.NotFound("Access token with id=%s not found", id)
	}
	return struct{}{}, s.db.revokeToken(r.Context(), id)
}

// Browser sign-in.

func (s *Service) checkPassword(ctx context.Context, name, pw string) (*User, error) {
	u, err := s.db.userByName(ctx, name)
	if err != nil {
		if isNotFound(err) {
			VerifyPassword("pbkdf2:sha256:600000$xxxxxxxxxxxxxxxx$00", pw)
			return nil, nil
		}
		return nil, err
	}
	if !s.verifyCached(u, pw) {
		return nil, nil
	}
	return u, nil
}

func (s *Service) startSession(w http.ResponseWriter, r *http.Request, u *User) (string, error) {
	id, csrf, err := s.db.createSession(r.Context(), u, s.cfg.SessionTTL)
	if err != nil {
		return "", err
	}
	secure := r.TLS != nil || s.cfg.SecureCookies
	maxAge := int(s.cfg.SessionTTL / time.Second)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", MaxAge: maxAge, Secure: secure, SameSite: http.SameSiteLaxMode})
	return csrf, nil
}

var errSignIn = &mlflow.Error{Code: mlflow.Unauthenticated, Message: "Invalid username or password", Status: http.StatusUnauthorized}

// login is POST /api/2.0/mltrack/auth/login {"username", "password"}: it
// sets the session cookie and the CSRF cookie and answers the CSRF token.
func (s *Service) login(r *http.Request) (any, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, mlflow.InvalidParam("Bad Request. Content-Type must be one of ['application/json'].")
	}
	if !sameOrigin(r) {
		return nil, &mlflow.Error{Code: mlflow.PermissionDenied, Message: "Cross-origin sign-in refused", Status: http.StatusForbidden}
	}
	f, err := params(r)
	if err != nil {
		return nil, err
	}
	name, _, _ := f.get("username")
	pw, _, _ := f.get("password")
	u, err := s.checkPassword(r.Context(), name, pw)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errSignIn
	}
	w := responseWriterFrom(r)
	csrf, err := s.startSession(w, r, u)
	if err != nil {
		return nil, err
	}
	return map[string]any{"auth": true, "user": map[string]any{"username": u.Username, "is_admin": u.IsAdmin}, "csrf_token": csrf}, nil
}

// logout ends the session of the cookie, if any, and clears the cookies.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.db.deleteSession(r.Context(), c.Value); err != nil {
			writeError(w, err)
			return
		}
	}
	clearCookies(w)
	writeJSON(w, http.StatusOK, struct{}{})
}

func clearCookies(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: "", Path: "/", MaxAge: -1, SameSite: http.SameSiteLaxMode})
}

func (s *Service) whoami(r *http.Request) (any, error) {
	u := caller(r)
	return map[string]any{"auth": true, "user": map[string]any{"id": u.ID, "username": u.Username, "is_admin": u.IsAdmin},
		"default_permission": s.defaultPerm.Name}, nil
}

// The login handler needs the ResponseWriter to set cookies; the generic
// JSON wrapper passes only the request, so login is wrapped to carry it.
type writerKey struct{}

func responseWriterFrom(r *http.Request) http.ResponseWriter {
	w, _ := r.Context().Value(writerKey{}).(http.ResponseWriter)
	return w
}

//go:embed signin.html
var signinHTML string

var pageTmpl = template.Must(template.New("page").Parse(signinHTML))

type pageData struct {
	Title, Action, Button, Next, Error, CSRF, Message string
	Signup                                            bool
}

func (s *Service) renderPage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Service) signinPage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, http.StatusOK, pageData{Title: "Sign in to mltrack", Action: "/signin", Button: "Sign in", Next: safeNext(r.URL.Query().Get("next"))})
}

// signinForm is the no-JavaScript sign-in: a form POST that sets the
// cookies and redirects.
func (s *Service) signinForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if !sameOrigin(r) {
		s.renderPage(w, http.StatusForbidden, pageData{Title: "Sign in to mltrack", Action: "/signin", Button: "Sign in", Next: next, Error: "Cross-origin sign-in refused."})
		return
	}
	u, err := s.checkPassword(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"))
	if err != nil {
		writeError(w, err)
		return
	}
	if u == nil {
		s.renderPage(w, http.StatusUnauthorized, pageData{Title: "Sign in to mltrack", Action: "/signin", Button: "Sign in", Next: next, Error: "Invalid username or password."})
		return
	}
	if _, err := s.startSession(w, r, u); err != nil {
		writeError(w, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signupPage is MLflow's /signup: a form, for admins, that creates a user.
// It posts to POST /signup handled by signupForm.
func (s *Service) signupPage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.signupForm(w, r)
		return
	}
	d := pageData{Title: "Create a user", Action: "/signup", Button: "Sign up", Signup: true}
	if p, ok := r.Context().Value(ctxKey{}).(*principal); ok {
		d.CSRF = p.csrf
	}
	s.renderPage(w, http.StatusOK, d)
}

func (s *Service) signupForm(w http.ResponseWriter, r *http.Request) {
	d := pageData{Title: "Create a user", Action: "/signup", Button: "Sign up", Signup: true}
	if p, ok := r.Context().Value(ctxKey{}).(*principal); ok {
		d.CSRF = p.csrf
	}
	name, pw := r.PostFormValue("username"), r.PostFormValue("password")
	if name == "" || validatePassword(pw) != nil {
		d.Error = "A username and a password of at least 12 characters are needed."
		s.renderPage(w, http.StatusBadRequest, d)
		return
	}
	hash, err := HashPassword(pw)
	if err == nil {
		_, err = s.db.createUser(r.Context(), name, hash, false)
	}
	if err != nil {
		if e, ok := mlflow.AsError(err); ok {
			d.Error = e.Message
			s.renderPage(w, e.HTTPStatus(), d)
			return
		}
		writeError(w, err)
		return
	}
	d.Message = "Created user " + name + "."
	s.renderPage(w, http.StatusOK, d)
}
