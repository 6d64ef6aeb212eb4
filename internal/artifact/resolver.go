package artifact

import (
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Resolver maps the artifact URIs stored in the database (run artifact
// URIs, logged model and model version locations) to a repository and a
// path inside it, for the endpoints that read artifacts on a client's
// behalf (artifacts/list, get-artifact, logged model listings).
//
// Only URIs below roots the operator configured are served: the proxy
// (mlflow-artifacts:/...) and the default artifact root. An experiment
// created with artifact_location=file:///etc would otherwise let any
// client read the server's files through these endpoints.
type Resolver struct {
	// Proxy serves mlflow-artifacts:/ URIs; nil when the server does not
	// serve artifacts.
	Proxy Repository
	// Roots are other artifact roots by URI (e.g. the default artifact
	// root s3://bucket/mlruns), each with its repository.
	Roots map[string]Repository
}

// Resolve returns the repository holding uri and the path of uri inside it.
func (r *Resolver) Resolve(uri string) (Repository, string, error) {
	if IsProxyURI(uri) {
		if r.Proxy == nil {
			return nil, "", mlflow.InvalidParam("artifact URI %s needs the artifact proxy, and this server runs without --serve-artifacts", uri)
		}
		p, err := ProxyPath(uri)
		if err != nil {
			return nil, "", err
		}
		return r.Proxy, p, nil
	}
	if URIScheme(uri) != "" {
		// A URI's query and fragment are no part of where its files are
		// (MLflow's repositories read the parsed path); in a plain path
		// "?" and "#" are file name characters.
		uri, _, _ = strings.Cut(uri, "#")
		uri, _, _ = strings.Cut(uri, "?")
	}
	for root, repo := range r.Roots {
		root = strings.TrimSuffix(root, "/")
		if uri == root {
			return repo, "", nil
		}
		if rest, ok := strings.CutPrefix(uri, root+"/"); ok {
			p, err := ValidatePath(rest)
			if err != nil {
				return nil, "", err
			}
			return repo, p, nil
		}
	}
	return nil, "", mlflow.InvalidParam("artifact URI %s is outside the artifact roots this server serves", uri)
}
