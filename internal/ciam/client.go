// Package ciam is a client for the token endpoints of a Tencent CIAM user
// directory. It knows nothing of Terraform: the provider package maps its
// results and errors to Terraform values and diagnostics.
//
// The client keeps the token-client rules of RFC 6749/6750/9700 as the vendor
// needs them: https only except to loopback, TLS 1.2 or newer, no redirects
// followed, bounded response bodies, and no secret or token in any error it
// returns.
//
// Where each concern lives:
//   - client.go: the Client, its configuration, the directory it talks to;
//   - grants.go: every grant (client credentials, SCIM token, code exchange,
//     refresh) and revocation;
//   - singleuse.go: the at-most-once rule for codes and refresh tokens, and
//     the Outcome of a failed single-use request;
//   - transport.go: requests, attempts and transport errors; retry.go: the
//     retry policy;
//   - token.go, errors.go: token responses and the client's errors;
//   - cache.go: token reuse; doccache.go: the shared document cache;
//   - discovery.go, jwks.go, verify.go, jwt.go: the discovery document, key
//     sets, JWT verification and decoding; json.go: strict JSON objects;
//   - redact.go: redaction; domain.go: auth_domain.
package ciam

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	// singleUseHTTP sends the single-use requests, over HTTP/1.1 when
	// singleUseHTTP1 (see singleuse.go).
	singleUseHTTP  *http.Client
	singleUseHTTP1 bool
	authMethod     string
	retry          RetryPolicy
	userAgent      string
	onRequest      func(context.Context, RequestInfo)
	redact         func(string) string
	now            func() time.Time
	cache          *tokenCache // nil when reuse is off
	pool           Pool        // see WithPool
	docs           *docCache
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
	single, http1 := singleUseClient(&c)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var cache *tokenCache
	if cfg.ReuseTokens {
		cache = newTokenCache(now)
	}
	return &Client{
		docs:           &docCache{entries: map[string]docEntry{}},
		cache:          cache,
		base:           cfg.BaseURL,
		baseURL:        cfg.BaseURL.String(),
		http:           &c,
		singleUseHTTP:  single,
		singleUseHTTP1: http1,
		authMethod:     cfg.AuthMethod,
		retry:          cfg.Retry.withDefaults(),
		userAgent:      cfg.UserAgent,
		onRequest:      cfg.OnRequest,
		redact:         cfg.Redact,
		now:            now,
	}, nil
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
