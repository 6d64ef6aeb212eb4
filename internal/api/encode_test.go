package api

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
)

func stdEncode(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestRunEncoder checks that the hand-written run encoder writes exactly
// what encoding/json writes, for empty and full runs and awkward strings.
func TestRunEncoder(t *testing.T) {
	start, end := int64(5), int64(9)
	odd := "q\"uo\\te <&> \n\t\u2028 é \xff"
	runs := []mlflow.Run{
		{},
		{Info: mlflow.RunInfo{RunID: "r", RunUUID: "r", ExperimentID: "0", StartTime: &start, EndTime: &end, Status: "RUNNING", RunName: odd}, Outputs: &mlflow.RunOutputs{}},
		{
			Data: mlflow.RunData{
				Metrics: []mlflow.Metric{
					{Key: "a", Value: 1.5, Timestamp: 1, Step: 2},
					{Key: odd, Value: mlflow.Float(math.NaN()), Timestamp: -1},
					{Key: "b", Value: mlflow.Float(math.Inf(-1)), ModelID: "m", RunID: "r", DatasetName: "d", DatasetDigest: "x"},
					{Key: "c", Value: 1e-7},
					{Key: "d", Value: 1e21},
				},
				Params: []mlflow.Tag{{Key: "p", Value: ""}, {Key: odd, Value: odd}},
				Tags:   []mlflow.Tag{{Key: "t", Value: "v"}},
			},
			Inputs:  mlflow.RunInputs{DatasetInputs: []mlflow.DatasetInput{{Dataset: mlflow.Dataset{Name: "n", Digest: "d"}, Tags: []mlflow.Tag{{Key: "k", Value: "v"}}}}, ModelInputs: []mlflow.ModelInput{{ModelID: "m"}}},
			Outputs: &mlflow.RunOutputs{ModelOutputs: []mlflow.ModelOutput{{ModelID: "m", Step: 3}}},
		},
		{Data: mlflow.RunData{Tags: []mlflow.Tag{{Key: "only", Value: "tags"}}}},
		{Data: mlflow.RunData{Params: []mlflow.Tag{{Key: "only", Value: "params"}}}},
	}
	for i := range runs {
		want := stdEncode(t, runResponse{&runs[i]})
		got := `{"run":` + string(appendRun(nil, &runs[i])) + "}\n"
		if got != want {
			t.Errorf("run %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for _, c := range []struct {
		runs []mlflow.Run
		next string
	}{{nil, ""}, {nil, "tok"}, {runs, ""}, {runs[1:3], "eyJvZmZzZXQiOiAyfQ=="}} {
		want := stdEncode(t, searchRunsResponse{c.runs, c.next})
		if got := string(encodeSearchRuns(c.runs, c.next)) + "\n"; got != want {
			t.Errorf("search:\n got %s\nwant %s", got, want)
		}
	}
}
