package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
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

// cleanEnv is the test process's environment without any setting of
// mltrack, MLflow or AWS, so that only what a case sets applies.
func cleanEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MLFLOW_") || strings.HasPrefix(k, "MLTRACK_") || strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(env, "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true")
}

// TestStartupRefusesMisconfiguration runs the real binary with one
// misconfiguration at a time: each stops it at start-up with status 1 and
// a message on stderr naming what to fix, before it listens, instead of a
// random port, an ignored setting, a database in an unexpected place or a
// 500 at the first upload.
func TestStartupRefusesMisconfiguration(t *testing.T) {
	bin := mltrackBinary(t)
	s3 := artifacttest.StartVersityGW(t)
	s3.CreateBucket(t, "mlflow")
	ro := unwritableDir(t)
	s3Env := []string{"MLFLOW_S3_ENDPOINT_URL=" + s3.Endpoint, "AWS_ACCESS_KEY_ID=" + s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3.SecretKey}

	cases := []struct {
		name string
		env  []string
		args []string // after "server"; {dir} is the case's working folder
		want []string // parts of stderr; {dir} as in args
		not  []string // must not appear in stderr
	}{
		{name: "MLFLOW_PORT not a number", env: []string{"MLFLOW_PORT=abc"},
			want: []string{`MLFLOW_PORT="abc" (--port): not an integer`}},
		{name: "flags after a positional word", args: []string{"extra", "--port", "{port}"},
			want: []string{`unexpected argument "extra"`}},
		{name: "MLTRACK_ number that does not parse", env: []string{"MLTRACK_MAX_REQUEST_BODY_BYTES=10MB"},
			want: []string{`MLTRACK_MAX_REQUEST_BODY_BYTES="10MB" (--max-request-body-bytes): not an integer`}},
		{name: "MLTRACK_ duration that does not parse", env: []string{"MLTRACK_IDLE_TIMEOUT=120"},
			want: []string{`MLTRACK_IDLE_TIMEOUT="120" (--idle-timeout): not a duration`}},
		{name: "SQLite folder missing", args: []string{"--backend-store-uri", "sqlite:///data/mlflow.db"},
			want: []string{"SQLite database {dir}/data/mlflow.db: its folder {dir}/data does not exist"}},
		{name: "SQLite folder not writable", args: []string{"--backend-store-uri", "sqlite:///" + ro + "/mlflow.db"},
			want: []string{"open SQLite database " + ro + "/mlflow.db: unable to open database file"}},
		{name: "auth SQLite folder missing", args: []string{"--auth", "--auth-database-uri", "sqlite:///auth/basic_auth.db"},
			want: []string{"auth: SQLite database {dir}/auth/basic_auth.db: its folder {dir}/auth does not exist"}},
		{name: "artifacts folder not writable", args: []string{"--artifacts-destination", ro},
			want: []string{"artifacts destination " + ro, "the folder " + ro + " is not writable"}},
		{name: "artifacts-only, folder not writable", args: []string{"--artifacts-only", "--artifacts-destination", ro},
			want: []string{"the folder " + ro + " is not writable"}},
		{name: "S3 bucket missing", env: s3Env, args: []string{"--artifacts-destination", "s3://no-such-bucket/mlartifacts"},
			want: []string{"s3://no-such-bucket/mlartifacts at " + s3.Endpoint, `the bucket "no-such-bucket" does not exist`}},
		{name: "S3 wrong secret", env: append(s3Env[:2:2], "AWS_SECRET_ACCESS_KEY=wrong-secret-value"), args: []string{"--artifacts-destination", "s3://mlflow"},
			want: []string{"s3://mlflow", "the secret key does not match the access key (AWS_SECRET_ACCESS_KEY)"}, not: []string{"wrong-secret-value"}},
		{name: "S3 without credentials", env: s3Env[:1], args: []string{"--artifacts-destination", "s3://mlflow"},
			want: []string{"s3://mlflow", "no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			port := strconv.Itoa(freePort(t))
			subst := strings.NewReplacer("{dir}", dir, "{port}", port)
			args := []string{"server", "--port", port}
			for _, a := range c.args {
				args = append(args, subst.Replace(a))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = dir
			cmd.Env = append(cleanEnv(t), c.env...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("mltrack %s: %v, want exit status 1\n%s", strings.Join(args, " "), err, stderr.String())
			}
			out := stderr.String()
			if strings.Contains(out, "mltrack listening") {
				t.Errorf("it listened before refusing:\n%s", out)
			}
			for _, w := range c.want {
				if w = subst.Replace(w); !strings.Contains(out, w) {
					t.Errorf("stderr lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("stderr shows %q:\n%s", n, out)
				}
			}
			// Nothing answers on the port it was given.
			if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
				conn.Close()
				t.Errorf("something listens on port %s", port)
			}
			// No database was made in a folder it had to create.
			for _, p := range []string{"data", "auth"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("folder %s was created", p)
				}
			}
		})
	}
}
