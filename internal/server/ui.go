package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/mltrack/mltrack/web"
)

// uiHandler serves the embedded single-page app. Assets are served as files
// (fingerprinted names, cached for a long time); any other path that is not
// a file answers index.html so that client-side URLs can be shared.
func uiHandler(dist fs.FS) http.Handler {
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			if st, err := fs.Stat(dist, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
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
	mux.Handle("/", uiHandler(web.Dist))
}
