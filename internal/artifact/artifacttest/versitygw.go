package artifacttest

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mltrack/mltrack/internal/artifact"
)

// VersityGWInstall is the command that installs the S3 server the tests use.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (or scripts/install-versitygw.sh)"

// S3Server is a running versitygw (a real S3 gateway on a posix folder).
type S3Server struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	SecretKey string
	Dir       string // the posix folder behind it

	stop func() // kills the gateway and waits for it (idempotent)
}

// Stop kills the gateway before the test ends (an S3 outage); the address
// then refuses connections.
func (s *S3Server) Stop() { s.stop() }

// versityGWPath finds the binary on PATH or in $(go env GOPATH)/bin.
func versityGWPath() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gopath, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("versitygw not found on PATH nor in $(go env GOPATH)/bin")
}

// StartVersityGW starts versitygw on a free loopback port over a temporary
// folder and stops it when the test ends. Without the binary the test fails
// when CI is set and is skipped otherwise, with the install command.
func StartVersityGW(tb testing.TB) *S3Server {
	tb.Helper()
	return StartVersityGWWithKeys(tb, "mltrack-test-key", "mltrack-test-secret")
}

// StartVersityGWWithKeys is StartVersityGW with the given root access key
// and secret.
func StartVersityGWWithKeys(tb testing.TB, accessKey, secretKey string) *S3Server {
	tb.Helper()
	bin, err := versityGWPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%v; install it with: %s", err, VersityGWInstall)
		}
		tb.Skipf("%v; install it with: %s", err, VersityGWInstall)
	}
	srv := &S3Server{AccessKey: accessKey, SecretKey: secretKey, Dir: tb.TempDir()}
	addr, err := freeLoopbackAddr()
	if err != nil {
		tb.Fatal(err)
	}
	srv.Endpoint = "http://" + addr
	cmd := exec.Command(bin, "--access", srv.AccessKey, "--secret", srv.SecretKey,
		"--port", addr, "--keep-alive", "--quiet", "posix", srv.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=", "VGW_PORT=")
	logPath := filepath.Join(tb.TempDir(), "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	var once sync.Once
	srv.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
			_ = logFile.Close()
		})
	}
	tb.Cleanup(srv.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			tb.Fatalf("versitygw exited (%v):\n%s", waitErr, out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			tb.Fatalf("versitygw did not listen on %s within 15s:\n%s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return srv
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// Config is an S3Config for bucket/prefix on this server.
func (s *S3Server) Config(bucket, prefix string) artifact.S3Config {
	return artifact.S3Config{
		Bucket: bucket, Prefix: prefix, Endpoint: s.Endpoint,
		AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey,
	}
}

// SetEnv points the process's S3 configuration at this server, as an
// operator would (MLFLOW_S3_ENDPOINT_URL and the AWS variables), for the
// test's duration.
func (s *S3Server) SetEnv(t *testing.T) {
	t.Setenv("MLFLOW_S3_ENDPOINT_URL", s.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("MLFLOW_S3_IGNORE_TLS", "")
}

// CreateBucket creates a bucket through the S3 API.
func (s *S3Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	repo, err := artifact.NewS3(context.Background(), s.Config(bucket, ""))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := repo.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("create bucket %s: %v", bucket, err)
	}
}

var bucketSeq atomic.Int64

// NewS3Repo creates a fresh bucket and returns a repository on it under
// prefix, with the smallest part size S3 allows so that tests exercise
// multipart uploads with little data.
func (s *S3Server) NewS3Repo(tb testing.TB, prefix string) *artifact.S3 {
	tb.Helper()
	bucket := fmt.Sprintf("mltrack-test-%d-%d", os.Getpid(), bucketSeq.Add(1))
	s.CreateBucket(tb, bucket)
	cfg := s.Config(bucket, prefix)
	cfg.PartSize = 5 << 20
	repo, err := artifact.NewS3(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return repo
}
