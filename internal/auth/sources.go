package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// Indirections: a model version is a pointer to files (its source), and
// the registry serves those files to whoever may read the registered
// model. Creating a version therefore needs READ on what its run_id,
// model_id and source name (as MLflow's merged PR #24293 and open PR #26037
// require), and /model-versions/get-artifact needs READ on the experiment
// holding the files as well, so that versions made before this check, or
// by MLflow, serve no more than the proxy would serve the caller.

// allowedExtra applies a rule's extra check to a non-admin.
func (s *Service) allowedExtra(r *http.Request, rl rule, u *User, f *fields) (bool, error) {
	ctx := r.Context()
	switch rl.extra {
	case xVersionSource:
		for _, ref := range []struct {
			field  string
			lookup func(context.Context, string) (string, error)
		}{{"run_id", s.lookup.RunExperimentID}, {"model_id", s.lookup.LoggedModelExperimentID}} {
			id, _, err := f.get(ref.field)
			if err != nil || id == "" {
				continue // the handler answers a field of the wrong type
			}
			if ok, err := s.canReadExperimentOf(ctx, u, id, ref.lookup); !ok || err != nil {
				return false, err
			}
		}
		source, _, err := f.get("source")
		if err != nil || source == "" {
			return true, nil // the handler answers the missing source
		}
		return s.canReadSource(ctx, u, source)
	case xVersionFiles:
		name, _, _ := f.get("name")
		v, _, _ := f.get("version")
		version, err := strconv.ParseInt(v, 10, 64)
		if name == "" || err != nil {
			return true, nil // the handler answers the bad request
		}
		uri, err := s.lookup.GetModelVersionDownloadURI(ctx, name, version)
		if isNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return s.canReadURI(ctx, u, uri)
	}
	return false, nil
}

// canReadExperimentOf answers whether u may read the experiment of a run
// or logged model; an unknown one is refused, as MLflow does.
func (s *Service) canReadExperimentOf(ctx context.Context, u *User, id string, lookup func(context.Context, string) (string, error)) (bool, error) {
	exp, err := lookup(ctx, id)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p, err := s.permissionOn(ctx, experimentPerms, exp, u)
	return p.CanRead, err
}

// canReadSource answers whether u may read what a model version source
// names: the run of runs:/<run_id>/..., the logged model of models:/m-...,
// the registered model of models:/<name>/... (refused with the answer the
// store gives for a model that does not exist, so that the refusal does
// not tell that it exists), or the experiment whose folder holds an
// artifact URI.
func (s *Service) canReadSource(ctx context.Context, u *User, source string) (bool, error) {
	if mu, ok := mlflow.ParseModelsURI(source); ok {
		if mu.ModelID != "" {
			return s.canReadExperimentOf(ctx, u, mu.ModelID, s.lookup.LoggedModelExperimentID)
		}
		p, err := s.permissionOn(ctx, modelPerms, mu.Name, u)
		if err != nil {
			return false, err
		}
		if !p.CanRead {
			return false, asHandlerError{mlflow.UnfetchableModelSource(source, mlflow.RegisteredModelNotFound(mu.Name))}
		}
		return true, nil
	}
	if rest, ok := strings.CutPrefix(source, "runs:/"); ok {
		runID, _, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
		if runID == "" {
			return true, nil // nothing to read: the handler keeps or refuses it
		}
		return s.canReadExperimentOf(ctx, u, runID, s.lookup.RunExperimentID)
	}
	return s.canReadURI(ctx, u, source)
}

// canReadURI answers whether u may read an artifact URI the server would
// serve: as the artifact proxy decides for its path (READ on the
// experiment whose ID starts it, else the default permission). A URI the
// server does not serve gives nothing to read.
func (s *Service) canReadURI(ctx context.Context, u *User, uri string) (bool, error) {
	var p string
	switch {
	case s.cfg.ArtifactPath != nil:
		var served bool
		if p, served = s.cfg.ArtifactPath(uri); !served {
			return true, nil
		}
	case artifact.IsProxyURI(uri):
		var err error
		if p, err = artifact.ProxyPath(uri); err != nil {
			return true, nil
		}
	default:
		return true, nil
	}
	if artifact.IsProxyURI(uri) {
		uri = artifact.ProxyScheme + ":/" + p // the form experiments' locations have
	}
	return s.artifactPathAllowed(ctx, u, uri, p, ActRead)
}

// hidesModel reports whether refusing rl tells that a registered model
// exists: a read, when the default permission lets anyone read models
// without a grant (a model that does not exist is then answered by the
// handler, 404, and an explicit NO_PERMISSIONS would be a telling 403).
func (s *Service) hidesModel(rl rule) bool {
	return rl.target == tRegisteredModel && rl.action == ActRead && s.defaultPerm.CanRead
}

// answerAsMissingModel answers a refused read of a registered model
// exactly as the handler answers the same request for a model that does
// not exist: the request is served with the name replaced by one that
// cannot exist (the name and 128 random bits), and that name is replaced
// back in the answer. Only read routes come here, so nothing is changed.
func (s *Service) answerAsMissingModel(w http.ResponseWriter, r *http.Request, next http.Handler, f *fields) {
	name, _, err := f.get("name")
	if err != nil || name == "" {
		forbidden(w)
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	fake := name + "-" + hex.EncodeToString(b[:])
	cw := newCapture()
	next.ServeHTTP(cw, withField(r, f, "name", fake))
	if cw.status == http.StatusOK {
		forbidden(w) // cannot happen for a name nobody has
		return
	}
	body := cw.body.Bytes()
	for _, pair := range [][2]string{{jsonText(fake), jsonText(name)}, {fake, name}} {
		body = []byte(strings.ReplaceAll(string(body), pair[0], pair[1]))
	}
	cw.body.Reset()
	cw.body.Write(body)
	cw.header.Set("Content-Length", strconv.Itoa(len(body)))
	cw.copyTo(w)
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// asHandlerError is an error to answer byte for byte as the API handlers
// answer errors (no HTML escaping, a final newline), where the answer must
// not differ from the handler's own.
type asHandlerError struct{ e *mlflow.Error }

func (h asHandlerError) Error() string { return h.e.Error() }
func (h asHandlerError) Unwrap() error { return h.e }

func writeHandlerError(w http.ResponseWriter, e *mlflow.Error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		ErrorCode mlflow.ErrorCode `json:"error_code"`
		Message   string           `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(buf.Bytes())
}
