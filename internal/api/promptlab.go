package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// promptlabVersion is the MLflow release whose prompt lab runs mltrack
// writes (the version /version answers).
const promptlabVersion = "3.6.0"

// promptlabRequest is runs/create-promptlab-run's body, read as MLflow's
// handler reads it (request.json and .get of each field).
type promptlabRequest struct {
	body map[string]json.RawMessage
}

// present is false for a field that is absent or falsy in Python (null,
// "", [], {}, 0, false), which MLflow's required-field check refuses.
func (q promptlabRequest) present(name string) bool {
	v, ok := q.body[name]
	if !ok {
		return false
	}
	switch s := strings.TrimSpace(string(v)); s {
	case "null", `""`, "[]", "{}", "0", "false", "0.0":
		return false
	}
	return true
}

// str is a field as Python's str() writes its value.
func (q promptlabRequest) str(name string) string {
	v, ok := q.body[name]
	if !ok {
		return ""
	}
	return pyStr(v)
}

// pyStr is Python's str() of a JSON value as json.loads reads it.
func pyStr(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	switch t := strings.TrimSpace(string(v)); t {
	case "null":
		return "None"
	case "true":
		return "True"
	case "false":
		return "False"
	default:
		return t
	}
}

// params reads a list of {"key", "value"} objects; values as str().
func (q promptlabRequest) params(name string) ([]mlflow.Tag, error) {
	v, ok := q.body[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, typeError(name, v)
	}
	out := make([]mlflow.Tag, len(raw))
	for i, p := range raw {
		out[i] = mlflow.Tag{Key: pyStr(p["key"]), Value: pyStr(p["value"])}
		if _, ok := p["value"]; !ok {
			out[i].Value = "None"
		}
	}
	return out, nil
}

// createPromptlabRun records a prompt engineering run from MLflow's UI: a
// finished run with the model's parameters, a "model" folder holding a
// pyfunc model of flavor mlflow.prompt.promptlab_model, and
// eval_results_table.json with the prompt's inputs and output. As MLflow,
// a failure after the run is created marks the run FAILED and still
// answers it.
func (a *API) createPromptlabRun(r *http.Request) (any, error) {
	if err := requireJSONBody(r); err != nil {
		return nil, err
	}
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	q := promptlabRequest{p.body}
	for _, name := range []string{"experiment_id", "prompt_template", "prompt_parameters", "model_route", "model_input", "mlflow_version"} {
		if !q.present(name) {
			return nil, mlflow.InvalidParam("CreatePromptlabRun request must specify %s.", name)
		}
	}
	promptParams, err := q.params("prompt_parameters")
	if err != nil {
		return nil, err
	}
	modelParams, err := q.params("model_parameters")
	if err != nil {
		return nil, err
	}
	outputParams, err := q.params("model_output_parameters")
	if err != nil {
		return nil, err
	}
	c := store.CreateRun{ExperimentID: q.str("experiment_id"), UserID: "unknown", StartTime: time.Now().UnixMilli()}
	if _, ok := q.body["user_id"]; ok {
		c.UserID = q.str("user_id")
	}
	if c.RunName, err = p.str("run_name"); err != nil {
		return nil, err
	}
	if _, ok := q.body["start_time"]; ok {
		if c.StartTime, _, err = p.int64Field("start_time"); err != nil {
			return nil, err
		}
	}
	if err := p.decode("tags", &c.Tags); err != nil {
		return nil, err
	}
	run, err := a.Tracking.CreateRun(r.Context(), c)
	if err != nil {
		return nil, err
	}
	id := run.Info.RunID
	status := mlflow.RunFinished
	lab := promptlab{
		template: q.str("prompt_template"), route: q.str("model_route"),
		promptParams: promptParams, modelParams: modelParams, outputParams: outputParams,
		input: q.body["model_input"], output: q.body["model_output"],
	}
	if err := a.writePromptlabRun(r.Context(), run, lab); err != nil {
		slog.WarnContext(r.Context(), "prompt lab run failed", "run_id", id, "err", err)
		status = mlflow.RunFailed
	}
	end := time.Now().UnixMilli()
	name := run.Info.RunName
	if _, err := a.Tracking.UpdateRun(r.Context(), store.UpdateRun{RunID: id, Status: &status, EndTime: &end, RunName: &name}); err != nil {
		return nil, err
	}
	if run, err = a.Tracking.GetRun(r.Context(), id); err != nil {
		return nil, err
	}
	return runResponse{run}, nil
}

type promptlab struct {
	template, route                         string
	promptParams, modelParams, outputParams []mlflow.Tag
	input, output                           json.RawMessage
}

func (a *API) writePromptlabRun(ctx context.Context, run *mlflow.Run, lab promptlab) error {
	id := run.Info.RunID
	params := append(append([]mlflow.Tag(nil), lab.modelParams...),
		mlflow.Tag{Key: "model_route", Value: lab.route}, mlflow.Tag{Key: "prompt_template", Value: lab.template})
	for i := range params {
		if err := mlflow.ValidateParamKey(params[i].Key, fmt.Sprintf("params[%d].key", i)); err != nil {
			return err
		}
		params[i].Value = mlflow.Truncate(params[i].Value, mlflow.MaxParamValueLength)
	}
	tags := []mlflow.Tag{
		{Key: "mlflow.loggedArtifacts", Value: `[{"path": "eval_results_table.json", "type": "table"}]`},
		{Key: "mlflow.runSourceType", Value: "PROMPT_ENGINEERING"},
	}
	if err := a.Tracking.LogBatch(ctx, id, nil, params, tags); err != nil {
		return err
	}
	created := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	uuid := make([]byte, 16)
	_, _ = rand.Read(uuid)
	modelUUID := hex.EncodeToString(uuid)
	history := mlflow.PyJSON(mlflow.PyObject{
		Keys: []string{"run_id", "artifact_path", "utc_time_created", "model_uuid", "flavors"},
		Vals: []any{id, "model", created, modelUUID, mlflow.PyObject{}},
	})
	if err := a.Tracking.LogModelHistory(ctx, id, json.RawMessage(history)); err != nil {
		return err
	}
	if err := checkRunFolder(run); err != nil {
		return err
	}
	repo, base, err := a.resolve(run.Info.ArtifactURI)
	if err != nil {
		return err
	}
	for name, body := range lab.files(id, created, modelUUID) {
		if err := repo.Put(ctx, artifact.JoinPath(base, name), bytes.NewReader(body), int64(len(body))); err != nil {
			return fromArtifactStore(err)
		}
	}
	return nil
}

// files are the run's artifacts as MLflow's _create_promptlab_run_impl
// writes them: the results table and the saved pyfunc model.
func (lab promptlab) files(runID, created, modelUUID string) map[string][]byte {
	// eval_results_table.json: {"columns": [...], "data": [[...]]}.
	var cols, row []any
	for _, p := range lab.promptParams {
		cols, row = append(cols, p.Key), append(row, p.Value)
	}
	cols = append(cols, "prompt", "output")
	row = append(row, pyValue(lab.input), pyValue(lab.output))
	for _, p := range lab.outputParams {
		cols, row = append(cols, p.Key), append(row, p.Value)
	}
	table := mlflow.PyJSON(mlflow.PyObject{Keys: []string{"columns", "data"}, Vals: []any{cols, []any{row}}})

	// model/parameters.yaml, read by mlflow.prompt.promptlab_model.
	var y strings.Builder
	y.WriteString("model_parameters:" + yamlMap(lab.modelParams))
	y.WriteString("model_route: " + yamlStr(lab.route) + "\n")
	y.WriteString("prompt_parameters:" + yamlMap(lab.promptParams))
	y.WriteString("prompt_template: " + yamlStr(lab.template) + "\n")

	var inputs []string
	var example []any
	for _, p := range lab.promptParams {
		inputs = append(inputs, mlflow.PyJSON(mlflow.PyObject{Keys: []string{"type", "name", "required"}, Vals: []any{"string", p.Key, true}}))
		example = append(example, p.Value)
	}
	signatureIn := "[" + strings.Join(inputs, ", ") + "]"
	signatureOut := `[{"type": "string", "name": "output", "required": true}]`
	mlmodel := "artifact_path: model\n" +
		"flavors:\n" +
		"  python_function:\n" +
		"    env:\n" +
		"      conda: conda.yaml\n" +
		"      virtualenv: python_env.yaml\n" +
		"    loader_module: mlflow.prompt.promptlab_model\n" +
		"    parameters_path: parameters.yaml\n" +
		"    python_version: 3.10.0\n" +
		"mlflow_version: " + promptlabVersion + "\n" +
		"model_uuid: " + modelUUID + "\n" +
		"run_id: " + runID + "\n" +
		"saved_input_example_info:\n" +
		"  artifact_path: input_example.json\n" +
		"  type: json_object\n" +
		"signature:\n" +
		"  inputs: " + yamlStr(signatureIn) + "\n" +
		"  outputs: " + yamlStr(signatureOut) + "\n" +
		"  params: null\n" +
		"utc_time_created: " + yamlStr(created) + "\n"
	req := "mlflow[gateway]==" + promptlabVersion
	return map[string][]byte{
		"eval_results_table.json":  []byte(table),
		"model/MLmodel":            []byte(mlmodel),
		"model/parameters.yaml":    []byte(y.String()),
		"model/input_example.json": []byte(mlflow.PyJSON(mlflow.PyObject{Keys: []string{"inputs"}, Vals: []any{example}})),
		"model/requirements.txt":   []byte(req),
		"model/conda.yaml": []byte("channels:\n- conda-forge\ndependencies:\n- python=3.10.0\n- pip<=24.0\n- pip:\n  - " +
			yamlStr(req) + "\nname: mlflow-env\n"),
		"model/python_env.yaml": []byte("python: 3.10.0\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"),
	}
}

// pyValue is a JSON value as json.loads gives it, for PyJSON.
func pyValue(v json.RawMessage) any {
	if len(v) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var out any
	if d.Decode(&out) != nil {
		return nil
	}
	return out
}

// yamlStr is s as a YAML double-quoted scalar (JSON's string syntax, which
// YAML reads).
func yamlStr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// yamlMap is a block mapping of string values, keys sorted as PyYAML's
// safe_dump writes them ("{}" when empty), starting after the key's colon.
func yamlMap(tags []mlflow.Tag) string {
	if len(tags) == 0 {
		return " {}\n"
	}
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("\n")
	for _, k := range keys {
		b.WriteString("  " + yamlStr(k) + ": " + yamlStr(m[k]) + "\n")
	}
	return b.String()
}
