package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// Middleware enforces authentication and the route's permission on every
// request, then calls next (the mux the service was registered on). Admins
// pass every permission check; search results of non-admins are limited to
// what they may read.
func (s *Service) Middleware(next http.Handler) http.Handler {
	mux := s.mux
	if mux == nil {
		mux, _ = next.(*http.ServeMux)
	}
	if mux == nil {
		panic("auth: Middleware needs the *http.ServeMux given to Register")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		rl, ok := s.rules[pattern]
		if !ok {
			if pattern == "" { // the mux answers 404, 405 or a redirect itself
				next.ServeHTTP(w, r)
				return
			}
			s.log.Error("auth: route has no permission rule; refusing it", "pattern", pattern)
			writeError(w, mlflow.Errorf(mlflow.InternalError, "Internal server error"))
			return
		}
		p, err := s.authenticate(r)
		if err != nil && !errors.Is(err, errBadCredentials) {
			s.log.Error("auth: authenticate", "err", err)
			writeError(w, mlflow.Errorf(mlflow.InternalError, "Internal server error"))
			return
		}
		badCredentials := err != nil
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, p))
		}
		switch rl.access {
		case accPublic:
			next.ServeHTTP(w, r)
			return
		case accUI:
			if p != nil || isAsset(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !badCredentials {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
				return
			}
		}
		if p == nil {
			unauthenticated(w, r)
			return
		}
		if p.viaCookie && !safeMethod(r.Method) && !csrfOK(r, p) {
			writeError(w, &mlflow.Error{Code: mlflow.PermissionDenied, Message: "Missing or invalid CSRF token: send the mltrack_csrf cookie's value in the X-CSRF-Token header", Status: http.StatusForbidden})
			return
		}
		if rl.access == accUI {
			next.ServeHTTP(w, r)
			return
		}
		var f *fields
		if needsFields(rl) {
			if f, err = readFields(r); err != nil {
				writeError(w, err)
				return
			}
		}
		if rl.target == tArtifactListPath {
			// The listing is checked and served on the cleaned path
			// ("./1/x" and ".//1/x" are "1/x").
			if r, err = cleanListPath(r); err != nil {
				writeError(w, err)
				return
			}
		}
		if !p.user.IsAdmin {
			allowed, err := s.allowed(r, rl, p.user, f)
			if err == nil && !allowed && s.hidesModel(rl) {
				s.answerAsMissingModel(w, r, next, f)
				return
			}
			if err == nil && allowed && rl.extra != xNone {
				allowed, err = s.allowedExtra(r, rl, p.user, f)
			}
			if err != nil {
				writeError(w, err)
				return
			}
			if !allowed {
				forbidden(w)
				return
			}
			if rl.filter != fNone {
				s.filterSearch(w, r, next, rl.filter, p.user, f)
				return
			}
		}
		if rl.after == aNone {
			next.ServeHTTP(w, r)
			return
		}
		cw := newCapture()
		next.ServeHTTP(cw, r)
		if cw.status == http.StatusOK {
			if err := s.afterSuccess(r.Context(), rl.after, p.user, f, cw.body.Bytes()); err != nil {
				s.log.Error("auth: update permissions after a successful call", "pattern", pattern, "err", err)
			}
		}
		cw.copyTo(w)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// isAsset tells the UI's static files (public) from its pages.
func isAsset(p string) bool {
	if strings.HasPrefix(p, "/assets/") || strings.HasPrefix(p, "/static/") {
		return true
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	return strings.Contains(base, ".") && !strings.HasSuffix(base, ".html")
}

// csrfOK checks a cookie-authenticated write: the session's CSRF token in
// the X-CSRF-Token header (or a form's csrf_token field), and an Origin, if
// the browser sent one, of this server.
func csrfOK(r *http.Request, p *principal) bool {
	tok := r.Header.Get(CSRFHeader)
	if tok == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		tok = r.PostFormValue("csrf_token")
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(p.csrf)) != 1 {
		return false
	}
	return sameOrigin(r)
}

// sameOrigin reports whether the request's Origin (or Referer), when
// present, names this server's host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// unauthenticated answers 401 as MLflow's basic-auth app does. Browser code
// that sends X-Requested-With gets no Basic challenge, so that the browser
// shows no password dialog and the UI can send the user to /signin.
func unauthenticated(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Requested-With") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.")
}

// forbidden answers 403. MLflow's body is the text "Permission denied";
// ours is MLflow's JSON error envelope with that message, so the client
// raises a RestException with error_code PERMISSION_DENIED.
func forbidden(w http.ResponseWriter) {
	writeError(w, &mlflow.Error{Code: mlflow.PermissionDenied, Message: "Permission denied", Status: http.StatusForbidden})
}

func writeError(w http.ResponseWriter, err error) {
	var he asHandlerError
	if errors.As(err, &he) {
		writeHandlerError(w, he.e)
		return
	}
	e, ok := mlflow.AsError(err)
	if !ok {
		e = mlflow.Errorf(mlflow.InternalError, "Internal server error")
	}
	writeJSON(w, e.HTTPStatus(), map[string]string{"error_code": string(e.Code), "message": e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error_code": "INTERNAL_ERROR", "message": "Internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func invalidParam(format string, args ...any) error { return mlflow.InvalidParam(format, args...) }

func isNotFound(err error) bool { return mlflow.IsNotFound(err) }

func missingParam(name string) error {
	return mlflow.InvalidParam("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", name)
}

// needsFields reports whether checking the rule reads request fields.
func needsFields(rl rule) bool {
	switch rl.target {
	case tExperiment, tExperimentName, tRun, tRuns, tRegisteredModel, tTraces, tTraceStart, tTraceLocations, tExperimentIDs, tDatasetLink:
		return true
	case tTrace:
		return true // traces/get names the trace in a field
	}
	return rl.access == accSelf || rl.filter != fNone || rl.after == aRenameModel || rl.after == aDeleteModel || rl.extra != xNone
}

// allowed decides a non-admin's request.
func (s *Service) allowed(r *http.Request, rl rule, u *User, f *fields) (bool, error) {
	ctx := r.Context()
	switch rl.access {
	case accAuthenticated:
		return true, nil
	case accAdmin:
		return false, nil
	case accSelf:
		name, err := f.required("username")
		if err != nil {
			return false, err
		}
		return name == u.Username, nil
	case accResource:
	default:
		return false, nil
	}
	expPerm := func(id string) (bool, error) {
		p, err := s.permissionOn(ctx, experimentPerms, id, u)
		return p.Allows(rl.action), err
	}
	switch rl.target {
	case tExperiment:
		id, err := f.required("experiment_id")
		if err != nil {
			return false, err
		}
		if id, err = canonicalExperimentID(id); err != nil {
			return false, err
		}
		return expPerm(id)
	case tExperimentName:
		name, err := f.required("experiment_name")
		if err != nil {
			return false, err
		}
		id, err := s.lookup.ExperimentIDByName(ctx, name)
		if err != nil {
			return false, err
		}
		return expPerm(id)
	case tRun:
		runID, err := f.runID()
		if err != nil {
			return false, err
		}
		id, err := s.lookup.RunExperimentID(ctx, runID)
		if err != nil {
			return false, err
		}
		return expPerm(id)
	case tRunInQuery:
		q := r.URL.Query()
		runID := q.Get("run_id")
		if runID == "" {
			runID = q.Get("run_uuid")
		}
		if runID == "" {
			return false, mlflow.InvalidParam("Request must specify run_uuid.")
		}
		id, err := s.lookup.RunExperimentID(ctx, runID)
		if err != nil {
			return false, err
		}
		return expPerm(id)
	case tRuns:
		ids := append(f.all("run_ids"), f.all("run_id")...)
		if len(ids) == 0 {
			return false, missingParam("run_ids")
		}
		for _, runID := range ids {
			id, err := s.lookup.RunExperimentID(ctx, runID)
			if err != nil {
				return false, err
			}
			if ok, err := expPerm(id); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case tExperimentIDs:
		for _, id := range f.all("experiment_ids") {
			if ok, err := expPerm(id); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case tDataset, tDatasetLink:
		ids, err := s.lookup.ExistingDatasetExperimentIDs(ctx, datasetID(r.URL.Path))
		if err != nil {
			return false, err
		}
		if rl.target == tDatasetLink {
			ids = append(ids, f.all("experiment_ids")...)
		}
		for _, id := range ids {
			if ok, err := expPerm(id); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case tLoggedModel:
		modelID := loggedModelID(r.URL)
		id, err := s.lookup.LoggedModelExperimentID(ctx, modelID)
		if err != nil {
			return false, err
		}
		return expPerm(id)
	case tTrace:
		traceID := traceIDOfPath(r.URL.Path)
		if traceID == "" {
			name := "trace_id"
			if strings.HasSuffix(r.URL.Path, "/get-trace-artifact") {
				name = "request_id" // the UI's traces.json download
			}
			var err error
			if traceID, err = f.required(name); err != nil {
				return false, err
			}
		}
		id, err := s.lookup.TraceExperimentID(ctx, traceID)
		if err != nil {
			return false, err
		}
		return expPerm(id)
	case tTraces:
		ids := f.all("trace_ids")
		if len(ids) == 0 {
			return false, missingParam("trace_ids")
		}
		for _, traceID := range ids {
			id, err := s.lookup.TraceExperimentID(ctx, traceID)
			if err != nil {
				if mlflow.IsNotFound(err) {
					continue // batchGet leaves unknown traces out
				}
				return false, err
			}
			if ok, err := expPerm(id); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case tTraceStart, tTraceLocations:
		ids, err := traceExperimentIDs(f, rl.target)
		if err != nil {
			return false, err
		}
		for _, id := range ids {
			if ok, err := expPerm(id); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case tExperimentHeader:
		id := r.Header.Get("X-Mlflow-Experiment-Id")
		if id == "" {
			return false, missingParam("x-mlflow-experiment-id")
		}
		return expPerm(id)
	case tRegisteredModel:
		name, err := f.required("name")
		if err != nil {
			return false, err
		}
		p, err := s.permissionOn(ctx, modelPerms, name, u)
		return p.Allows(rl.action), err
	case tArtifactPath, tArtifactListPath:
		var p string
		if rl.target == tArtifactPath {
			p = artifactTail(r.URL.Path)
		} else {
			p = r.URL.Query().Get("path")
		}
		p, err := artifact.ValidatePath(p)
		if err != nil {
			return false, err
		}
		return s.artifactPathAllowed(ctx, u, artifact.ProxyScheme+":/"+p, p, rl.action)
	}
	return false, nil
}

// artifactPathAllowed decides an action on the artifact path p (below
// the root holding uri) by the permission on the experiment owning p:
//
//   - p starts with digits: that experiment (the default layout, <id>/...;
//     MLflow's rule). A location chosen to look like another experiment's
//     folder owns nothing there.
//   - else the experiment whose artifact location is the shortest folder
//     above p (or p itself), the first created if several share it: an
//     experiment created with artifact_location mlflow-artifacts:/team-a
//     owns team-a/... (MLflow lets the default permission decide there,
//     so an explicit NO_PERMISSIONS did not protect such an experiment's
//     files). One created later with the same or a deeper location owns
//     nothing of it.
//   - no owner: reading follows the default permission (as MLflow),
//     writing is for admins.
func (s *Service) artifactPathAllowed(ctx context.Context, u *User, uri, p string, act Action) (bool, error) {
	owner := experimentOfArtifactPath(p)
	if owner == "" {
		cands := locationCandidates(uri)
		found, err := s.lookup.ExperimentsAtLocations(ctx, cands)
		if err != nil {
			return false, err
		}
		for i := 0; i+1 < len(cands) && owner == ""; i += 2 { // shortest first; "x" and "x/" alike
			for _, c := range cands[i : i+2] {
				if id, ok := found[c]; ok && (owner == "" || lessID(id, owner)) {
					owner = id
				}
			}
		}
	}
	if owner == "" {
		return act == ActRead && s.defaultPerm.CanRead, nil
	}
	perm, err := s.permissionOn(ctx, experimentPerms, owner, u)
	return perm.Allows(act), err
}

// maxLocationDepth bounds how many folders above an artifact path are
// looked up as experiment locations.
const maxLocationDepth = 64

// locationCandidates are the artifact locations an experiment owning uri
// could have: uri and each folder above it, with and without a final
// slash, without query or fragment.
func locationCandidates(uri string) []string {
	base, _, _ := strings.Cut(uri, "#")
	base, _, _ = strings.Cut(base, "?")
	prefix := ""
	if i := strings.Index(base, "://"); i >= 0 {
		j := strings.IndexByte(base[i+3:], '/')
		if j < 0 {
			return nil // a bucket or host itself is no experiment's own folder
		}
		prefix, base = base[:i+3+j], base[i+3+j:]
	} else if i := strings.IndexByte(base, ':'); i >= 0 && mlflowScheme(base[:i]) {
		prefix, base = base[:i+1], base[i+1:]
	}
	var out []string
	cur := prefix
	for n, seg := range strings.Split(strings.Trim(base, "/"), "/") {
		if seg == "" || n >= maxLocationDepth {
			break
		}
		cur += "/" + seg
		out = append(out, cur, cur+"/")
	}
	return out
}

func mlflowScheme(s string) bool { return mlflow.URIScheme(s+":") != "" }

// traceIDOfPath is the {trace_id} (or {request_id}) of a
// /mlflow/traces/{id}/... path, or "" for the fixed paths under traces/.
func traceIDOfPath(p string) string {
	_, rest, _ := strings.Cut(p, "/mlflow/traces/")
	id, _, _ := strings.Cut(rest, "/")
	switch id {
	case "get", "batchGet", "search", "delete-traces", "link-to-run", "link-prompts", "calculate-filter-correlation":
		return ""
	}
	return id
}

// traceExperimentIDs reads the experiments a start-trace or search-traces
// body names.
func traceExperimentIDs(f *fields, t target) ([]string, error) {
	type location struct {
		MlflowExperiment *struct {
			ExperimentID string `json:"experiment_id"`
		} `json:"mlflow_experiment"`
	}
	var ids []string
	if t == tTraceStart {
		var tr struct {
			TraceInfo struct {
				TraceLocation location `json:"trace_location"`
			} `json:"trace_info"`
		}
		raw, ok := f.body["trace"]
		if !ok || json.Unmarshal(raw, &tr) != nil || tr.TraceInfo.TraceLocation.MlflowExperiment == nil {
			return nil, missingParam("trace")
		}
		return []string{tr.TraceInfo.TraceLocation.MlflowExperiment.ExperimentID}, nil
	}
	var locs []location
	raw, ok := f.body["locations"]
	if !ok || json.Unmarshal(raw, &locs) != nil {
		return nil, missingParam("locations")
	}
	for _, l := range locs {
		if l.MlflowExperiment != nil {
			ids = append(ids, l.MlflowExperiment.ExperimentID)
		}
	}
	return ids, nil
}

// datasetID is the {dataset_id} of a /mlflow/datasets/{dataset_id}/... path.
func datasetID(p string) string {
	_, rest, _ := strings.Cut(p, "/datasets/")
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// loggedModelID is the {model_id} of a /mlflow/logged-models/{model_id}/...
// URL, read as the mux reads a path value: the escaped segment, unescaped
// (so "m-1%2Fx" is "m-1/x", not "m-1").
func loggedModelID(u *url.URL) string {
	_, rest, _ := strings.Cut(u.EscapedPath(), "/logged-models/")
	seg, _, _ := strings.Cut(rest, "/")
	id, err := url.PathUnescape(seg)
	if err != nil {
		return seg
	}
	return id
}

// canonicalExperimentID parses an experiment ID as the handlers and the
// store do (a base-10 int64: "01", "+1" and "1" are experiment 1) and
// writes it back in canonical form, so that the permission checked is the
// one of the experiment the handler acts on. An ID the store would not
// parse gets the store's answer.
func canonicalExperimentID(id string) (string, error) {
	n, err := mlflow.ParseExperimentID(id)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}

// cleanListPath is r with the artifact listing's "path" query in the
// canonical form artifact.ValidatePath gives, which the check and the
// handler then both use.
func cleanListPath(r *http.Request) (*http.Request, error) {
	q := r.URL.Query()
	raw, ok := q["path"]
	if !ok || len(raw) == 0 {
		return r, nil
	}
	p, err := artifact.ValidatePath(raw[0])
	if err != nil {
		return nil, err
	}
	if p == raw[0] && len(raw) == 1 {
		return r, nil
	}
	r2 := r.Clone(r.Context())
	q["path"] = []string{p}
	r2.URL.RawQuery = q.Encode()
	return r2, nil
}

// artifactTail is the artifact path of an artifact proxy URL.
func artifactTail(p string) string {
	for _, prefix := range artifactPrefixes {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		for _, route := range []string{"artifacts/", "mpu/create/", "mpu/complete/", "mpu/abort/"} {
			if t, ok := strings.CutPrefix(rest, route); ok {
				return t
			}
		}
	}
	return ""
}

// experimentOfArtifactPath is the experiment ID that starts a proxy
// artifact path (<experiment_id>/<run_id>/artifacts/...), or "".
func experimentOfArtifactPath(p string) string {
	p = strings.TrimLeft(p, "/")
	first, _, _ := strings.Cut(p, "/")
	if first == "" {
		return ""
	}
	for _, c := range first {
		if c < '0' || c > '9' {
			return ""
		}
	}
	// Folder "01" is not experiment 1's, but checking experiment 1's
	// permission for it is the stricter choice.
	if t := strings.TrimLeft(first, "0"); t != "" {
		return t
	}
	return "0"
}

// fields are a request's parameters, read as MLflow's handlers read them:
// the query string of a GET (or a DELETE without a body), else the JSON
// body. The body is buffered and put back for the handler.
type fields struct {
	body  map[string]json.RawMessage
	query url.Values
}

const maxBody = 32 << 20

func readFields(r *http.Request) (*fields, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodDelete && r.ContentLength <= 0 {
		return &fields{query: r.URL.Query()}, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, mlflow.Errorf(mlflow.BadRequest, "could not read the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, &mlflow.Error{Code: mlflow.BadRequest, Message: "request body too large", Status: http.StatusRequestEntityTooLarge}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	f := &fields{body: map[string]json.RawMessage{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		q, _ := url.ParseQuery(string(b))
		return &fields{query: q}, nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(nullNonFinite(b), &f.body); err != nil {
		return nil, mlflow.InvalidParam("Malformed request body: it must be a JSON object (%v)", err)
	}
	if f.body == nil {
		f.body = map[string]json.RawMessage{}
	}
	return f, nil
}

// nullNonFinite replaces the bare NaN, Infinity and -Infinity that Python's
// json writes (and MLflow reads) with null, which is enough to read the
// fields authorization needs.
func nullNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b))
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out = append(out, c)
			continue
		}
		switch {
		case c == '"':
			inString = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out, i = append(out, "null"...), i+2
			continue
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out, i = append(out, "null"...), i+8
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out, i = append(out, "null"...), i+7
			continue
		}
		out = append(out, c)
	}
	return out
}

// get returns a field as text: a JSON string, or a number's literal.
func (f *fields) get(name string) (string, bool, error) {
	if f.body == nil {
		v, ok := f.query[name]
		if !ok || len(v) == 0 {
			return "", false, nil
		}
		return v[0], true, nil
	}
	raw, ok := f.body[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true, nil
	}
	return "", false, mlflow.InvalidParam("Invalid value for parameter '%s': it must be a string", name)
}

func (f *fields) required(name string) (string, error) {
	v, ok, err := f.get(name)
	if err != nil {
		return "", err
	}
	if !ok || v == "" {
		return "", missingParam(name)
	}
	return v, nil
}

// runID is run_id, or the older run_uuid MLflow still accepts.
func (f *fields) runID() (string, error) {
	if v, ok, err := f.get("run_id"); err != nil || ok && v != "" {
		return v, err
	}
	if v, ok, err := f.get("run_uuid"); err != nil || ok && v != "" {
		return v, err
	}
	return "", missingParam("run_id")
}

// all returns every value of a list field (repeated in a query, an array
// in JSON) or of a single one.
func (f *fields) all(name string) []string {
	if f.body == nil {
		return f.query[name]
	}
	raw, ok := f.body[name]
	if !ok {
		return nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list
	}
	if v, ok, _ := f.get(name); ok {
		return []string{v}
	}
	return nil
}

// capture buffers a response so that it can be inspected before it is sent.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newCapture() *capture { return &capture{header: http.Header{}} }

func (c *capture) Header() http.Header { return c.header }
func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

func (c *capture) copyTo(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// afterSuccess keeps permissions in step with a successful call.
func (s *Service) afterSuccess(ctx context.Context, a afterKind, u *User, f *fields, resp []byte) error {
	switch a {
	case aGrantExperiment:
		var v struct {
			ExperimentID string `json:"experiment_id"`
		}
		if err := json.Unmarshal(resp, &v); err != nil || v.ExperimentID == "" {
			return errors.New("no experiment_id in the response")
		}
		return s.db.grant(ctx, experimentPerms, v.ExperimentID, u.ID, Manage.Name)
	case aGrantModel:
		var v struct {
			RegisteredModel struct {
				Name string `json:"name"`
			} `json:"registered_model"`
		}
		if err := json.Unmarshal(resp, &v); err != nil || v.RegisteredModel.Name == "" {
			return errors.New("no registered_model.name in the response")
		}
		return s.db.grant(ctx, modelPerms, v.RegisteredModel.Name, u.ID, Manage.Name)
	case aRenameModel:
		oldName, _, _ := f.get("name")
		newName, _, _ := f.get("new_name")
		if oldName == "" || newName == "" {
			return nil
		}
		return s.db.renameModelPermissions(ctx, oldName, newName)
	case aDeleteModel:
		name, _, _ := f.get("name")
		if name == "" {
			return nil
		}
		return s.db.deleteModelPermissions(ctx, name)
	}
	return nil
}

// lessID compares two canonical experiment IDs as numbers.
func lessID(a, b string) bool { return len(a) < len(b) || len(a) == len(b) && a < b }
