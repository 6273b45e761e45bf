package ciam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// This file is the transport: how a logical request becomes HTTP attempts
// under the retry policy, and how their failures become the client's own
// errors, which never carry a URL or a secret.

// NewTransport returns the transport the client uses when no HTTP client is
// given: Go's defaults, TLS 1.2 or newer, the given roots (nil: the system's),
// and the proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY read anew for every
// request (http.ProxyFromEnvironment reads the environment only once per
// process). Loopback hosts are never proxied.
func NewTransport(roots *x509.CertPool) *http.Transport {
	return newTransport(roots, nil)
}

// newTransport is NewTransport with dial (nil: Go's default) making the
// connections.
func newTransport(roots *x509.CertPool, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		t = &http.Transport{}
	}
	t = t.Clone()
	if dial == nil {
		dial = t.DialContext
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = dialUntilCallerEnds(dial)
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		return httpproxy.FromEnvironment().ProxyFunc()(req.URL)
	}
	return t
}

// request is one logical request; every attempt builds a fresh
// *http.Request from it.
type request struct {
	method, path string
	// target, when set, is the absolute URL of a document the directory
	// named (jwks_uri), instead of path under the auth domain.
	target *url.URL
	query  url.Values
	// form, when not nil, is sent form-encoded with the client's
	// authentication (creds) added per the auth method.
	form  url.Values
	creds Credentials
	// singleUse marks a request that carries a code or refresh token (see
	// singleuse.go): it is retried only when it was never sent.
	singleUse bool
	// secrets are the request's secrets besides the client secret (codes,
	// verifiers, refresh tokens), for redaction.
	secrets []string
}

func (r request) op() string {
	if r.target != nil {
		return r.method + " " + r.target.EscapedPath()
	}
	return r.method + " " + r.path
}

// host is the host (and port) the request goes to.
func (c *Client) host(r request) string {
	if r.target != nil {
		return r.target.Host
	}
	return c.base.Host
}

// redactor returns the redaction of r's errors: its secrets in every form
// they can take on the wire (the Basic header value included), then the
// caller's own redaction.
func (c *Client) redactor(r request) func(string) string {
	red := NewRedactor(append([]string{r.creds.ClientSecret, BasicAuthValue(r.creds.ClientID, r.creds.ClientSecret)}, r.secrets...)...)
	return func(s string) string {
		s = red.Redact(s)
		if c.redact != nil {
			s = c.redact(s)
		}
		return s
	}
}

// build makes the HTTP request for one attempt.
func (c *Client) build(ctx context.Context, r request) (*http.Request, error) {
	u := *c.base
	u.Path = r.path
	u.RawQuery = r.query.Encode()
	if r.target != nil {
		u = *r.target
	}
	var body io.Reader
	header := http.Header{}
	if r.form != nil {
		form := url.Values{}
		for k, v := range r.form {
			form[k] = v
		}
		if c.authMethod == AuthMethodClientSecretBasic && r.creds.ClientSecret != "" {
			// RFC 6749 section 2.3.1: form-url-encode id and secret first.
			raw := url.QueryEscape(r.creds.ClientID) + ":" + url.QueryEscape(r.creds.ClientSecret)
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(raw)))
		} else {
			form.Set("client_id", r.creds.ClientID)
			if r.creds.ClientSecret != "" {
				form.Set("client_secret", r.creds.ClientSecret)
			}
		}
		body = strings.NewReader(form.Encode())
		header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		// NewRequest errors can quote the URL; never pass them on.
		return nil, &TransportError{Op: r.op(), Host: c.host(r), msg: "cannot build the request", err: errors.New("cannot build the request")}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if r.singleUse {
		c.noReplay(req)
	}
	return req, nil
}

// result is the final answer to a request, after any retries.
type result struct {
	status      int
	data        []byte
	contentType string
	retryAfter  string
	received    time.Time
	attempts    int
}

// statusError describes a non-2xx answer.
func (c *Client) statusError(r request, res *result) *Error {
	e := &Error{Op: r.op(), Host: c.host(r), StatusCode: res.status, ContentType: res.contentType, Attempts: res.attempts}
	parseErrorResponse(e, res.data, c.redactor(r))
	return e
}

// send runs the attempts of r under the retry policy. Whether a
// *TransportError it returns was sent is the connection record's to say
// (see singleuse.go).
func (c *Client) send(ctx context.Context, r request) (*result, error) {
	var rec connections
	for attempt := 1; ; attempt++ {
		actx, release, ok := attemptContext(ctx, r)
		if !ok {
			return &result{attempts: attempt - 1}, rec.stamp(&TransportError{Op: r.op(), Host: c.host(r),
				msg: contextEndedMessage(ctx.Err()) + " before it was sent", err: ctx.Err(), Attempts: attempt - 1})
		}
		start := c.now()
		res, connected, err := c.attempt(actx, r)
		release()
		err = rec.add(connected).stamp(err)
		res.attempts = attempt
		retry := attempt <= c.retry.MaxRetries && ctx.Err() == nil && retryable(r.singleUse, res.status, err)
		var wait time.Duration
		if retry {
			wait = c.retry.backoff(attempt - 1)
			if d, ok := parseRetryAfter(res.retryAfter, c.now()); ok && err == nil {
				wait = d
			}
			if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
				retry = false // the wait would outlast the deadline
			}
		}
		if c.onRequest != nil {
			info := RequestInfo{Op: r.op(), Host: c.host(r), Attempt: attempt, StatusCode: res.status, Duration: c.now().Sub(start), Err: err}
			if retry {
				info.RetryIn = wait
			}
			c.onRequest(ctx, info)
		}
		if !retry {
			var terr *TransportError
			if errors.As(err, &terr) {
				terr.Attempts = attempt
			}
			var cerr *Error
			if errors.As(err, &cerr) {
				cerr.Attempts = attempt
			}
			return res, err
		}
		if !sleep(ctx, wait) {
			return res, rec.stamp(&TransportError{Op: r.op(), Host: c.host(r), msg: contextEndedMessage(ctx.Err()), err: ctx.Err(), Attempts: attempt})
		}
	}
}

// attempt sends one HTTP request and reads a bounded body. It never returns
// a *url.Error: those print the full URL. connected reports whether the
// attempt had a connection to the server (see traceConnection).
func (c *Client) attempt(ctx context.Context, r request) (res *result, connected bool, err error) {
	res = &result{}
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	actx, hadConnection := traceConnection(actx)
	req, err := c.build(actx, r)
	if err != nil {
		return res, false, err
	}
	resp, err := c.httpClientFor(r).Do(req)
	if err != nil {
		return res, hadConnection(), c.transportError(ctx, r, err, hadConnection())
	}
	defer resp.Body.Close()
	res.received = c.now()
	res.status = resp.StatusCode
	res.contentType = printable(resp.Header.Get("Content-Type"), 64)
	res.retryAfter = resp.Header.Get("Retry-After")

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e := &Error{Op: r.op(), Host: c.host(r), StatusCode: resp.StatusCode, ContentType: res.contentType,
			Reason: "the server answered with a redirect, which a token client never follows"}
		if loc, perr := url.Parse(resp.Header.Get("Location")); perr == nil && loc.Host != "" {
			e.RedirectHost = printable(loc.Host, 253)
			e.Reason += " (to host " + e.RedirectHost + ")"
		}
		return res, true, e
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return res, true, c.transportError(ctx, r, fmt.Errorf("reading the response body: %w", err), true)
	}
	if len(data) > MaxBodyBytes {
		return res, true, &Error{Op: r.op(), Host: c.host(r), StatusCode: resp.StatusCode, ContentType: res.contentType,
			Reason: fmt.Sprintf("response body is larger than %d bytes (1 MiB); no answer the provider asks for is nearly that large", MaxBodyBytes)}
	}
	res.data = data
	return res, true, nil
}

// transportError strips a *url.Error (which prints the URL, query and all)
// down to its cause, says in words what happened, and redacts what is left.
// ctx is the caller's context; connected is whether the attempt had a
// connection, for the words ("no connection within" or "no answer within"):
// whether the request was sent is for send to stamp (see singleuse.go).
func (c *Client) transportError(ctx context.Context, r request, err error, connected bool) *TransportError {
	cause := err
	var uerr *url.Error
	if errors.As(err, &uerr) {
		cause = uerr.Err
	}
	timedOut := errors.Is(cause, context.DeadlineExceeded) || isTimeout(cause)
	msg := cause.Error()
	switch {
	case ctx.Err() != nil:
		msg = contextEndedMessage(ctx.Err())
	case errors.Is(cause, context.Canceled):
		msg = "request cancelled"
	case errors.Is(cause, http.ErrSchemeMismatch):
		msg = "the server answered in plain HTTP, not HTTPS"
	case tlsHandshakeTimeout(cause):
		msg = "the TLS handshake did not finish in time (the server accepted the connection and said nothing)"
	case dialFailed(cause) && timedOut:
		msg = "no connection could be made in time: " + cause.Error()
	case strings.Contains(cause.Error(), "after Request.Body was written"):
		// The HTTP/2 client's refusal to replay a single-use request.
		msg = "the connection failed after the request was sent, and a single-use request is not sent again"
	case timedOut && !connected:
		msg = fmt.Sprintf("no connection within %s (request_timeout)", c.retry.AttemptTimeout)
	case timedOut:
		msg = fmt.Sprintf("no answer within %s (request_timeout)", c.retry.AttemptTimeout)
	}
	// The cause may itself quote the URL (some proxy errors do): redact.
	return &TransportError{Op: r.op(), Host: c.host(r), msg: printable(c.redactor(r)(msg), 300), err: cause}
}

// waitEnded turns the bare context error of a caller whose own context ended
// while it waited for a shared fetch into a TransportError for r.
func (c *Client) waitEnded(ctx context.Context, err error, r request) error {
	var terr *TransportError
	if err != nil && ctx.Err() != nil && !errors.As(err, &terr) {
		return &TransportError{Op: r.op(), Host: c.host(r), msg: contextEndedMessage(ctx.Err()), err: err}
	}
	return err
}

// contextEndedMessage says why an operation's context ended.
func contextEndedMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "request timed out (the operation's deadline passed)"
	}
	return "request cancelled"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// dialFailed reports a failure of the dialer itself.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// tlsHandshakeTimeout reports net/http's TLS handshake timeout, whose type
// is not exported.
func tlsHandshakeTimeout(err error) bool {
	return isTimeout(err) && strings.Contains(err.Error(), "TLS handshake timeout")
}
