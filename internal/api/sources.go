package api

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// MLflow's rules for local paths in URIs a client gives (an experiment's
// artifact_location, a model version's source), from mlflow/utils/uri.py
// and the model-versions/create handler. "Local" means a plain path or a
// file: URI on this host, resolved against the server's working directory.

var uriScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.\-]*):`)

// pyURI is the part of Python's urllib.parse.urlparse MLflow's checks use.
type pyURI struct {
	scheme, netloc, path, query, fragment string
}

func parsePyURI(uri string) pyURI {
	var u pyURI
	rest := uri
	if m := uriScheme.FindStringSubmatch(uri); m != nil {
		u.scheme, rest = strings.ToLower(m[1]), uri[len(m[0]):]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		i := strings.IndexAny(rest, "/?#")
		if i < 0 {
			i = len(rest)
		}
		u.netloc, rest = rest[:i], rest[i:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.fragment, rest = rest[i+1:], rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.query, rest = rest[i+1:], rest[:i]
	}
	u.path = rest
	return u
}

// hostname is Python's urlparse(...).hostname: the netloc without user
// info and port, lower-cased.
func (u pyURI) hostname() string {
	h := u.netloc
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return strings.ToLower(h[1:i])
		}
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// isLocalURI is MLflow's is_local_uri: a plain path, or a file: URI on
// this host. A file: URI naming another host is an error (MLflow's
// exception there is a 500; here it is the client's 400).
func isLocalURI(uri string) (bool, error) {
	u := parsePyURI(uri)
	if u.scheme == "" {
		return true, nil
	}
	h := u.hostname()
	remote := h != "" && h != "." && !strings.HasPrefix(h, "localhost") && !strings.HasPrefix(h, "127.0.0.1")
	if u.scheme != "file" {
		return false, nil
	}
	if remote {
		return false, mlflow.InvalidParam("%s is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).", uri)
	}
	return true, nil
}

// localFilePath is MLflow's local_file_uri_to_path: the path of a file:
// URI, or the plain path, percent-decoded.
func localFilePath(uri string) string {
	p := uri
	if strings.HasPrefix(uri, "file:") {
		p = parsePyURI(uri).path
	}
	if d := pyUnquote(p, false); d != "" {
		return d
	}
	return p
}

// absLocalPath is p absolute against the working directory, with "." and
// ".." resolved.
func absLocalPath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		cwd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p), nil
}

// resolveLocalPath is pathlib's Path(p).resolve() (os.path.realpath):
// absolute against the working directory, each component's symbolic link
// followed before the next ".." applies; components that do not exist are
// taken as they are.
func resolveLocalPath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		cwd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		p = cwd + "/" + p
	}
	resolved := "/"
	parts := strings.Split(p, "/")
	for links := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 || links >= 40 {
			resolved = next
			continue
		}
		target, err := os.Readlink(next)
		if err != nil {
			resolved = next
			continue
		}
		links++
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		parts = append(strings.Split(target, "/"), parts...)
	}
	return resolved, nil
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// resolveArtifactLocation is MLflow's resolve_uri_if_local for an
// experiment's artifact_location: a relative local path becomes absolute
// against the server's working directory (a plain path stays a plain path,
// a file: URI stays a file: URI); anything else is kept as given.
func resolveArtifactLocation(loc string) (string, error) {
	if loc == "" {
		return "", nil
	}
	local, err := isLocalURI(loc)
	if err != nil || !local {
		return loc, err
	}
	p := localFilePath(loc)
	if path.IsAbs(p) {
		return loc, nil
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	// pathlib's joinpath: separators collapsed, "." segments and a trailing
	// slash dropped, ".." kept.
	var segs []string
	for _, s := range strings.Split(filepath.ToSlash(cwd)+"/"+p, "/") {
		if s != "" && s != "." {
			segs = append(segs, s)
		}
	}
	abs := "/" + strings.Join(segs, "/")
	u := parsePyURI(loc)
	if u.scheme == "" {
		return abs, nil
	}
	out := u.scheme + "://" + abs
	if u.query != "" {
		out += "?" + u.query
	}
	if u.fragment != "" {
		out += "#" + u.fragment
	}
	return out, nil
}

// validateModelVersionSource applies MLflow's rules for a version's source
// (not checked for prompts): a local path only inside the artifact folder
// of the run, or with model_id of the logged model, named in the request;
// no relative path parts in any other URI.
func (a *API) validateModelVersionSource(r *http.Request, c store.CreateModelVersion) error {
	for _, t := range c.Tags {
		if t.Key == mlflow.TagIsPrompt {
			return nil
		}
	}
	local, err := isLocalURI(c.Source)
	if err != nil {
		return err
	}
	if !local {
		return checkNoRelativeParts(c.Source)
	}
	what, id := "run_id", c.RunID
	if c.ModelID != "" {
		what, id = "model_id", c.ModelID
	}
	shown := c.Source
	if id != "" {
		var root string
		if c.ModelID != "" {
			m, err := a.LoggedModels.GetLoggedModel(r.Context(), c.ModelID)
			if err != nil {
				return err
			}
			if err := checkLoggedModelFolder(m); err != nil {
				return err
			}
			root = m.Info.ArtifactURI
		} else {
			run, err := a.Tracking.GetRun(r.Context(), c.RunID)
			if err != nil {
				return err
			}
			if err := checkRunFolder(run); err != nil {
				return err
			}
			root = run.Info.ArtifactURI
		}
		local := localFilePath(c.Source)
		// MLflow names the resolved path once it has one; here without
		// following links, so that the message tells nothing about the
		// server's files.
		if shown, err = absLocalPath(local); err != nil {
			return err
		}
		src, err := resolveLocalPath(local)
		if err != nil {
			return err
		}
		rootLocal, err := isLocalURI(root)
		if err != nil {
			return err
		}
		if rootLocal {
			dir, err := resolveLocalPath(localFilePath(root))
			if err != nil {
				return err
			}
			if within(src, dir) {
				return nil
			}
		}
	}
	return mlflow.InvalidParam("Invalid model version source: '%s'. To use a local path as a model version source, the %s request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the %s.", shown, what, what)
}

// checkNoRelativeParts is MLflow's
// _validate_non_local_source_contains_relative_paths: after any number of
// percent-decodings, the URI's path has no ".." part and no NUL, and is
// already absolute and clean.
func checkNoRelativeParts(source string) error {
	s := source
	for {
		u := pyUnquote(s, true)
		if u == s {
			break
		}
		s = u
	}
	p := strings.TrimRight(parsePyURI(s).path, "/")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	bad := strings.Contains(p, "\x00") || !strings.HasPrefix(p, "/") || path.Clean(p) != p
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			bad = true
		}
	}
	if bad {
		return mlflow.InvalidParam("Invalid model version source: '%s'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.", source)
	}
	return nil
}

// pyUnquote is Python's urllib.parse.unquote (unquote_plus with plus):
// valid %XX escapes decoded, anything else kept as it is.
func pyUnquote(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plus:
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
