package ciam

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// OAuth 2.0 error codes the vendor documents (RFC 6749 section 5.2).
const (
	ErrCodeInvalidClient        = "invalid_client"
	ErrCodeUnauthorizedClient   = "unauthorized_client"
	ErrCodeInvalidScope         = "invalid_scope"
	ErrCodeInvalidGrant         = "invalid_grant"
	ErrCodeInvalidRequest       = "invalid_request"
	ErrCodeUnsupportedGrantType = "unsupported_grant_type"
)

// Error is an answer from the CIAM that is not a usable token: an OAuth error
// response, an unexpected HTTP status, a redirect, or a success response that
// cannot be used. Every text field has already been sanitized (printable
// ASCII, length-limited) and redacted, so an Error can be printed as is.
type Error struct {
	// Op names the request without its query, e.g. "POST /oauth2/token".
	Op string
	// Host is the host (and port) that answered.
	Host string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code, Description and URI are the members error, error_description and
	// error_uri of an OAuth error body; empty when the body had none.
	Code        string
	Description string
	URI         string
	// Reason says in words what was wrong when the response is not an OAuth
	// error body: "response body is not JSON", "no access_token", ...
	Reason string
	// ContentType is the response's Content-Type, sanitized.
	ContentType string
	// Excerpt is a short, sanitized and redacted excerpt of a body that was
	// not the expected JSON; empty otherwise.
	Excerpt string
	// RedirectHost is the host a 3xx response pointed to (never followed).
	RedirectHost string
	// Attempts is how many attempts were made (retries included).
	Attempts int
	// cause is what made a 200 answer unusable, when it is more than text
	// (ErrPrivateKeyMaterial).
	cause error
}

// Unwrap returns what made a 200 answer unusable, or nil.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
		if e.Description != "" {
			fmt.Fprintf(&b, " (%s)", e.Description)
		}
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; body starts: %q", e.Excerpt)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// IsOAuthError reports whether err is an *Error carrying the given OAuth
// error code.
func IsOAuthError(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// TransportError is a request that got no HTTP response: connection refused,
// TLS failure, timeout, cancellation. Unlike *url.Error it never carries the
// request URL (the SCIM token URL holds the client secret in its query).
type TransportError struct {
	// Op names the request without its query, e.g. "GET /scim/api/token".
	Op string
	// Host is the host the request went to.
	Host string
	// Attempts is how many attempts were made (retries included).
	Attempts int
	msg      string
	err      error
	// unsent: no attempt had a connection (see traceConnection), or none
	// was started; nothing of the request can have reached the server.
	unsent bool
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s to %s: %s", e.Op, e.Host, e.msg)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the underlying cause (never a *url.Error), so that callers
// can test for context.Canceled, context.DeadlineExceeded or net errors.
func (e *TransportError) Unwrap() error { return e.err }

// Unsent reports whether the request never left the client: no attempt
// had a connection to the server. It is decided once, from the connection
// trace (see singleuse.go).
func (e *TransportError) Unsent() bool { return e.unsent }

// PlainHTTPAnswer reports an https request that the server answered in
// plain HTTP: the port serves HTTP, not HTTPS. Such a failure is never
// retried.
func (e *TransportError) PlainHTTPAnswer() bool { return errors.Is(e.err, http.ErrSchemeMismatch) }

// CertificateError reports whether the server's TLS certificate could not be
// verified: an unknown authority, a name mismatch, an expired or otherwise
// invalid certificate. Such a failure is never retried.
func (e *TransportError) CertificateError() bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(e.err, &verify) || errors.As(e.err, &authority) || errors.As(e.err, &hostname) || errors.As(e.err, &invalid)
}
