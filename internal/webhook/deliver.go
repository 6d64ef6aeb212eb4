package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// Defaults, MLflow's where MLflow has the setting.
const (
	DefaultMaxRetries   = 3                   // MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES
	DefaultTimeout      = 30 * time.Second    // MLFLOW_WEBHOOK_REQUEST_TIMEOUT
	DefaultWorkers      = 10                  // MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS
	DefaultMaxAge       = 72 * time.Hour      // mltrack: how long an event is retried
	DefaultPollInterval = time.Second         // mltrack: how often the outbox is read
	DefaultLogRetention = 30 * 24 * time.Hour // mltrack: how long delivery log lines are kept
	// maxQuickBackoff caps the back-off of the first MaxRetries retries,
	// as MLflow's urllib3 Retry(backoff_factor=1, backoff_max=60).
	maxQuickBackoff = 60 * time.Second
	// maxSlowBackoff caps the back-off after them: an event whose receiver
	// was down is delivered at most this long after it comes back.
	maxSlowBackoff = 5 * time.Minute
)

// retryStatuses are the answers MLflow retries (its status_forcelist).
var retryStatuses = map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true}

// Config is the delivery configuration.
type Config struct {
	Guard        Guard
	Cipher       *Fernet
	MaxRetries   int
	Timeout      time.Duration
	Workers      int
	MaxAge       time.Duration
	PollInterval time.Duration
	// LogRetention is how long delivery log lines are kept.
	LogRetention time.Duration
}

func (c *Config) defaults() {
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.LogRetention <= 0 {
		c.LogRetention = DefaultLogRetention
	}
}

// Deliverer sends webhook events: Run claims them from the store's outbox
// and posts them, Test sends one example event at once.
type Deliverer struct {
	cfg    Config
	store  store.Webhooks
	log    *slog.Logger
	client *http.Client
	wake   chan struct{}
}

// New makes a Deliverer.
func New(cfg Config, st store.Webhooks, log *slog.Logger) *Deliverer {
	cfg.defaults()
	d := &Deliverer{cfg: cfg, store: st, log: log, wake: make(chan struct{}, 1)}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: d.cfg.Guard.dialControl}
	d.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			// No proxy: the address checked must be the receiver's.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: cfg.Timeout,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
		// Redirects are not followed: each hop would need the address
		// check again, and a receiver has no reason to redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d
}

// Notify wakes the worker: an event was committed.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// lease is how long a claimed event is held: longer than an attempt can
// take, so that only a crashed worker's events are claimed again.
func (d *Deliverer) lease() time.Duration { return d.cfg.Timeout + 10*time.Second }

// Run delivers events until ctx is done, then waits for the attempts in
// flight (each bounded by the request timeout).
func (d *Deliverer) Run(ctx context.Context) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight int
		freed    = make(chan struct{}, 1)
	)
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if n, err := d.store.PruneDeliveryLog(ctx, pruned.Add(-d.cfg.LogRetention)); err != nil && ctx.Err() == nil {
				d.log.Warn("webhook: prune delivery log", "err", err)
			} else if n > 0 {
				d.log.Info("webhook: delivery log pruned", "lines", n, "older_than", d.cfg.LogRetention.String())
			}
		}
		mu.Lock()
		free := d.cfg.Workers - inFlight
		mu.Unlock()
		full := false
		if free > 0 {
			batch, err := d.store.ClaimDeliveries(ctx, d.lease(), free)
			if err != nil && ctx.Err() == nil {
				d.log.Warn("webhook: claim deliveries", "err", err)
			}
			full = len(batch) == free
			for _, dl := range batch {
				mu.Lock()
				inFlight++
				mu.Unlock()
				wg.Add(1)
				go func(dl store.Delivery) {
					defer wg.Done()
					d.deliver(dl)
					mu.Lock()
					inFlight--
					mu.Unlock()
					select {
					case freed <- struct{}{}:
					default:
					}
				}(dl)
			}
		}
		if full {
			// More may be due: claim again as soon as a worker is free.
			select {
			case <-ctx.Done():
				return
			case <-freed:
			}
			continue
		}
		timer.Reset(d.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// deliver makes one attempt of a claimed event and records its outcome.
func (d *Deliverer) deliver(dl store.Delivery) {
	start := time.Now()
	a := store.DeliveryAttempt{Time: start}
	switch {
	case dl.Gone:
		a.Outcome, a.Error = store.DeliverySkipped, "the webhook was deleted"
	case dl.Status != mlflow.WebhookActive:
		a.Outcome, a.Error = store.DeliverySkipped, "the webhook is "+dl.Status
	default:
		secret, err := d.secret(dl.Secret)
		if err != nil {
			a.Outcome, a.Error = store.DeliveryFailed, err.Error()
			break
		}
		body := mlflow.WebhookBody(dl.Event, dl.EventTime, dl.Data)
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Timeout)
		res := d.send(ctx, dl.URL, secret, dl.ID, body, 4<<10)
		cancel()
		a.ResponseStatus, a.Error = res.status, res.err
		attempt := dl.Attempts + 1
		switch {
		case res.err == "" && res.status < 300:
			a.Outcome = store.DeliveryDelivered
		case res.err != "" && !res.retryable, res.err == "" && !retryStatuses[res.status]:
			a.Outcome = store.DeliveryFailed
			if a.Error == "" {
				a.Error = "the receiver answered " + strconv.Itoa(res.status)
			}
		case time.Since(dl.CreatedAt) > d.cfg.MaxAge:
			a.Outcome = store.DeliveryFailed
			a.Error = fmt.Sprintf("given up after %d attempts over %s: %s", attempt, d.cfg.MaxAge, orStatus(a.Error, res.status))
		default:
			a.Outcome = store.DeliveryRetrying
			a.NextAttempt = time.Now().Add(d.backoff(attempt, res.retryAfter))
		}
	}
	a.DurationMs = time.Since(start).Milliseconds()
	held, err := d.store.FinishDelivery(context.Background(), dl, a)
	if err != nil {
		d.log.Error("webhook: record delivery", "delivery_id", dl.ID, "err", err)
		return
	}
	if !held {
		d.log.Warn("webhook: delivery claim was lost (lease ended); another worker has it", "delivery_id", dl.ID)
		return
	}
	lvl := slog.LevelInfo
	if a.Outcome != store.DeliveryDelivered {
		lvl = slog.LevelWarn
	}
	d.log.Log(context.Background(), lvl, "webhook delivery", "webhook_id", dl.WebhookID, "delivery_id", dl.ID, "event", dl.Event.String(),
		"attempt", dl.Attempts+1, "outcome", a.Outcome, "status", a.ResponseStatus, "error", a.Error, "duration_ms", a.DurationMs)
}

func orStatus(msg string, status int) string {
	if msg != "" {
		return msg
	}
	return "the receiver answered " + strconv.Itoa(status)
}

// backoff is the wait before attempt n+1 after n failed ones: MLflow's
// exponential back-off (1 s, 2 s, 4 s, ..., up to 60 s, with up to a
// second of jitter) for the first MaxRetries retries, then doubling on up
// to 5 minutes. A Retry-After answer is honoured up to that cap.
func (d *Deliverer) backoff(n int, retryAfter time.Duration) time.Duration {
	limit := maxQuickBackoff
	if n > d.cfg.MaxRetries {
		limit = maxSlowBackoff
	}
	wait := limit
	if n < 20 {
		wait = min(time.Duration(1<<(n-1))*time.Second, limit)
	}
	if retryAfter > wait {
		wait = min(retryAfter, maxSlowBackoff)
	}
	return wait + time.Duration(rand.Int64N(int64(time.Second)))
}

func (d *Deliverer) secret(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	if d.cfg.Cipher == nil {
		return "", ErrBadToken
	}
	return d.cfg.Cipher.Decrypt(token)
}

type sendResult struct {
	status     int
	body       string
	err        string
	retryable  bool
	retryAfter time.Duration
}

// send posts one signed delivery, as MLflow's _send_webhook_request.
func (d *Deliverer) send(ctx context.Context, url, secret, deliveryID, body string, keep int64) sendResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return sendResult{err: "invalid webhook URL: " + err.Error()}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mltrack-webhook")
	req.Header[HeaderDeliveryID] = []string{deliveryID}
	req.Header[HeaderTimestamp] = []string{ts}
	if secret != "" {
		req.Header[HeaderSignature] = []string{Sign(secret, deliveryID, ts, body)}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		var opErr *net.OpError
		// A refused address is refused again on the next attempt.
		refused := errors.As(err, &opErr) && strings.Contains(opErr.Err.Error(), "is not public")
		return sendResult{err: err.Error(), retryable: !refused}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, keep))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	r := sendResult{status: resp.StatusCode, body: string(b)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		r.retryAfter = time.Duration(s) * time.Second
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		r.err = fmt.Sprintf("the receiver answered %d (redirects are not followed)", resp.StatusCode)
	}
	return r
}

// TestResult is MLflow's WebhookTestResult.
type TestResult struct {
	Success        bool   `json:"success"`
	ResponseStatus int    `json:"response_status,omitempty"`
	ResponseBody   string `json:"response_body,omitempty"`
	ErrorMessage   string `json:"error_message,omitempty"`
}

// Test sends the example payload of an event (the webhook's first when
// event is nil) once, at once, and answers what the receiver said.
func (d *Deliverer) Test(ctx context.Context, w *store.WebhookRecord, event *mlflow.WebhookEvent) TestResult {
	var ev mlflow.WebhookEvent
	switch {
	case event != nil:
		ev = *event
	case len(w.Events) > 0:
		ev = w.Events[0]
	default:
		return TestResult{ErrorMessage: "Failed to test webhook: the webhook has no events"}
	}
	secret, err := d.secret(w.Secret)
	if err != nil {
		return TestResult{ErrorMessage: "Failed to test webhook: " + err.Error()}
	}
	body := mlflow.WebhookBody(ev, time.Now(), mlflow.ExamplePayload(ev).EncodeData())
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	res := d.send(ctx, w.URL, secret, newDeliveryID(), body, 1<<20)
	if res.status == 0 {
		return TestResult{ErrorMessage: "Failed to test webhook: " + res.err}
	}
	return TestResult{Success: res.status < 400, ResponseStatus: res.status, ResponseBody: res.body}
}

// newDeliveryID is a random (version 4) UUID, as MLflow's delivery ids.
func newDeliveryID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
