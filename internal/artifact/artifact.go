// Package artifact stores and serves run and model artifacts: a Repository
// interface with streamed reads and writes, listing, deletion and multipart
// uploads, implemented on a local folder and on S3-compatible object stores,
// plus the URI rules MLflow uses to lay artifacts out.
//
// Every path a Repository method takes is relative to the repository's root,
// uses "/" as separator and is checked with ValidatePath; nothing a client
// sends can reach outside the root.
package artifact

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// FileInfo describes one file or directory, as MLflow's FileInfo: Path is
// relative to the repository root, FileSize is zero for directories.
type FileInfo struct {
	Path     string
	IsDir    bool
	FileSize int64
	// ModTime is the last modification time when the store knows it.
	ModTime time.Time
}

// Repository is an artifact store. Implementations stream: Put reads its body
// once, Get hands back a reader over the stored bytes, and neither holds a
// whole file in memory.
type Repository interface {
	// Put stores body at path, replacing any file there. size is the body's
	// length, or -1 when unknown. A failed or short upload leaves no file
	// (and leaves a previous file at path untouched).
	Put(ctx context.Context, path string, body io.Reader, size int64) error
	// Stat describes the file or directory at path; a missing path is a
	// RESOURCE_DOES_NOT_EXIST error.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// Get opens the file at path for reading from offset; length < 0 reads
	// to the end. The caller closes the reader.
	Get(ctx context.Context, path string, offset, length int64) (io.ReadCloser, error)
	// List returns the direct children of the directory dir ("" is the
	// root), sorted by path. A missing directory or a file gives an empty
	// list, as MLflow does.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Delete removes the file or the whole directory tree at path. A
	// missing path is not an error.
	Delete(ctx context.Context, path string) error

	// CreateMultipartUpload starts an upload of the file at path in
	// numParts parts and returns, per part, where the client sends it.
	// Repositories that cannot do this return ErrMultipartUnsupported.
	CreateMultipartUpload(ctx context.Context, path string, numParts int) (*MultipartUpload, error)
	// CompleteMultipartUpload assembles the uploaded parts into the file.
	CompleteMultipartUpload(ctx context.Context, path, uploadID string, parts []UploadedPart) error
	// AbortMultipartUpload discards an unfinished upload and its parts.
	AbortMultipartUpload(ctx context.Context, path, uploadID string) error
}

// MultipartUpload is a started multipart upload: its id and, for each part,
// the URL (and headers) the client PUTs the part's bytes to.
type MultipartUpload struct {
	UploadID    string
	Credentials []PartCredential
}

// PartCredential says where part PartNumber (1-based) of an upload goes.
type PartCredential struct {
	PartNumber int64
	URL        string
	Headers    map[string]string
}

// UploadedPart is a part the client has uploaded, with the ETag the store
// answered.
type UploadedPart struct {
	PartNumber int64
	ETag       string
}

// ErrMultipartUnsupported is the error of repositories that cannot do
// multipart uploads. Its message is the one the MLflow client looks for
// (startswith) to fall back to a single PUT.
var ErrMultipartUnsupported = &mlflow.Error{
	Code:    mlflow.NotImplemented,
	Message: "Multipart upload is not supported for the current artifact repository",
}

// Open returns the repository for an artifact root URI: a plain path or a
// file:// URI gives a local folder (created if missing), s3://bucket/prefix
// an S3 bucket configured from the environment (see S3ConfigFromEnv).
func Open(ctx context.Context, uri string) (Repository, error) {
	switch scheme := URIScheme(uri); scheme {
	case "":
		return NewLocal(uri)
	case "file":
		p, err := LocalPathFromFileURI(uri)
		if err != nil {
			return nil, err
		}
		return NewLocal(p)
	case "s3":
		bucket, prefix, err := ParseS3URI(uri)
		if err != nil {
			return nil, err
		}
		cfg, err := S3ConfigFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.Bucket, cfg.Prefix = bucket, prefix
		return NewS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("artifact: unsupported artifact URI scheme %q in %q (use a local path, file:// or s3://)", scheme, uri)
	}
}

// LocalPathFromFileURI turns file:///a/b (or file:/a/b) into /a/b.
func LocalPathFromFileURI(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("artifact: invalid file URI %q: %w", uri, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("artifact: file URI %q names a remote host", uri)
	}
	if u.Path == "" {
		return "", fmt.Errorf("artifact: file URI %q has no path", uri)
	}
	return u.Path, nil
}

// URIScheme is the lower-cased scheme of uri, or "" for a plain path
// (including Windows paths such as C:\data, whose one-letter "scheme" is a
// drive).
func URIScheme(uri string) string {
	i := strings.IndexByte(uri, ':')
	if i < 2 {
		return ""
	}
	for j := 0; j < i; j++ {
		c := uri[j] | 0x20
		isLetter := c >= 'a' && c <= 'z'
		if !isLetter && (j == 0 || !(uri[j] >= '0' && uri[j] <= '9' || uri[j] == '+' || uri[j] == '-' || uri[j] == '.')) {
			return ""
		}
	}
	return strings.ToLower(uri[:i])
}
