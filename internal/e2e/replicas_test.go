package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
	"github.com/mltrack/mltrack/internal/testdb"
)

// TestReplicas runs two `mltrack server` processes on one PostgreSQL
// database and one artifact root, as a scaled-out deployment does, and
// drives both at once: once with a local folder as the root, once with one
// S3 bucket (versitygw).
func TestReplicas(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		arts := t.TempDir()
		testReplicas(t, nil, arts, arts)
	})
	t.Run("s3", func(t *testing.T) {
		s3 := artifacttest.StartVersityGW(t)
		s3.CreateBucket(t, "mlflow")
		testReplicas(t, s3Env(t, s3), "s3://mlflow/artifacts", filepath.Join(s3.Dir, "mlflow", "artifacts"))
	})
}

// s3Env is the environment that points a server (or gc) at an S3 server,
// as an operator sets it, and at nothing else the machine may configure.
func s3Env(t *testing.T, s3 *artifacttest.S3Server) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{"MLFLOW_S3_ENDPOINT_URL=" + s3.Endpoint, "AWS_ACCESS_KEY_ID=" + s3.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s3.SecretKey, "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none}
}

// rootFiles reads every file below dir: path relative to dir -> content.
func rootFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// putArtifact uploads through the artifact proxy and reports the status.
func putArtifact(hc *http.Client, base, rel, body string) (int, error) {
	req, err := http.NewRequest("PUT", base+"/api/2.0/mlflow-artifacts/artifacts/"+rel, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// scrapeMetrics reads a server's /metrics: "name{labels}" -> value.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", l, err)
		}
		out[l[:i]] = v
	}
	return out
}

// requestLogCounts counts a server's request log lines by "route status".
func requestLogCounts(t *testing.T, log string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var line struct {
			Msg    string `json:"msg"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Errorf("log line is not JSON: %q", l)
			continue
		}
		if line.Msg == "request" {
			out[line.Route+" "+strconv.Itoa(line.Status)]++
		}
	}
	return out
}

// versionsPerReplica is the number of versions of one model each replica
// creates at once.
const versionsPerReplica = 20

type replicaRun struct {
	expID, name, modelID, runID string
}

// testReplicas starts two replicas on an empty PostgreSQL database with the
// artifact root dest (whose files are in the local folder files) and drives
// them at once.
func testReplicas(t *testing.T, env []string, dest, files string) {
	uri := testdb.PostgresURI(t) // an EMPTY database: both replicas race to create the schema
	args := []string{"--backend-store-uri", uri, "--artifacts-destination", dest}
	// Started at the same moment: both must come up (the schema is created
	// once, under an advisory lock).
	var replicas []*process
	for i := 0; i < 2; i++ {
		replicas = append(replicas, startServer(t, env, args...))
	}
	for _, r := range replicas {
		r.waitReady(t, 60*time.Second)
	}
	clients := []*client{newClient(t, replicas[0].base), newClient(t, replicas[1].base)}

	// Each worker writes through its replica and, for the same objects,
	// through the other one: experiment tags, a run's metrics in two
	// batches, and an artifact read back from the replica that did not
	// write it.
	const workers, perWorker = 6, 8 // per replica
	const stepsPerBatch = 5
	var mu sync.Mutex
	var all []replicaRun
	var wg sync.WaitGroup
	uploaded := make([]int, 2) // artifact bytes sent to each replica
	for ri, c := range clients {
		other := clients[1-ri]
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWorker; i++ {
					name := fmt.Sprintf("r%d-w%d-%d", ri, w, i)
					var e struct {
						ExperimentID string `json:"experiment_id"`
					}
					c.must("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": name, "tags": []map[string]string{{"key": "replica", "value": strconv.Itoa(ri)}}}, &e)
					other.must("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", map[string]any{"experiment_id": e.ExperimentID, "key": "n", "value": strconv.Itoa(i)}, nil)
					var m struct {
						Model struct {
							Info struct {
								ModelID string `json:"model_id"`
							} `json:"info"`
						} `json:"model"`
					}
					c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": e.ExperimentID, "name": "m-" + name}, &m)
					var r struct {
						Run struct {
							Info struct {
								RunID string `json:"run_id"`
							} `json:"info"`
						} `json:"run"`
					}
					c.must("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": e.ExperimentID, "run_name": name, "start_time": 1700000000000}, &r)
					runID := r.Run.Info.RunID
					for b, cl := range []*client{c, other} {
						var metrics []map[string]any
						for s := b * stepsPerBatch; s < (b+1)*stepsPerBatch; s++ {
							metrics = append(metrics, map[string]any{"key": "loss", "value": float64(s), "timestamp": 1700000000000 + s, "step": s})
						}
						cl.must("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": runID, "metrics": metrics,
							"params": []map[string]string{{"key": "p" + strconv.Itoa(b), "value": name}}}, nil)
					}
					body := "artifact of " + name
					rel := e.ExperimentID + "/" + runID + "/artifacts/" + name + ".txt"
					if st, err := putArtifact(c.http, c.base, rel, body); err != nil || st != 200 {
						t.Errorf("upload %s: %d %v", rel, st, err)
					}
					if st, got := other.call("GET", "/api/2.0/mlflow-artifacts/artifacts/"+rel, nil, nil); st != 200 || string(got) != body {
						t.Errorf("download %s from the other replica: %d %q", rel, st, got)
					}
					mu.Lock()
					all = append(all, replicaRun{e.ExperimentID, name, m.Model.Info.ModelID, runID})
					uploaded[ri] += len(body)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	want := 2 * workers * perWorker
	if len(all) != want {
		t.Fatalf("%d experiments created, want %d", len(all), want)
	}
	expIDs := map[string]bool{}
	modelIDs := map[string]bool{}
	runIDs := map[string]replicaRun{}
	for _, m := range all {
		if expIDs[m.expID] {
			t.Errorf("experiment id %s handed out twice", m.expID)
		}
		expIDs[m.expID] = true
		if m.modelID == "" || modelIDs[m.modelID] {
			t.Errorf("logged model id %q empty or handed out twice", m.modelID)
		}
		modelIDs[m.modelID] = true
		if _, dup := runIDs[m.runID]; m.runID == "" || dup {
			t.Errorf("run id %q empty or handed out twice", m.runID)
		}
		runIDs[m.runID] = m
	}

	t.Run("experiments", func(t *testing.T) { checkReplicaExperiments(t, clients, expIDs) })
	t.Run("runs", func(t *testing.T) { checkReplicaRuns(t, clients, runIDs, 2*stepsPerBatch) })
	t.Run("artifacts", func(t *testing.T) {
		// Both replicas wrote into the one root: every object once, whole.
		got := rootFiles(t, files)
		if len(got) != want {
			t.Errorf("%d objects in the artifact root, want %d", len(got), want)
		}
		for _, r := range all {
			rel := r.expID + "/" + r.runID + "/artifacts/" + r.name + ".txt"
			if got[rel] != "artifact of "+r.name {
				t.Errorf("%s in the artifact root: %q", rel, got[rel])
			}
		}
		// Either replica lists a run's artifacts.
		r := all[len(all)/2]
		for ri, c := range clients {
			var list struct {
				Files []struct {
					Path string `json:"path"`
				} `json:"files"`
			}
			c.must("GET", "/api/2.0/mlflow-artifacts/artifacts?path="+url.QueryEscape(r.expID+"/"+r.runID+"/artifacts"), nil, &list)
			if len(list.Files) != 1 || list.Files[0].Path != r.name+".txt" {
				t.Errorf("replica %d lists %+v, want %s.txt", ri, list.Files, r.name)
			}
		}
	})
	t.Run("model versions", func(t *testing.T) { checkReplicaModelVersions(t, clients) })

	// Each replica's /metrics and request log count what was sent to it.
	for ri, r := range replicas {
		m := scrapeMetrics(t, r.base)
		for route, n := range map[string]int{
			`route="/api/2.0/mlflow/experiments/create",method="POST",status="200"`:             workers * perWorker,
			`route="/api/2.0/mlflow/runs/create",method="POST",status="200"`:                    workers * perWorker,
			`route="/api/2.0/mlflow/runs/log-batch",method="POST",status="200"`:                 2 * workers * perWorker,
			`route="/api/2.0/mlflow-artifacts/artifacts/{path...}",method="PUT",status="200"`:   workers * perWorker,
			`route="/api/2.0/mlflow-artifacts/artifacts/{path...}",method="GET",status="200"`:   workers * perWorker,
			`route="/api/2.0/mlflow/experiments/set-experiment-tag",method="POST",status="200"`: workers * perWorker,
			`route="/api/2.0/mlflow/logged-models",method="POST",status="200"`:                  workers * perWorker,
			`route="/api/2.0/mlflow/model-versions/create",method="POST",status="200"`:          versionsPerReplica,
		} {
			if got := m["mltrack_http_requests_total{"+route+"}"]; got != float64(n) {
				t.Errorf("replica %d: mltrack_http_requests_total{%s} = %v, want %d", ri, route, got, n)
			}
			if got := m["mltrack_http_request_duration_seconds_count{"+route+"}"]; got != float64(n) {
				t.Errorf("replica %d: latency histogram count{%s} = %v, want %d", ri, route, got, n)
			}
		}
		if got := m[`mltrack_artifact_proxy_bytes_total{direction="received"}`]; got != float64(uploaded[ri]) {
			t.Errorf("replica %d: artifact bytes received = %v, want %d", ri, got, uploaded[ri])
		}
		if got := m[`mltrack_artifact_proxy_bytes_total{direction="sent"}`]; got < float64(uploaded[1-ri]) {
			t.Errorf("replica %d: artifact bytes sent = %v, want at least the %d downloaded", ri, got, uploaded[1-ri])
		}
		if got := m["mltrack_db_connections_max_open"]; got != 16 {
			t.Errorf("replica %d: mltrack_db_connections_max_open = %v, want PostgreSQL's pool of 16", ri, got)
		}
		if open, used := m["mltrack_db_connections_open"], m["mltrack_db_connections_in_use"]; open < 1 || used > open {
			t.Errorf("replica %d: pool open %v, in use %v", ri, open, used)
		}
	}
	for ri, r := range replicas {
		r.stop() // the request lines of every answered request are written
		logs := requestLogCounts(t, r.output())
		for route, n := range map[string]int{
			"POST /api/2.0/mlflow/experiments/create 200":           workers * perWorker,
			"POST /api/2.0/mlflow/runs/log-batch 200":               2 * workers * perWorker,
			"PUT /api/2.0/mlflow-artifacts/artifacts/{path...} 200": workers * perWorker,
		} {
			if logs[route] != n {
				t.Errorf("replica %d: %d request log lines for %s, want %d", ri, logs[route], route, n)
			}
		}
	}
}

// checkReplicaExperiments: search on either replica sees every experiment
// once, with the tags both replicas wrote.
func checkReplicaExperiments(t *testing.T, clients []*client, ids map[string]bool) {
	for ri, c := range clients {
		seen := map[string]bool{}
		token := ""
		for {
			var page struct {
				Experiments []struct {
					ExperimentID string `json:"experiment_id"`
					Name         string `json:"name"`
					Tags         []struct {
						Key   string `json:"key"`
						Value string `json:"value"`
					} `json:"tags"`
				} `json:"experiments"`
				NextPageToken string `json:"next_page_token"`
			}
			c.must("POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 25, "page_token": token}, &page)
			for _, e := range page.Experiments {
				if seen[e.ExperimentID] {
					t.Errorf("replica %d: experiment %s listed twice", ri, e.ExperimentID)
				}
				seen[e.ExperimentID] = true
				if e.Name != "Default" && len(e.Tags) != 2 {
					t.Errorf("replica %d: experiment %s has tags %v, want replica and n", ri, e.Name, e.Tags)
				}
			}
			if page.NextPageToken == "" {
				break
			}
			token = page.NextPageToken
		}
		for id := range ids {
			if !seen[id] {
				t.Errorf("replica %d does not see experiment %s", ri, id)
			}
		}
		if len(seen) != len(ids)+1 { // + Default
			t.Errorf("replica %d sees %d experiments, want %d", ri, len(seen), len(ids)+1)
		}
	}
}

// checkReplicaRuns: a search paged through both replicas in turn, and on
// each alone, sees every run once with both batches' params and its last
// metric; every history holds each step once.
func checkReplicaRuns(t *testing.T, clients []*client, runs map[string]replicaRun, steps int) {
	var exps []string
	for _, r := range runs {
		exps = append(exps, r.expID)
	}
	slices.Sort(exps)
	for _, order := range [][]int{{0, 1}, {1, 0}, {0}, {1}} {
		seen := map[string]bool{}
		token := ""
		for page := 0; ; page++ {
			c := clients[order[page%len(order)]]
			var res struct {
				Runs []struct {
					Info struct {
						RunID   string `json:"run_id"`
						RunName string `json:"run_name"`
					} `json:"info"`
					Data struct {
						Metrics []historyPoint `json:"metrics"`
						Params  []struct {
							Key   string `json:"key"`
							Value string `json:"value"`
						} `json:"params"`
					} `json:"data"`
				} `json:"runs"`
				NextPageToken string `json:"next_page_token"`
			}
			c.must("POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": exps, "max_results": 20, "page_token": token}, &res)
			for _, r := range res.Runs {
				want, ok := runs[r.Info.RunID]
				if !ok || seen[r.Info.RunID] {
					t.Errorf("replicas %v: run %s unknown or listed twice", order, r.Info.RunID)
					continue
				}
				seen[r.Info.RunID] = true
				if r.Info.RunName != want.name || len(r.Data.Params) != 2 || len(r.Data.Metrics) != 1 || r.Data.Metrics[0].Step != int64(steps-1) {
					t.Errorf("replicas %v: run %s: name %q, params %v, metrics %v", order, want.name, r.Info.RunName, r.Data.Params, r.Data.Metrics)
				}
			}
			if res.NextPageToken == "" {
				break
			}
			token = res.NextPageToken
		}
		if len(seen) != len(runs) {
			t.Errorf("replicas %v: search saw %d runs, want %d", order, len(seen), len(runs))
		}
	}
	for id := range runs {
		for ri, c := range clients {
			h := history(t, c.http, c.base, id, "loss")
			got := make([]int, 0, len(h))
			for _, p := range h {
				got = append(got, int(p.Step))
			}
			sort.Ints(got)
			want := make([]int, steps)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(got, want) {
				t.Errorf("replica %d: history of run %s has steps %v, want 0..%d once each", ri, id, got, steps-1)
			}
		}
	}
}

// checkReplicaModelVersions: versions of one model created at once on both
// replicas get distinct, gap-free numbers, and either replica sees them all.
func checkReplicaModelVersions(t *testing.T, clients []*client) {
	clients[0].must("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "shared-model"}, nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var versions []int
	for _, c := range clients {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < versionsPerReplica/4; i++ {
					var v struct {
						ModelVersion struct {
							Version string `json:"version"`
						} `json:"model_version"`
					}
					c.must("POST", "/api/2.0/mlflow/model-versions/create", map[string]any{"name": "shared-model", "source": "mlflow-artifacts:/0/x/artifacts"}, &v)
					n, err := strconv.Atoi(v.ModelVersion.Version)
					if err != nil {
						t.Errorf("version %q: %v", v.ModelVersion.Version, err)
						continue
					}
					mu.Lock()
					versions = append(versions, n)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	sort.Ints(versions)
	if len(versions) != 2*versionsPerReplica {
		t.Errorf("%d versions, want %d", len(versions), 2*versionsPerReplica)
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("model versions %v: want 1..%d, each once", versions, 2*versionsPerReplica)
		}
	}
	for ri, c := range clients {
		var rm struct {
			RegisteredModel struct {
				LatestVersions []struct {
					Version string `json:"version"`
				} `json:"latest_versions"`
			} `json:"registered_model"`
		}
		c.must("GET", "/api/2.0/mlflow/registered-models/get?name=shared-model", nil, &rm)
		if lv := rm.RegisteredModel.LatestVersions; len(lv) != 1 || lv[0].Version != strconv.Itoa(2*versionsPerReplica) {
			t.Errorf("replica %d: latest versions %v, want %d", ri, lv, 2*versionsPerReplica)
		}
		var sv struct {
			ModelVersions []struct {
				Version string `json:"version"`
			} `json:"model_versions"`
		}
		c.must("GET", "/api/2.0/mlflow/model-versions/search?max_results=1000&filter="+url.QueryEscape("name='shared-model'"), nil, &sv)
		seen := map[string]bool{}
		for _, v := range sv.ModelVersions {
			seen[v.Version] = true
		}
		if len(seen) != 2*versionsPerReplica || len(sv.ModelVersions) != 2*versionsPerReplica {
			t.Errorf("replica %d: search-model-versions gives %d versions (%d distinct), want %d", ri, len(sv.ModelVersions), len(seen), 2*versionsPerReplica)
		}
	}
}
