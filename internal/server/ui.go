package server

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/mltrack/mltrack/web"
)

// uiAssetPrefix is the folder of web/dist that holds the UI's built files
// (Vite's assetsDir), referred to by index.html.
const uiAssetPrefix = "assets/"

// uiHandler serves the embedded single-page app. Assets are served as files
// (fingerprinted names, cached for a long time) and a missing one is a 404:
// answering the page instead would hand a script or style sheet HTML, and
// cache it. Any other path that is not a file answers index.html so that
// client-side URLs can be shared.
func uiHandler(dist fs.FS, mux *http.ServeMux) http.Handler {
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			apiNotFound(w, r, mux)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			plain(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'self'")
		h.Set("Referrer-Policy", "same-origin")
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p != "" && p != "." {
			st, err := fs.Stat(dist, p)
			if err == nil && !st.IsDir() {
				if strings.HasPrefix(p, uiAssetPrefix) {
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
			if strings.HasPrefix(p+"/", uiAssetPrefix) {
				h.Set("Cache-Control", "no-cache")
				plain(w, http.StatusNotFound, "Not Found")
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, dist, "index.html")
	})
}

// registerUI mounts the UI at / for every method (a method-less pattern,
// so that the API's catch-all patterns stay more specific than it).
func registerUI(mux *http.ServeMux) {
	mux.Handle("/", uiHandler(web.Dist, mux))
}

// apiNotFound answers an API path that reached the UI's catch-all: 405 with
// Allow when the path has routes for other methods (the catch-all pattern
// hides the mux's own 405), else MLflow's 404. Never the UI page.
func apiNotFound(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	var allow []string
	if mux != nil {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
	}
	status, code, msg := http.StatusNotFound, "ENDPOINT_NOT_FOUND", "No API endpoint at "+r.Method+" "+r.URL.Path
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		status, code, msg = http.StatusMethodNotAllowed, "BAD_REQUEST", "The method is not allowed for the requested URL."
	}
	body, _ := json.Marshal(map[string]string{"error_code": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
