package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// ArtifactProxyOptions configures the mlflow-artifacts API.
type ArtifactProxyOptions struct {
	// MaxUploadBytes limits the body of one artifact PUT; 0 is no limit.
	MaxUploadBytes int64
}

// artifactProxyPrefixes are the two mounts of MLflow's artifact proxy API.
var artifactProxyPrefixes = []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"}

// artifactPathRoutes are the proxy routes whose path tail is an artifact path.
var artifactPathRoutes = []string{"artifacts/", "mpu/create/", "mpu/complete/", "mpu/abort/"}

// RegisterArtifactProxy mounts MLflow's artifact proxy (`mlflow server
// --serve-artifacts`) on mux, under /api/2.0/mlflow-artifacts/ and
// /ajax-api/2.0/mlflow-artifacts/, serving repo: upload, download (with
// Range), listing, deletion and multipart uploads.
//
// The server must also wrap its root handler with GuardArtifactPaths, so that
// traversal attempts get MLflow's 400 "Invalid path" instead of the mux's
// redirect to the cleaned path.
func RegisterArtifactProxy(mux *http.ServeMux, repo artifact.Repository, opts ArtifactProxyOptions) {
	h := &artifactProxy{repo: repo, opts: opts}
	for _, p := range artifactProxyPrefixes {
		mux.HandleFunc("PUT "+p+"artifacts/{path...}", h.upload)
		mux.HandleFunc("GET "+p+"artifacts/{path...}", h.download)
		mux.HandleFunc("DELETE "+p+"artifacts/{path...}", h.delete)
		mux.HandleFunc("GET "+p+"artifacts", h.list)
		mux.HandleFunc("POST "+p+"mpu/create/{path...}", h.createMultipart)
		mux.HandleFunc("POST "+p+"mpu/complete/{path...}", h.completeMultipart)
		mux.HandleFunc("POST "+p+"mpu/abort/{path...}", h.abortMultipart)
	}
}

// GuardArtifactPaths checks the artifact path of every artifact proxy
// request before routing. http.ServeMux would answer a path with ".."
// segments (also %2e%2e and ..%2f, which it decodes first) with a redirect to
// the cleaned path; MLflow answers 400 "Invalid path", and so do we. Valid
// paths are passed on in canonical form (no "." or empty segments), so the
// mux never redirects an upload.
func GuardArtifactPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route, tail, ok := splitArtifactRoute(r.URL.Path); ok {
			canon, err := artifact.ValidatePath(tail)
			if err != nil {
				writeError(w, r, fromArtifactStore(err))
				return
			}
			if canon != tail {
				r.URL.Path = route + canon
				r.URL.RawPath = ""
			}
		}
		next.ServeHTTP(w, r)
	})
}

// splitArtifactRoute splits a request path such as
// /api/2.0/mlflow-artifacts/artifacts/1/x into its route
// (/api/2.0/mlflow-artifacts/artifacts/) and artifact path (1/x).
func splitArtifactRoute(p string) (route, tail string, ok bool) {
	for _, prefix := range artifactProxyPrefixes {
		rest, found := strings.CutPrefix(p, prefix)
		if !found {
			continue
		}
		for _, r := range artifactPathRoutes {
			if t, found := strings.CutPrefix(rest, r); found {
				return p[:len(p)-len(t)], t, true
			}
		}
	}
	return "", "", false
}

type artifactProxy struct {
	repo artifact.Repository
	opts ArtifactProxyOptions
}

// filePath is the validated artifact path of the request, which must name
// something below the root.
func filePath(r *http.Request) (string, error) {
	p, err := artifact.ValidatePath(r.PathValue("path"))
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", artifact.ErrInvalidPath
	}
	return p, nil
}

// upload handles PUT artifacts/<path>: the body streams into the repository.
func (h *artifactProxy) upload(w http.ResponseWriter, r *http.Request) {
	p, err := filePath(r)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	body := r.Body
	if limit := h.opts.MaxUploadBytes; limit > 0 {
		if r.ContentLength > limit {
			writeError(w, r, uploadTooLarge(limit))
			return
		}
		body = http.MaxBytesReader(w, r.Body, limit)
	}
	cb := &clientBody{r: body}
	if err := h.repo.Put(r.Context(), p, cb, r.ContentLength); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.As(cb.err, &tooLarge) {
			writeError(w, r, uploadTooLarge(tooLarge.Limit))
			return
		}
		if cb.err != nil || r.Context().Err() != nil {
			clientAborted(w, r, p, cb.err)
			return
		}
		writeError(w, r, fromArtifactStore(err))
		return
	}
	writeJSON(w, struct{}{})
}

// clientBody records the error of reading a request body: the client
// stopped sending it (closed the connection, or sent less than its
// Content-Length), which is no failure of the artifact store.
type clientBody struct {
	r   io.Reader
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// StatusClientClosedRequest is the status the request log and metrics
// record for a request whose client went away before sending all of it
// (nginx's 499); the client does not see it.
const StatusClientClosedRequest = 499

// clientAborted answers an upload the client abandoned mid-body: logged at
// info as the client's doing, recorded with status 499, not as an outage
// of the artifact store. The store wrote nothing (the repository removes
// its partial file).
func clientAborted(w http.ResponseWriter, r *http.Request, p string, err error) {
	slog.InfoContext(r.Context(), "client aborted an artifact upload", "method", r.Method, "path", r.URL.Path, "artifact", p, "err", err)
	writeJSONStatus(w, StatusClientClosedRequest, errorBody{mlflow.BadRequest, "The client closed the request before sending all of the artifact"})
}

func uploadTooLarge(limit int64) error {
	return &mlflow.Error{
		Code:    mlflow.BadRequest,
		Message: fmt.Sprintf("Artifact upload exceeds the server's limit of %d bytes", limit),
		Status:  http.StatusRequestEntityTooLarge,
	}
}

// download handles GET (and HEAD) artifacts/<path>: the file streams from
// the repository with MLflow's headers, honouring a single-range Range.
func (h *artifactProxy) download(w http.ResponseWriter, r *http.Request) {
	p, err := filePath(r)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	serveArtifactFile(w, r, h.repo, p)
}

// serveArtifactFile streams the file at p of repo, with MLflow's headers
// and single-range support.
func serveArtifactFile(w http.ResponseWriter, r *http.Request, repo artifact.Repository, p string) {
	ctx := r.Context()
	info, err := repo.Stat(ctx, p)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if info.IsDir {
		writeError(w, r, mlflow.NotFound("Artifact '%s' is a directory, not a file", p))
		return
	}
	size := info.FileSize
	hdr := w.Header()
	hdr.Set("Accept-Ranges", "bytes")
	if !info.ModTime.IsZero() {
		hdr.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	start, length, status := requestedRange(r, size, info.ModTime)
	if status == http.StatusRequestedRangeNotSatisfiable {
		hdr.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		writeError(w, r, &mlflow.Error{Code: mlflow.InvalidParameterValue, Message: "Requested range not satisfiable", Status: status})
		return
	}
	var body io.ReadCloser
	if r.Method != http.MethodHead {
		if body, err = repo.Get(ctx, p, start, length); err != nil {
			writeError(w, r, fromArtifactStore(err))
			return
		}
		defer body.Close()
	}
	hdr.Set("Content-Type", artifact.ContentType(p))
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	if status == http.StatusPartialContent {
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, size))
	}
	w.WriteHeader(status)
	if body == nil {
		return
	}
	if n, err := io.Copy(w, body); err != nil {
		// The status line is sent; the client sees a short body.
		slog.WarnContext(ctx, "artifact download interrupted", "path", p, "sent", n, "of", length, "err", err)
	}
}

// requestedRange interprets the Range header for a file of size bytes
// (modified at mod): one range "bytes=a-b", "bytes=a-" or "bytes=-n" is
// served as 206; no, several, malformed or (If-Range) stale ranges as the
// whole file with 200; a range starting past the end is 416.
func requestedRange(r *http.Request, size int64, mod time.Time) (start, length int64, status int) {
	spec := r.Header.Get("Range")
	whole := func() (int64, int64, int) { return 0, size, http.StatusOK }
	if spec == "" {
		return whole()
	}
	if ir := r.Header.Get("If-Range"); ir != "" {
		t, err := http.ParseTime(ir)
		if err != nil || mod.IsZero() || !mod.Truncate(time.Second).Equal(t) {
			return whole()
		}
	}
	unit, set, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(unit) != "bytes" || strings.Contains(set, ",") {
		return whole()
	}
	first, last, ok := strings.Cut(strings.TrimSpace(set), "-")
	if !ok {
		return whole()
	}
	if first == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return whole()
		}
		if n == 0 {
			return 0, 0, http.StatusRequestedRangeNotSatisfiable
		}
		n = min(n, size)
		return size - n, n, http.StatusPartialContent
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return whole()
	}
	if a >= size {
		return 0, 0, http.StatusRequestedRangeNotSatisfiable
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return whole()
		}
		b = min(b, size-1)
	}
	return a, b - a + 1, http.StatusPartialContent
}

// artifactFileInfo is MLflow's FileInfo on the wire: file_size is left out
// for directories and empty files, as MLflow's server does.
type artifactFileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// list handles GET artifacts?path=<dir>: the direct children of dir, named
// by their base names; an empty, missing or non-directory path answers {}.
func (h *artifactProxy) list(w http.ResponseWriter, r *http.Request) {
	dir, err := artifact.ValidatePath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	infos, err := h.repo.List(r.Context(), dir)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if len(infos) == 0 {
		writeJSON(w, struct{}{})
		return
	}
	files := make([]artifactFileInfo, len(infos))
	for i, fi := range infos {
		files[i] = artifactFileInfo{Path: path.Base(fi.Path), IsDir: fi.IsDir, FileSize: fi.FileSize}
	}
	writeJSON(w, struct {
		Files []artifactFileInfo `json:"files"`
	}{files})
}

// delete handles DELETE artifacts/<path>: a file or a whole directory; a
// missing path is not an error (as in MLflow).
func (h *artifactProxy) delete(w http.ResponseWriter, r *http.Request) {
	p, err := filePath(r)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if err := h.repo.Delete(r.Context(), p); err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	writeJSON(w, struct{}{})
}

// mpuRequest is the body of the mpu/create, mpu/complete and mpu/abort
// requests. Path is the client's local file path: its base name is the
// uploaded file's name in the directory of the URL path.
type mpuRequest struct {
	Path     json.RawMessage `json:"path"`
	NumParts json.RawMessage `json:"num_parts"`
	UploadID json.RawMessage `json:"upload_id"`
	Parts    json.RawMessage `json:"parts"`
}

type mpuPart struct {
	PartNumber json.Number `json:"part_number"`
	ETag       string      `json:"etag"`
	URL        string      `json:"url"`
}

// decodeMPU reads a multipart request and returns the target file path
// (URL directory + base name of the body's path).
func decodeMPU(r *http.Request, req *mpuRequest) (string, error) {
	dir, err := artifact.ValidatePath(r.PathValue("path"))
	if err != nil {
		return "", err
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(req); err != nil && err != io.EOF {
		return "", mlflow.Errorf(mlflow.BadRequest, "Malformed request body: %v", err)
	}
	local, err := requiredString(req.Path, "path")
	if err != nil {
		return "", err
	}
	base := local[strings.LastIndexAny(local, `/\`)+1:]
	p, err := artifact.ValidatePath(artifact.JoinPath(dir, base))
	if err != nil {
		return "", err
	}
	if base == "" || p == dir {
		return "", artifact.ErrInvalidPath
	}
	return p, nil
}

const seeAPIDocs = " See the API docs for more information about request parameters."

func requiredString(raw json.RawMessage, name string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", mlflow.InvalidParam("Missing value for required parameter '%s'.%s", name, seeAPIDocs)
	}
	s, err := optionalString(raw, name)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", mlflow.InvalidParam("Missing value for required parameter '%s'.%s", name, seeAPIDocs)
	}
	return s, nil
}

func optionalString(raw json.RawMessage, name string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", mlflow.InvalidParam("Invalid value %s for parameter '%s' supplied.%s", raw, name, seeAPIDocs)
	}
	return s, nil
}

// intParam reads an int64 sent as a JSON number or, as protobuf JSON allows,
// a string of digits.
func intParam(raw json.RawMessage, name string) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, mlflow.InvalidParam("Invalid value %s for parameter '%s' supplied.%s", raw, name, seeAPIDocs)
	}
	return n, nil
}

// createMultipart handles POST mpu/create/<dir>.
func (h *artifactProxy) createMultipart(w http.ResponseWriter, r *http.Request) {
	var req mpuRequest
	p, err := decodeMPU(r, &req)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	numParts, err := intParam(req.NumParts, "num_parts")
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if numParts < 0 || numParts > 10000 {
		writeError(w, r, mlflow.InvalidParam("Invalid value %d for parameter 'num_parts' supplied: it must be between 0 and 10000.", numParts))
		return
	}
	mpu, err := h.repo.CreateMultipartUpload(r.Context(), p, int(numParts))
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	type credential struct {
		URL        string            `json:"url"`
		PartNumber int64             `json:"part_number"`
		Headers    map[string]string `json:"headers"`
	}
	creds := make([]credential, len(mpu.Credentials))
	for i, c := range mpu.Credentials {
		headers := c.Headers
		if headers == nil {
			headers = map[string]string{}
		}
		creds[i] = credential{URL: c.URL, PartNumber: c.PartNumber, Headers: headers}
	}
	writeJSON(w, struct {
		UploadID    string       `json:"upload_id"`
		Credentials []credential `json:"credentials"`
	}{mpu.UploadID, creds})
}

// completeMultipart handles POST mpu/complete/<dir>.
func (h *artifactProxy) completeMultipart(w http.ResponseWriter, r *http.Request) {
	var req mpuRequest
	p, err := decodeMPU(r, &req)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	uploadID, err := optionalString(req.UploadID, "upload_id")
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if len(req.Parts) == 0 || string(req.Parts) == "null" {
		writeError(w, r, mlflow.InvalidParam("Missing value for required parameter 'parts'.%s", seeAPIDocs))
		return
	}
	var wireParts []mpuPart
	if err := json.Unmarshal(req.Parts, &wireParts); err != nil {
		writeError(w, r, mlflow.InvalidParam("Invalid value %s for parameter 'parts' supplied.%s", req.Parts, seeAPIDocs))
		return
	}
	parts := make([]artifact.UploadedPart, len(wireParts))
	for i, wp := range wireParts {
		n, err := wp.PartNumber.Int64()
		if err != nil {
			writeError(w, r, mlflow.InvalidParam("Invalid value %q for parameter 'part_number' supplied.%s", wp.PartNumber, seeAPIDocs))
			return
		}
		parts[i] = artifact.UploadedPart{PartNumber: n, ETag: wp.ETag}
	}
	if err := h.repo.CompleteMultipartUpload(r.Context(), p, uploadID, parts); err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	writeJSON(w, struct{}{})
}

// abortMultipart handles POST mpu/abort/<dir>.
func (h *artifactProxy) abortMultipart(w http.ResponseWriter, r *http.Request) {
	var req mpuRequest
	p, err := decodeMPU(r, &req)
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	uploadID, err := optionalString(req.UploadID, "upload_id")
	if err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	if err := h.repo.AbortMultipartUpload(r.Context(), p, uploadID); err != nil {
		writeError(w, r, fromArtifactStore(err))
		return
	}
	writeJSON(w, struct{}{})
}
