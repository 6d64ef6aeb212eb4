package testshared

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindsSharedBesideModuleRoot: from any folder of a module, ../shared
// beside the folder holding go.mod is found, whatever the module's folder
// is called or where it lives.
func TestFindsSharedBesideModuleRoot(t *testing.T) {
	base := t.TempDir()
	module := filepath.Join(base, "some-clone")
	deep := filepath.Join(module, "internal", "store", "sqlstore")
	shared := filepath.Join(base, "shared")
	for _, d := range []string{deep, filepath.Join(shared, "mlflow-wire")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(module, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{module, deep} {
		got, err := find(from)
		if err != nil || got != shared {
			t.Errorf("find(%s) = %q, %v; want %s", from, got, err, shared)
		}
	}
	root, err := ModuleRoot(deep)
	if err != nil || root != module {
		t.Errorf("ModuleRoot = %q, %v; want %s", root, err, module)
	}

	// Without ../shared the error names where it was looked for.
	if err := os.RemoveAll(shared); err != nil {
		t.Fatal(err)
	}
	if _, err := find(deep); err == nil || !strings.Contains(err.Error(), module) {
		t.Errorf("find without ../shared: %v, want an error naming %s", err, module)
	}
	// Outside any module.
	if _, err := find(base); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("find outside a module: %v", err)
	}
}

// TestThisModule: this repository's own ../shared is found from this
// package's folder (the setup every test of the project relies on).
func TestThisModule(t *testing.T) {
	dir := Dir(t)
	if _, err := os.Stat(filepath.Join(dir, "mlflow-wire", "api_cases.jsonl")); err != nil {
		t.Fatal(err)
	}
	if p := Path(t, "mlflow-db"); filepath.Dir(p) != dir {
		t.Errorf("Path = %s, not in %s", p, dir)
	}
}

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, format
	panic(r)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, format
	panic(r)
}

// run calls fn with a recorder and returns it once fn has ended the test.
func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil && v != any(r) {
				panic(v)
			}
		}()
		fn(r)
	}()
	return r
}

// TestMissingFailsUnderCI: a missing file of ../shared fails the test under
// CI=true (as .ci/run sets it) and skips it elsewhere.
func TestMissingFailsUnderCI(t *testing.T) {
	for _, c := range []struct {
		ci         string
		fail, skip bool
	}{
		{ci: "true", fail: true},
		{ci: "1", fail: true},
		{ci: "", skip: true},
		{ci: "false", skip: true},
	} {
		t.Setenv("CI", c.ci)
		r := run(t, func(tb testing.TB) { Path(tb, "no-such-fixture.jsonl") })
		if r.failed != c.fail || r.skipped != c.skip {
			t.Errorf("CI=%q: failed %v, skipped %v; want %v, %v", c.ci, r.failed, r.skipped, c.fail, c.skip)
		}
	}
}
