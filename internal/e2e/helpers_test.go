// Package e2e holds end-to-end tests of mltrack as operators run it: the
// real binary or server against a real PostgreSQL, several replicas at once,
// a database that goes away and comes back.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/testshared"
)

// need fails the test under CI and skips it elsewhere: a missing tool must
// never silently pass in CI.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (CI never skips this)", args...)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pgCluster is a private PostgreSQL instance for one test, which the test
// may stop and start again.
type pgCluster struct {
	t      testing.TB
	bin    string // folder of initdb, pg_ctl
	dir    string // holds data/, the socket and the log
	port   int
	asUser string // run PostgreSQL's tools as this user ("" = as ourselves)
}

// postgresBin finds Debian's PostgreSQL server binaries (newest version).
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// newPGCluster creates and starts a PostgreSQL cluster in a temporary
// folder on a free port. PostgreSQL refuses to run as root, so as root the
// tools run as the postgres user (runuser).
func newPGCluster(t testing.TB) *pgCluster {
	t.Helper()
	return newPGClusterAuth(t, "-A", "trust")
}

// newPGClusterAuth is newPGCluster with initdb's authentication options,
// e.g. "--auth-local=trust", "--auth-host=scram-sha-256" for a cluster that
// checks passwords over TCP.
func newPGClusterAuth(t testing.TB, authArgs ...string) *pgCluster {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		need(t, "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")
	}
	c := &pgCluster{t: t, bin: bin, port: freePort(t)}
	dir, err := os.MkdirTemp("", "mltrack-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			need(t, "running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asUser = "postgres"
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	initdb := append([]string{"-D", c.data()}, authArgs...)
	initdb = append(initdb, "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := c.run(filepath.Join(bin, "initdb"), initdb...); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Start()
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URI is the backend store URI of the cluster's postgres database.
func (c *pgCluster) URI() string {
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

// psql runs SQL as the superuser over the cluster's Unix socket.
func (c *pgCluster) psql(sql string) {
	c.t.Helper()
	psql := filepath.Join(c.bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = "psql"
	}
	if out, err := c.run(psql, "-h", c.dir, "-p", strconv.Itoa(c.port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql); err != nil {
		c.t.Fatalf("psql %s: %v\n%s", sql, err, out)
	}
}

func (c *pgCluster) pgctl(args ...string) error {
	base := []string{"-D", c.data(), "-w", "-t", "60"}
	out, err := c.run(filepath.Join(c.bin, "pg_ctl"), append(base, args...)...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start starts PostgreSQL and waits until it accepts connections.
func (c *pgCluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100", c.port, c.dir)
	if err := c.pgctl("-l", filepath.Join(c.dir, "postgres.log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
		c.t.Fatalf("%v\nlog:\n%s", err, log)
	}
}

// Stop stops PostgreSQL as an operator's restart does (fast mode: open
// sessions are terminated).
func (c *pgCluster) Stop() {
	c.t.Helper()
	if err := c.pgctl("-m", "fast", "stop"); err != nil {
		c.t.Fatal(err)
	}
}

// client is a small JSON client for the MLflow REST API.
type client struct {
	t    testing.TB
	base string
	http *http.Client
}

func newClient(t testing.TB, base string) *client {
	return &client{t: t, base: base, http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// call sends a request (a JSON body for POST, none for GET) and decodes the
// JSON answer into out when out is non-nil. It returns the status and body.
func (c *client) call(method, path string, in, out any) (int, []byte) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Errorf("%s %s: read body: %v", method, path, err)
	}
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Errorf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, b
}

// must is call that fails the test unless the answer is 200.
func (c *client) must(method, path string, in, out any) {
	c.t.Helper()
	if st, b := c.call(method, path, in, out); st != 200 {
		c.t.Errorf("%s %s: status %d: %s", method, path, st, b)
	}
}

// waitHTTP waits until GET url answers 200.
func waitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %v (last error %v)", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// mltrackBinary builds cmd/mltrack once per test run, as the Dockerfile's
// build stage does (CGO_ENABLED=0), and returns the binary's path.
func mltrackBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mltrack-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "mltrack")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e", "-o", binPath, "./cmd/mltrack")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// repoRoot is the module root, the folder holding go.mod.
func repoRoot() string {
	root, err := testshared.ModuleRoot(".")
	if err != nil {
		panic(err)
	}
	return root
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// process is a running `mltrack server`.
type process struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startServer starts `mltrack server` on a free port with args and extra
// environment; it is stopped (SIGTERM) when the test ends.
func startServer(t testing.TB, env []string, args ...string) *process {
	t.Helper()
	port := freePort(t)
	p := &process{log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	p.base = "http://127.0.0.1:" + strconv.Itoa(port)
	all := append([]string{"server", "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, args...)
	p.cmd = exec.Command(mltrackBinary(t), all...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = syncWriter{p.mu, p.log}
	p.cmd.Stderr = syncWriter{p.mu, p.log}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("log of mltrack at %s:\n%s", p.base, p.output())
		}
	})
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM and waits for a graceful exit (killing after 30s).
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady waits until the server answers /ready, failing early if it exits.
func (p *process) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("mltrack exited before it was ready: %v\n%s", p.cmd.ProcessState, p.output())
		default:
		}
		resp, err := http.Get(p.base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("mltrack at %s not ready within %v\n%s", p.base, timeout, p.output())
}
