package e2e

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/testdb"
)

// TestReplicas runs two `mltrack server` processes on one PostgreSQL
// database and one artifact folder, as a scaled-out deployment does, and
// drives both at once.
func TestReplicas(t *testing.T) {
	uri := testdb.PostgresURI(t) // an EMPTY database: both replicas race to create the schema
	arts := t.TempDir()
	args := []string{"--backend-store-uri", uri, "--artifacts-destination", arts}
	// Started at the same moment: both must come up (the schema is created
	// once, under an advisory lock).
	var replicas []*process
	for i := 0; i < 2; i++ {
		replicas = append(replicas, startServer(t, nil, args...))
	}
	for _, r := range replicas {
		r.waitReady(t, 60*time.Second)
	}
	clients := []*client{newClient(t, replicas[0].base), newClient(t, replicas[1].base)}

	const workers, perWorker = 8, 15 // per replica
	type made struct{ expID, name, modelID string }
	var mu sync.Mutex
	var all []made
	var wg sync.WaitGroup
	for ri, c := range clients {
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
					c.must("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", map[string]any{"experiment_id": e.ExperimentID, "key": "n", "value": strconv.Itoa(i)}, nil)
					var m struct {
						Model struct {
							Info struct {
								ModelID string `json:"model_id"`
							} `json:"info"`
						} `json:"model"`
					}
					c.must("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": e.ExperimentID, "name": "m-" + name}, &m)
					mu.Lock()
					all = append(all, made{e.ExperimentID, name, m.Model.Info.ModelID})
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
	ids := map[string]bool{}
	models := map[string]bool{}
	for _, m := range all {
		if ids[m.expID] {
			t.Errorf("experiment id %s handed out twice", m.expID)
		}
		ids[m.expID] = true
		if m.modelID == "" || models[m.modelID] {
			t.Errorf("logged model id %q empty or handed out twice", m.modelID)
		}
		models[m.modelID] = true
	}
	if len(all) != want {
		t.Fatalf("%d experiments created, want %d", len(all), want)
	}

	// Search on either replica sees everything, with every tag.
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
			c.must("POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 100, "page_token": token}, &page)
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
		if len(seen) != want+1 { // + Default
			t.Errorf("replica %d sees %d experiments, want %d", ri, len(seen), want+1)
		}
	}

	// Model versions created at once on both replicas get distinct,
	// gap-free numbers.
	clients[0].must("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "shared-model"}, nil)
	const versionsPerReplica = 20
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
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("model versions %v: want 1..%d, each once", versions, 2*versionsPerReplica)
		}
	}
	if len(versions) != 2*versionsPerReplica {
		t.Errorf("%d versions, want %d", len(versions), 2*versionsPerReplica)
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
	}
}
