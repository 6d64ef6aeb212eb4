package api

import (
	"os"
	"testing"
)

// TestCheckNoRelativeParts runs the examples of MLflow's
// _validate_non_local_source_contains_relative_paths docstring and sources
// its server accepts.
func TestCheckNoRelativeParts(t *testing.T) {
	bad := []string{
		"mlflow-artifacts://host:port/../../../../",
		"http://host:port/api/2.0/mlflow-artifacts/artifacts/../../../../",
		"https://host:port/api/2.0/mlflow-artifacts/artifacts/../../../../",
		"s3:/my_bucket/models/path/../../other/path",
		"file://path/to/../../../../some/where/you/should/not/be",
		"mlflow-artifacts://host:port/..%2f..%2f..%2f..%2f",
		"mlflow-artifacts://host:port/%252e%252e%252f",
		"http://host:port/api/2.0/mlflow-artifacts/artifacts%00",
		"mlflow-artifacts:/2/../../etc",
		"s3://bucket",
		"s3://bucket/a/./b",
	}
	good := []string{
		"s3://bucket/path/model",
		"s3://bucket/path/model/",
		"mlflow-artifacts:/1/0b589df73ef2459fbcc02fc7e9d39314/artifacts/model",
		"runs:/0b589df73ef2459fbcc02fc7e9d39314/model",
		"models:/m-879ab0aafbea40979f6a34502ebdaac6",
		"gs://bucket//double/slash",
		"http://host/a%zz/b",
	}
	for _, s := range bad {
		if checkNoRelativeParts(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range good {
		if err := checkNoRelativeParts(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
}

// TestIsLocalURI is MLflow's is_local_uri on Linux.
func TestIsLocalURI(t *testing.T) {
	cases := []struct {
		uri    string
		local  bool
		failed bool
	}{
		{"/abs/path", true, false},
		{"relative/path", true, false},
		{"file:///abs", true, false},
		{"file:/abs", true, false},
		{"file:rel", true, false},
		{"file://localhost/abs", true, false},
		{"file://localhost:5000/abs", true, false},
		{"file://127.0.0.1/abs", true, false},
		{"file://./abs", true, false},
		{"FILE://OTHERHOST/x", false, true},
		{"file://user@otherhost/x", false, true},
		{"file://[::1]/x", false, true},
		{"s3://bucket/x", false, false},
		{"mlflow-artifacts:/1/x", false, false},
		{"c:/x", false, false},
		{"1abc:/x", true, false},
	}
	for _, c := range cases {
		local, err := isLocalURI(c.uri)
		if local != c.local || (err != nil) != c.failed {
			t.Errorf("isLocalURI(%q) = %v, %v; want %v, failed %v", c.uri, local, err, c.local, c.failed)
		}
	}
}

// TestResolveArtifactLocation is MLflow's resolve_uri_if_local.
func TestResolveArtifactLocation(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"":                      "",
		"my_location":           cwd + "/my_location",
		"../up":                 cwd + "/../up",
		"a%2Fb":                 cwd + "/a/b",
		"file:rel":              "file://" + cwd + "/rel",
		"file:rel?q=1#f":        "file://" + cwd + "/rel?q=1#f",
		"/abs":                  "/abs",
		"file:///abs":           "file:///abs",
		"s3://bucket/rel":       "s3://bucket/rel",
		"mlflow-artifacts:/rel": "mlflow-artifacts:/rel",
	}
	for in, want := range cases {
		got, err := resolveArtifactLocation(in)
		if err != nil || got != want {
			t.Errorf("resolveArtifactLocation(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
