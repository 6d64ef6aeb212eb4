package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/store/sqlstore"
	"github.com/mltrack/mltrack/internal/testshared"
)

// registryWireCase is one exchange of ../shared/mlflow-wire/api_cases.jsonl.
type registryWireCase struct {
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	RawPath        string            `json:"raw_path"`
	RawQuery       string            `json:"raw_query"`
	RequestHeaders map[string]string `json:"request_headers"`
	RequestBody    json.RawMessage   `json:"request_body"`
	Status         int               `json:"status"`
	ResponseBody   json.RawMessage   `json:"response_body"`
}

// registryDeviations are the cases where mltrack answers differently from
// MLflow on purpose (docs/compatibility.md); the value says how to compare.
var registryDeviations = map[string]string{
	// MLflow appends SQLAlchemy's error text to the message.
	"registered-models.rename.to-existing": "code",
	// MLflow answers BAD_REQUEST with the SQL text; mltrack a clean 400.
	"logged-models.log-params.change-value": "status",
	// MLflow answers a 500 HTML page for a garbage token; mltrack a 400.
	"logged-models.search.garbage-page-token": "skip",
	// MLflow rejects any AND in logged-models filters; mltrack supports it.
	"logged-models.search.filter-param-and-tag": "skip",
	"logged-models.search.filter-name-and-tag":  "skip",
	// MLflow keeps an alias pointing at a deleted version; mltrack drops it.
	"registered-models.get.after-version-delete": "status",
	// Listing a logged model's artifacts belongs to the artifact endpoints.
	"logged-models.list-artifacts.ok": "skip",
}

func newRegistryServer(t *testing.T) *httptest.Server {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The recorded cases ran in experiment 2.
	for _, name := range []string{"exp-1", "exp-2"} {
		if _, err := s.CreateExperiment(context.Background(), name, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	(&API{Tracking: s, Registry: s, LoggedModels: s}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestRegistryReplaysMLflowCases replays every registered-models.*,
// model-versions.* and logged-models.* exchange MLflow's server answered, in
// order, and compares status, error and body (ids and timestamps mapped).
func TestRegistryReplaysMLflowCases(t *testing.T) {
	f, err := os.Open(testshared.Path(t, "mlflow-wire", "api_cases.jsonl"))
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	defer f.Close()
	srv := newRegistryServer(t)
	ids := map[string]string{} // recorded model id or generated name -> ours
	replace := func(s string) string {
		for from, to := range ids {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	n := 0
	for sc.Scan() {
		var c registryWireCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		name := c.RequestHeaders["X-Case"]
		if !strings.HasPrefix(name, "registered-models.") && !strings.HasPrefix(name, "model-versions.") && !strings.HasPrefix(name, "logged-models.") {
			continue
		}
		how := registryDeviations[name]
		if how == "skip" {
			continue
		}
		n++
		target := c.Path
		if c.RawPath != "" {
			target = c.RawPath
		}
		target = replace(target)
		if c.RawQuery != "" {
			target += "?" + replace(c.RawQuery)
		}
		var body io.Reader
		if len(c.RequestBody) > 0 && string(c.RequestBody) != "null" {
			body = strings.NewReader(replace(string(c.RequestBody)))
		}
		req, err := http.NewRequest(c.Method, srv.URL+target, body)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		time.Sleep(2 * time.Millisecond) // distinct timestamps, as in the recording
		if resp.StatusCode != c.Status {
			t.Errorf("%s: status %d, want %d\n%s", name, resp.StatusCode, c.Status, got)
			continue
		}
		if c.Status == http.StatusMethodNotAllowed || how == "status" {
			continue
		}
		var want, have map[string]any
		if err := json.Unmarshal(c.ResponseBody, &want); err != nil {
			t.Fatalf("%s: recorded body: %v", name, err)
		}
		if err := json.Unmarshal(got, &have); err != nil {
			t.Errorf("%s: body %q: %v", name, got, err)
			continue
		}
		// Learn our ids and generated names from logged model creation.
		if c.Method == "POST" && c.Path == "/api/2.0/mlflow/logged-models" && c.Status == 200 {
			wi := want["model"].(map[string]any)["info"].(map[string]any)
			hi := have["model"].(map[string]any)["info"].(map[string]any)
			ids[wi["model_id"].(string)] = hi["model_id"].(string)
			if !strings.Contains(string(c.RequestBody), `"name"`) {
				ids[wi["name"].(string)] = hi["name"].(string)
			}
		}
		if how == "code" {
			if want["error_code"] != have["error_code"] || !strings.HasPrefix(want["message"].(string), have["message"].(string)) {
				t.Errorf("%s: got %s, want %s", name, got, c.ResponseBody)
			}
			continue
		}
		wantN := normalizeWire(json.RawMessage(replace(string(c.ResponseBody))))
		haveN := normalizeWire(got)
		if !reflect.DeepEqual(wantN, haveN) {
			w, _ := json.Marshal(wantN)
			h, _ := json.Marshal(haveN)
			t.Errorf("%s: body differs\n got %s\nwant %s", name, h, w)
		}
	}
	t.Logf("replayed %d cases", n)
	if n < 150 {
		t.Fatalf("replayed only %d cases", n)
	}
}

// normalizeWire decodes a body with the timestamps zeroed.
func normalizeWire(b []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return string(b)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if strings.HasSuffix(k, "timestamp") || strings.HasSuffix(k, "timestamp_ms") {
					x[k] = "T"
					continue
				}
				x[k] = walk(e)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	return walk(v)
}
