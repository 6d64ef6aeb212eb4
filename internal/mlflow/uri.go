package mlflow

import (
	"net/url"
	"regexp"
	"strings"
)

// uriSchemeRe is a URI scheme as Python's urlparse reads one (two
// characters at least, so that a Windows drive letter is a path).
var uriSchemeRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.\-]+):`)

// URIScheme is the lower-cased scheme of uri, "" for a plain path.
func URIScheme(uri string) string {
	if m := uriSchemeRe.FindStringSubmatch(uri); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// splitQueryFragment splits uri at its query ("?") and fragment ("#").
func splitQueryFragment(uri string) (base, query, fragment string, hasQuery, hasFragment bool) {
	rest, fragment, hasFragment := strings.Cut(uri, "#")
	base, query, hasQuery = strings.Cut(rest, "?")
	return
}

// AppendURIPath appends path parts to the path of uri, as MLflow's
// append_to_uri_path: the parts go before the query and fragment, never
// into them ("s3://b/p?x=1" + "7" is "s3://b/p/7?x=1"), and an empty query
// or fragment is dropped as urlunparse drops it ("mlflow-artifacts:/1?" +
// "r" is "mlflow-artifacts:/1/r"). A plain path (no scheme) is joined as a
// string, as MLflow joins POSIX paths: there "?" and "#" are file name
// characters.
//
// Every artifact URI derived from another (a run's, a logged model's, a
// model version's, a trace's) must be built with it: concatenating strings
// would put the child's name in the parent's query or fragment, where the
// artifact proxy and gc, which keep only the URI's path, would not see it.
func AppendURIPath(uri string, parts ...string) string {
	tail := joinParts(parts)
	if URIScheme(uri) == "" {
		return joinPosix(uri, tail)
	}
	base, query, fragment, _, _ := splitQueryFragment(uri)
	out := joinPosix(base, tail)
	if query != "" {
		out += "?" + query
	}
	if fragment != "" {
		out += "#" + fragment
	}
	return out
}

func joinParts(parts []string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

func joinPosix(base, tail string) string {
	switch {
	case tail == "":
		return base
	case base == "" || strings.HasSuffix(base, "/"):
		return base + tail
	}
	return base + "/" + tail
}

// URIPathSegments is the path of uri split into its non-empty segments, as
// the artifact proxy and gc read it: for a URI with a scheme, the URL's
// (percent-decoded) path without query and fragment; for a plain path, the
// whole string. ok is false when uri does not parse.
func URIPathSegments(uri string) (segs []string, ok bool) {
	p := uri
	if URIScheme(uri) != "" {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, false
		}
		p = u.Path
		if u.Opaque != "" { // "scheme:relative/path"
			p = u.Opaque
		}
	}
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			segs = append(segs, s)
		}
	}
	return segs, true
}

// IsEntityFolder reports whether uri is an entity's own artifact folder:
// its path ends with the segments of tail (a run's "<run_id>/artifacts", a
// logged model's "models/<model_id>/artifacts"), none of which is empty,
// and, when parent (the experiment's location) is not empty, the rest of
// the path is exactly parent's path. Artifact URIs built by an older
// mltrack by string concatenation from a location with a query or fragment
// ("mlflow-artifacts:/1?" + "/<run>/artifacts") fail it: their path is the
// other experiment's folder.
func IsEntityFolder(uri, parent string, tail ...string) bool {
	for _, t := range tail {
		if t == "" || strings.Contains(t, "/") {
			return false
		}
	}
	segs, ok := URIPathSegments(uri)
	if !ok || len(segs) < len(tail) {
		return false
	}
	for i, t := range tail {
		if segs[len(segs)-len(tail)+i] != t {
			return false
		}
	}
	if parent == "" {
		return true
	}
	if URIScheme(parent) != URIScheme(uri) || uriHost(parent) != uriHost(uri) {
		return false
	}
	psegs, ok := URIPathSegments(parent)
	if !ok || len(psegs) != len(segs)-len(tail) {
		return false
	}
	for i := range psegs {
		if psegs[i] != segs[i] {
			return false
		}
	}
	return true
}

func uriHost(uri string) string {
	if URIScheme(uri) == "" {
		return ""
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "\x00"
	}
	return strings.ToLower(u.Host)
}

// artifactLocationBadFragment is MLflow's refusal of a location with a
// fragment or params.
const artifactLocationBadFragment = "'artifact_location' URL can't include fragments or params."

// usesParams are the schemes whose URLs Python's urlparse splits
// ";params" off the last path segment for (urllib.parse.uses_params).
var usesParams = map[string]bool{"": true, "ftp": true, "hdl": true, "prospero": true, "http": true, "imap": true,
	"https": true, "shttp": true, "rtsp": true, "rtspu": true, "sip": true, "sips": true, "mms": true, "sftp": true, "tel": true}

// ValidateArtifactLocation checks an experiment's artifact_location as
// MLflow's create_experiment handler does, and a little more:
//
//   - a fragment ("#...") or params (";..." on the last segment, for the
//     schemes Python's urlparse splits them for): "'artifact_location' URL
//     can't include fragments or params." MLflow lets an empty fragment
//     ("mlflow-artifacts:/1#") through; mltrack refuses any "#".
//   - ".." in the (repeatedly percent-decoded) query: "Invalid query
//     string", MLflow's message.
//   - any query on an mlflow-artifacts: location (MLflow accepts one): the
//     artifact proxy ignores queries, so one there only hides which folder
//     the location is. Refused with the fragments-or-params message.
//   - a runs:/ URI: MLflow's "Artifact location cannot be a runs:/ URI".
func ValidateArtifactLocation(loc string) error {
	if loc == "" {
		return nil
	}
	scheme := URIScheme(loc)
	if scheme == "runs" {
		return InvalidParam("Artifact location cannot be a runs:/ URI. Given: '%s'", loc)
	}
	base, query, _, hasQuery, hasFragment := splitQueryFragment(loc)
	if hasFragment {
		return InvalidParam(artifactLocationBadFragment)
	}
	if usesParams[scheme] {
		last := base[strings.LastIndexByte(base, '/')+1:]
		if _, params, ok := strings.Cut(last, ";"); ok && params != "" {
			return InvalidParam(artifactLocationBadFragment)
		}
	}
	if hasQuery && scheme == "mlflow-artifacts" {
		return InvalidParam(artifactLocationBadFragment)
	}
	if strings.Contains(decodeRepeatedly(query), "..") {
		return InvalidParam("Invalid query string")
	}
	return nil
}

// decodeRepeatedly percent-decodes s until it stops changing (at most 10
// times), as MLflow's validate_query_string.
func decodeRepeatedly(s string) string {
	for range 10 {
		d, err := url.QueryUnescape(strings.ReplaceAll(s, "+", "%2B"))
		if err != nil || d == s {
			return s
		}
		s = d
	}
	return s
}
