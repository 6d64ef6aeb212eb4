// Package testshared finds the project's shared reference data for tests:
// the folder ../shared beside the module root (MLflow's wire recordings in
// mlflow-wire/, MLflow-made databases in mlflow-db/, MLflow's schema dumps in
// mlflow-schema/). Tests find it from wherever `go test` runs them, never by
// the absolute path of one machine.
package testshared

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ModuleRoot is the folder holding go.mod, found by walking up from dir.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or any folder above it", dir)
		}
		d = parent
	}
}

// Dir is ../shared beside the module root, found from the test's working
// directory (its package's folder). When it is missing the test fails under
// CI (CI set, as `.ci/run` does) and is skipped elsewhere, with a message
// saying where the folder was looked for.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := find(wd)
	if err != nil {
		missing(t, err)
	}
	return dir
}

// Path is a file or folder of ../shared (Path(t, "mlflow-wire",
// "api_cases.jsonl")), failing under CI and skipping elsewhere when it is
// missing.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, fmt.Errorf("reference data %s: %w", strings.Join(elem, "/"), err))
	}
	return p
}

// find is Dir's search, from a given folder.
func find(from string) (string, error) {
	root, err := ModuleRoot(from)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("the shared reference data (../shared beside the module root %s): %w", root, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("the shared reference data %s is not a folder", dir)
	}
	return dir, nil
}

// missing fails the test under CI and skips it elsewhere.
func missing(t testing.TB, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%v (CI needs it: put the project's shared folder beside the repository, as ../shared)", err)
	}
	t.Skipf("%v; skipped outside CI, where it fails", err)
}

// InCI reports whether the tests run under CI: CI is set to anything but
// "", "0" or "false" (`.ci/run` sets CI=true).
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}
