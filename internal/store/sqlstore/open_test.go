package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// unwritableDir is an existing folder in which this process cannot create
// a file: a read-only temporary folder, or, for root (whom permissions don't
// stop), /sys.
func unwritableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		dir = "/sys"
	} else if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o644); err == nil {
		os.Remove(filepath.Join(dir, "probe"))
		t.Fatalf("%s is writable; the test needs a folder that is not", dir)
	}
	return dir
}

// TestOpenRefusesBadSQLitePath: a SQLite database whose folder is missing
// is refused, as MLflow refuses it, and nothing is created; every error
// opening the file names the file's absolute path.
func TestOpenRefusesBadSQLitePath(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := unwritableDir(t)
	cases := []struct {
		name, path string
		want       []string
	}{
		{"missing folder", filepath.Join(base, "missing", "mlflow.db"), []string{filepath.Join(base, "missing", "mlflow.db"), "folder " + filepath.Join(base, "missing") + " does not exist"}},
		{"folder is a file", filepath.Join(file, "mlflow.db"), []string{file + " is not a folder"}},
		{"database is a folder", base, []string{base + " is a folder"}},
		{"folder not writable", filepath.Join(ro, "mlflow.db"), []string{"open SQLite database " + filepath.Join(ro, "mlflow.db"), "unable to open database file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.Open(context.Background(), "sqlite:///"+c.path, sqlstore.Options{})
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(base, "missing")); !os.IsNotExist(err) {
		t.Errorf("the missing folder was created: %v", err)
	}

	// A relative path is shown absolute, so the working directory it was
	// resolved against is visible.
	t.Chdir(base)
	_, err := sqlstore.Open(context.Background(), "sqlite:///nope/mlflow.db", sqlstore.Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(base, "nope", "mlflow.db")) {
		t.Errorf("relative path: %v", err)
	}
}

// TestOpenPostgresURIDoesNotParse: a PostgreSQL URI that does not parse (a
// password with reserved characters, not URL-encoded) is refused at once
// with how to write it, and no piece of the password is shown.
func TestOpenPostgresURIDoesNotParse(t *testing.T) {
	for _, pw := range []string{"p@ss/w:rd?#x1", "se#cret%zz"} {
		uri := "postgresql://mlflow:" + pw + "@127.0.0.1:5432/mlflow"
		s, err := sqlstore.Open(context.Background(), uri, sqlstore.Options{})
		if err == nil {
			s.Close()
			t.Fatalf("%s: opened", pw)
		}
		msg := err.Error()
		for _, want := range []string{"postgresql://xxxxx@127.0.0.1:5432/mlflow", "%40", "PGPASSWORD"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q lacks %q", pw, msg, want)
			}
		}
		for _, piece := range []string{"ss/w", "rd?", "#x1", "se#", "cret", "%zz"} {
			if strings.Contains(pw, piece) && strings.Contains(msg, piece) {
				t.Errorf("%s: error shows %q of the password: %s", pw, piece, msg)
			}
		}
	}
}
