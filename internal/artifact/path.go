package artifact

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// ErrInvalidPath is MLflow's answer to an artifact path that could leave the
// artifact root: 400 INVALID_PARAMETER_VALUE "Invalid path".
var ErrInvalidPath = &mlflow.Error{Code: mlflow.InvalidParameterValue, Message: "Invalid path"}

// maxDecodeRounds bounds how often ValidatePath percent-decodes a path while
// looking for hidden traversal (%2e%2e, %252e%252e, ...).
const maxDecodeRounds = 8

// ValidatePath checks a client-supplied artifact path, relative to an
// artifact root, and returns it in canonical form: segments joined by "/",
// without empty or "." segments ("" is the root itself). It refuses with
// ErrInvalidPath any path that is absolute (/x, C:x, \\host), has a ".."
// segment, a backslash, a NUL or other control character or a '#', either as
// given or after any number of percent-decodings (so %2e%2e/ and
// %252e%252e/ are caught too).
//
// The returned path keeps the characters the client sent; decoding is only
// used to look for what a later layer could decode.
func ValidatePath(p string) (string, error) {
	// The canonical form is checked too: dropping "." segments can bring
	// an encoded slash to the front ("./%2f" becomes "%2f", which decodes
	// to "/").
	canon := canonicalPath(p)
	if !safeDecodings(p) || !safeDecodings(canon) {
		return "", ErrInvalidPath
	}
	return canon, nil
}

// canonicalPath joins the segments of p with "/", without empty or "."
// segments.
func canonicalPath(p string) string {
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		if s == "" || s == "." {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, "/")
}

// safeDecodings reports whether p and each of its percent-decodings (up to
// maxDecodeRounds; a path still decoding after that is refused) pass
// safeStage.
func safeDecodings(p string) bool {
	stage := p
	for range maxDecodeRounds {
		if !safeStage(stage) {
			return false
		}
		if !strings.Contains(stage, "%") {
			return true
		}
		next, err := url.PathUnescape(stage)
		if err != nil || next == stage {
			// Not valid percent-encoding: the '%' is a literal character.
			return true
		}
		stage = next
	}
	// The last decoding of the loop has not been checked yet.
	if !safeStage(stage) {
		return false
	}
	if strings.Contains(stage, "%") {
		if next, err := url.PathUnescape(stage); err == nil && next != stage {
			// Still decoding after maxDecodeRounds: nobody names files so.
			return false
		}
	}
	return true
}

// safeStage applies the rules of ValidatePath to one decoding stage.
func safeStage(s string) bool {
	if strings.HasPrefix(s, "/") || isDriveLetterPath(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' || c == '#' {
			return false
		}
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == ".." {
			return false
		}
	}
	return true
}

// isDriveLetterPath reports whether s starts like a Windows drive path (C:...),
// which Windows would resolve outside the root.
func isDriveLetterPath(s string) bool {
	if len(s) < 2 || s[1] != ':' {
		return false
	}
	c := s[0] | 0x20
	return c >= 'a' && c <= 'z'
}

// JoinPath joins artifact path segments with "/", skipping empty ones; the
// result still needs ValidatePath when any segment came from a client.
func JoinPath(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		p = strings.Trim(p, "/")
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return strings.Join(nonEmpty, "/")
}

// checkNoSymlinkEscape walks rel (a path from ValidatePath) below the local
// root realRoot and refuses with ErrInvalidPath when one of its existing
// components is a symbolic link resolving outside the root. Components that
// do not exist yet end the walk: nothing below them can be a link. os.Root
// enforces the same rule again at the moment of access (closing the race
// between this check and the use); this check is what turns an escape into
// MLflow's 400 instead of an internal error.
func checkNoSymlinkEscape(realRoot, rel string) error {
	if rel == "" {
		return nil
	}
	cur := realRoot
	for seg := range strings.SplitSeq(rel, "/") {
		cur = filepath.Join(cur, seg)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(cur)
		if errors.Is(err, fs.ErrNotExist) {
			// A dangling link: refuse when its text already points outside.
			link, lerr := os.Readlink(cur)
			if lerr != nil {
				return lerr
			}
			if filepath.IsAbs(link) {
				target = filepath.Clean(link)
			} else {
				target = filepath.Join(filepath.Dir(cur), link)
			}
		} else if err != nil {
			return err
		}
		if !within(realRoot, target) {
			return ErrInvalidPath
		}
		cur = target
	}
	return nil
}

// within reports whether path p is root or below it (both cleaned, absolute).
func within(root, p string) bool {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return r == "." || (r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)))
}
