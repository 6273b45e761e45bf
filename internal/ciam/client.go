// Package ciam is a client for the token endpoints of a Tencent CIAM user
// directory. It knows nothing of Terraform: the provider package maps its
// results and errors to Terraform values and diagnostics.
//
// The client keeps the token-client rules of RFC 6749/6750/9700 as the vendor
// needs them: https only except to loopback, TLS 1.2 or newer, no redirects
// followed, bounded response bodies, and no secret or token in any error it
// returns (see redact.go).
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
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"
	"golang.org/x/sync/singleflight"
)

// Endpoint paths, relative to the auth domain.
const (
	TokenPath     = "/oauth2/token"
	SCIMTokenPath = "/scim/api/token"
)

// MaxBodyBytes bounds every response body the client reads.
const MaxBodyBytes = 1 << 20

// Credentials identify a CIAM application or data-sync configuration.
// String and GoString never print the secret.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{ClientID:%q ClientSecret:%s}", c.ClientID, Redacted)
}

// GoString keeps %#v from printing the secret.
func (c Credentials) GoString() string { return c.String() }

// RequestInfo describes one finished HTTP attempt for logging. It holds no
// secret by construction: the operation has no query, and errors are the
// client's own redacted ones.
type RequestInfo struct {
	Op         string
	Host       string
	Attempt    int
	StatusCode int
	Duration   time.Duration
	// RetryIn is the wait before the next attempt; 0 when none follows.
	RetryIn time.Duration
	Err     error
}

// Client authentication methods at the token endpoint.
const (
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodClientSecretBasic = "client_secret_basic"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the auth domain as returned by ParseAuthDomain.
	BaseURL *url.URL
	// HTTPClient is used for requests; nil means a client with the
	// package's secure defaults (see NewTransport). Its CheckRedirect is
	// always replaced so that redirects are never followed.
	HTTPClient *http.Client
	// RootCAs, when set, verifies server certificates instead of the system
	// roots (ignored when HTTPClient is set).
	RootCAs *x509.CertPool
	// AuthMethod is client_secret_post (default, as in the vendor's samples)
	// or client_secret_basic.
	AuthMethod string
	// Retry is the retry and timeout policy.
	Retry RetryPolicy
	// ReuseTokens enables the token cache: identical client-credentials and
	// SCIM token requests are answered from it while the reuse rule allows
	// (see MinReuseRemaining), and concurrent identical requests share one
	// HTTP request.
	ReuseTokens bool
	// UserAgent is sent with every request.
	UserAgent string
	// OnRequest, when set, is called after every HTTP attempt.
	OnRequest func(context.Context, RequestInfo)
	// Redact, when set, is applied to every text the client puts into an
	// error, after the client's own redaction of the request's secrets and
	// before anything is cut to length. The provider passes the redaction of
	// every secret it knows, so that a body echoing another secret (the
	// data-sync secret in a client-credentials error, say) loses it whole.
	Redact func(string) string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Client talks to one CIAM user directory. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	baseURL string
	http    *http.Client
	// singleUse sends the single-use requests: over HTTP/1.1 when the
	// transport is an *http.Transport (singleUseH1), since Go's HTTP/2
	// client replays a request whose body it can rewind after some stream
	// errors, also once the server has read it.
	singleUse   *http.Client
	singleUseH1 bool
	authMethod  string
	retry       RetryPolicy
	userAgent   string
	onRequest   func(context.Context, RequestInfo)
	redact      func(string) string
	now         func() time.Time
	cache       *tokenCache // nil when reuse is off
	pool        Pool        // see WithPool
	docs        *docCache
}

// docCache holds fetched documents (discovery, JWKS) by URL and collapses
// concurrent fetches of one into a request. Documents hold no secret.
type docCache struct {
	mu      sync.Mutex
	entries map[string]docEntry
	flight  singleflight.Group
}

type docEntry struct {
	body []byte
	err  error // a definitive answer that is not a document (404)
	at   time.Time
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == nil || cfg.BaseURL.Host == "" {
		return nil, errors.New("ciam: no base URL")
	}
	switch cfg.AuthMethod {
	case "":
		cfg.AuthMethod = AuthMethodClientSecretPost
	case AuthMethodClientSecretPost, AuthMethodClientSecretBasic:
	default:
		return nil, fmt.Errorf("ciam: unknown token endpoint auth method %q", printable(cfg.AuthMethod, 32))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: NewTransport(cfg.RootCAs)}
	}
	// Copy, so that the caller's client keeps its own redirect policy.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	single, h1 := &c, false
	if t, ok := c.Transport.(*http.Transport); ok {
		t1 := t.Clone()
		t1.ForceAttemptHTTP2 = false
		t1.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no HTTP/2
		if t1.TLSClientConfig != nil {
			t1.TLSClientConfig.NextProtos = nil
		}
		s := c
		s.Transport = t1
		single, h1 = &s, true
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var cache *tokenCache
	if cfg.ReuseTokens {
		cache = newTokenCache(now)
	}
	return &Client{
		docs:        &docCache{entries: map[string]docEntry{}},
		cache:       cache,
		base:        cfg.BaseURL,
		baseURL:     cfg.BaseURL.String(),
		http:        &c,
		singleUse:   single,
		singleUseH1: h1,
		authMethod:  cfg.AuthMethod,
		retry:       cfg.Retry.withDefaults(),
		userAgent:   cfg.UserAgent,
		onRequest:   cfg.OnRequest,
		redact:      cfg.Redact,
		now:         now,
	}, nil
}

// NewTransport returns the transport the client uses when no HTTP client is
// given: Go's defaults, TLS 1.2 or newer, the given roots (nil: the system's),
// and the proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY read anew for every
// request (http.ProxyFromEnvironment reads the environment only once per
// process). Loopback hosts are never proxied.
func NewTransport(roots *x509.CertPool) *http.Transport {
	return newTransport(roots, nil)
}

type abandonKey struct{}

// AbandonOnCancel marks ctx so that a single-use request sent with it ends
// in flight when ctx does, like any other request: for callers that could
// not keep its answer anyway (Terraform saves nothing of an interrupted
// refresh).
func AbandonOnCancel(ctx context.Context) context.Context {
	return context.WithValue(ctx, abandonKey{}, true)
}

// singleUseContext is the context of one attempt of a single-use request
// (a code, a refresh token). Such a request is not abandoned once it may
// have reached the server: the server spends what it carries when it acts,
// and the answer holds the only copy of what it issued in return. So a
// cancellation of ctx (Ctrl-C) stops it while it connects (see
// dialUntilCallerEnds), not once connected; request_timeout and ctx's
// deadline still bound it. Between attempts, send stops at once.
func singleUseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	actx := context.WithValue(context.WithoutCancel(ctx), callerContextKey{}, ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(actx, dl)
	}
	return actx, func() {}
}

// callerContextKey carries, in the context of a single-use request's
// attempt (which is not cancelled with its caller's), the caller's context.
type callerContextKey struct{}

// dialUntilCallerEnds makes the connections of a single-use request end with
// its caller's context, which the rest of the attempt does not: until the
// connection is made nothing can have reached the server. (Go's transport
// dials with the request context's values.)
func dialUntilCallerEnds(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if caller, ok := ctx.Value(callerContextKey{}).(context.Context); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			defer context.AfterFunc(caller, cancel)()
		}
		return dial(ctx, network, addr)
	}
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

// Host returns the host (and port) of the auth domain.
func (c *Client) Host() string { return c.base.Host }

// Directory names the directory the client talks to, the same however its
// auth_domain was written: the host name in lower case without a final dot,
// and the port only when it is not the scheme's default.
func (c *Client) Directory() string {
	host := strings.TrimSuffix(strings.ToLower(c.base.Hostname()), ".")
	port, err := strconv.Atoi(c.base.Port())
	switch {
	case err != nil, port == 443 && c.base.Scheme == "https", port == 80 && c.base.Scheme == "http":
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// ClientCredentialsToken runs the OAuth 2.0 client-credentials grant
// (POST /oauth2/token). Scopes are sent space-joined in the order given; nil
// or empty sends none.
func (c *Client) ClientCredentialsToken(ctx context.Context, creds Credentials, scopes []string) (*Token, error) {
	return c.reuse(ctx, TokenPath, "client_credentials", creds, scopes, func() request {
		form := url.Values{"grant_type": {"client_credentials"}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		return request{method: http.MethodPost, path: TokenPath, form: form, creds: creds, mode: retrySafe}
	})
}

// SCIMToken fetches a data-sync (SCIM) token: GET /scim/api/token with the
// credentials in the query, as the vendor requires. The URL is never logged
// or put into an error.
func (c *Client) SCIMToken(ctx context.Context, creds Credentials) (*Token, error) {
	return c.reuse(ctx, SCIMTokenPath, "scim", creds, nil, func() request {
		return request{
			method: http.MethodGet, path: SCIMTokenPath, creds: creds,
			query: url.Values{"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}},
			mode:  retrySafe,
		}
	})
}

// reuse answers from the token cache when reuse is on; the request is built
// only when it has to be sent.
func (c *Client) reuse(ctx context.Context, path, grant string, creds Credentials, scopes []string, build func() request) (*Token, error) {
	if c.cache == nil {
		return c.token(ctx, build())
	}
	key := c.cacheKey(path, grant, creds, scopes)
	tok, err := c.cache.get(ctx, key, c.pool, func(ctx context.Context) (*Token, error) { return c.token(ctx, build()) })
	if err != nil {
		err = c.waitEnded(ctx, err, build())
	}
	return tok, err
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
	mode  retryMode
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
		return nil, fmt.Errorf("%s: cannot build request", r.op())
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if r.mode == retryUnsent && !c.singleUseH1 {
		// Another transport, which may speak HTTP/2: without GetBody Go
		// cannot replay the request (it then cannot retry on a fresh
		// connection either, which HTTP/1.1 does safely).
		req.GetBody = nil
	}
	return req, nil
}

// token sends r and turns the response into a Token or an error.
func (c *Client) token(ctx context.Context, r request) (*Token, error) {
	res, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.status < 200 || res.status > 299 {
		return nil, c.statusError(r, res)
	}
	tok, reason := parseTokenResponse(res.data, res.received)
	if reason != "" {
		e := &Error{Op: r.op(), Host: c.host(r), StatusCode: res.status, Reason: c.redactor(r)(reason), ContentType: res.contentType, Attempts: res.attempts}
		if strings.HasPrefix(reason, "response body is not") {
			e.Excerpt = excerpt(res.data, c.redactor(r))
		}
		return nil, e
	}
	return tok, nil
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

// send runs the attempts of r under the retry policy.
func (c *Client) send(ctx context.Context, r request) (*result, error) {
	for attempt := 1; ; attempt++ {
		actx, release := ctx, func() {}
		if r.mode == retryUnsent && ctx.Value(abandonKey{}) == nil {
			if err := ctx.Err(); err != nil {
				return &result{attempts: attempt - 1}, &TransportError{Op: r.op(), Host: c.host(r), msg: contextEndedMessage(err) + " before it was sent",
					err: err, Attempts: attempt - 1, unsent: true}
			}
			actx, release = singleUseContext(ctx)
		}
		start := c.now()
		res, err := c.attempt(actx, r)
		release()
		res.attempts = attempt
		retry := attempt <= c.retry.MaxRetries && ctx.Err() == nil && retryable(r.mode, res.status, err)
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
			setAttempts(err, attempt)
			return res, err
		}
		if !sleep(ctx, wait) {
			// A single-use request is retried only after an attempt that
			// sent nothing (see retryable): nothing of it was sent.
			return res, &TransportError{Op: r.op(), Host: c.host(r), msg: contextEndedMessage(ctx.Err()), err: ctx.Err(), Attempts: attempt,
				unsent: r.mode == retryUnsent}
		}
	}
}

func setAttempts(err error, n int) {
	var terr *TransportError
	var cerr *Error
	switch {
	case errors.As(err, &terr):
		terr.Attempts = n
	case errors.As(err, &cerr):
		cerr.Attempts = n
	}
}

// attempt sends one HTTP request and reads a bounded body. It never returns
// a *url.Error: those print the full URL.
func (c *Client) attempt(ctx context.Context, r request) (*result, error) {
	res := &result{}
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	// No byte of the request is written before the transport has a
	// connection (dialled, TLS and proxy handshakes done): a failure before
	// that sent nothing, whatever ended it.
	var connected atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
	req, err := c.build(actx, r)
	if err != nil {
		return res, err
	}
	hc := c.http
	if r.mode == retryUnsent {
		hc = c.singleUse
	}
	resp, err := hc.Do(req)
	if err != nil {
		terr := c.transportError(ctx, r, err)
		terr.unsent = terr.unsent || !connected.Load()
		return res, terr
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
		return res, e
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return res, c.transportError(ctx, r, fmt.Errorf("reading the response body: %w", err))
	}
	if len(data) > MaxBodyBytes {
		return res, &Error{Op: r.op(), Host: c.host(r), StatusCode: resp.StatusCode, ContentType: res.contentType,
			Reason: fmt.Sprintf("response body is larger than %d bytes (1 MiB); no answer the provider asks for is nearly that large", MaxBodyBytes)}
	}
	res.data = data
	return res, nil
}

// transportError strips a *url.Error (which prints the URL, query and all)
// down to its cause and redacts what is left.
func (c *Client) transportError(ctx context.Context, r request, err error) *TransportError {
	cause := err
	var uerr *url.Error
	if errors.As(err, &uerr) {
		cause = uerr.Err
	}
	msg := cause.Error()
	switch {
	case ctx.Err() != nil:
		msg = contextEndedMessage(ctx.Err())
	case errors.Is(cause, context.Canceled):
		msg = "request cancelled"
	case tlsHandshakeTimeout(cause):
		msg = "the TLS handshake did not finish in time (the server accepted the connection and said nothing)"
	case neverSent(cause) && isTimeout(cause):
		msg = "no connection could be made in time: " + cause.Error()
	case strings.Contains(cause.Error(), "after Request.Body was written"):
		// The HTTP/2 client's refusal to replay a single-use request.
		msg = "the connection failed after the request was sent, and a single-use request is not sent again"
	case errors.Is(cause, context.DeadlineExceeded) || isTimeout(cause):
		msg = fmt.Sprintf("no answer within %s (request_timeout)", c.retry.AttemptTimeout)
	}
	// The cause may itself quote the URL (some proxy errors do): redact.
	return &TransportError{Op: r.op(), Host: c.host(r), msg: printable(c.redactor(r)(msg), 300), err: cause,
		unsent: unprocessedHTTP2(cause)}
}

// unprocessedHTTP2 reports HTTP/2 refusals that guarantee the server did not
// process the request (RFC 9113 section 8.7): REFUSED_STREAM, and a GOAWAY
// below its stream. Go replays such a request only when it can rewind the
// body, which a single-use request over another transport cannot.
func unprocessedHTTP2(err error) bool {
	s := err.Error()
	return strings.Contains(s, "after Request.Body was written") &&
		(strings.Contains(s, "REFUSED_STREAM") || strings.Contains(s, "graceful shutdown GOAWAY"))
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
