package auth_test

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/testdb"
)

// The escape tests: a hostile signed-in user ("user") tries to reach the
// objects of another ("owner") through every indirection the API has:
// artifact locations and URIs, model version sources, logged model IDs,
// IDs in other spellings, path tricks, the ajax-api twins and other
// methods. Each runs on SQLite and PostgreSQL, under the default READ with
// an explicit NO_PERMISSIONS grant on the victim's objects, and under the
// default NO_PERMISSIONS.

// victimSecret is the content of the victim's files; no answer to the
// hostile user may contain it.
const victimSecret = "the victim's secret"

type hostileFixture struct {
	s           *testServer
	db          *sql.DB
	pg          bool
	def         string
	owner, user cred
	// The victim's objects.
	V, vRun, vLM, vModel string
	// The user's own.
	mine, myRun, myModel string
}

// hostileDefaults runs fn on both backends under both defaults.
func hostileDefaults(t *testing.T, fn func(t *testing.T, h *hostileFixture)) {
	for _, def := range []string{"READ", "NO_PERMISSIONS"} {
		t.Run(def, func(t *testing.T) {
			authBackends(t, func(t *testing.T, authURI string) { fn(t, newHostileFixture(t, authURI, def)) })
		})
	}
}

func newHostileFixture(t *testing.T, authURI, def string) *hostileFixture {
	t.Helper()
	backend := "sqlite:///" + filepath.Join(t.TempDir(), "mlflow.db")
	if strings.HasPrefix(authURI, "postgres") {
		backend = testdb.PostgresURI(t)
	}
	h := &hostileFixture{s: startServerOn(t, backend, authURI, def), def: def}
	var err error
	if h.pg = strings.HasPrefix(backend, "postgres"); h.pg {
		h.db, err = sql.Open("pgx", backend)
	} else {
		h.db, err = sql.Open("sqlite", strings.TrimPrefix(backend, "sqlite:///"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })
	s := h.s
	h.owner = s.createUser("owner", passwordOf("owner"))
	h.user = s.createUser("user", passwordOf("user"))
	h.V = s.must(h.owner, "POST", "experiments/create", map[string]any{"name": "victim"})["experiment_id"].(string)
	h.vRun = runIDOf(s.must(h.owner, "POST", "runs/create", map[string]any{"experiment_id": h.V}))
	s.must(h.owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+h.V+"/"+h.vRun+"/artifacts/model/secret.txt", []byte(victimSecret))
	lm := s.must(h.owner, "POST", "logged-models", map[string]any{"experiment_id": h.V, "name": "victim-lm", "source_run_id": h.vRun})
	h.vLM = lm["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
	s.must(h.owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+h.V+"/models/"+h.vLM+"/artifacts/secret.txt", []byte(victimSecret))
	h.vModel = "victim-model"
	s.must(h.owner, "POST", "registered-models/create", map[string]any{"name": h.vModel})
	s.must(h.owner, "POST", "model-versions/create", map[string]any{"name": h.vModel, "source": "runs:/" + h.vRun + "/model", "run_id": h.vRun})
	s.must(h.owner, "POST", "registered-models/alias", map[string]any{"name": h.vModel, "alias": "champion", "version": "1"})
	if def == "READ" {
		s.grantExperiment(h.V, "user", "NO_PERMISSIONS")
		s.grantModel(h.vModel, "user", "NO_PERMISSIONS")
	}
	h.mine = s.must(h.user, "POST", "experiments/create", map[string]any{"name": "mine"})["experiment_id"].(string)
	h.myRun = runIDOf(s.must(h.user, "POST", "runs/create", map[string]any{"experiment_id": h.mine}))
	s.must(h.user, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+h.mine+"/"+h.myRun+"/artifacts/model/mine.txt", []byte("mine"))
	h.myModel = "my-model"
	s.must(h.user, "POST", "registered-models/create", map[string]any{"name": h.myModel})
	return h
}

func runIDOf(m map[string]any) string {
	return m["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
}

// exec runs SQL on the tracking database, as a database written by MLflow
// or an older mltrack could hold it.
func (h *hostileFixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if h.pg {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := h.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// noLeak fails when an answer to the hostile user carries the victim's
// data: the secret, its file names, or a 2xx listing of its folders.
func noLeak(t *testing.T, what string, r resp) {
	t.Helper()
	b := string(r.body)
	if strings.Contains(b, victimSecret) || r.status < 300 && strings.Contains(b, "secret.txt") {
		t.Errorf("%s: %d %s reached the victim's files", what, r.status, b)
	}
	if r.status >= 500 {
		t.Errorf("%s: %d %s", what, r.status, b)
	}
}

// wantStatus fails unless r has one of the statuses.
func wantStatus(t *testing.T, what string, r resp, statuses ...int) {
	t.Helper()
	for _, st := range statuses {
		if r.status == st {
			return
		}
	}
	t.Errorf("%s: %d %s, want one of %v", what, r.status, r.body, statuses)
}

// TestEscapeArtifactLocation is the high-severity escape of issue 11: an
// experiment whose artifact_location has a query or fragment
// ("mlflow-artifacts:/1?") gave runs whose artifact URI, built by string
// concatenation, named experiment 1's whole folder by its path. Such
// locations are refused as MLflow refuses them; child URIs extend the
// location's path; and URIs already in the database in the concatenated
// form (MLflow's, or an older mltrack's) are not served.
func TestEscapeArtifactLocation(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		const fragMsg = "'artifact_location' URL can't include fragments or params."
		for _, c := range []struct{ loc, msg string }{
			{"mlflow-artifacts:/" + h.V + "?", fragMsg},
			{"mlflow-artifacts:/" + h.V + "#", fragMsg},
			{"mlflow-artifacts:/?", fragMsg},
			{"mlflow-artifacts:/" + h.V + "#x", fragMsg},
			{"mlflow-artifacts:/" + h.V + "?x=1", fragMsg},
			{"mlflow-artifacts:/" + h.V + "?/x", fragMsg},
			{"/srv/mlruns/x;params", fragMsg},
			{"s3://bucket/p?x=..%2Fy", "Invalid query string"},
			{"s3://bucket/p?x=%252e%252e", "Invalid query string"},
			{"runs:/" + h.vRun + "/x", "Artifact location cannot be a runs:/ URI"},
		} {
			r := s.do(h.user, "POST", "experiments/create", map[string]any{"name": unique("crafted"), "artifact_location": c.loc})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "INVALID_PARAMETER_VALUE") || !strings.Contains(string(r.body), c.msg) {
				t.Errorf("create with artifact_location %q: %d %s, want 400 %q", c.loc, r.status, r.body, c.msg)
			}
		}
		// A location from a database MLflow wrote (MLflow accepts an empty
		// query): new runs and logged models extend its path.
		legacy := s.must(h.user, "POST", "experiments/create", map[string]any{"name": "legacy"})["experiment_id"].(string)
		h.exec(t, "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?", "mlflow-artifacts:/"+h.V+"?", legacy)
		run := s.must(h.user, "POST", "runs/create", map[string]any{"experiment_id": legacy})["run"].(map[string]any)["info"].(map[string]any)
		runID := run["run_id"].(string)
		if uri := run["artifact_uri"]; uri != "mlflow-artifacts:/"+h.V+"/"+runID+"/artifacts" {
			t.Errorf("run artifact URI from location %q: %v", "mlflow-artifacts:/"+h.V+"?", uri)
		}
		lm := s.must(h.user, "POST", "logged-models", map[string]any{"experiment_id": legacy, "name": "lm"})["model"].(map[string]any)["info"].(map[string]any)
		lmID := lm["model_id"].(string)
		if uri := lm["artifact_uri"]; uri != "mlflow-artifacts:/"+h.V+"/models/"+lmID+"/artifacts" {
			t.Errorf("logged model artifact URI: %v", uri)
		}
		reads := func(label string) {
			t.Helper()
			for _, p := range []string{
				"/api/2.0/mlflow/artifacts/list?run_id=" + runID,
				"/api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + h.vRun,
				"/ajax-api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + h.vRun + "/artifacts/model",
				"/get-artifact?run_uuid=" + runID + "&path=" + h.vRun + "/artifacts/model/secret.txt",
				"/get-artifact?run_id=" + runID + "&path=models/" + h.vLM + "/artifacts/secret.txt",
				"/api/2.0/mlflow/logged-models/" + lmID + "/artifacts/directories",
				"/ajax-api/2.0/mlflow/logged-models/" + lmID + "/artifacts/directories?artifact_directory_path=" + h.vLM,
				"/ajax-api/2.0/mlflow/logged-models/" + lmID + "/artifacts/files?artifact_file_path=" + url.QueryEscape(h.vLM+"/artifacts/secret.txt"),
				"/ajax-api/2.0/mlflow/logged-models/" + lmID + "/artifacts/files?artifact_file_path=" + url.QueryEscape("models/"+h.vLM+"/artifacts/secret.txt"),
			} {
				noLeak(t, label+" GET "+p, s.do(h.user, "GET", p, nil))
			}
			// Writing through the run (the UI's upload) lands in the
			// run's own folder only.
			s.do(h.user, "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+runID+"&path="+url.QueryEscape(h.vRun+"/artifacts/model/secret.txt"), []byte("overwritten"))
			if r := s.do(h.owner, "GET", "/get-artifact?run_uuid="+h.vRun+"&path=model/secret.txt", nil); string(r.body) != victimSecret {
				t.Errorf("%s: the victim's file after an upload through the user's run: %d %q", label, r.status, r.body)
			}
		}
		reads("path-appended URIs")
		// URIs concatenated onto the location, as an older mltrack wrote
		// them: their path is the victim's folder. They are not served.
		h.exec(t, "UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?", "mlflow-artifacts:/"+h.V+"?/"+runID+"/artifacts", runID)
		h.exec(t, "UPDATE logged_models SET artifact_location = ? WHERE model_id = ?", "mlflow-artifacts:/"+h.V+"#/models/"+lmID+"/artifacts", lmID)
		reads("concatenated URIs")
		for _, p := range []string{"artifacts/list?run_id=" + runID, "logged-models/" + lmID + "/artifacts/directories"} {
			wantStatus(t, "concatenated URI: GET "+p, s.do(h.user, "GET", p, nil), http.StatusBadRequest)
		}
		// The owner still reads their own files.
		if r := s.do(h.owner, "GET", "/get-artifact?run_uuid="+h.vRun+"&path=model/secret.txt", nil); r.status != http.StatusOK || string(r.body) != victimSecret {
			t.Fatalf("owner's own file: %d %q", r.status, r.body)
		}
	})
}

// TestEscapeModelVersionSources: with MANAGE on their own registered
// model, the user points a new version at the victim's run, files, logged
// model and registered model, and reads the version's files.
func TestEscapeModelVersionSources(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		create := func(body map[string]any) resp {
			body["name"] = h.myModel
			return s.do(h.user, "POST", "model-versions/create", body)
		}
		for _, body := range []map[string]any{
			{"source": "runs:/" + h.vRun + "/model"},
			{"source": "runs:///" + h.vRun + "/model"},
			{"source": "mlflow-artifacts:/" + h.V + "/" + h.vRun + "/artifacts/model"},
			{"source": "mlflow-artifacts://host:5000/" + h.V + "/" + h.vRun + "/artifacts/model"},
			{"source": "mlflow-artifacts:/" + h.V + "/" + h.vRun + "/artifacts/model?x=1"},
			{"source": "mlflow-artifacts:/0" + h.V + "/" + h.vRun + "/artifacts/model"},
			{"source": "MLFLOW-ARTIFACTS:/" + h.V + "/" + h.vRun + "/artifacts/model"},
			{"source": "models:/" + h.vLM},
			{"source": "mlflow-artifacts:/" + h.mine + "/" + h.myRun + "/artifacts/model", "run_id": h.vRun},
			{"source": "mlflow-artifacts:/" + h.mine + "/" + h.myRun + "/artifacts/model", "model_id": h.vLM},
		} {
			r := create(body)
			wantStatus(t, fmt.Sprintf("create version from %v", body), r, http.StatusForbidden, http.StatusBadRequest)
			noLeak(t, fmt.Sprint(body), r)
		}
		// models:/<name>/... of a model the user may not read is answered
		// as for a model that does not exist.
		for _, form := range []string{"models:/%s/1", "models:/%s@champion", "models:/%s/latest", "models:/%s/Production"} {
			got := create(map[string]any{"source": fmt.Sprintf(form, h.vModel)})
			missing := create(map[string]any{"source": fmt.Sprintf(form, "no-such-model")})
			if got.status != missing.status || string(got.body) != strings.ReplaceAll(string(missing.body), "no-such-model", h.vModel) {
				t.Errorf("source %s: %d %q; for a missing model: %d %q", form, got.status, got.body, missing.status, missing.body)
			}
		}
		// The user's own run, as a source, is fine.
		s.must(h.user, "POST", "model-versions/create", map[string]any{"name": h.myModel, "source": "runs:/" + h.myRun + "/model", "run_id": h.myRun})
		if r := s.do(h.user, "GET", "/model-versions/get-artifact?name="+h.myModel+"&version=1&path=mine.txt", nil); r.status != http.StatusOK || string(r.body) != "mine" {
			t.Fatalf("own version's file: %d %q", r.status, r.body)
		}
		// A version made before this check (here by the admin) pointing at
		// the victim's files: reading it through the user's model needs
		// READ on the victim's experiment too.
		admin := basic("admin", adminPW)
		for _, src := range []string{"mlflow-artifacts:/" + h.V + "/" + h.vRun + "/artifacts/model", "runs:/" + h.vRun + "/model", "models:/" + h.vLM} {
			v := s.must(admin, "POST", "model-versions/create", map[string]any{"name": h.myModel, "source": src})["model_version"].(map[string]any)["version"].(string)
			for _, p := range []string{"secret.txt", "model/secret.txt"} {
				for _, prefix := range []string{"/model-versions/get-artifact", "/model-versions/get-artifact/"} {
					r := s.do(h.user, "GET", prefix+"?name="+h.myModel+"&version="+v+"&path="+p, nil)
					noLeak(t, "legacy version "+src, r)
				}
				r := s.do(h.user, "HEAD", "/model-versions/get-artifact?name="+h.myModel+"&version="+v+"&path="+p, nil)
				if r.status == http.StatusOK {
					t.Errorf("HEAD of a legacy version's file %s: 200", src)
				}
			}
		}
	})
}

// TestEscapeModelExistence: reading a registered model the user may not
// read answers exactly what a model that does not exist answers, so that
// its existence is not told (under the default NO_PERMISSIONS both are
// 403).
func TestEscapeModelExistence(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		for _, p := range []string{
			"registered-models/alias?name=%s&alias=champion",
			"registered-models/alias?name=%s&alias=nope",
			"registered-models/alias?name=%s",
			"registered-models/get?name=%s",
			"registered-models/get-latest-versions?name=%s",
			"model-versions/get?name=%s&version=1",
			"model-versions/get?name=%s&version=x",
			"model-versions/get-download-uri?name=%s&version=1",
			"/model-versions/get-artifact?name=%s&version=1&path=model/secret.txt",
			"/ajax-api/2.0/mlflow/registered-models/alias?name=%s&alias=champion",
		} {
			got := s.do(h.user, "GET", fmt.Sprintf(p, h.vModel), nil)
			missing := s.do(h.user, "GET", fmt.Sprintf(p, "no-such-model"), nil)
			noLeak(t, p, got)
			if got.status != missing.status || string(got.body) != strings.ReplaceAll(string(missing.body), "no-such-model", h.vModel) {
				t.Errorf("GET %s: %d %s; for a missing model: %d %s", p, got.status, got.body, missing.status, missing.body)
			}
			if h.def == "NO_PERMISSIONS" && got.status != http.StatusForbidden {
				t.Errorf("GET %s under NO_PERMISSIONS: %d", p, got.status)
			}
		}
		// The owner still resolves the alias.
		s.must(h.owner, "GET", "registered-models/alias?name="+h.vModel+"&alias=champion", nil)
	})
}

// TestEscapeIDSpellings: the victim's experiment, runs, models and files
// named in other spellings (leading zeros, signs, spaces, other digits,
// percent-encoding, case, dot segments), on both API mounts and with
// HEAD: the permission is checked on what the handler acts on.
func TestEscapeIDSpellings(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		V := h.V
		spellings := []string{"0" + V, "00" + V, "+" + V, " " + V, V + " ", "+0" + V, "٣", V + ".0", V + "e0", "0x" + V, url.QueryEscape(V)}
		for _, mount := range []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"} {
			for _, id := range spellings {
				for _, m := range []string{"GET", "HEAD"} {
					r := s.do(h.user, m, mount+"experiments/get?experiment_id="+url.QueryEscape(id), nil)
					noLeak(t, m+" experiments/get "+id, r)
					if r.status == http.StatusOK {
						t.Errorf("%s %sexperiments/get?experiment_id=%q: 200 %s", m, mount, id, r.body)
					}
				}
				for _, route := range []string{"runs/search", "logged-models/search"} {
					for _, ids := range []any{[]string{id}, []string{h.mine, id}, id} {
						r := s.do(h.user, "POST", mount+route, map[string]any{"experiment_ids": ids})
						noLeak(t, route+" "+id, r)
						if strings.Contains(string(r.body), h.vRun) || strings.Contains(string(r.body), h.vLM) {
							t.Errorf("POST %s%s experiment_ids=%q: %d %s", mount, route, ids, r.status, r.body)
						}
					}
				}
				for _, p := range []string{
					"experiments/set-experiment-tag", "runs/create", "logged-models",
				} {
					r := s.do(h.user, "POST", mount+p, map[string]any{"experiment_id": id, "key": "k", "value": "v", "name": "x"})
					if r.status < 300 {
						t.Errorf("POST %s%s experiment_id=%q: %d %s", mount, p, id, r.status, r.body)
					}
				}
			}
			// A number instead of a string, and a list of numbers.
			for _, body := range []map[string]any{{"experiment_ids": []int{mustAtoi(V)}}, {"experiment_ids": []any{h.mine, mustAtoi(V)}}} {
				r := s.do(h.user, "POST", mount+"runs/search", body)
				if strings.Contains(string(r.body), h.vRun) {
					t.Errorf("runs/search %v: %s", body, r.body)
				}
			}
			r := s.do(h.user, "GET", mount+"experiments/get?experiment_id="+V+"&experiment_id="+h.mine, nil)
			wantStatus(t, "experiments/get with the id twice", r, http.StatusForbidden)
			// Runs and logged models in other case or padded.
			for _, p := range []string{
				"runs/get?run_id=" + strings.ToUpper(h.vRun), "runs/get?run_id=" + url.QueryEscape(" "+h.vRun),
				"runs/get?run_uuid=" + h.vRun, "runs/get?run_id=&run_uuid=" + h.vRun,
				"logged-models/" + strings.ToUpper(h.vLM), "logged-models/" + url.PathEscape(h.vLM+"/"),
				"logged-models/" + strings.ReplaceAll(url.PathEscape(h.vLM), "-", "%2D"),
				"registered-models/get?name=" + url.QueryEscape(strings.ToUpper(h.vModel)),
				"registered-models/get?name=" + url.QueryEscape(h.vModel+" "),
			} {
				r := s.do(h.user, "GET", mount+p, nil)
				noLeak(t, p, r)
				if r.status == http.StatusOK {
					t.Errorf("GET %s%s: 200 %s", mount, p, r.body)
				}
			}
		}
		// The artifact proxy: the listing's path and the file paths in
		// other spellings.
		for _, mount := range []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"} {
			dir := V + "/" + h.vRun + "/artifacts/model"
			for _, p := range []string{
				"./" + dir, ".//" + dir, "//" + dir, "./././" + dir, "%2e/" + dir, "0" + dir, V + "/./" + h.vRun + "/artifacts/model",
				h.mine + "/../" + dir, h.mine + "/%2e%2e/" + dir, "/" + dir, dir + "/", "./" + V,
			} {
				r := s.do(h.user, "GET", mount+"artifacts?path="+url.QueryEscape(p), nil)
				noLeak(t, "listing "+p, r)
				if r.status == http.StatusOK && strings.Contains(string(r.body), "files") {
					t.Errorf("listing %q: %s", p, r.body)
				}
			}
			for _, p := range []string{
				dir + "/secret.txt", "./" + dir + "/secret.txt", "0" + dir + "/secret.txt",
				percentDigits(V) + "/" + h.vRun + "/artifacts/model/secret.txt",
			} {
				for _, m := range []string{"GET", "HEAD"} {
					r := s.do(h.user, m, mount+"artifacts/"+p, nil)
					noLeak(t, m+" "+p, r)
					if r.status == http.StatusOK {
						t.Errorf("%s %sartifacts/%s: 200", m, mount, p)
					}
				}
			}
		}
		// A grant written with another spelling is a grant on the
		// experiment itself.
		if h.def == "NO_PERMISSIONS" {
			s.must(h.owner, "POST", "experiments/permissions/create", map[string]any{"experiment_id": "0" + V, "username": "user", "permission": "READ"})
			s.must(h.user, "GET", "experiments/get?experiment_id="+V, nil)
			s.must(h.owner, "DELETE", "experiments/permissions/delete", map[string]any{"experiment_id": "+" + V, "username": "user"})
			wantStatus(t, "after the grant is deleted", s.do(h.user, "GET", "experiments/get?experiment_id="+V, nil), http.StatusForbidden)
		}
		// OPTIONS on an API route is no way around the check.
		r := s.do(h.user, "OPTIONS", "experiments/get?experiment_id="+V, nil)
		noLeak(t, "OPTIONS", r)
		if r.status == http.StatusOK && strings.Contains(string(r.body), "victim") {
			t.Errorf("OPTIONS experiments/get: %s", r.body)
		}
	})
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// percentDigits writes every character of s percent-encoded ("1" is "%31").
func percentDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// TestEscapePageTokens: paging through every search one item at a time,
// and with page tokens forged for any offset, never yields the victim's
// experiment, runs, logged models, registered model or versions.
func TestEscapePageTokens(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		for i := 0; i < 3; i++ {
			s.must(h.owner, "POST", "experiments/create", map[string]any{"name": unique("other")})
		}
		leaks := func(what string, body []byte) {
			t.Helper()
			b := string(body)
			if strings.Contains(b, `"victim"`) || strings.Contains(b, h.vRun) || strings.Contains(b, h.vLM) || strings.Contains(b, h.vModel) {
				t.Errorf("%s: %s", what, b)
			}
		}
		type search struct {
			method, path string
			body         func(token string) any
		}
		for _, sr := range []search{
			{"GET", "experiments/search?max_results=1&page_token=%s", nil},
			{"POST", "experiments/search", func(tok string) any { return map[string]any{"max_results": 1, "page_token": tok} }},
			{"GET", "registered-models/search?max_results=1&page_token=%s", nil},
			{"GET", "model-versions/search?max_results=1&page_token=%s", nil},
			{"POST", "runs/search", func(tok string) any {
				return map[string]any{"experiment_ids": []string{h.mine, h.V}, "max_results": 1, "page_token": tok}
			}},
			{"POST", "logged-models/search", func(tok string) any {
				return map[string]any{"experiment_ids": []string{h.mine, h.V}, "max_results": 1, "page_token": tok}
			}},
		} {
			// Follow the tokens the server gives.
			tok := ""
			for page := 0; page < 50; page++ {
				var r resp
				if sr.body == nil {
					r = s.do(h.user, sr.method, fmt.Sprintf(sr.path, url.QueryEscape(tok)), nil)
				} else {
					r = s.do(h.user, sr.method, sr.path, sr.body(tok))
				}
				leaks(sr.path+" page "+fmt.Sprint(page), r.body)
				if r.status != http.StatusOK {
					break
				}
				next, _ := r.json(t)["next_page_token"].(string)
				if next == "" {
					break
				}
				tok = next
			}
			// Forged offsets.
			for off := 0; off < 8; off++ {
				forged := base64Offset(off)
				var r resp
				if sr.body == nil {
					r = s.do(h.user, sr.method, fmt.Sprintf(sr.path, url.QueryEscape(forged)), nil)
				} else {
					r = s.do(h.user, sr.method, sr.path, sr.body(forged))
				}
				leaks(sr.path+" forged offset "+fmt.Sprint(off), r.body)
			}
		}
	})
}

func base64Offset(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"offset": %d}`, n)))
}

// TestEscapeCustomLocation: an experiment created with a location of its
// own (mlflow-artifacts:/team-x) owns that folder in the artifact proxy:
// an explicit NO_PERMISSIONS protects its files there, and another user's
// experiment made with the same or a deeper location, or with the
// victim's numbered folder, gains nothing and blocks nothing.
func TestEscapeCustomLocation(t *testing.T) {
	hostileDefaults(t, func(t *testing.T, h *hostileFixture) {
		s := h.s
		folder := unique("team")
		team := s.must(h.owner, "POST", "experiments/create", map[string]any{"name": "team", "artifact_location": "mlflow-artifacts:/" + folder})["experiment_id"].(string)
		if h.def == "READ" {
			s.grantExperiment(team, "user", "NO_PERMISSIONS")
		}
		run := runIDOf(s.must(h.owner, "POST", "runs/create", map[string]any{"experiment_id": team}))
		file := folder + "/" + run + "/artifacts/secret.txt"
		s.must(h.owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+file, []byte(victimSecret))
		check := func(label string) {
			t.Helper()
			for _, mount := range []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"} {
				for _, r := range []resp{
					s.do(h.user, "GET", mount+"artifacts/"+file, nil),
					s.do(h.user, "HEAD", mount+"artifacts/"+file, nil),
					s.do(h.user, "GET", mount+"artifacts?path="+url.QueryEscape(folder+"/"+run+"/artifacts"), nil),
					s.do(h.user, "GET", mount+"artifacts?path="+url.QueryEscape(folder), nil),
					s.do(h.user, "GET", mount+"artifacts?path="+url.QueryEscape("./"+folder+"/"), nil),
				} {
					noLeak(t, label, r)
					wantStatus(t, label, r, http.StatusForbidden)
				}
				r := s.do(h.user, "PUT", mount+"artifacts/"+folder+"/planted.txt", []byte("x"))
				wantStatus(t, label+": upload", r, http.StatusForbidden)
			}
			// The owner keeps reading and writing.
			s.must(h.owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+folder+"/"+run+"/artifacts/more.txt", []byte("more"))
			s.must(h.owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+h.V+"/"+h.vRun+"/artifacts/more.txt", []byte("more"))
			if r := s.do(h.owner, "GET", "/api/2.0/mlflow-artifacts/artifacts/"+file, nil); string(r.body) != victimSecret {
				t.Fatalf("%s: owner's own file: %d %q", label, r.status, r.body)
			}
		}
		check("custom location")
		// Squatting: the same folder, a deeper one, the victim's numbered one.
		for _, loc := range []string{folder, folder + "/", folder + "/" + run, h.V} {
			mine := s.must(h.user, "POST", "experiments/create", map[string]any{"name": unique("squat"), "artifact_location": "mlflow-artifacts:/" + loc})["experiment_id"].(string)
			myRun := runIDOf(s.must(h.user, "POST", "runs/create", map[string]any{"experiment_id": mine}))
			for _, p := range []string{"/api/2.0/mlflow/artifacts/list?run_id=" + myRun, "/get-artifact?run_id=" + myRun + "&path=secret.txt"} {
				noLeak(t, "squatting "+loc+": "+p, s.do(h.user, "GET", p, nil))
			}
			check("after a squat on " + loc)
		}
		// A model version pointing into the folder.
		r := s.do(h.user, "POST", "model-versions/create", map[string]any{"name": h.myModel, "source": "mlflow-artifacts:/" + folder + "/" + run + "/artifacts"})
		wantStatus(t, "version from the custom folder", r, http.StatusForbidden)
	})
}
