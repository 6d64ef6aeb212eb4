// Package artifacttest holds the conformance suite every artifact.Repository
// must pass, and the helpers that start a real S3 server (versitygw) for it.
package artifacttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// Data is n deterministic pseudo-random bytes (seeded by seed), generated as
// they are read.
func Data(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// Bytes is Data read into memory (for small sizes).
func Bytes(seed uint64, n int64) []byte {
	b, err := io.ReadAll(Data(seed, n))
	if err != nil {
		panic(err)
	}
	return b
}

// opaque hides the size and any io.WriterTo of a reader, as a network body.
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

// failingReader yields n bytes, then an error.
type failingReader struct {
	r io.Reader
}

var errBroken = errors.New("connection broken")

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBroken
	}
	return n, err
}

// Run runs the conformance suite. newRepo returns a fresh, empty repository
// for each subtest.
func Run(t *testing.T, newRepo func(t *testing.T) artifact.Repository) {
	ctx := context.Background()

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		repo := newRepo(t)
		paths := []string{
			"a.txt", "dir/sub/data.json", "dir/with space.txt", "ünï/cødé.bin",
			"100%.txt", "a%20b.txt", "MLmodel", "deep/a/b/c/d/e/f.bin", "./dot/./x.txt",
		}
		for i, p := range paths {
			want := Bytes(uint64(i), int64(100+i*37))
			put(t, repo, p, want)
			canon, _ := artifact.ValidatePath(p)
			if got := get(t, repo, canon, 0, -1); !bytes.Equal(got, want) {
				t.Errorf("Get(%q): %d bytes, want %d", canon, len(got), len(want))
			}
			info, err := repo.Stat(ctx, canon)
			if err != nil || info.IsDir || info.FileSize != int64(len(want)) || info.Path != canon {
				t.Errorf("Stat(%q) = %+v, %v; want file of %d bytes", canon, info, err, len(want))
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "x/hello.txt", []byte("first version"))
		put(t, repo, "x/hello.txt", []byte("second"))
		if got := string(get(t, repo, "x/hello.txt", 0, -1)); got != "second" {
			t.Errorf("after overwrite: %q", got)
		}
	})

	t.Run("EmptyFile", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "d/empty.bin", nil)
		if got := get(t, repo, "d/empty.bin", 0, -1); len(got) != 0 {
			t.Errorf("empty file read back %d bytes", len(got))
		}
		list := mustList(t, repo, "d")
		if len(list) != 1 || list[0].Path != "d/empty.bin" || list[0].IsDir || list[0].FileSize != 0 {
			t.Errorf("List(d) = %+v", list)
		}
	})

	t.Run("StreamUnknownSize", func(t *testing.T) {
		// Larger than three 5 MiB parts, size unknown: S3 streams it as a
		// multipart upload, the local folder as one file.
		repo := newRepo(t)
		const n = 3*(5<<20) + 12345
		if err := repo.Put(ctx, "big/blob.bin", opaque{Data(7, n)}, -1); err != nil {
			t.Fatal(err)
		}
		checkHash(t, repo, "big/blob.bin", Data(7, n), n)
		if err := repo.Put(ctx, "big/known.bin", opaque{Data(8, n)}, n); err != nil {
			t.Fatal(err)
		}
		checkHash(t, repo, "big/known.bin", Data(8, n), n)
	})

	t.Run("FailedUploadLeavesNothing", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "keep.txt", []byte("old content"))
		for _, tc := range []struct {
			name string
			body io.Reader
			size int64
		}{
			{"short small", strings.NewReader("only 16 bytes..."), 100},
			{"broken small", &failingReader{strings.NewReader("partial")}, -1},
			{"short large", Data(1, 6<<20), 11 << 20},
			{"broken large", &failingReader{Data(2, 11<<20)}, -1},
		} {
			for _, p := range []string{"new.txt", "keep.txt"} {
				if err := repo.Put(ctx, p, opaque{tc.body}, tc.size); err == nil {
					t.Errorf("%s: Put(%q) succeeded", tc.name, p)
				}
				if s, ok := tc.body.(*strings.Reader); ok {
					_, _ = s.Seek(0, io.SeekStart)
				}
			}
			if _, err := repo.Stat(ctx, "new.txt"); !mlflow.IsNotFound(err) {
				t.Errorf("%s: after failed upload Stat(new.txt) = %v, want not found", tc.name, err)
			}
			if got := string(get(t, repo, "keep.txt", 0, -1)); got != "old content" {
				t.Errorf("%s: failed overwrite changed the file to %q", tc.name, got)
			}
		}
		list := mustList(t, repo, "")
		if len(list) != 1 || list[0].Path != "keep.txt" {
			t.Errorf("after failed uploads the root lists %+v", list)
		}
	})

	t.Run("Ranges", func(t *testing.T) {
		repo := newRepo(t)
		data := Bytes(3, 1000)
		put(t, repo, "r.bin", data)
		for _, tc := range []struct{ off, length int64 }{
			{0, -1}, {0, 1}, {10, 90}, {999, 1}, {500, -1}, {0, 1000}, {123, 0},
		} {
			want := data[tc.off:]
			if tc.length >= 0 {
				want = want[:tc.length]
			}
			if got := get(t, repo, "r.bin", tc.off, tc.length); !bytes.Equal(got, want) {
				t.Errorf("Get(off=%d, len=%d): %d bytes, want %d", tc.off, tc.length, len(got), len(want))
			}
		}
	})

	t.Run("StatAndNotFound", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "d/sub/f.txt", []byte("x"))
		if info, err := repo.Stat(ctx, "d/sub"); err != nil || !info.IsDir {
			t.Errorf("Stat(dir) = %+v, %v", info, err)
		}
		if info, err := repo.Stat(ctx, ""); err != nil || !info.IsDir {
			t.Errorf("Stat(root) = %+v, %v", info, err)
		}
		for _, p := range []string{"nope.txt", "d/nope", "d/sub/f.txt/below"} {
			if _, err := repo.Stat(ctx, p); !mlflow.IsNotFound(err) {
				t.Errorf("Stat(%q) = %v, want RESOURCE_DOES_NOT_EXIST", p, err)
			}
			if _, err := repo.Get(ctx, p, 0, -1); !mlflow.IsNotFound(err) {
				t.Errorf("Get(%q) = %v, want RESOURCE_DOES_NOT_EXIST", p, err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "2/run/artifacts/dir/hello.txt", []byte("hello world!"))
		put(t, repo, "2/run/artifacts/dir/empty.bin", nil)
		put(t, repo, "2/run/artifacts/dir/sub/data.json", []byte(`{"a": 1}`))
		put(t, repo, "2/run/artifacts/dir/with space.txt", []byte("spaced"))
		put(t, repo, "2/run/artifacts/dir/MLmodel", []byte("m"))
		want := []artifact.FileInfo{
			{Path: "2/run/artifacts/dir/MLmodel", FileSize: 1},
			{Path: "2/run/artifacts/dir/empty.bin"},
			{Path: "2/run/artifacts/dir/hello.txt", FileSize: 12},
			{Path: "2/run/artifacts/dir/sub", IsDir: true},
			{Path: "2/run/artifacts/dir/with space.txt", FileSize: 6},
		}
		got := mustList(t, repo, "2/run/artifacts/dir")
		if !sameInfos(got, want) {
			t.Errorf("List(dir) =\n%+v\nwant\n%+v", got, want)
		}
		if got := mustList(t, repo, "2/run/artifacts/dir/"); !sameInfos(got, want) {
			t.Errorf("List(dir/) = %+v", got)
		}
		if got := mustList(t, repo, ""); !sameInfos(got, []artifact.FileInfo{{Path: "2", IsDir: true}}) {
			t.Errorf("List(root) = %+v", got)
		}
		for _, p := range []string{"2/run/artifacts/nothing-here", "2/run/artifacts/dir/hello.txt", "zzz"} {
			if got := mustList(t, repo, p); len(got) != 0 {
				t.Errorf("List(%q) = %+v, want empty", p, got)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "a/keep.txt", []byte("k"))
		put(t, repo, "a/f.txt", []byte("f"))
		put(t, repo, "a/tree/x.txt", []byte("x"))
		put(t, repo, "a/tree/deeper/y.txt", []byte("y"))
		put(t, repo, "a/treeish.txt", []byte("not below a/tree"))
		mustDelete(t, repo, "a/f.txt")
		mustDelete(t, repo, "a/f.txt") // missing: fine
		mustDelete(t, repo, "a/tree")
		mustDelete(t, repo, "never/was")
		got := mustList(t, repo, "a")
		want := []artifact.FileInfo{{Path: "a/keep.txt", FileSize: 1}, {Path: "a/treeish.txt", FileSize: 16}}
		if !sameInfos(got, want) {
			t.Errorf("after deletes List(a) = %+v, want %+v", got, want)
		}
		if _, err := repo.Stat(ctx, "a/tree/deeper/y.txt"); !mlflow.IsNotFound(err) {
			t.Errorf("tree delete left a/tree/deeper/y.txt: %v", err)
		}
	})

	t.Run("InvalidPaths", func(t *testing.T) {
		repo := newRepo(t)
		put(t, repo, "ok/file.txt", []byte("x"))
		for _, p := range InvalidPaths {
			if err := repo.Put(ctx, p, strings.NewReader("evil"), 4); !isInvalidPath(err) {
				t.Errorf("Put(%q) = %v, want Invalid path", p, err)
			}
			if _, err := repo.Get(ctx, p, 0, -1); !isInvalidPath(err) {
				t.Errorf("Get(%q) = %v, want Invalid path", p, err)
			}
			if _, err := repo.Stat(ctx, p); !isInvalidPath(err) {
				t.Errorf("Stat(%q) = %v, want Invalid path", p, err)
			}
			if _, err := repo.List(ctx, p); !isInvalidPath(err) {
				t.Errorf("List(%q) = %v, want Invalid path", p, err)
			}
			if err := repo.Delete(ctx, p); !isInvalidPath(err) {
				t.Errorf("Delete(%q) = %v, want Invalid path", p, err)
			}
		}
		if err := repo.Delete(ctx, ""); !isInvalidPath(err) {
			t.Errorf("Delete(root) = %v, want Invalid path", err)
		}
		if got := mustList(t, repo, ""); !sameInfos(got, []artifact.FileInfo{{Path: "ok", IsDir: true}}) {
			t.Errorf("after refused requests the root lists %+v", got)
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		repo := newRepo(t)
		mpu, err := repo.CreateMultipartUpload(ctx, "mpu/model.bin", 2)
		if errors.Is(err, artifact.ErrMultipartUnsupported) {
			if err := repo.CompleteMultipartUpload(ctx, "mpu/model.bin", "x", nil); !errors.Is(err, artifact.ErrMultipartUnsupported) {
				t.Errorf("Complete on a repository without multipart: %v", err)
			}
			if err := repo.AbortMultipartUpload(ctx, "mpu/model.bin", "x"); !errors.Is(err, artifact.ErrMultipartUnsupported) {
				t.Errorf("Abort on a repository without multipart: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if mpu.UploadID == "" || len(mpu.Credentials) != 2 {
			t.Fatalf("CreateMultipartUpload = %+v", mpu)
		}
		part1, part2 := Bytes(11, 5<<20), Bytes(12, 1234)
		parts := []artifact.UploadedPart{
			{PartNumber: 1, ETag: PutPart(t, mpu.Credentials[0], part1)},
			{PartNumber: 2, ETag: PutPart(t, mpu.Credentials[1], part2)},
		}
		if _, err := repo.Stat(ctx, "mpu/model.bin"); !mlflow.IsNotFound(err) {
			t.Errorf("object visible before complete: %v", err)
		}
		if err := repo.CompleteMultipartUpload(ctx, "mpu/model.bin", mpu.UploadID, parts); err != nil {
			t.Fatal(err)
		}
		if got := get(t, repo, "mpu/model.bin", 0, -1); !bytes.Equal(got, append(part1, part2...)) {
			t.Errorf("multipart object: %d bytes, want %d", len(got), len(part1)+len(part2))
		}

		mpu2, err := repo.CreateMultipartUpload(ctx, "mpu/aborted.bin", 1)
		if err != nil {
			t.Fatal(err)
		}
		PutPart(t, mpu2.Credentials[0], []byte("part"))
		if err := repo.AbortMultipartUpload(ctx, "mpu/aborted.bin", mpu2.UploadID); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Stat(ctx, "mpu/aborted.bin"); !mlflow.IsNotFound(err) {
			t.Errorf("aborted upload left an object: %v", err)
		}
		if err := repo.CompleteMultipartUpload(ctx, "mpu/aborted.bin", mpu2.UploadID, []artifact.UploadedPart{{PartNumber: 1, ETag: `"0"`}}); !isClientError(err) {
			// S3 answers NoSuchUpload, some compatible stores InvalidPart.
			t.Errorf("Complete of an aborted upload = %v, want a 4xx MLflow error", err)
		}
		if _, err := repo.CreateMultipartUpload(ctx, "../escape.bin", 1); !isInvalidPath(err) {
			t.Errorf("CreateMultipartUpload(../escape.bin) = %v, want Invalid path", err)
		}
	})
}

// InvalidPaths are paths every repository refuses, one or more per class of
// MLflow's past path-traversal vulnerabilities.
var InvalidPaths = []string{
	"..", "../escape.txt", "a/../../escape.txt", "a/..", // dot-dot segments
	"%2e%2e/escape.txt", "%2E%2E%2Fescape.txt", "..%2fescape.txt", // percent-encoded
	"%252e%252e/escape.txt", "%25252e%25252e%25252fescape.txt", // double and triple encoded
	`..\escape.txt`, `a\b.txt`, "%5c..%5cescape.txt", // backslash
	"a\x00b.txt", "%00", "x%2500y", // NUL
	"/etc/passwd", "//etc/passwd", "%2fetc%2fpasswd", "C:/Windows/win.ini", `C:\x`, // absolute
	"a#b", "a\nb", // MLflow refuses '#'; control characters
}

func isClientError(err error) bool {
	e, ok := mlflow.AsError(err)
	return ok && e.HTTPStatus() >= 400 && e.HTTPStatus() < 500
}

func isInvalidPath(err error) bool {
	e, ok := mlflow.AsError(err)
	return ok && e.Code == mlflow.InvalidParameterValue && e.Message == "Invalid path"
}

// PutPart uploads one part to its presigned URL as the MLflow client does
// and returns the ETag the store answered.
func PutPart(t testing.TB, cred artifact.PartCredential, data []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, cred.URL, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range cred.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT part %d: %s: %s", cred.PartNumber, resp.Status, body)
	}
	return resp.Header.Get("ETag")
}

func put(t *testing.T, repo artifact.Repository, p string, data []byte) {
	t.Helper()
	if err := repo.Put(context.Background(), p, opaque{bytes.NewReader(data)}, int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
}

func get(t *testing.T, repo artifact.Repository, p string, off, length int64) []byte {
	t.Helper()
	rc, err := repo.Get(context.Background(), p, off, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", p, off, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", p, err)
	}
	return b
}

func checkHash(t *testing.T, repo artifact.Repository, p string, want io.Reader, n int64) {
	t.Helper()
	rc, err := repo.Get(context.Background(), p, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h1, h2 := sha256.New(), sha256.New()
	got, err := io.Copy(h1, rc)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(h2, want)
	if got != n || !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Errorf("%s: read back %d bytes (want %d), same content: %v", p, got, n, bytes.Equal(h1.Sum(nil), h2.Sum(nil)))
	}
	if info, err := repo.Stat(context.Background(), p); err != nil || info.FileSize != n {
		t.Errorf("Stat(%q) = %+v, %v", p, info, err)
	}
}

func mustList(t *testing.T, repo artifact.Repository, dir string) []artifact.FileInfo {
	t.Helper()
	list, err := repo.List(context.Background(), dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return list
}

func mustDelete(t *testing.T, repo artifact.Repository, p string) {
	t.Helper()
	if err := repo.Delete(context.Background(), p); err != nil {
		t.Fatalf("Delete(%q): %v", p, err)
	}
}

// sameInfos compares listings on path, kind and size (not times).
func sameInfos(got, want []artifact.FileInfo) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Path != want[i].Path || got[i].IsDir != want[i].IsDir || got[i].FileSize != want[i].FileSize {
			return false
		}
	}
	return true
}
