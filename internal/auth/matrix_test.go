package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/auth"
)

// fixture is a set of resources owned by the "owner" user, made fresh for
// every request of the matrix so that destructive calls do not disturb
// other cells.
type fixture struct {
	exp, expName, run, loggedModel, model string
}

func (s *testServer) newFixture(owner cred, withRuns bool) fixture {
	s.t.Helper()
	var f fixture
	f.expName = unique("exp")
	f.exp = s.must(owner, "POST", "experiments/create", map[string]any{"name": f.expName})["experiment_id"].(string)
	if withRuns {
		run := s.must(owner, "POST", "runs/create", map[string]any{"experiment_id": f.exp})
		f.run = run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
		s.must(owner, "POST", "runs/log-metric", map[string]any{"run_id": f.run, "key": "m", "value": 1.5, "timestamp": 1, "step": 0})
		s.must(owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+f.exp+"/"+f.run+"/artifacts/f.txt", []byte("hello"))
	}
	lm := s.must(owner, "POST", "logged-models", map[string]any{"experiment_id": f.exp, "name": "lm"})
	f.loggedModel = lm["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
	f.model = unique("model")
	s.must(owner, "POST", "registered-models/create", map[string]any{"name": f.model})
	s.must(owner, "POST", "model-versions/create", map[string]any{"name": f.model, "source": "mlflow-artifacts:/" + f.exp + "/x"})
	s.must(owner, "POST", "registered-models/alias", map[string]any{"name": f.model, "alias": "champion", "version": "1"})
	s.must(owner, "POST", "registered-models/set-tag", map[string]any{"name": f.model, "key": "k", "value": "v"})
	s.must(owner, "POST", "model-versions/set-tag", map[string]any{"name": f.model, "version": "1", "key": "k", "value": "v"})
	return f
}

// resource says what a case's permission is checked on.
type resource int

const (
	onNothing    resource = iota // any signed-in user
	onExperiment                 // the fixture's experiment
	onModel                      // the fixture's registered model
	adminOnly
	selfOnly // the user named in the request
)

type matrixCase struct {
	method, path string
	res          resource
	action       auth.Action
	runs         bool // needs the runs endpoints
	body         func(f fixture, actor string) any
}

func q(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// matrixCases is every endpoint of the server that acts on something.
// Paths may use {exp}, {run}, {lm}, {model}, {expname} and {actor}.
var matrixCases = []matrixCase{
	{"POST", "experiments/create", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"name": unique("new")} }},
	{"GET", "experiments/get?experiment_id={exp}", onExperiment, auth.ActRead, false, nil},
	{"GET", "experiments/get-by-name?experiment_name={expname}", onExperiment, auth.ActRead, false, nil},
	{"POST", "experiments/update", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "new_name": unique("renamed")}
	}},
	{"POST", "experiments/delete", onExperiment, auth.ActDelete, false, expBody},
	{"POST", "experiments/restore", onExperiment, auth.ActDelete, false, expBody},
	{"POST", "experiments/set-experiment-tag", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "key": "k", "value": "v"}
	}},
	{"POST", "experiments/delete-experiment-tag", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "key": "k"}
	}},
	{"GET", "experiments/search?max_results=10", onNothing, 0, false, nil},
	{"POST", "experiments/search", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"max_results": 10} }},

	{"POST", "runs/create", onExperiment, auth.ActUpdate, true, expBody},
	{"GET", "runs/get?run_id={run}", onExperiment, auth.ActRead, true, nil},
	{"POST", "runs/update", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "status": "FINISHED"} }},
	{"POST", "runs/delete", onExperiment, auth.ActDelete, true, runBody},
	{"POST", "runs/restore", onExperiment, auth.ActDelete, true, runBody},
	{"POST", "runs/log-metric", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "key": "m", "value": 2, "timestamp": 2, "step": 1}
	}},
	{"POST", "runs/log-parameter", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "p", "value": "1"} }},
	{"POST", "runs/set-tag", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "t", "value": "1"} }},
	{"POST", "runs/delete-tag", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "t"} }},
	{"POST", "runs/log-batch", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "params": []map[string]string{{"key": "b", "value": "1"}}}
	}},
	{"POST", "runs/log-model", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "model_json": `{"artifact_path": "model", "flavors": {}}`}
	}},
	{"POST", "runs/log-inputs", onExperiment, auth.ActUpdate, true, runBody},
	{"POST", "runs/outputs", onExperiment, auth.ActUpdate, true, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "models": []map[string]any{{"model_id": f.loggedModel, "step": 0}}}
	}},
	{"POST", "runs/search", onNothing, 0, true, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"GET", "metrics/get-history?run_id={run}&metric_key=m&max_results=10", onExperiment, auth.ActRead, true, nil},
	{"GET", "metrics/get-history-bulk-interval?run_ids={run}&metric_key=m&max_results=10", onExperiment, auth.ActRead, true, nil},
	{"GET", "artifacts/list?run_id={run}", onExperiment, auth.ActRead, true, nil},
	{"GET", "/get-artifact?run_uuid={run}&path=f.txt", onExperiment, auth.ActRead, true, nil},

	{"POST", "registered-models/create", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"name": unique("rm")} }},
	{"GET", "registered-models/get?name={model}", onModel, auth.ActRead, false, nil},
	{"POST", "registered-models/rename", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "new_name": unique("rm-renamed")}
	}},
	{"PATCH", "registered-models/update", onModel, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"name": f.model, "description": "d"} }},
	{"DELETE", "registered-models/delete", onModel, auth.ActDelete, false, modelBody},
	{"GET", "registered-models/search", onNothing, 0, false, nil},
	{"POST", "registered-models/set-tag", onModel, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"name": f.model, "key": "k2", "value": "v"} }},
	{"DELETE", "registered-models/delete-tag", onModel, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"name": f.model, "key": "k"} }},
	{"POST", "registered-models/alias", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "alias": "other", "version": "1"}
	}},
	{"DELETE", "registered-models/alias", onModel, auth.ActDelete, false, func(f fixture, a string) any { return map[string]any{"name": f.model, "alias": "champion"} }},
	{"GET", "registered-models/alias?name={model}&alias=champion", onModel, auth.ActRead, false, nil},
	{"GET", "registered-models/get-latest-versions?name={model}", onModel, auth.ActRead, false, nil},
	{"POST", "registered-models/get-latest-versions", onModel, auth.ActRead, false, modelBody},
	{"POST", "model-versions/create", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "source": "mlflow-artifacts:/" + f.exp + "/y"}
	}},
	{"GET", "model-versions/get?name={model}&version=1", onModel, auth.ActRead, false, nil},
	{"PATCH", "model-versions/update", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "description": "d"}
	}},
	{"DELETE", "model-versions/delete", onModel, auth.ActDelete, false, versionBody},
	{"GET", "model-versions/search", onNothing, 0, false, nil},
	{"POST", "model-versions/transition-stage", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "stage": "Staging", "archive_existing_versions": false}
	}},
	{"GET", "model-versions/get-download-uri?name={model}&version=1", onModel, auth.ActRead, false, nil},
	{"POST", "model-versions/set-tag", onModel, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "key": "k2", "value": "v"}
	}},
	{"DELETE", "model-versions/delete-tag", onModel, auth.ActDelete, false, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "key": "k"}
	}},
	{"GET", "/model-versions/get-artifact?name={model}&version=1&path=f.txt", onModel, auth.ActRead, false, nil},

	{"POST", "logged-models", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"experiment_id": f.exp, "name": "lm2"} }},
	{"POST", "logged-models/search", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"GET", "logged-models/{lm}", onExperiment, auth.ActRead, false, nil},
	{"PATCH", "logged-models/{lm}", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "status": "LOGGED_MODEL_READY"}
	}},
	{"DELETE", "logged-models/{lm}", onExperiment, auth.ActDelete, false, nil},
	{"POST", "logged-models/{lm}/params", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "params": []map[string]string{{"key": "p", "value": "1"}}}
	}},
	{"PATCH", "logged-models/{lm}/tags", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "tags": []map[string]string{{"key": "t", "value": "1"}}}
	}},
	{"DELETE", "logged-models/{lm}/tags/t", onExperiment, auth.ActDelete, false, nil},
	{"GET", "logged-models/{lm}/artifacts/directories", onExperiment, auth.ActRead, false, nil},

	{"PUT", "/api/2.0/mlflow-artifacts/artifacts/{exp}/x/up.txt", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any { return []byte("data") }},
	{"GET", "/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.txt", onExperiment, auth.ActRead, true, nil},
	{"DELETE", "/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.txt", onExperiment, auth.ActManage, true, nil},
	{"GET", "/api/2.0/mlflow-artifacts/artifacts?path={exp}", onExperiment, auth.ActRead, false, nil},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/create/{exp}/x/big.bin", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/complete/{exp}/x/big.bin", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/abort/{exp}/x/big.bin", onExperiment, auth.ActUpdate, false, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},

	{"GET", "server-features", onNothing, 0, false, nil},
	{"POST", "users/create", adminOnly, 0, false, func(f fixture, a string) any { return map[string]any{"username": unique("u")} }},
	{"GET", "users/get?username={actor}", selfOnly, 0, false, nil},
	{"GET", "users/get?username=owner", selfOnly, 0, false, nil},
	{"PATCH", "users/update-password", selfOnly, 0, false, func(f fixture, a string) any { return map[string]any{"username": a, "password": passwordOf(a)} }},
	{"PATCH", "users/update-password", selfOnly, 0, false, func(f fixture, a string) any {
		return map[string]any{"username": "owner", "password": passwordOf("owner")}
	}},
	{"PATCH", "users/update-admin", adminOnly, 0, false, func(f fixture, a string) any { return map[string]any{"username": "ghost", "is_admin": true} }},
	{"DELETE", "users/delete", adminOnly, 0, false, func(f fixture, a string) any { return map[string]any{"username": "ghost"} }},
	{"POST", "experiments/permissions/create", onExperiment, auth.ActManage, false, expPermBody},
	{"GET", "experiments/permissions/get?experiment_id={exp}&username=third", onExperiment, auth.ActManage, false, nil},
	{"PATCH", "experiments/permissions/update", onExperiment, auth.ActManage, false, expPermBody},
	{"DELETE", "experiments/permissions/delete", onExperiment, auth.ActManage, false, expPermBody},
	{"POST", "registered-models/permissions/create", onModel, auth.ActManage, false, modelPermBody},
	{"GET", "registered-models/permissions/get?name={model}&username=third", onModel, auth.ActManage, false, nil},
	{"PATCH", "registered-models/permissions/update", onModel, auth.ActManage, false, modelPermBody},
	{"DELETE", "registered-models/permissions/delete", onModel, auth.ActManage, false, modelPermBody},

	{"GET", "/api/2.0/mltrack/auth/whoami", onNothing, 0, false, nil},
	{"POST", "/api/2.0/mltrack/tokens/create", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"name": "t"} }},
	{"GET", "/api/2.0/mltrack/tokens/list", onNothing, 0, false, nil},
	{"DELETE", "/api/2.0/mltrack/tokens/revoke", onNothing, 0, false, func(f fixture, a string) any { return map[string]any{"id": "none"} }},
	{"GET", "/api/2.0/mltrack/users/list", adminOnly, 0, false, nil},
	{"GET", "/signup", adminOnly, 0, false, nil},
}

func expBody(f fixture, a string) any   { return map[string]any{"experiment_id": f.exp} }
func runBody(f fixture, a string) any   { return map[string]any{"run_id": f.run} }
func modelBody(f fixture, a string) any { return map[string]any{"name": f.model} }
func versionBody(f fixture, a string) any {
	return map[string]any{"name": f.model, "version": "1"}
}
func expPermBody(f fixture, a string) any {
	return map[string]any{"experiment_id": f.exp, "username": "third", "permission": "READ"}
}
func modelPermBody(f fixture, a string) any {
	return map[string]any{"name": f.model, "username": "third", "permission": "READ"}
}

func passwordOf(user string) string {
	if user == "admin" {
		return adminPW
	}
	return user + "-password-1234"
}

// actor is who sends a matrix request: anonymous, the admin, the owner of
// the fixture, or "other" holding one permission level (or none: the
// default) on the fixture's experiment and registered model.
type actor struct {
	name  string
	c     cred
	level *auth.Permission // for "other": the granted level; nil = no grant
	kind  string
}

func (a actor) String() string {
	if a.kind == "other" {
		if a.level == nil {
			return "other(default)"
		}
		return "other(" + a.level.Name + ")"
	}
	return a.kind
}

// allowed is the expected decision for a signed-in actor.
func (c matrixCase) allowed(a actor, def auth.Permission) bool {
	if a.kind == "admin" {
		return true
	}
	switch c.res {
	case onNothing:
		return true
	case adminOnly:
		return false
	case selfOnly:
		return strings.Contains(c.path, "{actor}") || bodyNamesActor(c, a)
	}
	if a.kind == "owner" {
		return true
	}
	p := def
	if a.level != nil {
		p = *a.level
	}
	return p.Allows(c.action)
}

func bodyNamesActor(c matrixCase, a actor) bool {
	if c.body == nil {
		return a.name == "owner" && strings.Contains(c.path, "username=owner")
	}
	m, _ := c.body(fixture{}, a.name).(map[string]any)
	return m["username"] == a.name
}

func expand(s string, f fixture, a string) string {
	return strings.NewReplacer("{exp}", f.exp, "{run}", f.run, "{lm}", f.loggedModel, "{model}", url.QueryEscape(f.model),
		"{expname}", url.QueryEscape(f.expName), "{actor}", a).Replace(s)
}

// TestAuthorizationMatrix sends every endpoint as every actor and checks the
// answer: 401 with MLflow's Basic challenge for anonymous and wrong
// credentials, 403 PERMISSION_DENIED where the actor's permission level
// does not allow the action, and anything but 401/403 where it does.
func TestAuthorizationMatrix(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "READ")
		def := auth.Read
		owner := s.createUser("owner", passwordOf("owner"))
		other := s.createUser("other", passwordOf("other"))
		s.createUser("third", passwordOf("third"))
		withRuns := s.hasRoute("POST", "/api/2.0/mlflow/runs/create")
		actors := []actor{{name: "admin", c: basic("admin", adminPW), kind: "admin"}, {name: "owner", c: owner, kind: "owner"}, {name: "other", c: other, kind: "other"}}
		for i := range auth.Levels {
			actors = append(actors, actor{name: "other", c: other, level: &auth.Levels[i], kind: "other"})
		}
		cells, skipped := 0, 0
		for _, c := range matrixCases {
			if c.runs && !withRuns {
				skipped++
				continue
			}
			name := c.method + " " + c.path
			// Anonymous and wrong credentials: 401 with the Basic challenge.
			f := s.newFixture(owner, withRuns)
			for _, cr := range []cred{anon, basic("other", "wrong-password!"), {token: "mlt_not_a_token"}} {
				r := s.send(cr, c, f, "other")
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="mlflow"` {
					t.Errorf("%s unauthenticated: %d %s (want 401 with challenge)", name, r.status, r.body)
				}
				cells++
			}
			for _, a := range actors {
				f := s.newFixture(owner, withRuns)
				if a.level != nil {
					s.grantExperiment(f.exp, "other", a.level.Name)
					s.grantModel(f.model, "other", a.level.Name)
				}
				r := s.send(a.c, c, f, a.name)
				want := c.allowed(a, def)
				switch {
				case want && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					t.Errorf("%s as %s: refused %d %s, want allowed", name, a, r.status, r.body)
				case !want && r.status != http.StatusForbidden:
					t.Errorf("%s as %s: %d %s, want 403", name, a, r.status, r.body)
				case !want && !strings.Contains(string(r.body), "PERMISSION_DENIED"):
					t.Errorf("%s as %s: 403 without PERMISSION_DENIED: %s", name, a, r.body)
				case want && r.status >= 500 && r.status != http.StatusNotImplemented: // 501: no multipart on a local store, as MLflow
					t.Errorf("%s as %s: %d %s", name, a, r.status, r.body)
				}
				cells++
			}
		}
		t.Logf("matrix: %d endpoint cases x %d actors (admin, owner, other with no grant and with each of %d levels) + 3 unauthenticated = %d checked cells; %d run cases not registered on this branch",
			len(matrixCases)-skipped, len(actors), len(auth.Levels), cells, skipped)
	})
}

func (s *testServer) send(cr cred, c matrixCase, f fixture, actorName string) resp {
	s.t.Helper()
	var body any
	if c.body != nil {
		body = c.body(f, actorName)
	}
	path := expand(c.path, f, actorName)
	if !strings.HasPrefix(path, "/") {
		path = "/api/2.0/mlflow/" + path
	}
	return s.do(cr, c.method, path, body)
}
