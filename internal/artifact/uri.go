package artifact

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// ProxyScheme is the scheme of artifact URIs served by the server's
// artifact proxy: mlflow-artifacts:/<path below --artifacts-destination>.
const ProxyScheme = "mlflow-artifacts"

// AppendToURI appends path segments to the path of uri, keeping its scheme,
// authority, query and fragment, as MLflow's append_to_uri_path does:
// AppendToURI("s3://b/p?x=1", "7", "artifacts") is "s3://b/p/7/artifacts?x=1",
// AppendToURI("mlflow-artifacts:/2", "abc") is "mlflow-artifacts:/2/abc".
func AppendToURI(uri string, parts ...string) string {
	return mlflow.AppendURIPath(uri, parts...)
}

// ExperimentLocation is the artifact location of a new experiment whose
// request gave none: mlflow-artifacts:/<id> when the server proxies
// artifacts, else <defaultRoot>/<id>.
func ExperimentLocation(serveArtifacts bool, defaultRoot, experimentID string) string {
	if serveArtifacts {
		return ProxyScheme + ":/" + experimentID
	}
	return AppendToURI(defaultRoot, experimentID)
}

// RunArtifactURI is a run's artifact URI: <experiment location>/<run_id>/artifacts.
func RunArtifactURI(experimentLocation, runID string) string {
	return AppendToURI(experimentLocation, runID, "artifacts")
}

// ModelArtifactURI is a logged model's artifact URI:
// <experiment location>/models/<model_id>/artifacts.
func ModelArtifactURI(experimentLocation, modelID string) string {
	return AppendToURI(experimentLocation, "models", modelID, "artifacts")
}

// IsProxyURI reports whether uri is served by the artifact proxy
// (mlflow-artifacts:...).
func IsProxyURI(uri string) bool { return URIScheme(uri) == ProxyScheme }

// ProxyPath is the path below the proxy's root that a proxied URI names:
// mlflow-artifacts:/2/abc/artifacts and mlflow-artifacts://host:5000/2/abc/artifacts
// both give "2/abc/artifacts". The path is validated with ValidatePath.
func ProxyPath(uri string) (string, error) {
	if !IsProxyURI(uri) {
		return "", fmt.Errorf("artifact: %q is not an %s: URI", uri, ProxyScheme)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", ErrInvalidPath
	}
	return ValidatePath(strings.TrimLeft(u.Path, "/"))
}

// ResolveProxyURI maps a proxied URI onto the proxy's destination root
// (--artifacts-destination): ResolveProxyURI("s3://b/mlartifacts",
// "mlflow-artifacts:/2/abc/artifacts") is "s3://b/mlartifacts/2/abc/artifacts".
// Other URIs are returned unchanged.
func ResolveProxyURI(destinationRoot, uri string) (string, error) {
	if !IsProxyURI(uri) {
		return uri, nil
	}
	p, err := ProxyPath(uri)
	if err != nil {
		return "", err
	}
	return AppendToURI(destinationRoot, p), nil
}
