package e2e

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/testdb"
)

// No Docker engine runs here: these tests check what can be checked
// without one. The compose file and the Kubernetes manifests parse and wire
// what they must; the Dockerfile's build command runs as a plain command
// and gives a static binary that serves; and the compose file's mltrack
// configuration (its environment and command) is run for real against
// PostgreSQL and an S3 server.

// loadYAML parses a (multi-document) YAML file with python3-yaml.
func loadYAML(t *testing.T, path string) []any {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		need(t, "python3 is needed to parse YAML (apt-get install python3 python3-yaml)")
	}
	cmd := exec.Command(py, "-c", "import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None], sys.stdout)", path)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "No module named 'yaml'") {
			need(t, "python3-yaml is needed to parse YAML (apt-get install python3-yaml)")
		}
		t.Fatalf("parse %s: %v\n%s", path, err, out)
	}
	var docs []any
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// dig walks maps and lists: dig(v, "services", "mltrack", "environment").
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

var composeVar = regexp.MustCompile(`\$\{(\w+)(?::-([^}]*))?\}`)

// interpolate expands compose's ${VAR:-default} with the defaults (as
// `docker compose` does without a .env file).
func interpolate(s string) string {
	return composeVar.ReplaceAllStringFunc(s, func(m string) string {
		return composeVar.FindStringSubmatch(m)[2]
	})
}

func TestComposeFile(t *testing.T) {
	docs := loadYAML(t, filepath.Join(repoRoot(), "deploy", "docker-compose.yaml"))
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	c := docs[0]
	for _, s := range []string{"postgres", "minio", "create-bucket", "mltrack"} {
		if dig(c, "services", s) == nil {
			t.Errorf("service %s missing", s)
		}
	}
	for _, s := range []string{"postgres", "minio", "mltrack"} {
		if test, _ := dig(c, "services", s, "healthcheck", "test").([]any); len(test) < 2 {
			t.Errorf("service %s has no health check", s)
		}
	}
	if test := dig(c, "services", "mltrack", "healthcheck", "test"); !strings.Contains(strings.Join(toStrings(test), " "), "/ready") {
		t.Errorf("mltrack's health check does not ask /ready: %v", test)
	}
	wantDeps := map[string]string{"postgres": "service_healthy", "create-bucket": "service_completed_successfully"}
	for dep, cond := range wantDeps {
		if got := dig(c, "services", "mltrack", "depends_on", dep, "condition"); got != cond {
			t.Errorf("mltrack depends_on %s: condition %v, want %s", dep, got, cond)
		}
	}
	if got := dig(c, "services", "create-bucket", "depends_on", "minio", "condition"); got != "service_healthy" {
		t.Errorf("create-bucket depends_on minio: %v", got)
	}
	if entry := interpolate(toString(dig(c, "services", "create-bucket", "entrypoint"))); !strings.Contains(entry, "mc mb") {
		t.Errorf("create-bucket does not create the bucket: %q", entry)
	}
	env, _ := dig(c, "services", "mltrack", "environment").(map[string]any)
	for _, k := range []string{"MLFLOW_BACKEND_STORE_URI", "MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_SERVER_ALLOWED_HOSTS"} {
		if toString(env[k]) == "" {
			t.Errorf("mltrack environment lacks %s", k)
		}
	}
	if uri := interpolate(toString(env["MLFLOW_BACKEND_STORE_URI"])); !strings.HasPrefix(uri, "postgresql://") || !strings.Contains(uri, "@postgres:5432/") {
		t.Errorf("backend store URI %q does not point at the postgres service", uri)
	}
	if ep := toString(env["MLFLOW_S3_ENDPOINT_URL"]); ep != "http://minio:9000" {
		t.Errorf("MLFLOW_S3_ENDPOINT_URL = %q", ep)
	}
	// MinIO's root user is the key mltrack uses.
	if a, b := interpolate(toString(dig(c, "services", "minio", "environment", "MINIO_ROOT_USER"))), interpolate(toString(env["AWS_ACCESS_KEY_ID"])); a != b {
		t.Errorf("MinIO user %q != mltrack's AWS_ACCESS_KEY_ID %q", a, b)
	}
	cmd := toStrings(dig(c, "services", "mltrack", "command"))
	if !slices.Contains(cmd, "server") || !slices.ContainsFunc(cmd, func(s string) bool { return strings.HasPrefix(interpolate(s), "--artifacts-destination=s3://") }) {
		t.Errorf("mltrack command %v", cmd)
	}
	for _, v := range []string{"pgdata", "minio"} {
		if m, _ := dig(c, "volumes").(map[string]any); m == nil || !hasKey(m, v) {
			t.Errorf("named volume %s missing", v)
		}
	}
	if vols := toStrings(dig(c, "services", "postgres", "volumes")); !slices.Contains(vols, "pgdata:/var/lib/postgresql/data") {
		t.Errorf("postgres volumes %v", vols)
	}
}

func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join(repoRoot(), "deploy", "kubernetes")
	kinds := map[string]any{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		for _, d := range loadYAML(t, f) {
			if k, _ := dig(d, "kind").(string); k != "" && k != "Kustomization" {
				kinds[k] = d
			}
		}
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "CronJob"} {
		if kinds[k] == nil {
			t.Errorf("no %s", k)
		}
	}
	d := kinds["Deployment"]
	if r, _ := dig(d, "spec", "replicas").(float64); r < 2 {
		t.Errorf("replicas = %v, want at least 2", r)
	}
	ctr := dig(d, "spec", "template", "spec", "containers", 0)
	if p := dig(ctr, "readinessProbe", "httpGet", "path"); p != "/ready" {
		t.Errorf("readiness probe path %v", p)
	}
	if p := dig(ctr, "livenessProbe", "httpGet", "path"); p != "/health" {
		t.Errorf("liveness probe path %v", p)
	}
	if s := dig(ctr, "envFrom", 0, "secretRef", "name"); s != dig(kinds["Secret"], "metadata", "name") {
		t.Errorf("container reads secret %v, manifest defines %v", s, dig(kinds["Secret"], "metadata", "name"))
	}
	if !hasKey(dig(kinds["Secret"], "stringData").(map[string]any), "MLFLOW_BACKEND_STORE_URI") {
		t.Error("the Secret holds no MLFLOW_BACKEND_STORE_URI")
	}
	if nr := dig(d, "spec", "template", "spec", "securityContext", "runAsNonRoot"); nr != true {
		t.Errorf("runAsNonRoot = %v", nr)
	}
	sel := dig(kinds["Service"], "spec", "selector", "app.kubernetes.io/name")
	if sel != dig(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/name") {
		t.Errorf("Service selector %v does not match the pods", sel)
	}
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "mltrack.service"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("bad line %q", l)
		}
		keys[section+k] = v
	}
	for k, want := range map[string]string{"[Service]User": "mltrack", "[Service]KillSignal": "SIGTERM", "[Install]WantedBy": "multi-user.target"} {
		if keys[k] != want {
			t.Errorf("%s = %q, want %q", k, keys[k], want)
		}
	}
	if !strings.HasPrefix(keys["[Service]ExecStart"], "/usr/local/bin/mltrack server") {
		t.Errorf("ExecStart = %q", keys["[Service]ExecStart"])
	}
	if p, err := exec.LookPath("systemd-analyze"); err == nil {
		// Best effort: the unit's syntax as systemd reads it.
		out, _ := exec.Command(p, "verify", "--man=false", filepath.Join(repoRoot(), "deploy", "mltrack.service")).CombinedOutput()
		if strings.Contains(string(out), "Unknown key") || strings.Contains(string(out), "Unknown section") {
			t.Errorf("systemd-analyze verify:\n%s", out)
		}
	}
}

// TestDockerfileBuild runs the Dockerfile's build command as a plain
// command and checks that the result is a static binary that serves the
// API and the embedded UI as the image's defaults configure it.
func TestDockerfileBuild(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	m := regexp.MustCompile(`RUN (CGO_ENABLED=0 go build [^\n]*)`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build` in the Dockerfile")
	}
	if !strings.Contains(df, "\nUSER ") || strings.Contains(df, "\nUSER root") {
		t.Error("the runtime stage must run as a non-root USER")
	}
	out := t.TempDir()
	line := strings.NewReplacer("/out/", out+"/", "${VERSION}", "docker-test").Replace(m[1])
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = repoRoot()
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, o)
	}
	bin := filepath.Join(out, "mltrack")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked; the image's runtime stage needs a static one")
		}
	}
	f.Close()
	if o, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(o), "mltrack docker-test") {
		t.Errorf("mltrack version: %v %s", err, o)
	}

	// The image's ENV, with /data in a temporary folder.
	data := t.TempDir()
	port := freePort(t)
	srv := exec.Command(bin, "server")
	srv.Dir = data
	srv.Env = append(os.Environ(), "MLFLOW_HOST=127.0.0.1", "MLFLOW_PORT="+strconv.Itoa(port),
		"MLFLOW_BACKEND_STORE_URI=sqlite:///"+filepath.Join(data, "mlflow.db"), "MLFLOW_ARTIFACTS_DESTINATION="+filepath.Join(data, "mlartifacts"))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+"/ready", 30*time.Second)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(page)), "<html") {
		t.Errorf("GET / (embedded UI): %d %.200s", resp.StatusCode, page)
	}
}

// TestComposeWiring runs mltrack with the compose file's environment and
// command, the services' host names swapped for a real PostgreSQL database
// and a real S3 server (versitygw standing in for MinIO), the bucket made as
// the create-bucket service makes it.
func TestComposeWiring(t *testing.T) {
	docs := loadYAML(t, filepath.Join(repoRoot(), "deploy", "docker-compose.yaml"))
	svc := dig(docs[0], "services", "mltrack")
	s3 := artifacttest.StartVersityGW(t)
	uri := testdb.PostgresURI(t)

	composeEnv, _ := dig(svc, "environment").(map[string]any)
	env := map[string]string{}
	for k, v := range composeEnv {
		env[k] = interpolate(toString(v))
	}
	// The services' addresses and credentials, as on the compose network.
	env["MLFLOW_BACKEND_STORE_URI"] = uri
	env["MLFLOW_S3_ENDPOINT_URL"] = s3.Endpoint
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = s3.AccessKey, s3.SecretKey
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	envList = append(envList, "AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"))

	var args []string
	bucket := ""
	for _, a := range toStrings(dig(svc, "command"))[1:] { // after "server"
		a = interpolate(a)
		if strings.HasPrefix(a, "--host=") || strings.HasPrefix(a, "--port=") {
			continue // startServer picks a loopback port
		}
		if v, ok := strings.CutPrefix(a, "--artifacts-destination=s3://"); ok {
			bucket = strings.SplitN(v, "/", 2)[0]
		}
		args = append(args, a)
	}
	if bucket == "" {
		t.Fatal("the compose command sets no s3:// --artifacts-destination")
	}
	s3.CreateBucket(t, bucket)

	p := startServer(t, envList, args...)
	p.waitReady(t, 60*time.Second)
	c := newClient(t, p.base)
	var e struct {
		ExperimentID string `json:"experiment_id"`
	}
	c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "compose"}, &e)
	req, _ := http.NewRequest("PUT", p.base+"/api/2.0/mlflow-artifacts/artifacts/"+e.ExperimentID+"/notes.txt", strings.NewReader("hello from compose"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	// The object is in the bucket, where MinIO would hold it.
	got, err := os.ReadFile(filepath.Join(s3.Dir, bucket, e.ExperimentID, "notes.txt"))
	if err != nil || string(got) != "hello from compose" {
		t.Errorf("object in the bucket: %q, %v", got, err)
	}
	// The Host names the compose file allows are accepted.
	req, _ = http.NewRequest("GET", p.base+"/api/2.0/mlflow/experiments/get?experiment_id="+e.ExperimentID, nil)
	req.Host = "mltrack:5000"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Host mltrack:5000: status %d", resp.StatusCode)
	}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, toString(x))
	}
	return out
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
