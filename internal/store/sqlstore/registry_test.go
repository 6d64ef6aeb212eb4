package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/store/storetest"
	"github.com/mltrack/mltrack/internal/testshared"
)

// registryPGAdmin is the PostgreSQL server the tests create databases on.
const registryPGAdmin = "postgres://root@127.0.0.1:5432/postgres?sslmode=disable"

// registryNeedPostgres connects to the test PostgreSQL server; without it
// the test fails under CI and is skipped otherwise.
func registryNeedPostgres(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", registryPGAdmin)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at 127.0.0.1:5432 is needed: %v", err)
		}
		t.Skipf("PostgreSQL at 127.0.0.1:5432 not reachable (%v); set CI=1 to make this a failure", err)
	}
	return db
}

// registryNewPGDatabase creates a fresh database, dropped at cleanup, and
// returns its URI.
func registryNewPGDatabase(t *testing.T) (name, uri string) {
	t.Helper()
	admin := registryNeedPostgres(t)
	name = fmt.Sprintf("mltrack_reg_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	return name, "postgresql://root@127.0.0.1:5432/" + name + "?sslmode=disable"
}

func registryOpen(t *testing.T, uri string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), uri, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRegistrySQLite(t *testing.T) {
	storetest.RunRegistry(t, func(t *testing.T) *sqlstore.Store {
		return registryOpen(t, "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"))
	})
}

func TestRegistryPostgres(t *testing.T) {
	storetest.RunRegistry(t, func(t *testing.T) *sqlstore.Store {
		_, uri := registryNewPGDatabase(t)
		return registryOpen(t, uri)
	})
}

// TestRegistryConcurrentVersionsTwoReplicas creates versions of one model
// from two stores on one PostgreSQL database (two server replicas), many
// at a time: every number from 1 to 100 is handed out exactly once.
func TestRegistryConcurrentVersionsTwoReplicas(t *testing.T) {
	_, uri := registryNewPGDatabase(t)
	replicas := []*sqlstore.Store{registryOpen(t, uri), registryOpen(t, uri)}
	ctx := context.Background()
	if _, err := replicas[0].CreateRegisteredModel(ctx, "race", "", nil); err != nil {
		t.Fatal(err)
	}
	const perReplica = 50
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[string]int{}
		errs     []error
	)
	for _, s := range replicas {
		for i := 0; i < perReplica; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mv, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "race", Source: "s3://bucket/model"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				versions[mv.Version]++
			}()
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	for v := 1; v <= 2*perReplica; v++ {
		if n := versions[fmt.Sprint(v)]; n != 1 {
			t.Errorf("version %d handed out %d times", v, n)
		}
	}
	if len(versions) != 2*perReplica {
		t.Errorf("%d distinct versions, want %d", len(versions), 2*perReplica)
	}
}

// TestRegistryConcurrentVersionsSQLite does the same with two stores on one
// SQLite file (two processes' worth of connections).
func TestRegistryConcurrentVersionsSQLite(t *testing.T) {
	uri := "sqlite:///" + filepath.Join(t.TempDir(), "mlflow.db")
	replicas := []*sqlstore.Store{registryOpen(t, uri), registryOpen(t, uri)}
	ctx := context.Background()
	if _, err := replicas[0].CreateRegisteredModel(ctx, "race", "", nil); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[string]int{}
	)
	for _, s := range replicas {
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mv, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "race", Source: "s3://bucket/model"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				versions[mv.Version]++
			}()
		}
	}
	wg.Wait()
	if len(versions) != 40 {
		t.Errorf("%d distinct versions, want 40: %v", len(versions), versions)
	}
}

// checkFixtureRegistry reads the registry rows MLflow 3.6 wrote (see
// ../shared/mlflow-db/README.md) back as MLflow served them.
func checkFixtureRegistry(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	rm, err := s.GetRegisteredModel(ctx, "fixture-classifier")
	if err != nil {
		t.Fatal(err)
	}
	if rm.Description != "Two-version fixture model (updated)" {
		t.Errorf("description %q", rm.Description)
	}
	if fmt.Sprint(rm.Tags) != "[{domain iris} {owner fixture} {reviewed yes}]" {
		t.Errorf("tags %v", rm.Tags)
	}
	if fmt.Sprint(rm.Aliases) != "[{challenger 1} {champion 2}]" {
		t.Errorf("aliases %v", rm.Aliases)
	}
	var stages []string
	for _, mv := range rm.LatestVersions {
		stages = append(stages, mv.CurrentStage+":"+mv.Version)
	}
	if strings.Join(stages, ",") != "Staging:1,Production:2" {
		t.Errorf("latest versions %v", stages)
	}
	for v, want := range map[int64]struct{ stage, tag, alias string }{1: {"Staging", "false", "challenger"}, 2: {"Production", "true", "champion"}} {
		mv, err := s.GetModelVersion(ctx, "fixture-classifier", v)
		if err != nil {
			t.Fatal(err)
		}
		if mv.CurrentStage != want.stage || fmt.Sprint(mv.Tags) != "[{validated "+want.tag+"}]" || fmt.Sprint(mv.Aliases) != "["+want.alias+"]" ||
			!strings.HasPrefix(mv.Source, "models:/m-") || mv.Status != "READY" || mv.RunLink != "" || len(mv.RunID) != 32 {
			t.Errorf("version %d: %+v", v, mv)
		}
		uri, err := s.GetModelVersionDownloadURI(ctx, "fixture-classifier", v)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(mv.Source, "models:/")
		if uri != "mlflow-artifacts:/2/models/"+id+"/artifacts" {
			t.Errorf("download uri of v%d: %s", v, uri)
		}
		lm, err := s.GetLoggedModel(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if lm.Info.Status != mlflow.LoggedModelReady || lm.Info.ModelType != "classifier" || lm.Info.SourceRunID != mv.RunID ||
			lm.Info.ArtifactURI != uri || len(lm.Data.Params) != 2 || len(lm.Data.Metrics) == 0 {
			t.Errorf("logged model %+v", lm)
		}
	}
	mv, err := s.GetModelVersionByAlias(ctx, "fixture-classifier", "champion")
	if err != nil || mv.Version != "2" {
		t.Errorf("champion: %v %v", mv, err)
	}
	mvs, _, err := s.SearchModelVersions(ctx, store.RegistryQuery{Page: store.Page{MaxResults: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(mvs) != 3 {
		t.Errorf("%d versions, want 3", len(mvs))
	}
	food, err := s.GetRegisteredModel(ctx, "food11-staging")
	if err != nil {
		t.Fatal(err)
	}
	if food.Description != "" || len(food.LatestVersions) != 1 || food.LatestVersions[0].CurrentStage != "None" || food.LatestVersions[0].Description != "" {
		t.Errorf("food11-staging %+v", food)
	}
	// The bare logged model was finalized as FAILED (status 3).
	ms, _, err := s.SearchLoggedModels(ctx, store.LoggedModelQuery{ExperimentIDs: []string{"1", "2"}, Page: store.Page{MaxResults: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Errorf("%d logged models, want 6", len(ms))
	}
	for _, m := range ms {
		if m.Info.Name == "bare-logged-model" && (m.Info.Status != mlflow.LoggedModelUploadFailed || m.Info.SourceRunID != "" || fmt.Sprint(m.Data.Params) != "[{alpha 0.1}]") {
			t.Errorf("bare logged model %+v", m)
		}
	}
	// And the store keeps working on MLflow's rows: the next version is 3.
	next, err := s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "fixture-classifier", Source: mv.Source})
	if err != nil || next.Version != "3" {
		t.Errorf("next version: %v %v", next, err)
	}
}

func TestRegistryReadsMLflowSQLite(t *testing.T) {
	src, err := os.ReadFile(testshared.Path(t, "mlflow-db", "mlflow-3.6.sqlite"))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	path := filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	checkFixtureRegistry(t, registryOpen(t, "sqlite:///"+path))
}

func TestRegistryReadsMLflowPostgres(t *testing.T) {
	name, uri := registryNewPGDatabase(t)
	dump, err := os.ReadFile(testshared.Path(t, "mlflow-db", "mlflow-3.6-postgres.sql"))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	// Older psql clients do not know \restrict; the lines only guard the dump.
	var lines []string
	for _, l := range strings.Split(string(dump), "\n") {
		if !strings.HasPrefix(l, `\restrict`) && !strings.HasPrefix(l, `\unrestrict`) {
			lines = append(lines, l)
		}
	}
	sqlFile := filepath.Join(t.TempDir(), "dump.sql")
	if err := os.WriteFile(sqlFile, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is needed to restore the fixture dump: %v", err)
	}
	out, err := exec.Command(psql, "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "root", "-d", name, "-f", sqlFile).CombinedOutput()
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	checkFixtureRegistry(t, registryOpen(t, uri))
}

func TestGenAISQLite(t *testing.T) {
	storetest.RunGenAI(t, func(t *testing.T) storetest.GenAIStore {
		return registryOpen(t, "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"))
	})
}

func TestGenAIPostgres(t *testing.T) {
	storetest.RunGenAI(t, func(t *testing.T) storetest.GenAIStore {
		_, uri := registryNewPGDatabase(t)
		return registryOpen(t, uri)
	})
}
