package server

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mltrack/mltrack/internal/auth"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// Limits against resource exhaustion by clients (docs/security.md,
// "Hardening"). The http.Server itself bounds headers (MaxHeaderBytes,
// ReadHeaderTimeout) and idle connections (IdleTimeout); these bound the
// body and the time of each API request, which the http.Server cannot do
// globally because artifact transfers stream for minutes.

// DefaultMaxRequestBodyBytes is the default and largest body of a JSON
// API request (the API's own decoder stops there too).
const DefaultMaxRequestBodyBytes = 32 << 20

// Default per-request deadlines of JSON API requests.
const (
	DefaultRequestReadTimeout  = 60 * time.Second
	DefaultRequestWriteTimeout = 10 * time.Minute
)

// Default connection deadlines of every request: the headers, and the
// wait for the next request on a kept-alive connection.
const (
	DefaultHeaderReadTimeout = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// streamingPath reports the routes that move artifact bytes and so get no
// body limit and no deadlines: the artifact proxy and the two download
// endpoints.
func streamingPath(p string) bool {
	return strings.HasPrefix(p, "/api/2.0/mlflow-artifacts/") || strings.HasPrefix(p, "/ajax-api/2.0/mlflow-artifacts/") ||
		p == "/get-artifact" || p == "/model-versions/get-artifact"
}

// jsonError answers MLflow's error envelope with the code's status (or
// status when non-zero).
func jsonError(w http.ResponseWriter, status int, code mlflow.ErrorCode, msg string) {
	if status == 0 {
		status = code.HTTPStatus()
	}
	b, _ := json.Marshal(struct {
		ErrorCode mlflow.ErrorCode `json:"error_code"`
		Message   string           `json:"message"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// limitRequests bounds every request except artifact transfers: the body
// must arrive within readTimeout and be at most maxBody bytes (else 413
// in MLflow's error format, without reading the rest), and the answer
// must be written within writeTimeout of the start. The body is read here,
// before the handlers (the auth middleware reads it too), and handed on
// from memory.
//
// The read deadline covers the body only, and only requests that have one:
// net/http reads the connection in the background while the handler runs
// (from the start when there is no body), and a deadline hit there would
// cancel the request's context.
func limitRequests(h http.Handler, maxBody int64, readTimeout, writeTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if streamingPath(r.URL.Path) {
			// A deadline of an earlier request on this keep-alive
			// connection must not cut a long transfer.
			_ = rc.SetWriteDeadline(time.Time{})
			h.ServeHTTP(w, r)
			return
		}
		if writeTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			jsonError(w, http.StatusRequestEntityTooLarge, mlflow.BadRequest,
				"Request body too large: the limit is "+strconv.FormatInt(maxBody, 10)+" bytes")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			if readTimeout > 0 {
				_ = rc.SetReadDeadline(time.Now().Add(readTimeout))
			}
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			_ = r.Body.Close()
			if readTimeout > 0 {
				_ = rc.SetReadDeadline(time.Time{})
			}
			var ne net.Error
			switch {
			case int64(len(b)) > maxBody:
				w.Header().Set("Connection", "close")
				jsonError(w, http.StatusRequestEntityTooLarge, mlflow.BadRequest,
					"Request body too large: the limit is "+strconv.FormatInt(maxBody, 10)+" bytes")
				return
			case errors.As(err, &ne) && ne.Timeout():
				w.Header().Set("Connection", "close")
				jsonError(w, http.StatusRequestTimeout, mlflow.BadRequest, "The request body was not received in time")
				return
			case err != nil:
				w.Header().Set("Connection", "close")
				jsonError(w, http.StatusBadRequest, mlflow.BadRequest, "Could not read the request body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		h.ServeHTTP(w, r)
	})
}

// RateLimit is a token bucket setting: Rate requests per second on
// average, up to Burst at once.
type RateLimit struct {
	Rate  float64
	Burst int
}

// limiter keeps one token bucket per client key, in memory: each replica
// counts on its own.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(l RateLimit) *limiter {
	burst := float64(l.Burst)
	if burst < 1 {
		burst = math.Max(1, math.Ceil(l.Rate))
	}
	return &limiter{rate: l.Rate, burst: burst, now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none it reports how
// long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops the buckets that have refilled completely (a new bucket
// starts full, so forgetting them changes nothing), at most once a minute.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}

// tooMany answers 429 with MLflow's REQUEST_LIMIT_EXCEEDED and Retry-After.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	jsonError(w, http.StatusTooManyRequests, mlflow.RequestLimitExceeded, "Too many requests; retry after "+strconv.Itoa(secs)+" s")
}

// exemptFromRateLimit are the probes of load balancers and orchestrators.
func exemptFromRateLimit(p string) bool {
	return p == "/health" || p == "/ready" || p == "/version"
}

// clientIP is the address the connection comes from (X-Forwarded-For is
// not trusted: any client can set it).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimitIPs limits each client address, before authentication, so that
// password guessing is limited too.
func rateLimitIPs(h http.Handler, l *limiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !exemptFromRateLimit(r.URL.Path) {
			if ok, wait := l.allow("ip:" + clientIP(r)); !ok {
				tooMany(w, wait)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// rateLimitUsers limits each authenticated user (behind the auth
// middleware, which puts the user in the request's context), whatever
// address their requests come from.
func rateLimitUsers(h http.Handler, l *limiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := auth.UserFrom(r.Context()); u != nil && !exemptFromRateLimit(r.URL.Path) {
			if ok, wait := l.allow("user:" + u.Username); !ok {
				tooMany(w, wait)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// checkHardening fills the defaults of the limits and refuses impossible
// values.
func checkHardening(cfg *Config) error {
	switch {
	case cfg.MaxRequestBodyBytes == 0:
		cfg.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	case cfg.MaxRequestBodyBytes < 0 || cfg.MaxRequestBodyBytes > DefaultMaxRequestBodyBytes:
		return fmt.Errorf("max request body: %d bytes is not between 1 and %d", cfg.MaxRequestBodyBytes, DefaultMaxRequestBodyBytes)
	}
	if cfg.RequestReadTimeout == 0 {
		cfg.RequestReadTimeout = DefaultRequestReadTimeout
	}
	if cfg.RequestWriteTimeout == 0 {
		cfg.RequestWriteTimeout = DefaultRequestWriteTimeout
	}
	// A connection without these deadlines is the slow-client exhaustion
	// they exist to prevent, so there is no "none" for them.
	if cfg.HeaderReadTimeout < 0 || cfg.IdleTimeout < 0 {
		return fmt.Errorf("header read timeout %v and idle timeout %v must not be negative", cfg.HeaderReadTimeout, cfg.IdleTimeout)
	}
	if cfg.HeaderReadTimeout == 0 {
		cfg.HeaderReadTimeout = DefaultHeaderReadTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if rl := cfg.RateLimit; rl != nil && (rl.Rate <= 0 || math.IsInf(rl.Rate, 0) || math.IsNaN(rl.Rate) || rl.Burst < 0) {
		return fmt.Errorf("rate limit: %v requests/s with a burst of %d is not a limit", rl.Rate, rl.Burst)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("TLS needs both a certificate file and a key file")
	}
	if cfg.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
	}
	return nil
}

// harden wraps h with the per-address rate limit and the request limits.
func (s *Server) harden(h http.Handler) http.Handler {
	h = limitRequests(h, s.cfg.MaxRequestBodyBytes, s.cfg.RequestReadTimeout, s.cfg.RequestWriteTimeout)
	if s.cfg.RateLimit != nil {
		if s.limits == nil {
			s.limits = newLimiter(*s.cfg.RateLimit)
		}
		h = rateLimitIPs(h, s.limits)
	}
	return h
}

// limitUsers wraps the handler behind the auth middleware with the
// per-user rate limit.
func (s *Server) limitUsers(h http.Handler) http.Handler {
	if s.cfg.RateLimit == nil {
		return h
	}
	if s.limits == nil {
		s.limits = newLimiter(*s.cfg.RateLimit)
	}
	return rateLimitUsers(h, s.limits)
}
