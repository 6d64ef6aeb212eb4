package artifact

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// tmpPrefix starts the names of files being uploaded; they are renamed into
// place when complete and never listed.
const tmpPrefix = ".mltrack-upload-"

// copyBufSize is the buffer for streaming copies: large enough that a
// multi-GB upload is not dominated by syscalls, small enough to stay flat.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Local is a Repository on a local folder, laid out as MLflow's
// LocalArtifactRepository: the artifact path is the file's path below the
// folder. All access goes through an os.Root, so neither ".." nor a symbolic
// link can lead outside the folder.
type Local struct {
	dir      string // the folder, absolute, symlinks resolved
	root     *os.Root
	realRoot string
}

var _ Repository = (*Local)(nil)

// NewLocal opens (creating it if needed) the folder dir as a repository.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("artifact: empty local artifact root")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact: local root %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("artifact: create local root: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("artifact: local root %q: %w", dir, err)
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("artifact: open local root: %w", err)
	}
	return &Local{dir: real, root: root, realRoot: real}, nil
}

// Dir is the repository's folder (absolute, symlinks resolved).
func (l *Local) Dir() string { return l.dir }

// Close releases the folder's handle.
func (l *Local) Close() error { return l.root.Close() }

// resolve validates a client path and returns it as an os.Root name ("."
// for the root, allowed only when allowRoot).
func (l *Local) resolve(p string, allowRoot bool) (string, error) {
	rel, err := ValidatePath(p)
	if err != nil {
		return "", err
	}
	if rel == "" {
		if !allowRoot {
			return "", ErrInvalidPath
		}
		return ".", nil
	}
	if err := checkNoSymlinkEscape(l.realRoot, rel); err != nil {
		return "", err
	}
	return filepath.FromSlash(rel), nil
}

// Put implements Repository. The body goes to a hidden temporary file next
// to the target, renamed into place once complete.
func (l *Local) Put(ctx context.Context, p string, body io.Reader, size int64) (err error) {
	rel, err := l.resolve(p, false)
	if err != nil {
		return err
	}
	if fi, err := l.root.Lstat(rel); err == nil && fi.IsDir() {
		return mlflow.InvalidParam("Cannot write artifact '%s': a directory of that name exists", p)
	}
	dir := filepath.Dir(rel)
	// The folders this upload creates are removed again (when still
	// empty) if it fails, so that an abandoned upload leaves nothing.
	created := l.missingDirs(dir)
	mkdirs := func() error {
		if dir == "." {
			return nil
		}
		if err := l.root.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return mlflow.InvalidParam("Cannot write artifact '%s': a parent of it is a file", p)
			}
			return fmt.Errorf("artifact: create directory for %q: %w", p, err)
		}
		return nil
	}
	if err := mkdirs(); err != nil {
		return err
	}
	tmp := filepath.Join(dir, tmpPrefix+randomHex(8))
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// A failed upload next to this one removed the folder it had
		// just created: make it again.
		if err := mkdirs(); err != nil {
			return err
		}
		f, err = l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return fmt.Errorf("artifact: create %q: %w", p, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = l.root.Remove(tmp)
			for _, d := range created {
				if l.root.Remove(d) != nil { // not empty: another upload's
					break
				}
			}
		}
	}()
	bufp := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(writerOnly{f}, body, *bufp)
	copyBufs.Put(bufp)
	if err != nil {
		return fmt.Errorf("artifact: write %q: %w", p, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("artifact: write %q: got %d of %d bytes: %w", p, n, size, io.ErrUnexpectedEOF)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("artifact: write %q: %w", p, err)
	}
	if err := l.root.Rename(tmp, rel); err != nil {
		return fmt.Errorf("artifact: write %q: %w", p, err)
	}
	return nil
}

// writerOnly hides os.File's ReadFrom so that io.CopyBuffer uses our buffer.
type writerOnly struct{ io.Writer }

// Stat implements Repository.
func (l *Local) Stat(ctx context.Context, p string) (FileInfo, error) {
	rel, err := l.resolve(p, true)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := l.root.Stat(rel)
	if err != nil {
		return FileInfo{}, l.notFound(p, err)
	}
	return localInfo(filepath.ToSlash(rel), fi), nil
}

func localInfo(rel string, fi fs.FileInfo) FileInfo {
	if rel == "." {
		rel = ""
	}
	info := FileInfo{Path: rel, IsDir: fi.IsDir(), ModTime: fi.ModTime()}
	if !info.IsDir {
		info.FileSize = fi.Size()
	}
	return info
}

func (l *Local) notFound(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return mlflow.NotFound("Artifact '%s' does not exist", p)
	}
	return fmt.Errorf("artifact: %q: %w", p, err)
}

// Get implements Repository.
func (l *Local) Get(ctx context.Context, p string, offset, length int64) (io.ReadCloser, error) {
	rel, err := l.resolve(p, false)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(rel)
	if err != nil {
		return nil, l.notFound(p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("artifact: %q: %w", p, err)
	}
	if fi.IsDir() {
		_ = f.Close()
		return nil, mlflow.NotFound("Artifact '%s' is a directory, not a file", p)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("artifact: %q: %w", p, err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return &limitedFile{Reader: io.LimitReader(f, length), f: f}, nil
}

type limitedFile struct {
	io.Reader
	f *os.File
}

func (l *limitedFile) Close() error { return l.f.Close() }

// List implements Repository.
func (l *Local) List(ctx context.Context, dir string) ([]FileInfo, error) {
	rel, err := l.resolve(dir, true)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("artifact: list %q: %w", dir, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("artifact: list %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, nil
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("artifact: list %q: %w", dir, err)
	}
	base := filepath.ToSlash(rel)
	if base == "." {
		base = ""
	}
	out := make([]FileInfo, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		child := path.Join(base, name)
		var info fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			// Follow links through the root: one leading outside is skipped.
			if info, err = l.root.Stat(filepath.FromSlash(child)); err != nil {
				continue
			}
		} else if info, err = e.Info(); err != nil {
			continue // removed meanwhile
		}
		out = append(out, localInfo(child, info))
	}
	slices.SortFunc(out, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Delete implements Repository.
func (l *Local) Delete(ctx context.Context, p string) error {
	rel, err := l.resolve(p, false)
	if err != nil {
		return err
	}
	if err := l.root.RemoveAll(rel); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("artifact: delete %q: %w", p, err)
	}
	return nil
}

// CreateMultipartUpload implements Repository: a local folder has no
// multipart uploads (as in MLflow); clients fall back to a single streamed PUT.
func (l *Local) CreateMultipartUpload(ctx context.Context, p string, numParts int) (*MultipartUpload, error) {
	if _, err := l.resolve(p, false); err != nil {
		return nil, err
	}
	return nil, ErrMultipartUnsupported
}

// CompleteMultipartUpload implements Repository (unsupported).
func (l *Local) CompleteMultipartUpload(ctx context.Context, p, uploadID string, parts []UploadedPart) error {
	if _, err := l.resolve(p, false); err != nil {
		return err
	}
	return ErrMultipartUnsupported
}

// AbortMultipartUpload implements Repository (unsupported).
func (l *Local) AbortMultipartUpload(ctx context.Context, p, uploadID string) error {
	if _, err := l.resolve(p, false); err != nil {
		return err
	}
	return ErrMultipartUnsupported
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// missingDirs lists the folders of dir (relative to the root) that do not
// exist yet, deepest first.
func (l *Local) missingDirs(dir string) []string {
	var out []string
	for d := dir; d != "." && d != "/" && d != ""; d = filepath.Dir(d) {
		if _, err := l.root.Lstat(d); err == nil {
			break
		}
		out = append(out, d)
	}
	return out
}
