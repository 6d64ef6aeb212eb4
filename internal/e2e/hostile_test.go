package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mltrack/mltrack/internal/testdb"
)

// hostileCase is one hostile request. want is the set of statuses allowed:
// by default any 4xx; a case MLflow accepts lists 200 and says in check
// what the answer must be.
type hostileCase struct {
	name   string
	method string
	path   string // under /api/2.0/mlflow/ unless it starts with /
	body   any    // string, []byte or a JSON value; for GET the query
	ok200  bool   // a 200 is a correct answer too (then check decides)
	check  func(t *testing.T, body []byte)
}

const (
	sqlDrop = "'; DROP TABLE runs; --"
	sqlOr   = "' OR 1=1 --"
)

// emptyResult checks that a search answered nothing (our data never
// matches the injected text).
func emptyResult(field string) func(t *testing.T, b []byte) {
	return func(t *testing.T, b []byte) {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(b, &m)
		if v, ok := m[field]; ok && string(v) != "[]" {
			t.Errorf("injected filter matched: %s", b)
		}
	}
}

// hostileCases are the requests of TestHostileInput, naming the seeded
// run, experiment and model.
func hostileCases(expID, runID string) []hostileCase {
	var cs []hostileCase
	add := func(c hostileCase) { cs = append(cs, c) }
	post := func(name, path string, body any) {
		add(hostileCase{name: name, method: "POST", path: path, body: body})
	}

	// Oversized and deeply nested bodies.
	big := append(append([]byte(`{"run_id": "`+runID+`", "metrics": [], "tags": [{"key": "big", "value": "`), bytes.Repeat([]byte("x"), 33<<20)...), []byte(`"}]}`)...)
	post("oversized body", "runs/log-batch", big)
	post("deep array", "runs/log-batch", `{"run_id": "`+runID+`", "metrics": `+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)+`}`)
	post("deep object", "experiments/create", `{"name": `+strings.Repeat(`{"a":`, 200000)+`1`+strings.Repeat("}", 200000)+`}`)
	post("deep but valid JSON in a string field", "runs/set-tag", `{"run_id": "`+runID+`", "key": "t", "value": `+strings.Repeat("[", 50)+strings.Repeat("]", 50)+`}`)

	// Invalid UTF-8 and NUL bytes in keys and values.
	post("invalid UTF-8 metric key", "runs/log-metric", []byte("{\"run_id\": \""+runID+"\", \"key\": \"k\xff\xfe\", \"value\": 1, \"timestamp\": 1, \"step\": 1}"))
	post("invalid UTF-8 tag value", "runs/set-tag", []byte("{\"run_id\": \""+runID+"\", \"key\": \"t\", \"value\": \"v\xc3\x28\"}"))
	post("invalid UTF-8 param value", "runs/log-parameter", []byte("{\"run_id\": \""+runID+"\", \"key\": \"pu\", \"value\": \"\xed\xa0\x80\"}"))
	post("invalid UTF-8 experiment name", "experiments/create", []byte("{\"name\": \"e\xff\"}"))
	post("NUL in metric key", "runs/log-metric", `{"run_id": "`+runID+`", "key": "a\u0000b", "value": 1, "timestamp": 1, "step": 1}`)
	post("NUL in tag value", "runs/set-tag", `{"run_id": "`+runID+`", "key": "t", "value": "a\u0000b"}`)
	post("NUL in param value", "runs/log-parameter", `{"run_id": "`+runID+`", "key": "pn", "value": "a\u0000b"}`)
	post("NUL in experiment name", "experiments/create", `{"name": "a\u0000b"}`)
	post("NUL in registered model name", "registered-models/create", `{"name": "m\u0000"}`)
	post("NUL in run ID", "runs/set-tag", `{"run_id": "`+runID+`\u0000", "key": "t", "value": "v"}`)
	// Lone UTF-16 surrogate escapes (json would store U+FFFD).
	post("lone surrogate in param value", "runs/log-parameter", `{"run_id": "`+runID+`", "key": "ls", "value": "a\udfffb"}`)
	post("lone surrogate in tag value", "runs/set-tag", `{"run_id": "`+runID+`", "key": "t", "value": "\ud800"}`)
	post("lone surrogate in log-batch tag", "runs/log-batch", `{"run_id": "`+runID+`", "tags": [{"key": "t", "value": "\udfff"}]}`)
	post("lone surrogate in experiment tag", "experiments/set-experiment-tag", `{"experiment_id": "`+expID+`", "key": "t", "value": "\udc00x"}`)
	// Artifact locations that would hide the folder they name in a query
	// or fragment (issue 11).
	for _, loc := range []string{"mlflow-artifacts:/" + expID + "?", "mlflow-artifacts:/" + expID + "#", "mlflow-artifacts:/?", "mlflow-artifacts:/" + expID + "#x/y", "s3://b/p?a=..%2F..", "/tmp/p;x"} {
		post("artifact_location "+loc, "experiments/create", map[string]any{"name": "crafted " + loc, "artifact_location": loc})
	}

	// NaN and infinities in every numeric field but a metric's value
	// (which MLflow stores).
	for _, bad := range []string{"NaN", "Infinity", "-Infinity", `"NaN"`, `"Infinity"`, "1e309", "-1e309", "9223372036854775808", "-9223372036854775809", "-1e19"} {
		post("log-metric timestamp "+bad, "runs/log-metric", `{"run_id": "`+runID+`", "key": "m", "value": 1, "timestamp": `+bad+`, "step": 1}`)
		post("log-metric step "+bad, "runs/log-metric", `{"run_id": "`+runID+`", "key": "m", "value": 1, "timestamp": 1, "step": `+bad+`}`)
		post("log-batch timestamp "+bad, "runs/log-batch", `{"run_id": "`+runID+`", "metrics": [{"key": "m", "value": 1, "timestamp": `+bad+`, "step": 1}]}`)
		post("log-batch step "+bad, "runs/log-batch", `{"run_id": "`+runID+`", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": `+bad+`}]}`)
		post("runs/create start_time "+bad, "runs/create", `{"experiment_id": "`+expID+`", "start_time": `+bad+`}`)
		post("runs/update end_time "+bad, "runs/update", `{"run_id": "`+runID+`", "end_time": `+bad+`}`)
		post("runs/search max_results "+bad, "runs/search", `{"experiment_ids": ["`+expID+`"], "max_results": `+bad+`}`)
		post("experiments/search max_results "+bad, "experiments/search", `{"max_results": `+bad+`}`)
		// These two are GET-only, as in MLflow.
		add(hostileCase{name: "registered-models/search max_results " + bad, method: "GET", path: "registered-models/search", body: "max_results=" + urlQuery(strings.Trim(bad, `"`))})
		add(hostileCase{name: "model-versions/search max_results " + bad, method: "GET", path: "model-versions/search", body: "max_results=" + urlQuery(strings.Trim(bad, `"`))})
		post("logged-models/search max_results "+bad, "logged-models/search", `{"experiment_ids": ["`+expID+`"], "max_results": `+bad+`}`)
		post("transition stage version "+bad, "model-versions/transition-stage", `{"name": "model", "version": `+bad+`, "stage": "Archived", "archive_existing_versions": false}`)
		post("set alias version "+bad, "registered-models/alias", `{"name": "model", "alias": "champion", "version": `+bad+`}`)
		post("get-history-bulk-interval max_results "+bad, "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids="+runID+"&metric_key=m&max_results="+strings.Trim(bad, `"`), nil)
		post("get-history-bulk-interval start_step "+bad, "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids="+runID+"&metric_key=m&max_results=10&start_step="+strings.Trim(bad, `"`)+"&end_step=5", nil)
		post("get-history-bulk-interval end_step "+bad, "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids="+runID+"&metric_key=m&max_results=10&start_step=0&end_step="+strings.Trim(bad, `"`), nil)
		add(hostileCase{name: "get-history-downsampled max_points " + bad, method: "GET", path: "/api/2.0/mltrack/metrics/get-history-downsampled", body: "run_ids=" + runID + "&metric_key=m&max_points=" + urlQuery(strings.Trim(bad, `"`))})
		post("runs/outputs step "+bad, "runs/outputs", `{"run_id": "`+runID+`", "models": [{"model_id": "m-none", "step": `+bad+`}]}`)
		post("model-versions/update version "+bad, "/api/2.0/mlflow/model-versions/update", `{"name": "model", "version": `+bad+`, "description": "d"}`)
		post("model-versions/set-tag version "+bad, "model-versions/set-tag", `{"name": "model", "version": `+bad+`, "key": "k", "value": "v"}`)
		add(hostileCase{name: "model-versions/get-download-uri version " + bad, method: "GET", path: "model-versions/get-download-uri", body: "name=model&version=" + urlQuery(strings.Trim(bad, `"`))})
		post("logged-models/search page_token offset "+bad, "logged-models/search", `{"experiment_ids": ["`+expID+`"], "page_token": "`+base64.StdEncoding.EncodeToString([]byte(`{"offset": `+bad+`}`))+`"}`)
		post("experiments/search page_token offset "+bad, "experiments/search", `{"page_token": "`+base64.StdEncoding.EncodeToString([]byte(`{"offset": `+bad+`}`))+`"}`)
		add(hostileCase{name: "registered-models/search page_token offset " + bad, method: "GET", path: "registered-models/search",
			body: "page_token=" + urlQuery(base64.StdEncoding.EncodeToString([]byte(`{"offset": `+bad+`}`)))})
		post("runs/search page_token offset "+bad, "runs/search", `{"experiment_ids": ["`+expID+`"], "page_token": "`+base64.StdEncoding.EncodeToString([]byte(`{"offset": `+bad+`}`))+`"}`)
	}
	for i := range cs {
		if strings.HasPrefix(cs[i].path, "/api/2.0/mlflow/metrics/get-history-bulk-interval") {
			cs[i].method, cs[i].body = "GET", nil
		}
		if cs[i].path == "/api/2.0/mlflow/model-versions/update" {
			cs[i].method = "PATCH"
		}
	}
	for _, bad := range []string{"NaN", "Infinity", "1e309"} {
		add(hostileCase{name: "get-history max_results " + bad, method: "GET", path: "metrics/get-history", body: "run_id=" + runID + "&metric_key=m&max_results=" + bad})
		add(hostileCase{name: "model-versions/get version " + bad, method: "GET", path: "model-versions/get", body: "name=model&version=" + bad})
		add(hostileCase{name: "experiments/search GET max_results " + bad, method: "GET", path: "experiments/search", body: "max_results=" + bad})
	}

	// Overlong keys and values.
	long := func(n int) string { return strings.Repeat("a", n) }
	post("metric key 251", "runs/log-metric", `{"run_id": "`+runID+`", "key": "`+long(251)+`", "value": 1, "timestamp": 1, "step": 1}`)
	post("param key 251", "runs/log-parameter", `{"run_id": "`+runID+`", "key": "`+long(251)+`", "value": "v"}`)
	post("tag key 251", "runs/set-tag", `{"run_id": "`+runID+`", "key": "`+long(251)+`", "value": "v"}`)
	post("experiment tag value 5001", "experiments/set-experiment-tag", `{"experiment_id": "`+expID+`", "key": "t", "value": "`+long(5001)+`"}`)
	post("experiment name 501", "experiments/create", `{"name": "`+long(501)+`"}`)
	post("log-batch 1001 metrics", "runs/log-batch", `{"run_id": "`+runID+`", "metrics": [`+strings.TrimSuffix(strings.Repeat(`{"key": "m", "value": 1, "timestamp": 1, "step": 1},`, 1001), ",")+`]}`)
	post("log-batch 101 params", "runs/log-batch", `{"run_id": "`+runID+`", "params": [`+strings.TrimSuffix(strings.Repeat(`{"key": "p", "value": "v"},`, 101), ",")+`]}`)
	post("run ID of 100 kB", "runs/set-tag", `{"run_id": "`+long(100000)+`", "key": "t", "value": "v"}`)

	// SQL-looking text in every filter position: refused or matching
	// nothing, never executed.
	for _, f := range []string{
		sqlDrop, sqlOr,
		"attributes.run_name = '" + sqlDrop + "'",
		"params.p = '" + sqlOr + "'",
		"tags.t = 'x' OR 1=1 --",
		"metrics.m > 0; DROP TABLE runs",
		"tags.\"" + sqlDrop + "\" = 'x'",
		"attributes.status = 'FINISHED' UNION SELECT * FROM experiments --",
		"params.`p' OR '1'='1` = 'v'",
		"run_id IN ('" + runID + "') OR 1=1",
	} {
		add(hostileCase{name: "runs/search filter " + f, method: "POST", path: "runs/search", ok200: true, check: emptyResult("runs"),
			body: map[string]any{"experiment_ids": []string{expID}, "filter": f}})
		add(hostileCase{name: "experiments/search filter " + f, method: "POST", path: "experiments/search", ok200: true, check: emptyResult("experiments"),
			body: map[string]any{"filter": strings.ReplaceAll(strings.ReplaceAll(f, "attributes.run_name", "name"), "params.p", "tags.p")}})
		add(hostileCase{name: "registered-models/search filter " + f, method: "GET", path: "registered-models/search", ok200: true, check: emptyResult("registered_models"),
			body: "filter=" + urlQuery(strings.ReplaceAll(f, "attributes.run_name", "name"))})
		add(hostileCase{name: "model-versions/search filter " + f, method: "GET", path: "model-versions/search", ok200: true, check: emptyResult("model_versions"),
			body: "filter=" + urlQuery(strings.ReplaceAll(f, "attributes.run_name", "name"))})
		add(hostileCase{name: "logged-models/search filter " + f, method: "POST", path: "logged-models/search", ok200: true, check: emptyResult("models"),
			body: map[string]any{"experiment_ids": []string{expID}, "filter": f}})
	}
	for _, o := range []string{"metrics.m; DROP TABLE runs", "attributes.start_time DESC; DROP TABLE runs --", "params.`" + sqlOr + "`", "name " + sqlOr} {
		// A backquoted key is a legal order_by: a 200 ordering by a param
		// nobody has is right.
		add(hostileCase{name: "runs/search order_by " + o, method: "POST", path: "runs/search", ok200: true,
			body: map[string]any{"experiment_ids": []string{expID}, "order_by": []string{o}}})
		add(hostileCase{name: "experiments/search order_by " + o, method: "POST", path: "experiments/search", body: map[string]any{"order_by": []string{o}}})
		add(hostileCase{name: "registered-models/search order_by " + o, method: "GET", path: "registered-models/search", body: "order_by=" + urlQuery(o)})
	}
	for _, tok := range []string{sqlDrop, "eyJvZmZzZXQiOiAiMTsgRFJPUCBUQUJMRSBydW5zIn0=" /* {"offset": "1; DROP TABLE runs"} */} {
		post("runs/search page_token "+tok, "runs/search", map[string]any{"experiment_ids": []string{expID}, "page_token": tok})
		post("experiments/search page_token "+tok, "experiments/search", map[string]any{"page_token": tok})
	}
	// SQL-looking text where an ID or a key is expected.
	post("run ID injected", "runs/set-tag", map[string]any{"run_id": runID + sqlOr, "key": "t", "value": "v"})
	post("experiment ID injected", "runs/create", map[string]any{"experiment_id": expID + " OR 1=1"})
	post("param key injected", "runs/log-parameter", map[string]any{"run_id": runID, "key": sqlDrop, "value": "v"})
	post("metric key injected", "runs/log-metric", map[string]any{"run_id": runID, "key": sqlOr, "value": 1, "timestamp": 1, "step": 1})
	add(hostileCase{name: "runs/get injected", method: "GET", path: "runs/get", body: "run_id=" + urlQuery(sqlOr)})
	add(hostileCase{name: "experiments/get-by-name injected", method: "GET", path: "experiments/get-by-name", body: "experiment_name=" + urlQuery(sqlOr)})
	add(hostileCase{name: "registered-models/get injected", method: "GET", path: "registered-models/get", body: "name=" + urlQuery(sqlOr)})
	post("delete run injected", "runs/delete", map[string]any{"run_id": "' OR '1'='1"})
	post("delete experiment injected", "experiments/delete", map[string]any{"experiment_id": "1 OR 1=1"})
	return cs
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "=", "%3D", "\"", "%22", "'", "%27", ";", "%3B", "`", "%60")
	return r.Replace(s)
}

// TestHostileInput sends oversized, deeply nested, invalid UTF-8, NUL,
// NaN/Inf, overlong and SQL-looking requests to a real server: each gets a
// 4xx (or, where MLflow accepts the request, a correct 200), the server
// stays up, and nothing stored changes (row counts of every table and the
// seeded entities, compared before and after). Then the SQL-looking text
// MLflow does accept as a name or value is stored verbatim.
func TestHostileInput(t *testing.T) {
	testdb.Backends(t, func(t *testing.T, uri string) {
		srv := startServer(t, nil, "--backend-store-uri", uri, "--artifacts-destination", t.TempDir())
		srv.waitReady(t, 30*time.Second)
		hc := newHTTPClient(2)
		base := srv.base + "/api/2.0/mlflow/"
		expID, runs := createRuns(t, hc, srv.base, "hostile", 1)
		runID := runs[0]
		for _, seed := range []struct {
			path string
			body string
		}{
			{"runs/log-batch", `{"run_id": "` + runID + `", "metrics": [{"key": "m", "value": 0.5, "timestamp": 5, "step": 5}], "params": [{"key": "p", "value": "v"}], "tags": [{"key": "t", "value": "v"}]}`},
			{"registered-models/create", `{"name": "model"}`},
			{"model-versions/create", `{"name": "model", "source": "mlflow-artifacts:/x", "run_id": "` + runID + `"}`},
			{"logged-models", `{"experiment_id": "` + expID + `", "name": "lm"}`},
		} {
			if st, b, err := post(hc, "POST", base+seed.path, seed.body); err != nil || st != 200 {
				t.Fatalf("seed %s: %d %v %s", seed.path, st, err, b)
			}
		}
		before := snapshot(t, hc, srv.base, uri, expID, runID)

		cases := hostileCases(expID, runID)
		statuses := map[int]int{}
		for _, c := range cases {
			url := c.path
			if !strings.HasPrefix(url, "/") {
				url = base + url
			} else {
				url = srv.base + url
			}
			var body any = c.body
			if c.method == "GET" {
				if q, ok := c.body.(string); ok && q != "" {
					url += "?" + q
				}
				body = nil
			}
			st, b, err := post(hc, c.method, url, body)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			statuses[st]++
			switch {
			case st == 200 && c.ok200:
				if c.check != nil {
					c.check(t, b)
				}
			case st >= 400 && st < 500:
				var e struct {
					ErrorCode string `json:"error_code"`
				}
				if json.Unmarshal(b, &e) != nil || e.ErrorCode == "" {
					t.Errorf("%s: %d without MLflow's error body: %.300s", c.name, st, b)
				}
			default:
				t.Errorf("%s: status %d, want a 4xx%s: %.300s", c.name, st, map[bool]string{true: " or 200"}[c.ok200], b)
			}
			select {
			case <-srv.done:
				t.Fatalf("the server exited after %s:\n%s", c.name, srv.output())
			default:
			}
		}
		// A header over MaxHeaderBytes (1 MiB).
		req, _ := http.NewRequest("GET", srv.base+"/health", nil)
		req.Header.Set("X-Big", strings.Repeat("h", 2<<20))
		if resp, err := hc.Do(req); err != nil {
			t.Errorf("2 MiB header: %v, want a 431 answer", err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("2 MiB header: %d, want 431", resp.StatusCode)
			}
		}
		if st, _, err := post(hc, "GET", srv.base+"/health", nil); err != nil || st != 200 {
			t.Fatalf("the server is not healthy after the hostile requests: %d %v", st, err)
		}
		after := snapshot(t, hc, srv.base, uri, expID, runID)
		if !reflect.DeepEqual(before, after) {
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed:\n before %.2000s\n after  %.2000s", k, v, after[k])
				}
			}
		}
		countsBefore := tableCounts(t, uri)
		t.Logf("%d hostile requests, statuses %v; stored data unchanged (%d tables compared)", len(cases), statuses, len(before)-3)

		// What MLflow accepts is stored verbatim and stays inert.
		name := sqlDrop + " " + sqlOr
		var exp struct {
			ExperimentID string `json:"experiment_id"`
		}
		st, b, err := post(hc, "POST", base+"experiments/create", map[string]any{"name": name})
		if err != nil || st != 200 || json.Unmarshal(b, &exp) != nil {
			t.Fatalf("experiment named %q: %d %v %s", name, st, err, b)
		}
		for _, v := range []string{sqlDrop, sqlOr, "\"; DELETE FROM metrics; --", "Robert'); DROP TABLE students;--"} {
			if st, b, err := post(hc, "POST", base+"runs/set-tag", map[string]any{"run_id": runID, "key": "sql", "value": v}); err != nil || st != 200 {
				t.Fatalf("tag value %q: %d %v %s", v, st, err, b)
			}
			run := getRun(t, hc, srv.base, runID)
			found := false
			for _, tg := range run.Data.Tags {
				found = found || tg.Key == "sql" && tg.Value == v
			}
			if !found {
				t.Errorf("tag value %q not stored verbatim: %+v", v, run.Data.Tags)
			}
			if st, b, err := post(hc, "POST", base+"runs/log-parameter", map[string]any{"run_id": runID, "key": "sql" + fmt.Sprint(len(v)), "value": v}); err != nil || st != 200 {
				t.Fatalf("param value %q: %d %v %s", v, st, err, b)
			}
		}
		// Over-long param and tag values: MLflow truncates them (6,000 and
		// 8,000 characters) and answers 200.
		long := strings.Repeat("x", 9000)
		if st, b, err := post(hc, "POST", base+"runs/log-parameter", map[string]any{"run_id": runID, "key": "long", "value": long}); err != nil || st != 200 {
			t.Errorf("param value of 9000: %d %v %s", st, err, b)
		}
		if st, b, err := post(hc, "POST", base+"runs/set-tag", map[string]any{"run_id": runID, "key": "long", "value": long}); err != nil || st != 200 {
			t.Errorf("tag value of 9000: %d %v %s", st, err, b)
		}
		run := getRun(t, hc, srv.base, runID)
		for _, p := range run.Data.Params {
			if p.Key == "long" && p.Value != long[:6000] {
				t.Errorf("param value of 9000 stored with %d characters, want 6000", len(p.Value))
			}
		}
		for _, tg := range run.Data.Tags {
			if tg.Key == "long" && tg.Value != long[:8000] {
				t.Errorf("tag value of 9000 stored with %d characters, want 8000", len(tg.Value))
			}
		}
		st, b, _ = post(hc, "GET", base+"experiments/get-by-name?experiment_name="+urlQuery(name), nil)
		if st != 200 || !strings.Contains(string(b), exp.ExperimentID) {
			t.Errorf("experiment named %q not found by name: %d %s", name, st, b)
		}
		// A filter for the exact text finds exactly the run.
		var res struct {
			Runs []apiRun `json:"runs"`
		}
		st, b, _ = post(hc, "POST", base+"runs/search", map[string]any{"experiment_ids": []string{expID}, "filter": `tags.sql = "Robert'); DROP TABLE students;--"`})
		if st != 200 || json.Unmarshal(b, &res) != nil || len(res.Runs) != 1 {
			t.Errorf("search for the stored SQL-looking tag: %d %s", st, b)
		}
		end := tableCounts(t, uri)
		if end["experiments"] != countsBefore["experiments"]+1 || end["runs"] != countsBefore["runs"] || end["runs"] == 0 {
			t.Errorf("after the verbatim writes: experiments %d→%d, runs %d→%d", countsBefore["experiments"], end["experiments"], countsBefore["runs"], end["runs"])
		}
	})
}

// snapshot is the stored state the hostile requests must not change: the
// row count of every table (read from the database directly) and the
// seeded run, experiment and model as the API answers them.
func snapshot(t *testing.T, hc *http.Client, server, uri, expID, runID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range tableCounts(t, uri) {
		out["rows of "+k] = fmt.Sprint(v)
	}
	for _, q := range []string{
		"/api/2.0/mlflow/runs/get?run_id=" + runID,
		"/api/2.0/mlflow/experiments/get?experiment_id=" + expID,
		"/api/2.0/mlflow/registered-models/get?name=model",
	} {
		st, b, err := post(hc, "GET", server+q, nil)
		if err != nil || st != 200 {
			t.Fatalf("%s: %d %v", q, st, err)
		}
		out[q] = string(normalizeJSON(b))
	}
	return out
}

// normalizeJSON re-encodes a JSON answer with sorted keys and sorted
// lists of tags/params so that the order rows come back in does not count.
func normalizeJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	var sortLists func(v any)
	sortLists = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				sortLists(e)
			}
		case []any:
			for _, e := range x {
				sortLists(e)
			}
			sort.Slice(x, func(i, j int) bool {
				a, _ := json.Marshal(x[i])
				b, _ := json.Marshal(x[j])
				return string(a) < string(b)
			})
		}
	}
	sortLists(v)
	out, _ := json.Marshal(v)
	return out
}

// tableCounts counts the rows of every table of the database.
func tableCounts(t *testing.T, uri string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if path, ok := strings.CutPrefix(uri, "sqlite:///"); ok {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			var c int64
			if err := db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
				t.Fatal(err)
			}
			out[n] = c
		}
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		var c int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM "`+n+`"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}
