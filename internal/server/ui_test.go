package server

import (
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/web"
)

// TestUIMissingAssets: a file under the UI's asset folder that does not
// exist answers 404, not the page (a browser would run HTML as the script
// and cache it); real assets are served; every other path still answers
// the page, so that links into the UI keep working.
func TestUIMissingAssets(t *testing.T) {
	index, err := fs.ReadFile(web.Dist, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	// The page loads its assets from uiAssetPrefix: the constant follows
	// the build's layout.
	refs := regexp.MustCompile(`(?:src|href)="\./([^"]+\.(?:js|css))"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) == 0 {
		t.Fatalf("index.html refers to no script or style sheet:\n%s", index)
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], uiAssetPrefix) {
			t.Errorf("index.html loads %s, outside %s", m[1], uiAssetPrefix)
		}
	}
	addr, _ := serveTest(t, newTestServer(t, nil))
	get := func(method, path string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	page := func(body string) bool { return strings.Contains(strings.ToLower(body), "<!doctype html") }

	for _, p := range []string{"/assets/nope.js", "/assets/nope.css", "/assets/index-00000000.js", "/assets/sub/dir/x.png", "/assets/", "/assets", "/assets/..%2fassets/nope.js", "/assets/nope.js?v=1"} {
		for _, method := range []string{"GET", "HEAD"} {
			status, body, h := get(method, p)
			if status != http.StatusNotFound || page(body) {
				t.Errorf("%s %s: %d %.80q, want 404 without the page", method, p, status, body)
			}
			if cc := h.Get("Cache-Control"); strings.Contains(cc, "immutable") || strings.Contains(cc, "max-age") {
				t.Errorf("%s %s: a 404 cached with %q", method, p, cc)
			}
		}
	}
	for _, m := range refs {
		status, body, h := get("GET", "/"+m[1])
		if status != 200 || page(body) || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Errorf("/%s: %d, Cache-Control %q", m[1], status, h.Get("Cache-Control"))
		}
	}
	for _, p := range []string{"/", "/experiments/1", "/experiments/1/runs/abc", "/models/x.v1", "/assetsfoo", "/index.html"} {
		status, body, _ := get("GET", p)
		if status != 200 || !page(body) {
			t.Errorf("client route %s: %d %.80q, want the page", p, status, body)
		}
	}
}
