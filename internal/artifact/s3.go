package artifact

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// S3 defaults.
const (
	DefaultS3Region        = "us-east-1"
	DefaultS3PartSize      = 8 << 20 // bytes per part of a streamed upload
	DefaultS3Concurrency   = 4       // parts in flight per upload
	DefaultS3PresignExpiry = time.Hour
	minS3PartSize          = 5 << 20 // S3's minimum for all parts but the last
	maxS3Parts             = 10000
)

// S3Config configures an S3 repository. Zero fields take the defaults above
// and, for credentials, the standard AWS chain (environment, shared config
// and credentials files, SSO, container and instance roles).
type S3Config struct {
	Bucket string
	Prefix string // key prefix, without leading or trailing "/"
	// Endpoint is a custom S3 endpoint (MinIO, versitygw, Ceph, R2, ...);
	// when set, requests use path-style addressing (http://host/bucket/key).
	Endpoint string
	Region   string
	// IgnoreTLS skips TLS certificate verification (MLFLOW_S3_IGNORE_TLS).
	IgnoreTLS bool
	// AccessKeyID and SecretAccessKey, when both set, replace the AWS chain.
	AccessKeyID     string
	SecretAccessKey string
	PartSize        int64
	Concurrency     int
	PresignExpiry   time.Duration
}

// S3ConfigFromEnv reads the variables MLflow users already set:
// MLFLOW_S3_ENDPOINT_URL and MLFLOW_S3_IGNORE_TLS. Region and credentials
// come from the AWS chain when NewS3 loads it (AWS_REGION,
// AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
// ...).
func S3ConfigFromEnv() (S3Config, error) {
	cfg := S3Config{Endpoint: os.Getenv("MLFLOW_S3_ENDPOINT_URL")}
	ignore, err := envBool("MLFLOW_S3_IGNORE_TLS")
	if err != nil {
		return cfg, err
	}
	cfg.IgnoreTLS = ignore
	return cfg, nil
}

// envBool parses a boolean variable as MLflow does: true/false/1/0 in any
// case, unset or empty is false, anything else an error.
func envBool(name string) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(name)))
	switch v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("artifact: %s=%q: want true, false, 1 or 0", name, os.Getenv(name))
}

// ParseS3URI splits s3://bucket/prefix into its bucket and key prefix.
func ParseS3URI(uri string) (bucket, prefix string, err error) {
	u, err := url.Parse(uri)
	if err != nil || !strings.EqualFold(u.Scheme, "s3") || u.Host == "" {
		return "", "", fmt.Errorf("artifact: not an s3://bucket/prefix URI: %q", uri)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// S3 is a Repository on an S3 bucket (AWS or any S3-compatible store). The
// artifact path p is stored under the key <prefix>/<p>, the layout MLflow's
// S3ArtifactRepository uses. Uploads stream: bodies larger than one part go
// up as a multipart upload with a bounded number of part buffers.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	cfg     S3Config
	bufs    sync.Pool
}

var _ Repository = (*S3)(nil)

// NewS3 builds an S3 repository.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("artifact: S3 repository without a bucket")
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.PartSize <= 0 {
		cfg.PartSize = DefaultS3PartSize
	}
	cfg.PartSize = max(cfg.PartSize, minS3PartSize)
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultS3Concurrency
	}
	if cfg.PresignExpiry <= 0 {
		cfg.PresignExpiry = DefaultS3PresignExpiry
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	if cfg.IgnoreTLS {
		hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
		})
		opts = append(opts, config.WithHTTPClient(hc))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("artifact: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultS3Region
	}
	// Checksums only where S3 requires them: many S3-compatible stores
	// reject the SDK's newer default trailing checksums.
	awsCfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	awsCfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	})
	r := &S3{client: client, presign: s3.NewPresignClient(client), cfg: cfg}
	r.bufs.New = func() any { b := make([]byte, cfg.PartSize); return &b }
	return r, nil
}

// Client is the underlying S3 client (for tests and tools).
func (r *S3) Client() *s3.Client { return r.client }

// Bucket is the repository's bucket.
func (r *S3) Bucket() string { return r.cfg.Bucket }

func (r *S3) key(rel string) string { return JoinPath(r.cfg.Prefix, rel) }

// dirPrefix is the key prefix of the directory rel ("" for the bucket root).
func (r *S3) dirPrefix(rel string) string {
	k := r.key(rel)
	if k == "" {
		return ""
	}
	return k + "/"
}

func (r *S3) resolve(p string, allowRoot bool) (string, error) {
	rel, err := ValidatePath(p)
	if err != nil {
		return "", err
	}
	if rel == "" && !allowRoot {
		return "", ErrInvalidPath
	}
	return rel, nil
}

// Put implements Repository.
func (r *S3) Put(ctx context.Context, p string, body io.Reader, size int64) error {
	rel, err := r.resolve(p, false)
	if err != nil {
		return err
	}
	key := r.key(rel)
	partSize := r.cfg.PartSize
	if size > partSize*maxS3Parts {
		partSize = (size + maxS3Parts - 1) / maxS3Parts
	}
	bufp := r.getBuf(partSize)
	n, err := io.ReadFull(body, *bufp)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		defer r.putBuf(bufp)
		if size >= 0 && int64(n) != size {
			return fmt.Errorf("artifact: write %q: got %d of %d bytes: %w", p, n, size, io.ErrUnexpectedEOF)
		}
		_, err := r.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &r.cfg.Bucket,
			Key:           &key,
			Body:          bytes.NewReader((*bufp)[:n]),
			ContentLength: aws.Int64(int64(n)),
			ContentType:   aws.String(ContentType(rel)),
		})
		if err != nil {
			return fmt.Errorf("artifact: put %q: %w", p, err)
		}
		return nil
	}
	if err != nil {
		r.putBuf(bufp)
		return fmt.Errorf("artifact: write %q: %w", p, err)
	}
	return r.putMultipart(ctx, p, key, body, size, bufp, partSize)
}

func (r *S3) getBuf(size int64) *[]byte {
	if size == r.cfg.PartSize {
		return r.bufs.Get().(*[]byte)
	}
	b := make([]byte, size)
	return &b
}

func (r *S3) putBuf(b *[]byte) {
	if int64(len(*b)) == r.cfg.PartSize {
		r.bufs.Put(b)
	}
}

// putMultipart uploads body, whose first part is already in first, as an S3
// multipart upload with at most cfg.Concurrency parts in flight. On any
// failure the upload is aborted, so no partial object appears.
func (r *S3) putMultipart(ctx context.Context, p, key string, body io.Reader, size int64, first *[]byte, partSize int64) (err error) {
	created, err := r.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:      &r.cfg.Bucket,
		Key:         &key,
		ContentType: aws.String(ContentType(p)),
	})
	if err != nil {
		r.putBuf(first)
		return fmt.Errorf("artifact: put %q: start multipart upload: %w", p, err)
	}
	uploadID := created.UploadId
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		parts    []types.CompletedPart
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, r.cfg.Concurrency)
	)
	fail := func(e error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = e
			cancel()
		}
		mu.Unlock()
	}
	upload := func(num int32, bufp *[]byte, n int) {
		defer wg.Done()
		defer func() { <-slots }()
		defer r.putBuf(bufp)
		out, err := r.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        &r.cfg.Bucket,
			Key:           &key,
			UploadId:      uploadID,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader((*bufp)[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			fail(fmt.Errorf("artifact: put %q: part %d: %w", p, num, err))
			return
		}
		mu.Lock()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		mu.Unlock()
	}

	var total int64
	bufp, n := first, len(*first)
	for num := int32(1); ; num++ {
		if num > maxS3Parts {
			r.putBuf(bufp)
			fail(fmt.Errorf("artifact: put %q: more than %d parts of %d bytes", p, maxS3Parts, partSize))
			break
		}
		total += int64(n)
		slots <- struct{}{}
		wg.Add(1)
		go upload(num, bufp, n)
		if ctx.Err() != nil {
			break
		}
		bufp = r.getBuf(partSize)
		var rerr error
		n, rerr = io.ReadFull(body, *bufp)
		if rerr == io.EOF {
			r.putBuf(bufp)
			break
		}
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			r.putBuf(bufp)
			fail(fmt.Errorf("artifact: write %q: %w", p, rerr))
			break
		}
		if rerr == io.ErrUnexpectedEOF {
			// Last, short part.
			total += int64(n)
			num++
			slots <- struct{}{}
			wg.Add(1)
			go upload(num, bufp, n)
			break
		}
	}
	wg.Wait()
	if firstErr == nil && size >= 0 && total != size {
		firstErr = fmt.Errorf("artifact: write %q: got %d of %d bytes: %w", p, total, size, io.ErrUnexpectedEOF)
	}
	if firstErr != nil {
		// A fresh context: the request's may be what was cancelled.
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer acancel()
		_, _ = r.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &r.cfg.Bucket, Key: &key, UploadId: uploadID,
		})
		return firstErr
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = r.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &r.cfg.Bucket,
		Key:             &key,
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("artifact: put %q: complete multipart upload: %w", p, err)
	}
	return nil
}

// Stat implements Repository. A key prefix with objects below it is a
// directory, as in MLflow's S3 listing.
func (r *S3) Stat(ctx context.Context, p string) (FileInfo, error) {
	rel, err := r.resolve(p, true)
	if err != nil {
		return FileInfo{}, err
	}
	if rel == "" {
		return FileInfo{IsDir: true}, nil
	}
	key := r.key(rel)
	head, err := r.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &r.cfg.Bucket, Key: &key})
	if err == nil {
		info := FileInfo{Path: rel, FileSize: aws.ToInt64(head.ContentLength)}
		if head.LastModified != nil {
			info.ModTime = *head.LastModified
		}
		return info, nil
	}
	if !isS3NotFound(err) {
		return FileInfo{}, fmt.Errorf("artifact: stat %q: %w", p, err)
	}
	prefix := key + "/"
	list, err := r.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: &r.cfg.Bucket, Prefix: &prefix, MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return FileInfo{}, fmt.Errorf("artifact: stat %q: %w", p, err)
	}
	if len(list.Contents) > 0 {
		return FileInfo{Path: rel, IsDir: true}, nil
	}
	return FileInfo{}, mlflow.NotFound("Artifact '%s' does not exist", p)
}

// Get implements Repository.
func (r *S3) Get(ctx context.Context, p string, offset, length int64) (io.ReadCloser, error) {
	rel, err := r.resolve(p, false)
	if err != nil {
		return nil, err
	}
	key := r.key(rel)
	in := &s3.GetObjectInput{Bucket: &r.cfg.Bucket, Key: &key}
	switch {
	case length == 0:
		if _, err := r.Stat(ctx, p); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	case length > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+length-1, 10))
	case offset > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	out, err := r.client.GetObject(ctx, in)
	if err != nil {
		if isS3NotFound(err) {
			return nil, mlflow.NotFound("Artifact '%s' does not exist", p)
		}
		if s3Code(err) == "InvalidRange" {
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, fmt.Errorf("artifact: get %q: %w", p, err)
	}
	return out.Body, nil
}

// List implements Repository.
func (r *S3) List(ctx context.Context, dir string) ([]FileInfo, error) {
	rel, err := r.resolve(dir, true)
	if err != nil {
		return nil, err
	}
	prefix := r.dirPrefix(rel)
	var out []FileInfo
	pages := s3.NewListObjectsV2Paginator(r.client, &s3.ListObjectsV2Input{
		Bucket: &r.cfg.Bucket, Prefix: &prefix, Delimiter: aws.String("/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("artifact: list %q: %w", dir, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name == "" {
				continue
			}
			out = append(out, FileInfo{Path: JoinPath(rel, name), IsDir: true})
		}
		for _, obj := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(obj.Key), prefix)
			if name == "" {
				continue // a directory marker object
			}
			info := FileInfo{Path: JoinPath(rel, name), FileSize: aws.ToInt64(obj.Size)}
			if obj.LastModified != nil {
				info.ModTime = *obj.LastModified
			}
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Delete implements Repository: the object at path and every object below
// path/.
func (r *S3) Delete(ctx context.Context, p string) error {
	rel, err := r.resolve(p, false)
	if err != nil {
		return err
	}
	key := r.key(rel)
	if _, err := r.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.cfg.Bucket, Key: &key}); err != nil && !isS3NotFound(err) {
		return fmt.Errorf("artifact: delete %q: %w", p, err)
	}
	prefix := key + "/"
	pages := s3.NewListObjectsV2Paginator(r.client, &s3.ListObjectsV2Input{Bucket: &r.cfg.Bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("artifact: delete %q: %w", p, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, obj := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: obj.Key})
		}
		out, err := r.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &r.cfg.Bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("artifact: delete %q: %w", p, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("artifact: delete %q: %s: %s %s", p, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// CreateMultipartUpload implements Repository: it starts an S3 multipart
// upload and presigns one UploadPart URL per part, which the client PUTs to
// directly (MLflow's proxied multipart upload).
func (r *S3) CreateMultipartUpload(ctx context.Context, p string, numParts int) (*MultipartUpload, error) {
	rel, err := r.resolve(p, false)
	if err != nil {
		return nil, err
	}
	if numParts < 0 || numParts > maxS3Parts {
		return nil, mlflow.InvalidParam("num_parts must be between 0 and %d, got %d", maxS3Parts, numParts)
	}
	key := r.key(rel)
	created, err := r.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &r.cfg.Bucket, Key: &key, ContentType: aws.String(ContentType(rel)),
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: create multipart upload %q: %w", p, err)
	}
	mpu := &MultipartUpload{UploadID: aws.ToString(created.UploadId), Credentials: make([]PartCredential, 0, numParts)}
	for i := 1; i <= numParts; i++ {
		req, err := r.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
			Bucket: &r.cfg.Bucket, Key: &key, UploadId: created.UploadId, PartNumber: aws.Int32(int32(i)),
		}, s3.WithPresignExpires(r.cfg.PresignExpiry))
		if err != nil {
			return nil, fmt.Errorf("artifact: presign part %d of %q: %w", i, p, err)
		}
		mpu.Credentials = append(mpu.Credentials, PartCredential{PartNumber: int64(i), URL: req.URL, Headers: map[string]string{}})
	}
	return mpu, nil
}

// CompleteMultipartUpload implements Repository.
func (r *S3) CompleteMultipartUpload(ctx context.Context, p, uploadID string, parts []UploadedPart) error {
	rel, err := r.resolve(p, false)
	if err != nil {
		return err
	}
	key := r.key(rel)
	completed := make([]types.CompletedPart, 0, len(parts))
	for _, part := range parts {
		if part.PartNumber < 1 || part.PartNumber > maxS3Parts {
			return mlflow.InvalidParam("Invalid part number %d", part.PartNumber)
		}
		completed = append(completed, types.CompletedPart{ETag: aws.String(part.ETag), PartNumber: aws.Int32(int32(part.PartNumber))})
	}
	_, err = r.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &r.cfg.Bucket, Key: &key, UploadId: &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	return r.mpuError("complete", p, uploadID, err)
}

// AbortMultipartUpload implements Repository.
func (r *S3) AbortMultipartUpload(ctx context.Context, p, uploadID string) error {
	rel, err := r.resolve(p, false)
	if err != nil {
		return err
	}
	key := r.key(rel)
	_, err = r.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &r.cfg.Bucket, Key: &key, UploadId: &uploadID})
	return r.mpuError("abort", p, uploadID, err)
}

// mpuError turns the S3 errors a client can cause into MLflow errors.
func (r *S3) mpuError(op, p, uploadID string, err error) error {
	if err == nil {
		return nil
	}
	switch s3Code(err) {
	case "NoSuchUpload":
		return mlflow.NotFound("Multipart upload '%s' of '%s' does not exist", uploadID, p)
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML", "InvalidArgument":
		var ae smithy.APIError
		errors.As(err, &ae)
		return mlflow.InvalidParam("Cannot %s multipart upload of '%s': %s: %s", op, p, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("artifact: %s multipart upload %q: %w", op, p, err)
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isS3NotFound(err error) bool {
	switch s3Code(err) {
	case "NotFound", "NoSuchKey":
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
