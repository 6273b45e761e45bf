package ciam

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// This file is the at-most-once rule for single-use requests: an
// authorization-code exchange, and a refresh (a directory that rotates
// refresh tokens spends one when it acts on it, and may revoke the whole
// grant when a spent one comes back). Everything that keeps such a request
// from reaching the directory twice, and the one judgement of what became of
// what a failed one carried, is here:
//
//  1. No replay inside an attempt. Single-use requests go over HTTP/1.1
//     (singleUseClient), whose transport never replays a POST once any byte
//     of it was written; Go's HTTP/2 client replays a request whose body it
//     can rewind after some stream errors, also once the server has read it.
//     Over a transport the client cannot switch to HTTP/1.1, the request
//     cannot be rewound (noReplay), so Go cannot replay it at all.
//  2. No retry after a connection. Whether an attempt may have reached the
//     directory is decided once, from the connection trace
//     (traceConnection): no byte of a request is written before the
//     transport has a connection (dialled, proxy and TLS handshakes done).
//     A request none of whose attempts had one is unsent, whatever ended it
//     (connections.stamp, the only place that says so), and only such a
//     request is retried (retryableSingleUse); nothing else overrules it.
//  3. No abandoned answer. A connected attempt is not cancelled by the
//     caller's context (Ctrl-C): the directory spends what it carries when
//     it acts, and the answer is the only copy of what it issued. Only
//     request_timeout and the caller's deadline bound it
//     (attemptContext); connecting still ends with the caller
//     (dialUntilCallerEnds). AbandonOnCancel opts out, for callers that
//     could not keep the answer anyway.
//  4. One classification of a failure (Outcome, classify): callers decide
//     whether the code or refresh token is still good from it, never from
//     the error's details.

// Outcome is what became of the code or refresh token that a failed
// single-use request carried.
type Outcome int

const (
	// NotSingleUse: the error is nil or not a single-use request's.
	NotSingleUse Outcome = iota
	// NeverSent: no attempt had a connection to the directory, so nothing
	// reached it; the code or refresh token is as good as it was.
	NeverSent
	// RefusedClient: the directory refused the client before it looked at
	// the code or refresh token: a confidential client (one that sent its
	// secret) answered invalid_client or unauthorized_client. The directory
	// authenticates a confidential client before it looks at the code or
	// refresh token (RFC 6749 sections 4.1.3 and 6), so nothing was spent.
	// Not for invalid_client on a code exchange: the CIAM also answers it
	// for a code issued to another client_id, which it has looked at
	// (MaybeSpent).
	RefusedClient
	// Rejected: the directory answered invalid_grant: the code or refresh
	// token is wrong, expired, already used or revoked, and never works
	// again.
	Rejected
	// MaybeSpent: the request may have reached the directory and spent what
	// it carried: a failure once connected (a timeout, a reset, a lost
	// answer), or any other answer (5xx, 429, an unusable 200, a redirect,
	// and a public client's refusal, which the CIAM also gives for a spent
	// PKCE code). It is not sent again.
	MaybeSpent
)

var outcomeNames = [...]string{"not single-use", "never sent", "refused the client", "rejected", "maybe spent"}

func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "unknown"
	}
	return outcomeNames[o]
}

// Good reports whether the code or refresh token may be sent again.
func (o Outcome) Good() bool { return o == NeverSent || o == RefusedClient }

// SingleUseError is the error of a single-use request: the client's own
// error (an *Error or a *TransportError, which errors.As still finds) and
// what became of what the request carried.
type SingleUseError struct {
	Outcome Outcome
	Err     error
}

func (e *SingleUseError) Error() string { return e.Err.Error() }

func (e *SingleUseError) Unwrap() error { return e.Err }

// OutcomeOf returns the Outcome of a single-use request's error, and
// NotSingleUse for any other error and for nil.
func OutcomeOf(err error) Outcome {
	var serr *SingleUseError
	if errors.As(err, &serr) {
		return serr.Outcome
	}
	return NotSingleUse
}

// sendSingleUse sends r, a single-use request, and classifies its failure.
func (c *Client) sendSingleUse(ctx context.Context, r request) (*Token, error) {
	r.singleUse = true
	tok, err := c.token(ctx, r)
	if err != nil {
		return nil, &SingleUseError{Outcome: classify(r, err), Err: err}
	}
	return tok, nil
}

// classify is the one judgement of whether a failed single-use request
// spent what it carried.
func classify(r request, err error) Outcome {
	var terr *TransportError
	var cerr *Error
	switch {
	case errors.As(err, &terr) && terr.Unsent():
		return NeverSent
	case errors.As(err, &cerr) && cerr.Code == ErrCodeInvalidGrant:
		return Rejected
	case errors.As(err, &cerr) && r.creds.ClientSecret != "" && cerr.Code == ErrCodeInvalidClient &&
		r.form.Get("grant_type") == "authorization_code":
		return MaybeSpent // the CIAM's answer to a code of another client_id too
	case errors.As(err, &cerr) && r.creds.ClientSecret != "" &&
		(cerr.Code == ErrCodeInvalidClient || cerr.Code == ErrCodeUnauthorizedClient):
		return RefusedClient
	}
	return MaybeSpent
}

// singleUseClient returns the client for single-use requests: hc with its
// transport cloned to speak HTTP/1.1 only, and true, when the transport is
// an *http.Transport; otherwise hc itself and false (see noReplay).
func singleUseClient(hc *http.Client) (*http.Client, bool) {
	t, ok := hc.Transport.(*http.Transport)
	if !ok {
		return hc, false
	}
	t1 := t.Clone()
	t1.ForceAttemptHTTP2 = false
	t1.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no HTTP/2
	if t1.TLSClientConfig != nil {
		t1.TLSClientConfig.NextProtos = nil
	}
	single := *hc
	single.Transport = t1
	return &single, true
}

// noReplay makes req impossible to rewind when it goes over a transport
// that may speak HTTP/2. HTTP/1.1 keeps GetBody: it rewinds a request only
// to retry it on a fresh connection when nothing of it was written (a
// keep-alive connection the server had closed), which is safe.
func (c *Client) noReplay(req *http.Request) {
	if !c.singleUseHTTP1 {
		req.GetBody = nil
	}
}

// httpClientFor is the HTTP client that sends r.
func (c *Client) httpClientFor(r request) *http.Client {
	if r.singleUse {
		return c.singleUseHTTP
	}
	return c.http
}

// retryableSingleUse says whether a single-use request may be sent again
// after an attempt that ended with err (nil: an HTTP answer): only when
// nothing of it was sent.
func retryableSingleUse(terr *TransportError) bool {
	return terr != nil && terr.Unsent()
}

// connections records whether any attempt of one request had a connection,
// and stamps the request's transport errors with it: the one place that
// decides Unsent.
type connections struct{ any bool }

func (c *connections) add(connected bool) *connections {
	c.any = c.any || connected
	return c
}

// stamp marks err, when it is a *TransportError, unsent unless an attempt
// had a connection.
func (c *connections) stamp(err error) error {
	var terr *TransportError
	if errors.As(err, &terr) {
		terr.unsent = !c.any
	}
	return err
}

// traceConnection returns ctx with a connection trace, and a function that
// reports, after the attempt, whether it had a connection to the server.
func traceConnection(ctx context.Context) (context.Context, func() bool) {
	var connected atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
	return httptrace.WithClientTrace(ctx, trace), connected.Load
}

type abandonKey struct{}

// AbandonOnCancel marks ctx so that a single-use request sent with it ends
// in flight when ctx does, like any other request: for callers that could
// not keep its answer anyway (Terraform saves nothing of an interrupted
// refresh).
func AbandonOnCancel(ctx context.Context) context.Context {
	return context.WithValue(ctx, abandonKey{}, true)
}

// attemptContext is the context of one attempt of r. For a single-use
// request (unless AbandonOnCancel) it is not cancelled with ctx, only bound
// by ctx's deadline; its connections still end with ctx
// (dialUntilCallerEnds). ok is false when ctx has already ended: the
// attempt must not start.
func attemptContext(ctx context.Context, r request) (actx context.Context, release context.CancelFunc, ok bool) {
	if !r.singleUse || ctx.Value(abandonKey{}) != nil {
		return ctx, func() {}, true
	}
	if ctx.Err() != nil {
		return nil, nil, false
	}
	actx = context.WithValue(context.WithoutCancel(ctx), callerContextKey{}, ctx)
	if dl, ok := ctx.Deadline(); ok {
		actx, release = context.WithDeadline(actx, dl)
		return actx, release, true
	}
	return actx, func() {}, true
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
