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
	// Third-party images are pinned: a release tag, never latest (MinIO's
	// latest moved under the compose file once already: its health check
	// tool went away). MinIO's own to one release.
	release := regexp.MustCompile(`^minio/(minio|mc):RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$`)
	for _, svc := range []string{"postgres", "minio", "create-bucket"} {
		img := toString(dig(c, "services", svc, "image"))
		name, tag, ok := strings.Cut(img, ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "$") {
			t.Errorf("service %s: image %q is not pinned to a tag", svc, img)
		}
		if strings.HasPrefix(name, "minio/") && !release.MatchString(img) {
			t.Errorf("service %s: image %q, want a MinIO release tag (RELEASE.YYYY-MM-DDThh-mm-ssZ)", svc, img)
		}
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
	if vols, cmd := toStrings(dig(c, "services", "minio", "volumes")), toString(dig(c, "services", "minio", "command")); !slices.Contains(vols, "minio:/data") || !strings.Contains(cmd, "server /data") {
		t.Errorf("minio serves %q from volumes %v, want the named volume minio on /data", cmd, vols)
	}

	// Each health check runs a tool its image has: pg_isready in
	// postgres, mc in MinIO's image (curl is not there since late 2023),
	// busybox wget in mltrack's Alpine runtime stage (TestDockerfileBuild).
	for svc, tool := range map[string]string{"postgres": "pg_isready", "minio": "mc", "mltrack": "wget"} {
		test := toStrings(dig(c, "services", svc, "healthcheck", "test"))
		if len(test) < 2 || !strings.HasPrefix(strings.TrimSpace(test[1]), tool+" ") && test[1] != tool {
			t.Errorf("service %s: health check %v does not run %s", svc, test, tool)
		}
	}

	// The bucket create-bucket makes, with MinIO's credentials, is the one
	// mltrack writes to.
	cbEnv, _ := dig(c, "services", "create-bucket", "environment").(map[string]any)
	bucket := interpolate(toString(cbEnv["BUCKET"]))
	if !slices.ContainsFunc(cmd, func(s string) bool { return interpolate(s) == "--artifacts-destination=s3://"+bucket }) {
		t.Errorf("create-bucket makes bucket %q, mltrack's command is %v", bucket, cmd)
	}
	entry := toString(dig(c, "services", "create-bucket", "entrypoint"))
	for _, s := range []string{"http://minio:9000", "$${AWS_ACCESS_KEY_ID}", "$${AWS_SECRET_ACCESS_KEY}", "mc mb --ignore-existing minio/$${BUCKET}"} {
		if !strings.Contains(entry, s) {
			t.Errorf("create-bucket's entrypoint lacks %q: %s", s, entry)
		}
	}
	for k, minioKey := range map[string]string{"AWS_ACCESS_KEY_ID": "MINIO_ROOT_USER", "AWS_SECRET_ACCESS_KEY": "MINIO_ROOT_PASSWORD"} {
		root := interpolate(toString(dig(c, "services", "minio", "environment", minioKey)))
		if interpolate(toString(cbEnv[k])) != root || interpolate(toString(env[k])) != root {
			t.Errorf("%s of create-bucket and mltrack must be MinIO's %s", k, minioKey)
		}
	}

	// deploy/.env.example sets only variables the compose file reads.
	used := map[string]bool{}
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "docker-compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range composeVar.FindAllStringSubmatch(string(raw), -1) {
		used[m[1]] = true
	}
	example, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(example), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && !used[k] {
			t.Errorf("deploy/.env.example sets %s, which the compose file does not read", k)
		}
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

// dockerStage is one FROM ... stage of a Dockerfile.
type dockerStage struct {
	base, name string
	instrs     [][2]string // instruction (upper case), arguments
}

// parseDockerfile splits a Dockerfile into stages of instructions, with
// continuation lines joined and comments dropped.
func parseDockerfile(t *testing.T, text string) []*dockerStage {
	t.Helper()
	var stages []*dockerStage
	var logical []string
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if c, ok := strings.CutSuffix(l, "\\"); ok {
			cur += c
			continue
		}
		cur += l
		if strings.TrimSpace(cur) != "" {
			logical = append(logical, strings.TrimSpace(cur))
		}
		cur = ""
	}
	for _, l := range logical {
		instr, args, _ := strings.Cut(l, " ")
		instr = strings.ToUpper(instr)
		args = strings.TrimSpace(args)
		if instr == "FROM" {
			f := strings.Fields(args)
			st := &dockerStage{base: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", instr)
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, [2]string{instr, args})
	}
	return stages
}

// last is the arguments of a stage's last instr instruction ("" if none).
func (s *dockerStage) last(instr string) string {
	v := ""
	for _, in := range s.instrs {
		if in[0] == instr {
			v = in[1]
		}
	}
	return v
}

// TestDockerfileBuild checks the Dockerfile's shape (a build stage, a small
// runtime stage that copies the binary from it and runs as a non-root user)
// and runs the build stage's commands as plain commands: the result is a
// static binary that serves the API and the embedded UI as the image's
// defaults configure it.
func TestDockerfileBuild(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(b))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, run := stages[0], stages[len(stages)-1]
	if build.name == "" || !strings.HasPrefix(build.base, "golang:") {
		t.Errorf("build stage FROM %s AS %q: want a named golang stage", build.base, build.name)
	}
	if !strings.HasPrefix(run.base, "alpine:") {
		// The health checks (Dockerfile, compose) use busybox's wget.
		t.Errorf("runtime stage FROM %s, want alpine (small, with busybox wget for the health checks)", run.base)
	}
	var copied, binary string
	for _, in := range run.instrs {
		if f := strings.Fields(in[1]); in[0] == "COPY" && len(f) == 3 && f[0] == "--from="+build.name {
			copied, binary = f[1], f[2]
		}
		if in[0] == "RUN" && strings.Contains(in[1], "go ") {
			t.Errorf("the runtime stage builds: %s", in[1])
		}
	}
	if copied == "" {
		t.Fatalf("the runtime stage copies nothing from the %s stage", build.name)
	}
	user := run.last("USER")
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("runtime stage USER %q: want a non-root user", user)
	}
	if ep := run.last("ENTRYPOINT"); !strings.Contains(ep, `"`+binary+`"`) {
		t.Errorf("ENTRYPOINT %s does not run the copied %s", ep, binary)
	}
	if hc := run.last("HEALTHCHECK"); !strings.Contains(hc, "/health") {
		t.Errorf("HEALTHCHECK %q does not ask /health", hc)
	}

	// The build stage's commands, with the module root as WORKDIR (COPY .
	// .), ARGs as environment as Docker passes them, and its output folder
	// in a temporary one.
	out := t.TempDir()
	env := append(os.Environ(), "VERSION=docker-test")
	for _, in := range build.instrs {
		if in[0] != "RUN" {
			continue
		}
		outDir := filepath.Dir(copied)
		line := strings.ReplaceAll(in[1], outDir+"/", out+"/")
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = repoRoot()
		cmd.Env = env
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, o)
		}
	}
	if !strings.Contains(build.last("RUN"), "CGO_ENABLED=0 go build") {
		t.Errorf("the build stage's last RUN is %q, want a static `CGO_ENABLED=0 go build`", build.last("RUN"))
	}
	// The docs give the same static build for a binary outside the image.
	for _, doc := range []string{"docs/deployment.md", "README.md"} {
		d, err := os.ReadFile(filepath.Join(repoRoot(), doc))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(d), "CGO_ENABLED=0 go ") {
			t.Errorf("%s gives no static (CGO_ENABLED=0) build of the binary", doc)
		}
	}
	if filepath.Base(copied) != "mltrack" {
		t.Fatalf("the runtime stage copies %s, want the built mltrack", copied)
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

	// The image's ENV, with /data in a temporary folder and a free
	// loopback port.
	data := t.TempDir()
	port := freePort(t)
	srvEnv := os.Environ()
	imageEnv := map[string]string{}
	for _, kv := range strings.Fields(run.last("ENV")) {
		k, v, _ := strings.Cut(kv, "=")
		imageEnv[k] = v
		srvEnv = append(srvEnv, k+"="+strings.ReplaceAll(v, "/data", data))
	}
	for _, k := range []string{"MLFLOW_HOST", "MLFLOW_PORT", "MLFLOW_BACKEND_STORE_URI", "MLFLOW_ARTIFACTS_DESTINATION"} {
		if imageEnv[k] == "" {
			t.Errorf("the image sets no %s", k)
		}
	}
	if imageEnv["MLFLOW_HOST"] != "0.0.0.0" {
		t.Errorf("MLFLOW_HOST=%q: a container must listen on all addresses", imageEnv["MLFLOW_HOST"])
	}
	srvEnv = append(srvEnv, "MLFLOW_HOST=127.0.0.1", "MLFLOW_PORT="+strconv.Itoa(port))
	srv := exec.Command(bin, "server")
	srv.Dir = data
	srv.Env = srvEnv
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
	// The UI's script is embedded too.
	m := regexp.MustCompile(`<script[^>]* src="\.?/?([^"]+\.js)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("GET /: no script in %.300s", page)
	}
	resp, err = http.Get(base + "/" + string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(js) < 1000 {
		t.Errorf("GET /%s: %d, %d bytes", m[1], resp.StatusCode, len(js))
	}
	// The database went where the image's ENV puts it.
	if _, err := os.Stat(filepath.Join(data, "mlflow.db")); err != nil {
		t.Errorf("the image's MLFLOW_BACKEND_STORE_URI: %v", err)
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

// interpolateWith expands compose's ${VAR:-default} with vars, falling
// back to the defaults, as `docker compose` does with a .env file.
func interpolateWith(s string, vars map[string]string) string {
	return composeVar.ReplaceAllStringFunc(s, func(m string) string {
		sm := composeVar.FindStringSubmatch(m)
		if v, ok := vars[sm[1]]; ok && v != "" {
			return v
		}
		return sm[2]
	})
}

// TestComposeDatabasePassword: a database password with the characters a
// URI reserves (@, /, :, ?, #, %) works as the compose file passes it. The
// compose file's mltrack environment, rendered with that password as
// deploy/.env would set it, is run against a PostgreSQL that checks
// passwords (scram-sha-256 over TCP) with a role that has it; the same
// environment with a wrong password is refused, so the password is the one
// checked.
func TestComposeDatabasePassword(t *testing.T) {
	docs := loadYAML(t, filepath.Join(repoRoot(), "deploy", "docker-compose.yaml"))
	svc := dig(docs[0], "services", "mltrack")
	pg := newPGClusterAuth(t, "--auth-local=trust", "--auth-host=scram-sha-256")
	const user, password, db = "mlflow_team", "p@ss/w:rd?#%2F1", "mlflow_team"
	pg.psql("CREATE ROLE " + user + " LOGIN PASSWORD '" + password + "'")
	pg.psql("CREATE DATABASE " + db + " OWNER " + user)

	render := func(pw string) []string {
		vars := map[string]string{"POSTGRES_USER": user, "POSTGRES_PASSWORD": pw, "POSTGRES_DB": db}
		composeEnv, _ := dig(svc, "environment").(map[string]any)
		var env []string
		for k, v := range composeEnv {
			v := interpolateWith(toString(v), vars)
			if k == "MLFLOW_BACKEND_STORE_URI" {
				// The postgres service, as this test reaches it.
				if !strings.Contains(v, "@postgres:5432/") {
					t.Fatalf("MLFLOW_BACKEND_STORE_URI %q does not point at postgres:5432", v)
				}
				v = strings.Replace(v, "@postgres:5432/", "@127.0.0.1:"+strconv.Itoa(pg.port)+"/", 1)
			}
			if strings.HasPrefix(k, "MLFLOW_S3_") || strings.HasPrefix(k, "AWS_") {
				continue // artifacts go to a local folder here
			}
			env = append(env, k+"="+v)
		}
		return env
	}

	// The right password: the server starts, and writes to that database.
	p := startServer(t, render(password), "--artifacts-destination", t.TempDir())
	p.waitReady(t, 60*time.Second)
	c := newClient(t, p.base)
	var e struct {
		ExperimentID string `json:"experiment_id"`
	}
	c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "password-with-reserved-characters"}, &e)
	if e.ExperimentID == "" {
		t.Fatal("no experiment created")
	}
	p.stop()

	// A wrong password: refused at start-up.
	bad := startServer(t, render("wrong/p@ss"), "--artifacts-destination", t.TempDir())
	select {
	case <-bad.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("a wrong password did not stop the server:\n%s", bad.output())
	}
	if out := bad.output(); !strings.Contains(out, "password authentication failed") {
		t.Errorf("wrong password: %s", out)
	}
}

// dockerignored reports whether .dockerignore's patterns leave rel (a path
// relative to the build context) out of the context, as Docker matches
// them: a pattern matches the path or one of its parent folders, "**"
// matches any number of folders, "*" and "?" stay within one, a leading
// "/" is dropped and a "!" pattern brings a path back.
func dockerignored(patterns []string, rel string) bool {
	toRE := func(p string) *regexp.Regexp {
		p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				b.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				b.WriteString(".*")
				i++
			case p[i] == '*':
				b.WriteString("[^/]*")
			case p[i] == '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		return regexp.MustCompile("^" + b.String() + "$")
	}
	ignored := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		re := toRE(strings.TrimPrefix(p, "!"))
		for q := rel; q != "." && q != ""; q = filepath.Dir(q) {
			if re.MatchString(q) {
				ignored = !neg
				break
			}
		}
	}
	return ignored
}

// TestDockerignore: the build context leaves out local binaries, databases,
// artifacts, test output and secrets, and keeps every file the build needs
// (every tracked Go file, go.mod, go.sum and the embedded web/dist).
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, p := range []string{
		".git/HEAD", "mltrack", "bin/mltrack", "cmd/mltrack/mltrack.test", "internal/api/api.test",
		"mlflow.db", "mlflow.db-wal", "mlflow.db-shm", "basic_auth.db", "data/mlflow.db",
		"mlartifacts/1/abc/artifacts/model.pkl", "mlruns/0/meta.yaml",
		"web/node_modules/vite/package.json", "test/npm-client/node_modules/x/index.js",
		"web/test-results/screenshot.png", "web/tests/ui.test.mjs", "test-output/x.png", "tmp/x",
		"cpu.prof", "coverage.out", "deploy/.env",
	} {
		if !dockerignored(patterns, p) {
			t.Errorf("%s goes into the build context", p)
		}
	}
	out, err := exec.Command("git", "-C", repoRoot(), "ls-files", "*.go", "go.mod", "go.sum", "web/dist", "Dockerfile").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Fields(string(out))
	if len(files) < 50 {
		t.Fatalf("git ls-files found only %d files", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if dockerignored(patterns, f) {
			t.Errorf("%s, which the build needs, is left out of the build context", f)
		}
	}
}
