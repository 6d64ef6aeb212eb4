package server

import (
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// MLflow 3's security middleware, as mlflow/server/security_utils.py does it:
// Host header validation against DNS rebinding, blocking of state-changing
// cross-origin API requests, CORS answers, and security headers.

const (
	invalidHostMsg = "Invalid Host header - possible DNS rebinding attack detected"
	corsBlockedMsg = "Cross-origin request blocked"
)

// DefaultAllowedHosts are MLflow's defaults: loopback names with any port
// and the private address ranges.
func DefaultAllowedHosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "[::1]", "0.0.0.0", "localhost:*", "127.0.0.1:*", "[::1]:*", "0.0.0.0:*",
		"192.168.*", "10.*"}
	for i := 16; i < 32; i++ {
		hosts = append(hosts, "172."+strconv.Itoa(i)+".*")
	}
	return append(hosts, "fc00:*", "fd00:*")
}

// matchPattern is fnmatch with only * as wildcard (MLflow's patterns use no
// other), or equality when there is no *.
func matchPattern(s, pattern string) bool {
	if !strings.Contains(pattern, "*") {
		return s == pattern
	}
	// path.Match treats [ specially; MLflow escapes "[" as "[[]" for IPv6.
	ok, err := path.Match(strings.ReplaceAll(pattern, "[", `\[`), s)
	if err == nil && ok {
		return true
	}
	// path.Match's * does not cross "/", which a Host never has; it also
	// stops at no other character, so this is fnmatch for our purposes.
	return false
}

func hostAllowed(allowed []string, host string) bool {
	if host == "" {
		return false
	}
	if slices.Contains(allowed, "*") {
		return true
	}
	for _, a := range allowed {
		if matchPattern(host, strings.ReplaceAll(a, "[[]", "[")) {
			return true
		}
	}
	return false
}

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/ajax-api/")
}

func isLocalhostOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// originAllowed reports whether a cross-origin page may use the API:
// localhost origins and the configured ones.
func originAllowed(origin string, allowed []string) bool {
	if isLocalhostOrigin(origin) {
		return true
	}
	for _, a := range allowed {
		if a == "*" || matchPattern(origin, a) {
			return true
		}
	}
	return false
}

// blockCORS reports a state-changing request from a foreign origin, which
// MLflow refuses with 403.
func blockCORS(origin, method string, allowed []string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
	default:
		return false
	}
	return origin != "" && !originAllowed(origin, allowed)
}

// security wraps h with MLflow's security middleware. frameOptions is the
// X-Frame-Options value: "" is MLflow's SAMEORIGIN, "NONE" sends no header.
func security(h http.Handler, allowedHosts, allowedOrigins []string, frameOptions string) http.Handler {
	checkHosts := len(allowedHosts) > 0 && !slices.Contains(allowedHosts, "*")
	frameOptions = strings.ToUpper(frameOptions)
	if frameOptions == "" {
		frameOptions = "SAMEORIGIN"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		if frameOptions != "NONE" {
			hdr.Set("X-Frame-Options", frameOptions)
		}
		if checkHosts && r.URL.Path != "/health" && r.URL.Path != "/version" && !hostAllowed(allowedHosts, r.Host) {
			plain(w, http.StatusForbidden, invalidHostMsg)
			return
		}
		origin := r.Header.Get("Origin")
		if isAPIPath(r.URL.Path) {
			if blockCORS(origin, r.Method, allowedOrigins) {
				plain(w, http.StatusForbidden, corsBlockedMsg)
				return
			}
			// MLflow echoes any origin (with credentials allowed); mltrack
			// answers CORS only to localhost and the allowed origins, so
			// that a foreign page cannot read the API with a user's
			// browser credentials (docs/security.md).
			if origin != "" && originAllowed(origin, allowedOrigins) {
				hdr.Set("Access-Control-Allow-Origin", origin)
				hdr.Set("Access-Control-Allow-Credentials", "true")
				hdr.Set("Access-Control-Expose-Headers", "*")
				hdr.Add("Vary", "Origin")
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				hdr.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS, PATCH")
				if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
					hdr.Set("Access-Control-Allow-Headers", h)
				}
				hdr.Set("Access-Control-Max-Age", "600")
				plain(w, http.StatusOK, "OK")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}
