package gc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
)

// URIResolver resolves artifact URIs as the server does: mlflow-artifacts:
// URIs (served by the artifact proxy) below Destination, the server's
// --artifacts-destination; s3://bucket/key in the bucket; file:// URIs and
// plain paths on the local disk.
type URIResolver struct {
	Destination string
	// Open opens an artifact root: a local folder, file:///dir or
	// s3://bucket (artifact.Open fits).
	Open  func(ctx context.Context, root string) (Repository, error)
	repos map[string]Repository
}

// Resolve implements Resolver.
func (r *URIResolver) Resolve(ctx context.Context, uri string) (Repository, string, error) {
	root, path, err := splitURI(uri, r.Destination)
	if err != nil {
		return nil, "", err
	}
	if r.repos == nil {
		r.repos = map[string]Repository{}
	}
	repo, ok := r.repos[root]
	if !ok {
		if repo, err = r.Open(ctx, root); err != nil {
			return nil, "", err
		}
		r.repos[root] = repo
	}
	return repo, path, nil
}

// scheme is the lower-cased scheme of uri, "" for a plain path (a Windows
// drive letter is not a scheme).
func scheme(uri string) string {
	i := strings.IndexByte(uri, ':')
	if i < 2 {
		return ""
	}
	for _, c := range uri[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(uri[:i])
}

// splitURI splits an artifact URI into the root of its store and the path
// below it. It never yields the root itself: gc removes one run's, model's
// or experiment's folder, never a whole store.
func splitURI(uri, destination string) (root, path string, err error) {
	switch s := scheme(uri); s {
	case "mlflow-artifacts":
		if destination == "" {
			return "", "", errors.New("an mlflow-artifacts: URI needs --artifacts-destination (the server's artifact root)")
		}
		u, err := url.Parse(uri)
		if err != nil {
			return "", "", err
		}
		root, path = destination, strings.Trim(u.Path, "/")
	case "s3", "gs", "wasbs", "abfss", "oss":
		u, err := url.Parse(uri)
		if err != nil {
			return "", "", err
		}
		root, path = s+"://"+u.Host, strings.Trim(u.Path, "/")
	case "file":
		u, err := url.Parse(uri)
		if err != nil {
			return "", "", err
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", "", fmt.Errorf("file URI %q names a remote host", uri)
		}
		root, path = localSplit(u.Path)
	case "":
		abs, err := filepath.Abs(uri)
		if err != nil {
			return "", "", err
		}
		root, path = localSplit(abs)
	default:
		return "", "", fmt.Errorf("unsupported artifact URI scheme %q", s)
	}
	if path == "" || path == "." {
		return "", "", fmt.Errorf("artifact URI %q names the root of a store; gc removes only folders below it", uri)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == ".." {
			return "", "", fmt.Errorf("artifact URI %q leaves its store", uri)
		}
	}
	return root, path, nil
}

// localSplit splits an absolute local path into its parent folder and name.
func localSplit(p string) (string, string) {
	p = filepath.Clean(p)
	return filepath.Dir(p), filepath.Base(p)
}

// OpenRoot opens an artifact root with the artifact package: a local
// folder, file:///folder or s3://bucket (configured from the environment as
// the server is: MLFLOW_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). A local
// root that does not exist holds nothing: its artifacts are gone already,
// and it is not created just to find that out.
func OpenRoot(ctx context.Context, root string) (Repository, error) {
	dir := ""
	switch scheme(root) {
	case "":
		dir = root
	case "file":
		p, err := artifact.LocalPathFromFileURI(root)
		if err != nil {
			return nil, err
		}
		dir = p
	}
	if dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return goneRepo{}, nil
		}
	}
	return artifact.Open(ctx, root)
}

// goneRepo is a root that no longer exists: every delete is done already.
type goneRepo struct{}

func (goneRepo) Delete(ctx context.Context, path string) error { return nil }
