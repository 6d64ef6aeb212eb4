package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestArtifactPathsStayInTheirExperiment tries to reach another
// experiment's artifacts through every artifact route with the path tricks
// a client can send: dot segments (plain and percent-encoded), encoded
// slashes, doubled slashes, leading zeros, and a download path that climbs
// out of a readable run. The user may edit experiment "mine" and has no
// permission on "theirs": every attempt is refused or misses, none reads
// or writes the other experiment's files.
func TestArtifactPathsStayInTheirExperiment(t *testing.T) {
	authBackends(t, func(t *testing.T, authURI string) {
		s := startServer(t, authURI, "NO_PERMISSIONS")
		owner := s.createUser("owner", passwordOf("owner"))
		user := s.createUser("user", passwordOf("user"))
		const secret = "the other experiment's secret"
		newRun := func(c cred, exp string) string {
			return s.must(c, "POST", "runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
		}
		theirs := s.must(owner, "POST", "experiments/create", map[string]any{"name": "theirs"})["experiment_id"].(string)
		theirRun := newRun(owner, theirs)
		s.must(owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+theirs+"/"+theirRun+"/artifacts/f.txt", []byte(secret))
		mine := s.must(user, "POST", "experiments/create", map[string]any{"name": "mine"})["experiment_id"].(string)
		myRun := newRun(user, mine)
		s.must(user, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+mine+"/"+myRun+"/artifacts/f.txt", []byte("mine"))
		s.must(user, "POST", "registered-models/create", map[string]any{"name": "my-model"})
		s.must(user, "POST", "model-versions/create", map[string]any{"name": "my-model", "source": "mlflow-artifacts:/" + mine + "/" + myRun + "/artifacts", "run_id": myRun})

		target := theirs + "/" + theirRun + "/artifacts/f.txt"
		up := "/" + mine + "/" + myRun + "/artifacts"
		climb := strings.Repeat("../", 3) + target // from <mine>/<run>/artifacts to <theirs>/...
		proxy := "/api/2.0/mlflow-artifacts/artifacts/"
		reads := []string{
			proxy + mine + "/../" + target,
			proxy + mine + "/%2e%2e/" + target,
			proxy + mine + "/%2E%2E/" + target,
			proxy + mine + "%2F..%2F" + target,
			proxy + mine + "/" + myRun + "/artifacts/" + url.PathEscape(climb),
			proxy + "/" + target,
			proxy + "./" + target,
			proxy + "0" + target,
			"/ajax-api/2.0/mlflow-artifacts/artifacts/" + mine + "/%2e%2e/" + target,
			proxy + "?path=" + url.QueryEscape(mine+"/../"+theirs),
			"/api/2.0/mlflow-artifacts/artifacts?path=" + url.QueryEscape(mine+"/../"+theirs+"/"+theirRun+"/artifacts"),
			"/api/2.0/mlflow-artifacts/artifacts?path=" + url.QueryEscape("/"+theirs+"/"+theirRun+"/artifacts"),
			"/get-artifact?run_uuid=" + myRun + "&path=" + url.QueryEscape(climb),
			"/get-artifact?run_uuid=" + myRun + "&path=" + url.QueryEscape("/"+target),
			"/api/2.0/mlflow/artifacts/list?run_id=" + myRun + "&path=" + url.QueryEscape(strings.Repeat("../", 3)+theirs+"/"+theirRun+"/artifacts"),
			"/model-versions/get-artifact?name=my-model&version=1&path=" + url.QueryEscape(climb),
		}
		for _, p := range reads {
			r := s.do(user, "GET", p, nil)
			if r.status == http.StatusOK && (strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "f.txt")) ||
				strings.Contains(string(r.body), secret) {
				t.Errorf("GET %s: %d %q reached the other experiment", p, r.status, r.body)
			}
			if r.status >= 500 {
				t.Errorf("GET %s: %d %s", p, r.status, r.body)
			}
		}
		writes := []string{
			proxy + mine + "/../" + theirs + "/" + theirRun + "/artifacts/f.txt",
			proxy + mine + "/%2e%2e/" + theirs + "/" + theirRun + "/artifacts/f.txt",
			proxy + mine + "%2F..%2F" + theirs + "/" + theirRun + "/artifacts/f.txt",
			proxy + mine + up[len("/"+mine):] + "/" + url.PathEscape(climb),
			"/api/2.0/mlflow-artifacts/mpu/create/" + mine + "/%2e%2e/" + target,
		}
		for _, p := range writes {
			for _, m := range []string{"PUT", "DELETE", "POST"} {
				r := s.do(user, m, p, []byte("overwritten"))
				if r.status < 300 && r.status != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d %s", m, p, r.status, r.body)
				}
			}
		}
		r := s.do(owner, "GET", proxy+target, nil)
		if r.status != http.StatusOK || string(r.body) != secret {
			t.Fatalf("the other experiment's file after the attempts: %d %q", r.status, r.body)
		}
		// The same user reads their own file through the same routes.
		if r := s.do(user, "GET", proxy+mine+"/"+myRun+"/artifacts/f.txt", nil); r.status != http.StatusOK || string(r.body) != "mine" {
			t.Fatalf("own file: %d %q", r.status, r.body)
		}
		if r := s.do(user, "GET", "/get-artifact?run_uuid="+myRun+"&path=f.txt", nil); r.status != http.StatusOK || string(r.body) != "mine" {
			t.Fatalf("own file by get-artifact: %d %q", r.status, r.body)
		}
		t.Logf("%d read and %d write attempts on another experiment's artifacts, all refused", len(reads), 3*len(writes))
	})
}
