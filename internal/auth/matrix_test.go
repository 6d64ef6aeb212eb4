package auth_test

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mltrack/mltrack/internal/auth"
)

// fixture is a set of resources owned by the "owner" user, made fresh for
// every request of the matrix so that destructive calls do not disturb
// other cells.
type fixture struct {
	exp, expName, run, loggedModel, model, hook, dataset string
	trace, assessment                                    string
}

func (s *testServer) newFixture(owner cred) fixture {
	s.t.Helper()
	var f fixture
	f.expName = unique("exp")
	f.exp = s.must(owner, "POST", "experiments/create", map[string]any{"name": f.expName})["experiment_id"].(string)
	run := s.must(owner, "POST", "runs/create", map[string]any{"experiment_id": f.exp})
	f.run = run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	s.must(owner, "POST", "runs/log-metric", map[string]any{"run_id": f.run, "key": "m", "value": 1.5, "timestamp": 1, "step": 0})
	s.must(owner, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+f.exp+"/"+f.run+"/artifacts/f.txt", []byte("hello"))
	lm := s.must(owner, "POST", "logged-models", map[string]any{"experiment_id": f.exp, "name": "lm"})
	f.loggedModel = lm["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
	f.model = unique("model")
	s.must(owner, "POST", "registered-models/create", map[string]any{"name": f.model})
	s.must(owner, "POST", "model-versions/create", map[string]any{"name": f.model, "source": "mlflow-artifacts:/" + f.exp + "/x"})
	s.must(owner, "POST", "registered-models/alias", map[string]any{"name": f.model, "alias": "champion", "version": "1"})
	s.must(owner, "POST", "registered-models/set-tag", map[string]any{"name": f.model, "key": "k", "value": "v"})
	s.must(owner, "POST", "model-versions/set-tag", map[string]any{"name": f.model, "version": "1", "key": "k", "value": "v"})
	ds := s.must(owner, "POST", "/api/3.0/mlflow/datasets/create", map[string]any{"name": "ds", "experiment_ids": []string{f.exp}})
	f.dataset = ds["dataset"].(map[string]any)["dataset_id"].(string)
	s.must(owner, "POST", "/api/3.0/mlflow/datasets/"+f.dataset+"/records", map[string]any{"records": `[{"inputs": {"q": 1}}]`})
	s.must(owner, "PATCH", "/api/3.0/mlflow/datasets/"+f.dataset+"/tags", map[string]any{"tags": `{"k": "v"}`})
	s.must(owner, "POST", "/api/3.0/mlflow/scorers/register", map[string]any{"experiment_id": f.exp, "name": "s", "serialized_scorer": "{}"})
	// Webhooks are the admin's; disabled, so the fixture's registry
	// writes deliver nothing.
	hook := s.must(basic("admin", adminPW), "POST", "webhooks", map[string]any{"name": "fixture", "url": "http://127.0.0.1:1/hook", "status": "DISABLED",
		"events": []map[string]string{{"entity": "MODEL_VERSION", "action": "CREATED"}}})
	f.hook = hook["webhook"].(map[string]any)["webhook_id"].(string)
	f.trace = fmt.Sprintf("tr-%032x", uniq.Add(1))
	s.must(owner, "POST", "/api/3.0/mlflow/traces", map[string]any{"trace": map[string]any{"trace_info": map[string]any{
		"trace_id": f.trace, "state": "OK", "request_time": "2026-12-08T01:37:03.086Z",
		"trace_location": map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": f.exp}},
	}}})
	a := s.must(owner, "POST", "/api/3.0/mlflow/traces/"+f.trace+"/assessments", assessmentBody(f, ""))
	f.assessment = a["assessment"].(map[string]any)["assessment_id"].(string)
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
	{"POST", "experiments/create", onNothing, 0, func(f fixture, a string) any { return map[string]any{"name": unique("new")} }},
	{"GET", "experiments/get?experiment_id={exp}", onExperiment, auth.ActRead, nil},
	{"GET", "experiments/get-by-name?experiment_name={expname}", onExperiment, auth.ActRead, nil},
	{"POST", "experiments/update", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "new_name": unique("renamed")}
	}},
	{"POST", "experiments/delete", onExperiment, auth.ActDelete, expBody},
	{"POST", "experiments/restore", onExperiment, auth.ActDelete, expBody},
	{"POST", "experiments/set-experiment-tag", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "key": "k", "value": "v"}
	}},
	{"POST", "experiments/delete-experiment-tag", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "key": "k"}
	}},
	{"GET", "experiments/search?max_results=10", onNothing, 0, nil},
	{"POST", "experiments/search", onNothing, 0, func(f fixture, a string) any { return map[string]any{"max_results": 10} }},
	{"GET", "experiments/list", onNothing, 0, nil},

	{"POST", "runs/create", onExperiment, auth.ActUpdate, expBody},
	{"GET", "runs/get?run_id={run}", onExperiment, auth.ActRead, nil},
	{"POST", "runs/update", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "status": "FINISHED"} }},
	{"POST", "runs/delete", onExperiment, auth.ActDelete, runBody},
	{"POST", "runs/restore", onExperiment, auth.ActDelete, runBody},
	{"POST", "runs/log-metric", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "key": "m", "value": 2, "timestamp": 2, "step": 1}
	}},
	{"POST", "runs/log-parameter", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "p", "value": "1"} }},
	{"POST", "runs/set-tag", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "t", "value": "1"} }},
	{"POST", "runs/delete-tag", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"run_id": f.run, "key": "t"} }},
	{"POST", "runs/log-batch", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "params": []map[string]string{{"key": "b", "value": "1"}}}
	}},
	{"POST", "runs/log-model", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "model_json": `{"artifact_path": "model", "flavors": {}}`}
	}},
	{"POST", "runs/log-inputs", onExperiment, auth.ActUpdate, runBody},
	{"POST", "runs/outputs", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"run_id": f.run, "models": []map[string]any{{"model_id": f.loggedModel, "step": 0}}}
	}},
	{"POST", "runs/search", onNothing, 0, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"GET", "metrics/get-history?run_id={run}&metric_key=m&max_results=10", onExperiment, auth.ActRead, nil},
	{"GET", "metrics/get-history-bulk-interval?run_ids={run}&metric_key=m&max_results=10", onExperiment, auth.ActRead, nil},
	{"GET", "artifacts/list?run_id={run}", onExperiment, auth.ActRead, nil},
	{"GET", "/get-artifact?run_uuid={run}&path=f.txt", onExperiment, auth.ActRead, nil},

	{"POST", "registered-models/create", onNothing, 0, func(f fixture, a string) any { return map[string]any{"name": unique("rm")} }},
	{"GET", "registered-models/get?name={model}", onModel, auth.ActRead, nil},
	{"POST", "registered-models/rename", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "new_name": unique("rm-renamed")}
	}},
	{"PATCH", "registered-models/update", onModel, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"name": f.model, "description": "d"} }},
	{"DELETE", "registered-models/delete", onModel, auth.ActDelete, modelBody},
	{"GET", "registered-models/search", onNothing, 0, nil},
	{"POST", "registered-models/set-tag", onModel, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"name": f.model, "key": "k2", "value": "v"} }},
	{"DELETE", "registered-models/delete-tag", onModel, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"name": f.model, "key": "k"} }},
	{"POST", "registered-models/alias", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "alias": "other", "version": "1"}
	}},
	{"DELETE", "registered-models/alias", onModel, auth.ActDelete, func(f fixture, a string) any { return map[string]any{"name": f.model, "alias": "champion"} }},
	{"GET", "registered-models/alias?name={model}&alias=champion", onModel, auth.ActRead, nil},
	{"GET", "registered-models/get-latest-versions?name={model}", onModel, auth.ActRead, nil},
	{"POST", "registered-models/get-latest-versions", onModel, auth.ActRead, modelBody},
	{"POST", "model-versions/create", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "source": "mlflow-artifacts:/" + f.exp + "/y"}
	}},
	{"GET", "model-versions/get?name={model}&version=1", onModel, auth.ActRead, nil},
	{"PATCH", "model-versions/update", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "description": "d"}
	}},
	{"DELETE", "model-versions/delete", onModel, auth.ActDelete, versionBody},
	{"GET", "model-versions/search", onNothing, 0, nil},
	{"POST", "model-versions/transition-stage", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "stage": "Staging", "archive_existing_versions": false}
	}},
	{"GET", "model-versions/get-download-uri?name={model}&version=1", onModel, auth.ActRead, nil},
	{"POST", "model-versions/set-tag", onModel, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "key": "k2", "value": "v"}
	}},
	{"DELETE", "model-versions/delete-tag", onModel, auth.ActDelete, func(f fixture, a string) any {
		return map[string]any{"name": f.model, "version": "1", "key": "k"}
	}},
	{"GET", "/model-versions/get-artifact?name={model}&version=1&path=f.txt", onModel, auth.ActRead, nil},

	{"POST", "logged-models", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"experiment_id": f.exp, "name": "lm2"} }},
	{"POST", "logged-models/search", onNothing, 0, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"GET", "logged-models/{lm}", onExperiment, auth.ActRead, nil},
	{"PATCH", "logged-models/{lm}", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "status": "LOGGED_MODEL_READY"}
	}},
	{"DELETE", "logged-models/{lm}", onExperiment, auth.ActDelete, nil},
	{"POST", "logged-models/{lm}/params", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "params": []map[string]string{{"key": "p", "value": "1"}}}
	}},
	{"PATCH", "logged-models/{lm}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"model_id": f.loggedModel, "tags": []map[string]string{{"key": "t", "value": "1"}}}
	}},
	{"DELETE", "logged-models/{lm}/tags/t", onExperiment, auth.ActDelete, nil},
	{"GET", "logged-models/{lm}/artifacts/directories", onExperiment, auth.ActRead, nil},

	{"PUT", "/api/2.0/mlflow-artifacts/artifacts/{exp}/x/up.txt", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return []byte("data") }},
	{"GET", "/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.txt", onExperiment, auth.ActRead, nil},
	{"DELETE", "/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.txt", onExperiment, auth.ActManage, nil},
	{"GET", "/api/2.0/mlflow-artifacts/artifacts?path={exp}", onExperiment, auth.ActRead, nil},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/create/{exp}/x/big.bin", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/complete/{exp}/x/big.bin", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},
	{"POST", "/api/2.0/mlflow-artifacts/mpu/abort/{exp}/x/big.bin", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"path": "big.bin"} }},

	{"GET", "server-features", onNothing, 0, nil},
	{"POST", "users/create", adminOnly, 0, func(f fixture, a string) any { return map[string]any{"username": unique("u")} }},
	{"GET", "users/get?username={actor}", selfOnly, 0, nil},
	{"GET", "users/get?username=owner", selfOnly, 0, nil},
	{"PATCH", "users/update-password", selfOnly, 0, func(f fixture, a string) any { return map[string]any{"username": a, "password": passwordOf(a)} }},
	{"PATCH", "users/update-password", selfOnly, 0, func(f fixture, a string) any {
		return map[string]any{"username": "owner", "password": passwordOf("owner")}
	}},
	{"PATCH", "users/update-admin", adminOnly, 0, func(f fixture, a string) any { return map[string]any{"username": "ghost", "is_admin": true} }},
	{"DELETE", "users/delete", adminOnly, 0, func(f fixture, a string) any { return map[string]any{"username": "ghost"} }},
	{"POST", "experiments/permissions/create", onExperiment, auth.ActManage, expPermBody},
	{"GET", "experiments/permissions/get?experiment_id={exp}&username=third", onExperiment, auth.ActManage, nil},
	{"PATCH", "experiments/permissions/update", onExperiment, auth.ActManage, expPermBody},
	{"DELETE", "experiments/permissions/delete", onExperiment, auth.ActManage, expPermBody},
	{"POST", "registered-models/permissions/create", onModel, auth.ActManage, modelPermBody},
	{"GET", "registered-models/permissions/get?name={model}&username=third", onModel, auth.ActManage, nil},
	{"PATCH", "registered-models/permissions/update", onModel, auth.ActManage, modelPermBody},
	{"DELETE", "registered-models/permissions/delete", onModel, auth.ActManage, modelPermBody},

	{"GET", "/api/2.0/mltrack/auth/whoami", onNothing, 0, nil},
	{"POST", "/api/2.0/mltrack/tokens/create", onNothing, 0, func(f fixture, a string) any { return map[string]any{"name": "t"} }},
	{"GET", "/api/2.0/mltrack/tokens/list", onNothing, 0, nil},
	{"DELETE", "/api/2.0/mltrack/tokens/revoke", onNothing, 0, func(f fixture, a string) any { return map[string]any{"id": "none"} }},
	{"GET", "/api/2.0/mltrack/users/list", adminOnly, 0, nil},
	{"GET", "/signup", adminOnly, 0, nil},
	{"POST", "/signup", adminOnly, 0, func(f fixture, a string) any {
		return url.Values{"username": {unique("s")}, "password": {"signup-password-1"}}.Encode()
	}},
	{"GET", "/metrics", adminOnly, 0, nil},
	{"GET", "/api/2.0/mltrack/metrics/get-history-downsampled?run_ids={run}&metric_key=m&max_points=10", onExperiment, auth.ActRead, nil},

	// MLflow's UI-only routes (under /ajax-api/ only).
	{"GET", "/ajax-api/2.0/mlflow/logged-models/{lm}/artifacts/files?artifact_file_path=MLmodel", onExperiment, auth.ActRead, nil},
	{"GET", "/ajax-api/2.0/mlflow/get-trace-artifact?request_id={trace}", onExperiment, auth.ActRead, nil},
	{"GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id={run}&metric_key=m", onExperiment, auth.ActRead, nil},
	{"POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", onNothing, 0, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run}&path=up.txt", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return []byte("data") }},
	{"POST", "/ajax-api/2.0/mlflow/runs/create-promptlab-run", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "prompt_template": "say {{ x }}", "prompt_parameters": []map[string]string{{"key": "x", "value": "hi"}},
			"model_route": "r", "model_input": "say hi", "model_output": "hi", "mlflow_version": "3.6.0"}
	}},

	// Webhooks: admins only, as MLflow's auth app.
	{"POST", "webhooks", adminOnly, 0, func(f fixture, a string) any {
		return map[string]any{"name": "new", "url": "http://127.0.0.1:1/hook", "events": []map[string]string{{"entity": "REGISTERED_MODEL", "action": "CREATED"}}}
	}},
	{"GET", "webhooks", adminOnly, 0, nil},
	{"GET", "webhooks/{hook}", adminOnly, 0, nil},
	{"PATCH", "webhooks/{hook}", adminOnly, 0, func(f fixture, a string) any { return map[string]any{"description": "d"} }},
	{"DELETE", "webhooks/{hook}", adminOnly, 0, nil},
	{"POST", "webhooks/{hook}/test", adminOnly, 0, func(f fixture, a string) any { return map[string]any{} }},
	{"GET", "/api/2.0/mltrack/webhooks/{hook}/deliveries", adminOnly, 0, nil},
	// Traces: a trace's permission is its experiment's.
	{"POST", "/v1/traces", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return otlpBody() }},
	{"POST", "/api/3.0/mlflow/traces", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"trace": map[string]any{"trace_info": map[string]any{
			"trace_id": fmt.Sprintf("tr-%032x", uniq.Add(1)), "state": "OK",
			"trace_location": map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": f.exp}},
		}}}
	}},
	{"GET", "/api/3.0/mlflow/traces/{trace}", onExperiment, auth.ActRead, nil},
	{"GET", "/api/3.0/mlflow/traces/get?trace_id={trace}&allow_partial=true", onExperiment, auth.ActRead, nil},
	{"GET", "/api/3.0/mlflow/traces/batchGet?trace_ids={trace}", onExperiment, auth.ActRead, nil},
	{"POST", "/api/3.0/mlflow/traces/search", onExperiment, auth.ActRead, func(f fixture, a string) any {
		return map[string]any{"locations": []any{map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": f.exp}}}}
	}},
	{"PATCH", "/api/3.0/mlflow/traces/{trace}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"key": "k", "value": "v"} }},
	{"DELETE", "/api/3.0/mlflow/traces/{trace}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"key": "k"} }},
	{"PATCH", "traces/{trace}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"key": "k", "value": "v"} }},
	{"DELETE", "traces/{trace}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"key": "k"} }},
	{"POST", "traces/delete-traces", onExperiment, auth.ActDelete, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "request_ids": []string{f.trace}}
	}},
	{"POST", "/api/3.0/mlflow/traces/delete-traces", onExperiment, auth.ActDelete, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "max_timestamp_millis": 9999999999999}
	}},
	{"POST", "traces/link-to-run", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"trace_ids": []string{f.trace}, "run_id": f.run}
	}},
	{"POST", "traces", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "timestamp_ms": 1}
	}},
	{"PATCH", "traces/{trace}", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"timestamp_ms": 9999999999999, "status": "OK"}
	}},
	{"GET", "traces/{trace}/info", onExperiment, auth.ActRead, nil},
	{"GET", "traces?experiment_ids={exp}", onNothing, 0, nil},
	{"POST", "/api/3.0/mlflow/traces/{trace}/assessments", onExperiment, auth.ActUpdate, assessmentBody},
	{"GET", "/api/3.0/mlflow/traces/{trace}/assessments/{assessment}", onExperiment, auth.ActRead, nil},
	{"PATCH", "/api/3.0/mlflow/traces/{trace}/assessments/{assessment}", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"assessment": map[string]any{"assessment_name": "renamed"}, "update_mask": "assessmentName"}
	}},
	{"DELETE", "/api/3.0/mlflow/traces/{trace}/assessments/{assessment}", onExperiment, auth.ActUpdate, nil},

	// MLflow 3: evaluation datasets (as the experiments they are linked to) and scorers.
	{"POST", "/api/3.0/mlflow/datasets/create", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"name": "ds2", "experiment_ids": []string{f.exp}}
	}},
	{"POST", "/api/3.0/mlflow/datasets/search", onNothing, 0, func(f fixture, a string) any { return map[string]any{"experiment_ids": []string{f.exp}} }},
	{"GET", "/api/3.0/mlflow/datasets/search", onNothing, 0, nil},
	{"GET", "/api/3.0/mlflow/datasets/{ds}", onExperiment, auth.ActRead, nil},
	{"DELETE", "/api/3.0/mlflow/datasets/{ds}", onExperiment, auth.ActDelete, nil},
	{"PATCH", "/api/3.0/mlflow/datasets/{ds}/tags", onExperiment, auth.ActUpdate, func(f fixture, a string) any { return map[string]any{"tags": `{"k2": "v"}`} }},
	{"DELETE", "/api/3.0/mlflow/datasets/{ds}/tags/k", onExperiment, auth.ActUpdate, nil},
	{"POST", "/api/3.0/mlflow/datasets/{ds}/records", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"records": `[{"inputs": {"q": 2}, "expectations": {"a": 1}}]`}
	}},
	{"GET", "/api/3.0/mlflow/datasets/{ds}/records?max_results=10", onExperiment, auth.ActRead, nil},
	{"GET", "/api/3.0/mlflow/datasets/{ds}/experiment-ids", onExperiment, auth.ActRead, nil},
	{"POST", "/api/3.0/mlflow/datasets/{ds}/add-experiments", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_ids": []string{f.exp}}
	}},
	{"POST", "/api/3.0/mlflow/datasets/{ds}/remove-experiments", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_ids": []string{f.exp}}
	}},
	{"POST", "/api/3.0/mlflow/scorers/register", onExperiment, auth.ActUpdate, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "name": "s", "serialized_scorer": "{}"}
	}},
	{"GET", "/api/3.0/mlflow/scorers/list?experiment_id={exp}", onExperiment, auth.ActRead, nil},
	{"GET", "/api/3.0/mlflow/scorers/versions?experiment_id={exp}&name=s", onExperiment, auth.ActRead, nil},
	{"GET", "/api/3.0/mlflow/scorers/get?experiment_id={exp}&name=s&version=1", onExperiment, auth.ActRead, nil},
	{"DELETE", "/api/3.0/mlflow/scorers/delete", onExperiment, auth.ActDelete, func(f fixture, a string) any {
		return map[string]any{"experiment_id": f.exp, "name": "s"}
	}},
}

func assessmentBody(f fixture, a string) any {
	return map[string]any{"assessment": map[string]any{"assessment_name": "helpful", "feedback": map[string]any{"value": true},
		"source": map[string]any{"source_type": "HUMAN", "source_id": "rev"}}}
}

// otlpBody is an OTLP export of one root span of a new trace.
func otlpBody() []byte {
	var tid [16]byte
	binary.BigEndian.PutUint64(tid[8:], uint64(uniq.Add(1)))
	b, _ := proto.Marshal(&tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{
		Spans: []*tracepb.Span{{TraceId: tid[:], SpanId: []byte{0, 0, 0, 0, 0, 0, 0, 1}, Name: "root", StartTimeUnixNano: 1e18, EndTimeUnixNano: 1e18 + 1000}},
	}}}}})
	return b
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

// hidden reports whether a refusal of c is answered as for a registered
// model that does not exist.
func (c matrixCase) hidden(def auth.Permission) bool {
	return c.res == onModel && c.action == auth.ActRead && def.CanRead
}

func bodyNamesActor(c matrixCase, a actor) bool {
	if c.body == nil {
		return a.name == "owner" && strings.Contains(c.path, "username=owner")
	}
	m, _ := c.body(fixture{}, a.name).(map[string]any)
	return m["username"] == a.name
}

func expand(s string, f fixture, a string) string {
	return strings.NewReplacer("{trace}", f.trace, "{assessment}", f.assessment, "{exp}", f.exp, "{run}", f.run, "{lm}", f.loggedModel, "{model}", url.QueryEscape(f.model),
		"{expname}", url.QueryEscape(f.expName), "{actor}", a, "{hook}", f.hook, "{ds}", f.dataset).Replace(s)
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
		actors := []actor{{name: "admin", c: basic("admin", adminPW), kind: "admin"}, {name: "owner", c: owner, kind: "owner"}, {name: "other", c: other, kind: "other"}}
		for i := range auth.Levels {
			actors = append(actors, actor{name: "other", c: other, level: &auth.Levels[i], kind: "other"})
		}
		cells := 0
		for _, c := range matrixCases {
			name := c.method + " " + c.path
			// Anonymous and wrong credentials: 401 with the Basic challenge.
			f := s.newFixture(owner)
			for _, cr := range []cred{anon, basic("other", "wrong-password!"), {token: "mlt_not_a_token"}} {
				r := s.send(cr, c, f, "other")
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="mlflow"` {
					t.Errorf("%s unauthenticated: %d %s (want 401 with challenge)", name, r.status, r.body)
				}
				cells++
			}
			for _, a := range actors {
				f := s.newFixture(owner)
				if a.level != nil {
					s.grantExperiment(f.exp, "other", a.level.Name)
					s.grantModel(f.model, "other", a.level.Name)
				}
				r := s.send(a.c, c, f, a.name)
				want := c.allowed(a, def)
				switch {
				case want && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					t.Errorf("%s as %s: refused %d %s, want allowed", name, a, r.status, r.body)
				case !want && c.hidden(def):
					// A refused read of a registered model is answered as
					// for a model that does not exist (the default lets
					// anyone read a model without a grant, so a 403 would
					// tell that this one exists).
					if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "RESOURCE_DOES_NOT_EXIST") || !strings.Contains(string(r.body), f.model) {
						t.Errorf("%s as %s: %d %s, want the 404 of a missing model", name, a, r.status, r.body)
					}
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
		t.Logf("matrix: %d endpoint cases x (%d actors: admin, owner, other with no grant and with each of %d levels + 3 unauthenticated) = %d checked cells",
			len(matrixCases), len(actors), len(auth.Levels), cells)
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
	if path == "/v1/traces" {
		return s.do(cr, c.method, path, body, "Content-Type", "application/x-protobuf", "X-Mlflow-Experiment-Id", f.exp)
	}
	return s.do(cr, c.method, path, body)
}

// TestDefaultPermissionMatrix sends every endpoint as a user with no grant
// on the resource, under each configurable default permission other than
// READ (which TestAuthorizationMatrix uses): the default decides as a
// grant of that level would.
func TestDefaultPermissionMatrix(t *testing.T) {
	for _, def := range auth.Levels {
		if def == auth.Read {
			continue
		}
		t.Run(def.Name, func(t *testing.T) {
			authBackends(t, func(t *testing.T, authURI string) {
				s := startServer(t, authURI, def.Name)
				owner := s.createUser("owner", passwordOf("owner"))
				other := s.createUser("other", passwordOf("other"))
				s.createUser("third", passwordOf("third"))
				a := actor{name: "other", c: other, kind: "other"}
				// A refused request changes nothing, so the fixture is
				// made anew only after an allowed one.
				var f fixture
				fresh := true
				allowed := 0
				for _, c := range matrixCases {
					if fresh {
						f = s.newFixture(owner)
					}
					want := c.allowed(a, def)
					r := s.send(a.c, c, f, a.name)
					switch {
					case want && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
						t.Errorf("%s %s with default %s: refused %d %s", c.method, c.path, def.Name, r.status, r.body)
					case !want && (r.status != http.StatusForbidden || !strings.Contains(string(r.body), "PERMISSION_DENIED")):
						t.Errorf("%s %s with default %s: %d %s, want 403 PERMISSION_DENIED", c.method, c.path, def.Name, r.status, r.body)
					}
					if want {
						allowed++
					}
					fresh = want || r.status != http.StatusForbidden
				}
				t.Logf("default %s: %d endpoint cases as a user without a grant, %d allowed, %d refused", def.Name, len(matrixCases), allowed, len(matrixCases)-allowed)
			})
		})
	}
}
