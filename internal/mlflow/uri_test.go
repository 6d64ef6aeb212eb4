package mlflow

import (
	"strings"
	"testing"
)

func TestValidateArtifactLocation(t *testing.T) {
	for loc, want := range map[string]string{
		"":                              "",
		"mlflow-artifacts:/1":           "",
		"s3://bucket/p?x=1":             "",
		"/srv/mlruns/1":                 "",
		"file:///srv/m;x":               "", // Python's urlparse splits no params for file:
		"mlflow-artifacts:/1?":          "fragments or params",
		"mlflow-artifacts:/1?x=1":       "fragments or params",
		"mlflow-artifacts:/1#":          "fragments or params",
		"s3://b/p#frag":                 "fragments or params",
		"/srv/m;params":                 "fragments or params",
		"https://h/p;params":            "fragments or params",
		"s3://b/p?x=../y":               "Invalid query string",
		"s3://b/p?x=%2e%2e":             "Invalid query string",
		"s3://b/p?x=%252e%252e":         "Invalid query string",
		"runs:/abc/model":               "runs:/ URI",
		"MLFLOW-ARTIFACTS:/1?":          "fragments or params",
		"mlflow-artifacts://h:5000/1?a": "fragments or params",
	} {
		err := ValidateArtifactLocation(loc)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", loc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", loc, err, want)
		}
	}
}

func TestIsEntityFolder(t *testing.T) {
	for _, c := range []struct {
		uri, parent string
		tail        []string
		want        bool
	}{
		{"mlflow-artifacts:/1/r/artifacts", "", []string{"r", "artifacts"}, true},
		{"mlflow-artifacts:/1/r/artifacts", "mlflow-artifacts:/1", []string{"r", "artifacts"}, true},
		{"mlflow-artifacts:/1/r/artifacts?x", "mlflow-artifacts:/1?x", []string{"r", "artifacts"}, true},
		{"mlflow-artifacts:/1?/r/artifacts", "", []string{"r", "artifacts"}, false},
		{"mlflow-artifacts:/1#/r/artifacts", "", []string{"r", "artifacts"}, false},
		{"mlflow-artifacts:/?/r/artifacts", "", []string{"r", "artifacts"}, false},
		{"mlflow-artifacts:/2/r/artifacts", "mlflow-artifacts:/1", []string{"r", "artifacts"}, false},
		{"s3://a/1/r/artifacts", "s3://b/1", []string{"r", "artifacts"}, false},
		{"mlflow-artifacts:/1/models/m-1/artifacts", "", []string{"models", "m-1", "artifacts"}, true},
		{"mlflow-artifacts:/1/r/artifacts", "", []string{"", "artifacts"}, false},
		{"/srv/1/r/artifacts", "/srv/1", []string{"r", "artifacts"}, true},
	} {
		if got := IsEntityFolder(c.uri, c.parent, c.tail...); got != c.want {
			t.Errorf("IsEntityFolder(%q, %q, %v) = %v", c.uri, c.parent, c.tail, got)
		}
	}
}
