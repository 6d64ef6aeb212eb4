package artifact_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
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

// TestLocalCheck: a writable folder passes the start-up probe and keeps no
// trace of it; a folder that can't be written fails it, named.
func TestLocalCheck(t *testing.T) {
	dir := t.TempDir()
	repo, err := artifact.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if err := artifact.Check(context.Background(), repo); err != nil {
		t.Fatalf("writable folder: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the probe left %v", left)
	}

	ro := unwritableDir(t)
	repo, err = artifact.NewLocal(ro)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	err = artifact.Check(context.Background(), repo)
	if err == nil || !strings.Contains(err.Error(), "the folder "+ro+" is not writable") {
		t.Errorf("unwritable folder: %v", err)
	}
}

// TestS3Check: the start-up probe of an S3 destination, against a real S3
// server (versitygw): a reachable bucket passes; a missing bucket, a wrong
// secret, an unknown key and an endpoint with nothing behind it each fail
// with a message naming the problem.
func TestS3Check(t *testing.T) {
	srv := artifacttest.StartVersityGW(t)
	srv.CreateBucket(t, "probe-bucket")
	// An address nothing listens on: a port that was just listened on and
	// is closed again.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	cases := []struct {
		name   string
		cfg    func() artifact.S3Config
		reason string // "" for success
	}{
		{"bucket", func() artifact.S3Config { return srv.Config("probe-bucket", "") }, ""},
		{"bucket with prefix", func() artifact.S3Config { return srv.Config("probe-bucket", "team/mlartifacts") }, ""},
		{"wrong bucket", func() artifact.S3Config { return srv.Config("no-such-bucket", "") }, `the bucket "no-such-bucket" does not exist`},
		{"wrong secret", func() artifact.S3Config {
			c := srv.Config("probe-bucket", "")
			c.SecretAccessKey = "not-the-secret"
			return c
		}, "the secret key does not match the access key (AWS_SECRET_ACCESS_KEY)"},
		{"unknown key", func() artifact.S3Config {
			c := srv.Config("probe-bucket", "")
			c.AccessKeyID = "nobody"
			return c
		}, "AWS_ACCESS_KEY_ID"},
		{"endpoint down", func() artifact.S3Config {
			c := srv.Config("probe-bucket", "")
			c.Endpoint = down
			return c
		}, "can't be reached (check MLFLOW_S3_ENDPOINT_URL)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg()
			repo, err := artifact.NewS3(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = artifact.Check(context.Background(), repo)
			if c.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("probe passed")
			}
			if !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), "s3://"+cfg.Bucket) {
				t.Errorf("error %q, want one naming s3://%s and %q", err, cfg.Bucket, c.reason)
			}
			if strings.Contains(err.Error(), cfg.SecretAccessKey) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	// Nothing was written by the probes.
	if objs, _ := os.ReadDir(filepath.Join(srv.Dir, "probe-bucket")); len(objs) != 0 {
		t.Errorf("the probe wrote %v", objs)
	}
}
