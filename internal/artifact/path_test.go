package artifact_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
)

func TestValidatePath(t *testing.T) {
	ok := map[string]string{
		"":                         "",
		".":                        "",
		"a.txt":                    "a.txt",
		"dir/sub/data.json":        "dir/sub/data.json",
		"dir//sub/./x/":            "dir/sub/x",
		"with space.txt":           "with space.txt",
		"100%.txt":                 "100%.txt",
		"a%20b":                    "a%20b",
		"..a/b..":                  "..a/b..",
		"...":                      "...",
		"ünï/cødé":                 "ünï/cødé",
		"1/models/m-abc/artifacts": "1/models/m-abc/artifacts",
	}
	for in, want := range ok {
		got, err := artifact.ValidatePath(in)
		if err != nil || got != want {
			t.Errorf("ValidatePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range artifacttest.InvalidPaths {
		if got, err := artifact.ValidatePath(in); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %q, %v; want Invalid path", in, got, err)
		}
	}
}

// FuzzValidatePath checks that no accepted path, however often it is
// percent-decoded, names anything outside the root.
func FuzzValidatePath(f *testing.F) {
	for _, p := range artifacttest.InvalidPaths {
		f.Add(p)
	}
	for _, p := range []string{"a.txt", "dir/sub/x", "100%.txt", "a%20b", "...", "./x"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := artifact.ValidatePath(p)
		if err != nil {
			if !errors.Is(err, artifact.ErrInvalidPath) {
				t.Fatalf("ValidatePath(%q): unexpected error %v", p, err)
			}
			return
		}
		stage := got
		for range 10 {
			if strings.HasPrefix(stage, "/") || strings.ContainsAny(stage, "\\\x00#") {
				t.Fatalf("ValidatePath(%q) = %q: decodes to unsafe %q", p, got, stage)
			}
			for _, seg := range strings.Split(stage, "/") {
				if seg == ".." {
					t.Fatalf("ValidatePath(%q) = %q: decodes to traversal %q", p, got, stage)
				}
			}
			clean := filepath.Clean("/root/" + stage)
			if clean != "/root" && !strings.HasPrefix(clean, "/root/") {
				t.Fatalf("ValidatePath(%q) = %q: resolves outside the root: %q", p, got, clean)
			}
			next, err := url.PathUnescape(stage)
			if err != nil || next == stage {
				break
			}
			stage = next
		}
		again, err := artifact.ValidatePath(got)
		if err != nil || again != got {
			t.Fatalf("ValidatePath not idempotent on %q: %q, %v", got, again, err)
		}
	})
}

// TestLocalSymlinkEscape: links inside the root are followed, links that
// lead outside are refused with Invalid path and nothing outside changes.
func TestLocalSymlinkEscape(t *testing.T) {
	base := t.TempDir()
	rootDir := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{rootDir, outside, filepath.Join(rootDir, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootDir, "real", "in.txt"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, "../outside", filepath.Join(rootDir, "escape"))
	mustSymlink(t, outside, filepath.Join(rootDir, "escape-abs"))
	mustSymlink(t, "../outside/secret.txt", filepath.Join(rootDir, "secret-link.txt"))
	mustSymlink(t, "../outside/not-yet.txt", filepath.Join(rootDir, "dangling.txt"))
	mustSymlink(t, "real", filepath.Join(rootDir, "alias"))

	repo, err := artifact.NewLocal(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	ctx := context.Background()

	rc, err := repo.Get(ctx, "alias/in.txt", 0, -1)
	if err != nil {
		t.Fatalf("link inside the root: %v", err)
	}
	rc.Close()

	for _, p := range []string{"escape/secret.txt", "escape-abs/secret.txt", "secret-link.txt", "dangling.txt", "escape", "escape/new.txt"} {
		if err := repo.Put(ctx, p, strings.NewReader("evil"), 4); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("Put(%q) = %v, want Invalid path", p, err)
		}
		if _, err := repo.Get(ctx, p, 0, -1); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("Get(%q) = %v, want Invalid path", p, err)
		}
		if _, err := repo.List(ctx, p); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("List(%q) = %v, want Invalid path", p, err)
		}
		if err := repo.Delete(ctx, p); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("Delete(%q) = %v, want Invalid path", p, err)
		}
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "secret" {
		t.Errorf("secret changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside folder now holds %d entries", len(entries))
	}
	// Listing the root shows the in-root link, not the escaping ones.
	list, err := repo.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Path)
	}
	if strings.Join(names, ",") != "alias,real" {
		t.Errorf("List(root) = %v", names)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestLocalPutOverDirectory(t *testing.T) {
	repo := newLocal(t)
	ctx := context.Background()
	if err := repo.Put(ctx, "d/f.txt", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d", "d/f.txt/g.txt"} {
		err := repo.Put(ctx, p, strings.NewReader("y"), 1)
		if e, ok := mlflowErr(err); !ok || e != 400 {
			t.Errorf("Put(%q) = %v, want a 400", p, err)
		}
	}
}
