package artifact_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

func mlflowErr(err error) (int, bool) {
	e, ok := mlflow.AsError(err)
	if !ok {
		return 0, false
	}
	return e.HTTPStatus(), true
}

func TestURIHelpers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{artifact.ExperimentLocation(true, "./mlartifacts", "2"), "mlflow-artifacts:/2"},
		{artifact.ExperimentLocation(false, "s3://bucket/root", "2"), "s3://bucket/root/2"},
		{artifact.ExperimentLocation(false, "/data/mlruns/", "7"), "/data/mlruns/7"},
		{artifact.RunArtifactURI("mlflow-artifacts:/2", "0b58"), "mlflow-artifacts:/2/0b58/artifacts"},
		{artifact.RunArtifactURI("s3://b/p?versionId=1", "r"), "s3://b/p/r/artifacts?versionId=1"},
		{artifact.RunArtifactURI("file:///tmp/x", "r"), "file:///tmp/x/r/artifacts"},
		{artifact.ModelArtifactURI("mlflow-artifacts:/1", "m-93"), "mlflow-artifacts:/1/models/m-93/artifacts"},
		{artifact.AppendToURI("s3://b", "x"), "s3://b/x"},
		{artifact.AppendToURI("s3://b/", "/x/", "y"), "s3://b/x/y"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for uri, want := range map[string]string{
		"mlflow-artifacts:/2/abc/artifacts":                 "s3://b/mlartifacts/2/abc/artifacts",
		"mlflow-artifacts://127.0.0.1:5000/2/abc/artifacts": "s3://b/mlartifacts/2/abc/artifacts",
		"mlflow-artifacts:/":                                "s3://b/mlartifacts",
		"s3://other/x":                                      "s3://other/x",
	} {
		got, err := artifact.ResolveProxyURI("s3://b/mlartifacts", uri)
		if err != nil || got != want {
			t.Errorf("ResolveProxyURI(%q) = %q, %v; want %q", uri, got, err, want)
		}
	}
	for _, uri := range []string{"mlflow-artifacts:/2/../../etc", "mlflow-artifacts:/2/%2e%2e/%2e%2e/etc", `mlflow-artifacts:/2/..\..\etc`} {
		if _, err := artifact.ResolveProxyURI("/data", uri); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("ResolveProxyURI(%q) = %v, want Invalid path", uri, err)
		}
	}
	for uri, want := range map[string]string{"": "", "./x": "", "/a/b": "", `C:\data`: "", "s3://b": "s3", "FILE:///x": "file", "mlflow-artifacts:/1": "mlflow-artifacts"} {
		if got := artifact.URIScheme(uri); got != want {
			t.Errorf("URIScheme(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, uri := range []string{dir + "/plain", "file://" + dir + "/uri", "file:" + dir + "/short"} {
		repo, err := artifact.Open(ctx, uri)
		if err != nil {
			t.Fatalf("Open(%q): %v", uri, err)
		}
		if _, ok := repo.(*artifact.Local); !ok {
			t.Errorf("Open(%q) = %T", uri, repo)
		}
		repo.(*artifact.Local).Close()
	}
	for _, uri := range []string{"gs://bucket/x", "file://remote-host/x", "s3:///nobucket"} {
		if _, err := artifact.Open(ctx, uri); err == nil {
			t.Errorf("Open(%q) succeeded", uri)
		}
	}
	t.Setenv("MLFLOW_S3_IGNORE_TLS", "maybe")
	if _, err := artifact.Open(ctx, "s3://bucket/p"); err == nil {
		t.Error("MLFLOW_S3_IGNORE_TLS=maybe accepted")
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"hello.txt":        "text/plain",
		"dir/data.json":    "text/plain",
		"MLmodel":          "text/plain",
		"conda.yaml":       "text/plain",
		"requirements.txt": "text/plain",
		"model.pth":        "application/octet-stream",
		"noext":            "application/octet-stream",
		"plot.png":         "image/png",
		"PLOT.PNG":         "image/png",
		"report.html":      "text/html",
		"archive.tar.gz":   "application/x-tar",
		"data.json.gz":     "application/json",
		"weights.pkl.gz":   "application/octet-stream",
		"figure.svg":       "image/svg+xml",
		"table.parquet":    "application/octet-stream",
		"notes.md":         "text/plain",
	} {
		if got := artifact.ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestResolverReadsTheURIPath: below a root, a URI's query and fragment are
// not part of the path served (in a plain path they are file name
// characters).
func TestResolverReadsTheURIPath(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fileRoot := "file://" + dir
	repo, err := artifact.Open(ctx, fileRoot)
	if err != nil {
		t.Fatal(err)
	}
	r := &artifact.Resolver{Roots: map[string]artifact.Repository{fileRoot: repo, dir: repo}}
	for uri, want := range map[string]string{
		fileRoot + "/1/r/artifacts?x=1#f": "1/r/artifacts",
		fileRoot + "/1/r/artifacts#/2":    "1/r/artifacts",
		dir + "/1?/r/artifacts":           "1?/r/artifacts",
	} {
		if _, p, err := r.Resolve(uri); err != nil || p != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", uri, p, err, want)
		}
	}
	for _, c := range []struct{ a, want string }{
		{"mlflow-artifacts:/1?", "mlflow-artifacts:/1/r/artifacts"},
		{"mlflow-artifacts:/1#", "mlflow-artifacts:/1/r/artifacts"},
		{"mlflow-artifacts:/1?x=1#y", "mlflow-artifacts:/1/r/artifacts?x=1#y"},
		{"mlflow-artifacts:", "mlflow-artifacts:/r/artifacts"},
		{"/srv/m?x", "/srv/m?x/r/artifacts"},
		{"s3://bucket", "s3://bucket/r/artifacts"},
	} {
		if got := artifact.AppendToURI(c.a, "r", "artifacts"); got != c.want {
			t.Errorf("AppendToURI(%q) = %q, want %q", c.a, got, c.want)
		}
	}
}
