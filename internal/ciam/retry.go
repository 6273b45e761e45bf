package ciam

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of RetryPolicy, documented on the provider's max_retries and
// request_timeout attributes and in the troubleshooting guide.
const (
	DefaultMaxRetries     = 4
	DefaultAttemptTimeout = 30 * time.Second
	DefaultMinBackoff     = 250 * time.Millisecond
	DefaultMaxBackoff     = 8 * time.Second
	// MaxRetryAfter caps the wait a Retry-After header can ask for.
	MaxRetryAfter = 30 * time.Second
)

// RetryPolicy says how the client retries transient failures: transport
// errors, HTTP 5xx and 429. Nothing else is retried: OAuth errors
// (invalid_client, unauthorized_client, invalid_scope, invalid_grant,
// invalid_request, ...), other 4xx, redirects and unusable responses are
// final. The single-use grants (an authorization-code exchange, and a
// refresh, which a directory that rotates refresh tokens spends) are retried
// only when the request cannot have reached the server (the connection was
// never made).
//
// The waits grow exponentially from MinBackoff to MaxBackoff with equal
// jitter (half fixed, half random). A Retry-After header (seconds or an
// HTTP date) replaces the computed wait, capped at MaxRetryAfter. No wait
// runs past the context's deadline: if it would, the last error is returned.
//
// go-retryablehttp was considered and not used: its default logger and its
// "giving up" error print the request URL, which for the SCIM token holds
// the client secret, and every one of its policies (CheckRetry, Backoff,
// ErrorHandler, Logger) would have to be replaced to keep the rules above.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0
	// disables retries, a negative value means DefaultMaxRetries.
	MaxRetries int
	// AttemptTimeout bounds each attempt (connect, send, read the answer);
	// 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the computed waits; 0 means the
	// defaults.
	MinBackoff, MaxBackoff time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries < 0 {
		p.MaxRetries = DefaultMaxRetries
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultAttemptTimeout
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	return p
}

// backoff returns the wait before retry number n (0-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 0; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3). It returns false when there is none or it
// cannot be read. The result is capped at MaxRetryAfter and never negative.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	} else {
		return 0, false
	}
	if d < 0 {
		d = 0
	}
	if d > MaxRetryAfter {
		d = MaxRetryAfter
	}
	return d, true
}

// retryable reports whether an attempt's outcome may be retried: a
// single-use request only when the attempt was never sent (see
// singleuse.go), any other after a transport error, 5xx or 429.
func retryable(singleUse bool, status int, err error) bool {
	if err != nil {
		var terr *TransportError
		if !errors.As(err, &terr) || terr.CertificateError() || terr.PlainHTTPAnswer() {
			return false // redirects, oversized bodies, untrusted certificates, plain HTTP: final
		}
		return !singleUse || retryableSingleUse(terr)
	}
	if singleUse {
		return retryableSingleUse(nil)
	}
	return status == http.StatusTooManyRequests || (status >= 500 && status <= 599)
}

// sleep waits d or until ctx ends; it returns false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
