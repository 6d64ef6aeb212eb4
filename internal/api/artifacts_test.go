package api

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/testshared"
)

// testRepo is a repository under test with a way to see everything it holds.
type testRepo struct {
	name string
	repo artifact.Repository
	// outside is a folder next to (not below) the repository's storage,
	// holding a sentinel that no request may touch.
	outside string
	// snapshot lists every file of the storage and of its surroundings.
	snapshot func(t *testing.T) []string
}

func newLocalRepo(t *testing.T) testRepo {
	base := t.TempDir()
	root := filepath.Join(base, "mlartifacts")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := artifact.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	return testRepo{name: "local", repo: repo, outside: outside, snapshot: func(t *testing.T) []string { return walkFiles(t, base) }}
}

func newS3Repo(t *testing.T, srv *artifacttest.S3Server) testRepo {
	repo := srv.NewS3Repo(t, "mlartifacts")
	outside := filepath.Join(srv.Dir, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	return testRepo{name: "s3", repo: repo, outside: outside, snapshot: func(t *testing.T) []string { return walkFiles(t, srv.Dir) }}
}

// forEachRepo runs f against a local folder and against versitygw.
func forEachRepo(t *testing.T, f func(t *testing.T, tr testRepo)) {
	t.Run("local", func(t *testing.T) { f(t, newLocalRepo(t)) })
	t.Run("s3", func(t *testing.T) {
		srv := artifacttest.StartVersityGW(t)
		f(t, newS3Repo(t, srv))
	})
}

func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(p, ".sgwtmp") || strings.Contains(p, ".sgwmultipart") {
			return nil // versitygw's own bookkeeping
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+link)
			return nil
		}
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s %d %x", rel, len(b), b[:min(len(b), 16)]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func startProxy(t *testing.T, repo artifact.Repository, opts ArtifactProxyOptions) *httptest.Server {
	mux := http.NewServeMux()
	RegisterArtifactProxy(mux, repo, opts)
	srv := httptest.NewServer(GuardArtifactPaths(mux))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %q", r.status, r.body)
	}
	return m
}

// do sends a request with the path exactly as given (escapes and dot
// segments included).
func do(t *testing.T, srv *httptest.Server, method, rawPath string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	p, q, _ := strings.Cut(rawPath, "?")
	req.URL.Opaque = "//" + req.URL.Host + p
	req.URL.RawQuery = q
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

type wireCase struct {
	Seq            int               `json:"seq"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	RawPath        string            `json:"raw_path"`
	RawQuery       string            `json:"raw_query"`
	RequestHeaders map[string]string `json:"request_headers"`
	RequestBody    json.RawMessage   `json:"request_body"`
	Status         int               `json:"status"`
	ResponseHdrs   map[string]string `json:"response_headers"`
	ResponseBody   json.RawMessage   `json:"response_body"`
}

// deliberate lists the recorded exchanges where mltrack answers differently
// from MLflow on purpose (see docs/compatibility.md): MLflow's 500s for a
// missing file or a directory become 404 RESOURCE_DOES_NOT_EXIST, its
// redirect of an absolute path and its 500 for backslashes become 400
// "Invalid path".
var deliberate = map[string]struct {
	status  int
	code    string
	message string
}{
	"mlflow-artifacts.get.not-found":           {404, "RESOURCE_DOES_NOT_EXIST", "Artifact '2/0b589df73ef2459fbcc02fc7e9d39314/artifacts/dir/nope.txt' does not exist"},
	"mlflow-artifacts.get.directory":           {404, "RESOURCE_DOES_NOT_EXIST", "Artifact '2/0b589df73ef2459fbcc02fc7e9d39314/artifacts/dir' is a directory, not a file"},
	"mlflow-artifacts.traversal.get-absolute":  {400, "INVALID_PARAMETER_VALUE", "Invalid path"},
	"mlflow-artifacts.traversal.get-backslash": {400, "INVALID_PARAMETER_VALUE", "Invalid path"},
}

func loadArtifactCases(t *testing.T) []wireCase {
	f, err := os.Open(testshared.Path(t, "mlflow-wire", "api_cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []wireCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var c wireCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c.Path, "/api/2.0/mlflow-artifacts/") {
			cases = append(cases, c)
		}
	}
	slices.SortFunc(cases, func(a, b wireCase) int { return a.Seq - b.Seq })
	if len(cases) < 30 {
		t.Fatalf("only %d artifact cases in api_cases.jsonl", len(cases))
	}
	return cases
}

// TestArtifactProxyReplay replays MLflow 3.6's recorded artifact exchanges
// (uploads, downloads, listings, deletes, traversal attempts) in order and
// expects the same statuses and JSON answers.
func TestArtifactProxyReplay(t *testing.T) {
	cases := loadArtifactCases(t)
	forEachRepo(t, func(t *testing.T, tr testRepo) {
		srv := startProxy(t, tr.repo, ArtifactProxyOptions{})
		for _, c := range cases {
			name := c.RequestHeaders["X-Case"]
			var body io.Reader
			var bin struct {
				Binary bool  `json:"binary"`
				Size   int64 `json:"size"`
			}
			if len(c.RequestBody) > 0 && json.Unmarshal(c.RequestBody, &bin) == nil && bin.Binary {
				body = artifacttest.Data(uint64(c.Seq), bin.Size)
			} else if c.Method == http.MethodPut {
				body = strings.NewReader("")
			}
			p := c.RawPath
			if p == "" {
				p = (&url.URL{Path: c.Path}).EscapedPath()
			}
			if c.RawQuery != "" {
				p += "?" + c.RawQuery
			}
			hdr := map[string]string{}
			if ct := c.RequestHeaders["Content-Type"]; ct != "" {
				hdr["Content-Type"] = ct
			}
			got := do(t, srv, c.Method, p, body, hdr)

			want, isDeliberate := deliberate[name]
			if !isDeliberate {
				want.status = c.Status
			}
			if got.status != want.status {
				t.Errorf("%s (%s %s): status %d, want %d; body %s", name, c.Method, p, got.status, want.status, got.body)
				continue
			}
			if isDeliberate {
				m := got.json(t)
				if m["error_code"] != want.code || m["message"] != want.message {
					t.Errorf("%s: got %v, want %s %q", name, m, want.code, want.message)
				}
				continue
			}
			var recorded map[string]any
			_ = json.Unmarshal(c.ResponseBody, &recorded)
			switch {
			case c.Status == http.StatusMethodNotAllowed:
				// Go's mux answers 405 too; bodies differ (plain text, not HTML).
			case recorded["binary"] == true:
				if int64(len(got.body)) != int64(recorded["size"].(float64)) {
					t.Errorf("%s: %d bytes, want %v", name, len(got.body), recorded["size"])
				}
				for _, h := range []string{"Content-Type", "Content-Disposition"} {
					if got.header.Get(h) != c.ResponseHdrs[h] {
						t.Errorf("%s: %s %q, want %q", name, h, got.header.Get(h), c.ResponseHdrs[h])
					}
				}
			default:
				if ct := got.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type %q", name, ct)
				}
				if m := got.json(t); !reflect.DeepEqual(m, recorded) {
					t.Errorf("%s: body %v, want %v", name, m, recorded)
				}
			}
		}
		// Traversal attempts wrote nothing outside the repository's storage.
		after := tr.snapshot(t)
		for _, f := range after {
			if strings.Contains(f, "escape") {
				t.Errorf("a traversal attempt wrote %s", f)
			}
		}
		if !slices.Contains(after, "outside/secret.txt 6 736563726574") {
			t.Errorf("sentinel changed: %v", after)
		}
		t.Logf("replayed %d exchanges", len(cases))
	})
}

// TestArtifactProxyTraversal sends one class of MLflow's past path-traversal
// attacks per subtest through every route; each must be refused with a 4xx
// and leave the storage and its surroundings exactly as they were.
func TestArtifactProxyTraversal(t *testing.T) {
	const dir = "/api/2.0/mlflow-artifacts/artifacts/"
	classes := []struct {
		name  string
		paths []string // raw URL paths below artifacts/
		list  []string // raw ?path= values
	}{
		{"dotdot", []string{"../../../../outside/secret.txt", "1/run/artifacts/../../../../../outside/secret.txt", "1/../.."},
			[]string{"..%2F..", "1%2F..%2F..%2F.."}},
		{"percent-encoded", []string{"%2e%2e/%2e%2e/outside/secret.txt", "%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt", "..%2f..%2foutside%2fsecret.txt"},
			[]string{"%2e%2e%2f%2e%2e", "%252e%252e"}},
		{"double-encoded", []string{"%252e%252e/%252e%252e/outside/secret.txt", "%252E%252E%252F%252E%252E%252Foutside", "%25252e%25252e/x"},
			[]string{"%25252e%25252e%25252f"}},
		{"backslash", []string{"..%5c..%5coutside%5csecret.txt", "a%5cb.txt", "%255c..%255coutside"},
			[]string{"..%5C..", "a%5Cb"}},
		{"nul", []string{"a%00.txt", "%00/x", "a%2500b"},
			[]string{"a%00", "%2500"}},
		{"absolute", []string{"/etc/passwd", "//etc/passwd", "%2fetc%2fpasswd", "C:%5cWindows", "C:/x.txt"},
			[]string{"%2Fetc", "%2F%2Fetc", "C:%2Fx"}},
		{"symlink", []string{"link/secret.txt", "link/new.txt", "link", "file-link.txt"},
			[]string{"link"}},
	}
	forEachRepo(t, func(t *testing.T, tr testRepo) {
		if local, ok := tr.repo.(*artifact.Local); ok {
			if err := os.Symlink("../outside", filepath.Join(local.Dir(), "link")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../outside/secret.txt", filepath.Join(local.Dir(), "file-link.txt")); err != nil {
				t.Fatal(err)
			}
		}
		srv := startProxy(t, tr.repo, ArtifactProxyOptions{})
		if got := do(t, srv, http.MethodPut, dir+"1/ok.txt", strings.NewReader("fine"), nil); got.status != 200 {
			t.Fatalf("plain upload: %d %s", got.status, got.body)
		}
		for _, class := range classes {
			t.Run(class.name, func(t *testing.T) {
				if class.name == "symlink" && tr.name != "local" {
					// Object stores have no links: the names are plain keys.
					return
				}
				before := tr.snapshot(t)
				check := func(method, p string, got response) {
					t.Helper()
					if got.status < 400 || got.status > 499 {
						t.Errorf("%s %s: status %d, want 4xx; body %s", method, p, got.status, got.body)
						return
					}
					if method == http.MethodHead {
						return // no body
					}
					if m := got.json(t); m["error_code"] != "INVALID_PARAMETER_VALUE" || m["message"] != "Invalid path" {
						t.Errorf("%s %s: %v, want Invalid path", method, p, m)
					}
				}
				for _, p := range class.paths {
					for _, prefix := range []string{dir, "/ajax-api/2.0/mlflow-artifacts/artifacts/"} {
						check("GET", prefix+p, do(t, srv, http.MethodGet, prefix+p, nil, nil))
						check("HEAD", prefix+p, do(t, srv, http.MethodHead, prefix+p, nil, nil))
						check("PUT", prefix+p, do(t, srv, http.MethodPut, prefix+p, strings.NewReader("evil"), nil))
						check("DELETE", prefix+p, do(t, srv, http.MethodDelete, prefix+p, nil, nil))
					}
					mpu := "/api/2.0/mlflow-artifacts/mpu/create/" + p
					check("POST", mpu, do(t, srv, http.MethodPost, mpu, strings.NewReader(`{"path": "/tmp/x.bin", "num_parts": 1}`), nil))
				}
				for _, q := range class.list {
					p := "/api/2.0/mlflow-artifacts/artifacts?path=" + q
					check("GET", p, do(t, srv, http.MethodGet, p, nil, nil))
				}
				if after := tr.snapshot(t); !slices.Equal(before, after) {
					t.Errorf("storage changed:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
		// The base name of a multipart upload's local file cannot escape either.
		for _, local := range []string{"..", `C:\Users\x\..`} {
			got := do(t, srv, http.MethodPost, "/api/2.0/mlflow-artifacts/mpu/create/1", strings.NewReader(fmt.Sprintf(`{"path": %q}`, local)), nil)
			if got.status != 400 {
				t.Errorf("mpu/create with path %q: %d %s", local, got.status, got.body)
			}
		}
	})
}

// TestArtifactProxyServesMLflowArtifacts serves the artifact folders MLflow
// 3.6 wrote, unchanged: every file downloads byte for byte with MLflow's
// Content-Type, every folder lists as on disk, and nothing on disk changes.
func TestArtifactProxyServesMLflowArtifacts(t *testing.T) {
	for _, archive := range []string{"mlflow-3.6-sqlite-artifacts.tar.gz", "mlflow-3.6-postgres-artifacts.tar.gz"} {
		t.Run(archive, func(t *testing.T) {
			base := t.TempDir()
			untar(t, testshared.Path(t, "mlflow-db", archive), base)
			root := filepath.Join(base, "artifacts")
			before := walkFiles(t, root)
			repo, err := artifact.Open(context.Background(), "file://"+root)
			if err != nil {
				t.Fatal(err)
			}
			srv := startProxy(t, repo, ArtifactProxyOptions{})
			files, dirs := 0, 0
			err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				rel = filepath.ToSlash(rel)
				if d.IsDir() {
					dirs++
					q := ""
					if rel != "." {
						q = "?path=" + url.QueryEscape(rel)
					}
					got := do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts"+q, nil, nil)
					if want := diskListing(t, p); !reflect.DeepEqual(got.json(t), want) {
						t.Errorf("listing %s: %s, want %v", rel, got.body, want)
					}
					return nil
				}
				files++
				want, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				got := do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts/"+(&url.URL{Path: rel}).EscapedPath(), nil, nil)
				if got.status != 200 || !bytes.Equal(got.body, want) {
					t.Errorf("GET %s: %d, %d bytes, want %d", rel, got.status, len(got.body), len(want))
				}
				if ct := got.header.Get("Content-Type"); ct != artifact.ContentType(rel) {
					t.Errorf("GET %s: Content-Type %q", rel, ct)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if files < 10 || dirs < 5 {
				t.Errorf("served only %d files in %d folders", files, dirs)
			}
			if after := walkFiles(t, root); !slices.Equal(before, after) {
				t.Error("serving changed the artifact folder")
			}
		})
	}
}

func diskListing(t *testing.T, dir string) map[string]any {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		return map[string]any{}
	}
	var files []any
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{"path": e.Name(), "is_dir": e.IsDir()}
		if !e.IsDir() && fi.Size() > 0 {
			m["file_size"] = float64(fi.Size())
		}
		files = append(files, m)
	}
	return map[string]any{"files": files}
}

func untar(t *testing.T, archive, dst string) {
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, filepath.FromSlash(path.Clean(h.Name)))
		if !strings.HasPrefix(target, dst+string(filepath.Separator)) {
			t.Fatalf("archive entry %q leaves the folder", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := os.Create(target)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected archive entry %q (type %c)", h.Name, h.Typeflag)
		}
	}
}

// TestArtifactProxyDownload checks the download headers, Range and HEAD.
func TestArtifactProxyDownload(t *testing.T) {
	forEachRepo(t, func(t *testing.T, tr testRepo) {
		srv := startProxy(t, tr.repo, ArtifactProxyOptions{})
		data := artifacttest.Bytes(5, 1000)
		const p = "/api/2.0/mlflow-artifacts/artifacts/3/r/artifacts/plots/loss curve.png"
		esc := (&url.URL{Path: p}).EscapedPath()
		if got := do(t, srv, http.MethodPut, esc, bytes.NewReader(data), map[string]string{"Content-Type": "image/png"}); got.status != 200 || string(got.body) != "{}\n" {
			t.Fatalf("PUT: %d %q", got.status, got.body)
		}
		got := do(t, srv, http.MethodGet, esc, nil, nil)
		if got.status != 200 || !bytes.Equal(got.body, data) {
			t.Fatalf("GET: %d, %d bytes", got.status, len(got.body))
		}
		for h, want := range map[string]string{
			"Content-Type":        "image/png",
			"Content-Disposition": `attachment; filename="loss curve.png"`,
			"Content-Length":      "1000",
			"Accept-Ranges":       "bytes",
		} {
			if got.header.Get(h) != want {
				t.Errorf("%s: %q, want %q", h, got.header.Get(h), want)
			}
		}
		for _, tc := range []struct {
			rng          string
			status       int
			start, end   int // inclusive; end -1 for no body check
			contentRange string
		}{
			{"bytes=0-9", 206, 0, 9, "bytes 0-9/1000"},
			{"bytes=990-", 206, 990, 999, "bytes 990-999/1000"},
			{"bytes=-5", 206, 995, 999, "bytes 995-999/1000"},
			{"bytes=500-5000", 206, 500, 999, "bytes 500-999/1000"},
			{"bytes=1000-", 416, 0, -1, "bytes */1000"},
			{"bytes=0-1,5-6", 200, 0, 999, ""},
			{"items=0-1", 200, 0, 999, ""},
		} {
			got := do(t, srv, http.MethodGet, esc, nil, map[string]string{"Range": tc.rng})
			if got.status != tc.status || got.header.Get("Content-Range") != tc.contentRange {
				t.Errorf("Range %s: %d %q, want %d %q", tc.rng, got.status, got.header.Get("Content-Range"), tc.status, tc.contentRange)
				continue
			}
			if tc.end >= 0 && !bytes.Equal(got.body, data[tc.start:tc.end+1]) {
				t.Errorf("Range %s: wrong %d bytes", tc.rng, len(got.body))
			}
		}
		head := do(t, srv, http.MethodHead, esc, nil, nil)
		if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != "1000" {
			t.Errorf("HEAD: %d, %d bytes, length %q", head.status, len(head.body), head.header.Get("Content-Length"))
		}
		// The ajax-api mount serves the same store.
		if got := do(t, srv, http.MethodGet, strings.Replace(esc, "/api/", "/ajax-api/", 1), nil, nil); !bytes.Equal(got.body, data) {
			t.Errorf("ajax-api GET: %d", got.status)
		}
		// A path with dot segments is served in canonical form, not redirected.
		if got := do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts/3/./r//artifacts/plots/loss%20curve.png", nil, nil); got.status != 200 {
			t.Errorf("non-canonical path: %d", got.status)
		}
	})
}

func TestArtifactProxyUploadLimit(t *testing.T) {
	srv := startProxy(t, newLocalRepo(t).repo, ArtifactProxyOptions{MaxUploadBytes: 100})
	const p = "/api/2.0/mlflow-artifacts/artifacts/1/big.bin"
	if got := do(t, srv, http.MethodPut, p, bytes.NewReader(make([]byte, 101)), nil); got.status != 413 {
		t.Errorf("declared oversize: %d %s", got.status, got.body)
	}
	// Chunked, so the size is only known while reading.
	if got := do(t, srv, http.MethodPut, p, io.MultiReader(strings.NewReader(strings.Repeat("x", 150))), nil); got.status != 413 {
		t.Errorf("streamed oversize: %d %s", got.status, got.body)
	}
	if got := do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts?path=1", nil, nil); string(got.body) != "{}\n" {
		t.Errorf("refused uploads left %s", got.body)
	}
	if got := do(t, srv, http.MethodPut, p, bytes.NewReader(make([]byte, 100)), nil); got.status != 200 {
		t.Errorf("upload at the limit: %d %s", got.status, got.body)
	}
}

// TestArtifactProxyMultipart drives the mpu API as the MLflow client does:
// on the local folder it answers the 501 the client falls back on; on S3 the
// parts go to the presigned URLs, then complete (or abort).
func TestArtifactProxyMultipart(t *testing.T) {
	forEachRepo(t, func(t *testing.T, tr testRepo) {
		srv := startProxy(t, tr.repo, ArtifactProxyOptions{})
		const base = "/api/2.0/mlflow-artifacts/mpu/"
		// Request validation comes first, as in MLflow.
		got := do(t, srv, http.MethodPost, base+"create/1/r/artifacts", strings.NewReader(`{"num_parts": 2}`), nil)
		if got.status != 400 || got.json(t)["message"] != "Missing value for required parameter 'path'. See the API docs for more information about request parameters." {
			t.Errorf("create without path: %d %s", got.status, got.body)
		}
		got = do(t, srv, http.MethodPost, base+"create/1/r/artifacts", strings.NewReader(`{"path": "/home/me/model.bin", "num_parts": 2}`), nil)
		if tr.name == "local" {
			m := got.json(t)
			if got.status != 501 || m["error_code"] != "NOT_IMPLEMENTED" ||
				!strings.HasPrefix(m["message"].(string), "Multipart upload is not supported for the current artifact repository") {
				t.Errorf("local create: %d %s", got.status, got.body)
			}
			for _, op := range []string{"complete", "abort"} {
				got := do(t, srv, http.MethodPost, base+op+"/1/r/artifacts", strings.NewReader(`{"path": "model.bin", "upload_id": "x", "parts": [{"part_number": 1, "etag": "e"}]}`), nil)
				if got.status != 501 {
					t.Errorf("local %s: %d %s", op, got.status, got.body)
				}
			}
			return
		}
		if got.status != 200 {
			t.Fatalf("create: %d %s", got.status, got.body)
		}
		var created struct {
			UploadID    string `json:"upload_id"`
			Credentials []struct {
				URL        string            `json:"url"`
				PartNumber int64             `json:"part_number"`
				Headers    map[string]string `json:"headers"`
			} `json:"credentials"`
		}
		if err := json.Unmarshal(got.body, &created); err != nil || created.UploadID == "" || len(created.Credentials) != 2 {
			t.Fatalf("create answered %s", got.body)
		}
		chunks := [][]byte{artifacttest.Bytes(21, 5<<20), artifacttest.Bytes(22, 777)}
		var parts []map[string]any
		for i, c := range created.Credentials {
			etag := artifacttest.PutPart(t, artifact.PartCredential{PartNumber: c.PartNumber, URL: c.URL, Headers: c.Headers}, chunks[i])
			parts = append(parts, map[string]any{"part_number": c.PartNumber, "etag": etag, "url": c.URL})
		}
		body, _ := json.Marshal(map[string]any{"path": "/home/me/model.bin", "upload_id": created.UploadID, "parts": parts})
		if got := do(t, srv, http.MethodPost, base+"complete/1/r/artifacts", bytes.NewReader(body), nil); got.status != 200 || string(got.body) != "{}\n" {
			t.Fatalf("complete: %d %s", got.status, got.body)
		}
		got = do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model.bin", nil, nil)
		if got.status != 200 || !bytes.Equal(got.body, append(chunks[0], chunks[1]...)) {
			t.Errorf("multipart result: %d, %d bytes", got.status, len(got.body))
		}

		got = do(t, srv, http.MethodPost, base+"create/1/r/artifacts", strings.NewReader(`{"path": "C:\\data\\other.bin", "num_parts": 1}`), nil)
		if err := json.Unmarshal(got.body, &created); err != nil || got.status != 200 {
			t.Fatalf("create: %d %s", got.status, got.body)
		}
		abort := fmt.Sprintf(`{"path": "other.bin", "upload_id": %q}`, created.UploadID)
		if got := do(t, srv, http.MethodPost, base+"abort/1/r/artifacts", strings.NewReader(abort), nil); got.status != 200 {
			t.Errorf("abort: %d %s", got.status, got.body)
		}
		got = do(t, srv, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts?path=1%2Fr%2Fartifacts", nil, nil)
		want := map[string]any{"files": []any{map[string]any{"path": "model.bin", "is_dir": false, "file_size": float64(5<<20 + 777)}}}
		if m := got.json(t); !reflect.DeepEqual(m, want) {
			t.Errorf("listing after complete and abort: %v", m)
		}
	})
}
