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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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

// RequestInfo describes one finished HTTP exchange for logging. It holds no
// secret by construction: the operation has no query, and errors are the
// client's own redacted ones.
type RequestInfo struct {
	Op         string
	Host       string
	StatusCode int
	Duration   time.Duration
	Err        error
}

// Config configures a Client.
type Config struct {
	// BaseURL is the auth domain as returned by ParseAuthDomain.
	BaseURL *url.URL
	// HTTPClient is used for requests; nil means a client with the
	// package's secure defaults. Its CheckRedirect is always replaced so
	// that redirects are never followed.
	HTTPClient *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	// OnRequest, when set, is called after every HTTP exchange.
	OnRequest func(context.Context, RequestInfo)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Client talks to one CIAM user directory. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	userAgent string
	onRequest func(context.Context, RequestInfo)
	now       func() time.Time
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == nil || cfg.BaseURL.Host == "" {
		return nil, errors.New("ciam: no base URL")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: DefaultTransport()}
	}
	// Copy, so that the caller's client keeps its own redirect policy.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		base:      cfg.BaseURL,
		http:      &c,
		userAgent: cfg.UserAgent,
		onRequest: cfg.OnRequest,
		now:       now,
	}, nil
}

// DefaultTransport returns the transport the client uses when none is given:
// Go's defaults with TLS 1.2 as the minimum version.
func DefaultTransport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	t = t.Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return t
}

// Host returns the host (and port) of the auth domain.
func (c *Client) Host() string { return c.base.Host }

// ClientCredentialsToken runs the OAuth 2.0 client-credentials grant
// (POST /oauth2/token, client_secret_post as in the vendor's samples).
// Scopes are sent space-joined in the order given; nil or empty sends none.
func (c *Client) ClientCredentialsToken(ctx context.Context, creds Credentials, scopes []string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.ClientID},
		"client_secret": {creds.ClientSecret},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return c.postToken(ctx, form, newRedactor(creds.ClientSecret))
}

// SCIMToken fetches a data-sync (SCIM) token: GET /scim/api/token with the
// credentials in the query, as the vendor requires. The URL is never logged
// or put into an error.
func (c *Client) SCIMToken(ctx context.Context, creds Credentials) (*Token, error) {
	q := url.Values{"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}
	red := newRedactor(creds.ClientSecret)
	req, err := c.newRequest(ctx, http.MethodGet, SCIMTokenPath, q, nil)
	if err != nil {
		return nil, err
	}
	return c.doToken(req, "GET "+SCIMTokenPath, red)
}

func (c *Client) postToken(ctx context.Context, form url.Values, red *redactor) (*Token, error) {
	req, err := c.newRequest(ctx, http.MethodPost, TokenPath, nil, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.doToken(req, "POST "+TokenPath, red)
}

func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		// NewRequest errors can quote the URL; never pass them on.
		return nil, fmt.Errorf("%s %s: cannot build request", method, path)
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	return req, nil
}

// doToken sends req and turns the response into a Token or an error.
func (c *Client) doToken(req *http.Request, op string, red *redactor) (*Token, error) {
	status, body, received, err := c.do(req, op, red)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		e := &Error{Op: op, StatusCode: status, ContentType: body.contentType}
		parseErrorResponse(e, body.data, red)
		return nil, e
	}
	tok, reason := parseTokenResponse(body.data, received)
	if reason != "" {
		e := &Error{Op: op, StatusCode: status, Reason: reason, ContentType: body.contentType}
		if strings.HasPrefix(reason, "response body is not") {
			e.Excerpt = excerpt(body.data, red)
		}
		return nil, e
	}
	return tok, nil
}

type responseBody struct {
	data        []byte
	contentType string
}

// do sends one request and reads a bounded body. It never returns a
// *url.Error: those print the full URL.
func (c *Client) do(req *http.Request, op string, red *redactor) (int, responseBody, time.Time, error) {
	start := c.now()
	info := RequestInfo{Op: op, Host: c.base.Host}
	report := func(status int, err error) {
		if c.onRequest != nil {
			info.StatusCode, info.Err, info.Duration = status, err, c.now().Sub(start)
			c.onRequest(req.Context(), info)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		terr := c.transportError(op, err, red)
		report(0, terr)
		return 0, responseBody{}, time.Time{}, terr
	}
	defer resp.Body.Close()
	received := c.now()
	rb := responseBody{contentType: printable(resp.Header.Get("Content-Type"), 64)}

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e := &Error{Op: op, StatusCode: resp.StatusCode, ContentType: rb.contentType,
			Reason: "the server answered with a redirect, which a token client never follows"}
		if loc, perr := url.Parse(resp.Header.Get("Location")); perr == nil && loc.Host != "" {
			e.RedirectHost = printable(loc.Host, 253)
			e.Reason += " (to host " + e.RedirectHost + ")"
		}
		report(resp.StatusCode, e)
		return 0, rb, received, e
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		terr := c.transportError(op, err, red)
		report(resp.StatusCode, terr)
		return 0, rb, received, terr
	}
	if len(data) > MaxBodyBytes {
		e := &Error{Op: op, StatusCode: resp.StatusCode, ContentType: rb.contentType,
			Reason: fmt.Sprintf("response body is larger than %d bytes; a token response is a few kilobytes", MaxBodyBytes)}
		report(resp.StatusCode, e)
		return 0, rb, received, e
	}
	rb.data = data
	report(resp.StatusCode, nil)
	return resp.StatusCode, rb, received, nil
}

// transportError strips a *url.Error (which prints the URL, query and all)
// down to its cause and redacts what is left.
func (c *Client) transportError(op string, err error, red *redactor) *TransportError {
	cause := err
	var uerr *url.Error
	if errors.As(err, &uerr) {
		cause = uerr.Err
	}
	msg := cause.Error()
	switch {
	case errors.Is(cause, context.Canceled):
		msg = "request cancelled"
	case errors.Is(cause, context.DeadlineExceeded):
		msg = "request timed out"
	}
	// The cause may itself quote the URL (some proxy errors do): redact.
	msg = red.apply(msg)
	return &TransportError{Op: op, Host: c.base.Host, msg: printable(msg, 300), err: cause}
}
