package artifact

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// CheckTimeout bounds the start-up probe of an artifact store.
const CheckTimeout = 10 * time.Second

// Checker is a Repository that can tell, before serving, whether it is
// usable: a local folder that can be written, a bucket that can be reached
// with the credentials given.
type Checker interface {
	Check(ctx context.Context) error
}

// Check probes repo, if it can be probed, within CheckTimeout.
func Check(ctx context.Context, repo Repository) error {
	c, ok := repo.(Checker)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	return c.Check(ctx)
}

// Check writes and removes a small file in the folder, so that a folder the
// server can't write is found at start-up, not at the first upload.
func (l *Local) Check(ctx context.Context) error {
	name := tmpPrefix + "check-" + randomHex(8)
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("artifact: the folder %s is not writable: %w", l.dir, unwrapPathError(err))
	}
	_, werr := f.Write([]byte("mltrack start-up check\n"))
	cerr := f.Close()
	rerr := l.root.Remove(name)
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("artifact: the folder %s is not writable: %w", l.dir, unwrapPathError(err))
	}
	if rerr != nil {
		return fmt.Errorf("artifact: the folder %s: a file written there can't be removed: %w", l.dir, unwrapPathError(rerr))
	}
	return nil
}

// unwrapPathError drops the *os.PathError's own file name (a relative one
// here), keeping its operation and cause.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Check lists at most one object under the repository's prefix: the
// bucket exists, the endpoint answers and the credentials may list it.
// Nothing is written. The error names the problem in the words of the
// settings to fix.
func (r *S3) Check(ctx context.Context) error {
	where := "s3://" + r.cfg.Bucket
	if r.cfg.Prefix != "" {
		where += "/" + r.cfg.Prefix
	}
	if r.cfg.Endpoint != "" {
		where += " at " + r.cfg.Endpoint
	}
	in := &s3.ListObjectsV2Input{Bucket: &r.cfg.Bucket, MaxKeys: aws.Int32(1)}
	if r.cfg.Prefix != "" {
		in.Prefix = aws.String(r.cfg.Prefix + "/")
	}
	_, err := r.client.ListObjectsV2(ctx, in)
	if err == nil {
		return nil
	}
	var reason string
	switch code := s3Code(err); code {
	case "NoSuchBucket":
		reason = fmt.Sprintf("the bucket %q does not exist (create it first)", r.cfg.Bucket)
	case "InvalidAccessKeyId", "XAdminUserNotFound": // the latter is versitygw's
		reason = "the store does not know the access key (AWS_ACCESS_KEY_ID)"
	case "SignatureDoesNotMatch":
		reason = "the secret key does not match the access key (AWS_SECRET_ACCESS_KEY)"
	case "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
		reason = "the session token is not accepted (AWS_SESSION_TOKEN)"
	case "AccessDenied", "AllAccessDisabled":
		reason = fmt.Sprintf("access denied: the credentials may not list the bucket %q", r.cfg.Bucket)
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		reason = "the bucket is in another region (set AWS_REGION or AWS_DEFAULT_REGION)"
	default:
		var ne net.Error
		var oe *net.OpError
		switch {
		case code != "":
			reason = code
		case errors.Is(err, context.DeadlineExceeded):
			reason = fmt.Sprintf("no answer within %s", CheckTimeout)
		case strings.Contains(err.Error(), "retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role"):
			reason = "no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or give the machine a role)"
		case errors.As(err, &oe) || errors.As(err, &ne):
			reason = "the store can't be reached (check MLFLOW_S3_ENDPOINT_URL)"
		default:
			reason = "the bucket can't be listed"
		}
	}
	return fmt.Errorf("artifact: %s: %s: %w", where, reason, err)
}
