package ciam

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every way a single-use request can fail has one Outcome, and the callers
// decide from it alone whether the code or refresh token is still good.
func TestSingleUseOutcome(t *testing.T) {
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	public := Credentials{ClientID: testCreds.ClientID}
	for name, tc := range map[string]struct {
		h     http.HandlerFunc
		creds Credentials
		want  Outcome
	}{
		"invalid_grant":                    {answer(400, `{"error":"invalid_grant"}`), testCreds, Rejected},
		"invalid_client, secret sent":      {answer(401, `{"error":"invalid_client"}`), testCreds, RefusedClient},
		"unauthorized_client, secret sent": {answer(400, `{"error":"unauthorized_client"}`), testCreds, RefusedClient},
		"invalid_client, public client":    {answer(401, `{"error":"invalid_client"}`), public, MaybeSpent},
		"invalid_request":                  {answer(400, `{"error":"invalid_request"}`), testCreds, MaybeSpent},
		"503":                              {answer(503, ``), testCreds, MaybeSpent},
		"429":                              {answer(429, ``), testCreds, MaybeSpent},
		"an unusable 200":                  {answer(200, `<html>ok</html>`), testCreds, MaybeSpent},
		"a redirect": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		}, testCreds, MaybeSpent},
		"a reset after the request was read":    {func(w http.ResponseWriter, _ *http.Request) { panic(http.ErrAbortHandler) }, testCreds, MaybeSpent},
		"success (no error, no single-use one)": {answer(200, seedCodeBody), testCreds, NotSingleUse},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, tc.h)
			_, err := c.RefreshToken(context.Background(), tc.creds, "rt-single-use")
			if got := OutcomeOf(err); got != tc.want {
				t.Errorf("outcome %v, want %v (err %v)", got, tc.want, err)
			}
		})
	}
	t.Run("the answer cut off while it was read", func(t *testing.T) {
		var requests atomic.Int32
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			requests.Add(1)
			w.Header().Set("Content-Length", "1000")
			_, _ = io.WriteString(w, `{"access_token":"eyJ`)
			if f, ok := w.(http.Flusher); ok {
				f.Flush() // the status and the first bytes reach the client
			}
			panic(http.ErrAbortHandler) // then the connection is cut mid-body
		})
		_, err := c.RefreshToken(context.Background(), testCreds, "rt-single-use")
		if got := OutcomeOf(err); got != MaybeSpent || requests.Load() != 1 {
			t.Errorf("outcome %v after %d requests, want maybe spent after 1 (err %v)", got, requests.Load(), err)
		}
	})
	t.Run("a context ended before the first attempt", func(t *testing.T) {
		var requests atomic.Int32
		c := newTestClient(t, func(http.ResponseWriter, *http.Request) { requests.Add(1) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.RefreshToken(ctx, testCreds, "rt-single-use")
		if got := OutcomeOf(err); got != NeverSent || requests.Load() != 0 {
			t.Errorf("outcome %v after %d requests, want never sent after 0 (err %v)", got, requests.Load(), err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		base, err := ParseAuthDomain("http://" + addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{BaseURL: base, Retry: RetryPolicy{MaxRetries: 0}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"})
		if got := OutcomeOf(err); got != NeverSent {
			t.Errorf("outcome %v, want never sent (err %v)", got, err)
		}
	})
	t.Run("invalid_client on a code exchange", func(t *testing.T) {
		// The CIAM answers invalid_client also for a code issued to another
		// client_id (seed 003), after it has looked at the code.
		c := newTestClient(t, answer(401, `{"error":"invalid_client"}`))
		_, err := c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"})
		if got := OutcomeOf(err); got != MaybeSpent {
			t.Errorf("outcome %v, want maybe spent (err %v)", got, err)
		}
	})
	t.Run("not a single-use request", func(t *testing.T) {
		c := newTestClient(t, answer(400, `{"error":"invalid_grant"}`))
		_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
		if err == nil || OutcomeOf(err) != NotSingleUse {
			t.Errorf("outcome %v, want not single-use (err %v)", OutcomeOf(err), err)
		}
	})
}

// connectedThenDialError is a transport that gets a connection (the trace
// says so) and then fails with an error shaped like a failure to dial.
type connectedThenDialError struct{}

func (connectedThenDialError) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{})
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection reset by a proxy after the request was forwarded")}
}

// The connection trace alone decides whether a request was sent: an error
// whose cause looks like a failure to connect does not overrule it once the
// attempt had a connection.
func TestNothingOverrulesTheConnectionTrace(t *testing.T) {
	base, err := ParseAuthDomain("https://ciam.example")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: connectedThenDialError{}}, Retry: RetryPolicy{MaxRetries: 3}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RefreshToken(context.Background(), testCreds, "rt-single-use")
	var terr *TransportError
	if !errors.As(err, &terr) || terr.Unsent() || terr.Attempts != 1 || OutcomeOf(err) != MaybeSpent {
		t.Errorf("err %v (%v); want one attempt, maybe spent", err, OutcomeOf(err))
	}
}

// A single-use request that may have reached the server is not abandoned
// when its context is cancelled (Ctrl-C): the answer holds the only copy of
// what the server issued for the spent code or refresh token. Nothing is
// sent once the context has ended, and retries stop with it.
func TestSingleUseRequestsFinishInFlight(t *testing.T) {
	var n atomic.Int32
	arrived := make(chan struct{}, 4)
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		arrived <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, seedCodeBody)
	})
	for name, call := range map[string]func(context.Context) (*Token, error){
		"refresh": func(ctx context.Context) (*Token, error) { return c.RefreshToken(ctx, testCreds, "rt-single-use") },
		"code exchange": func(ctx context.Context) (*Token, error) {
			return c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"})
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		tok, err := call(ctx)
		if err != nil || tok.RefreshToken == "" {
			t.Errorf("%s cancelled in flight: err %v; want the answer", name, err)
		}
		if _, err := call(ctx); err == nil {
			t.Errorf("%s with an ended context was sent", name)
		}
		cancel()
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests reached the server, want 2", got)
	}
}

// Until the connection is made nothing can have reached the server, so a
// cancellation while connecting ends a single-use request at once (reported
// as never sent), as it ends any other request.
func TestSingleUseRequestsEndWhileConnecting(t *testing.T) {
	base, err := ParseAuthDomain("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	dialing := make(chan struct{}, 4)
	blackHole := func(ctx context.Context, _, _ string) (net.Conn, error) {
		dialing <- struct{}{}
		<-ctx.Done() // SYNs dropped: only the context ends the dial
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: newTransport(nil, blackHole)}, Retry: RetryPolicy{AttemptTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func(context.Context) error{
		"refresh": func(ctx context.Context) error { _, err := c.RefreshToken(ctx, testCreds, "rt-single-use"); return err },
		"code exchange": func(ctx context.Context) error {
			_, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"})
			return err
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-dialing; cancel() }()
		start := time.Now()
		err := call(ctx)
		var terr *TransportError
		if d := time.Since(start); d > 2*time.Second || !errors.As(err, &terr) || !terr.Unsent() {
			t.Errorf("%s cancelled while connecting: %v after %v; want an unsent error at once", name, err, d.Round(10*time.Millisecond))
		}
		cancel()
	}
}

// A cancellation during the wait before a retry of a single-use request
// (the directory is down: each attempt failed to connect) reports the
// request as never sent.
func TestSingleUseRequestsCancelledBetweenAttemptsAreUnsent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connections are refused
	base, err := ParseAuthDomain("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, Retry: RetryPolicy{MaxRetries: 5, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel) // during the first wait
	_, err = c.RefreshToken(ctx, testCreds, "rt-single-use")
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.Unsent() {
		t.Errorf("err = %v; want a transport error that says the request was never sent", err)
	}
}

// AbandonOnCancel: the caller could not keep the answer, so a single-use
// request ends in flight with its context, like any other.
func TestAbandonOnCancel(t *testing.T) {
	arrived, done := make(chan struct{}, 1), make(chan struct{})
	defer close(done) // before the server closes
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		select {
		case <-time.After(5 * time.Second):
		case <-done:
		}
		_, _ = io.WriteString(w, seedCodeBody)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-arrived; cancel() }()
	start := time.Now()
	_, err := c.RefreshToken(AbandonOnCancel(ctx), testCreds, "rt-single-use")
	if d := time.Since(start); err == nil || d > 2*time.Second {
		t.Errorf("err %v after %v; want a cancellation at once", err, d.Round(10*time.Millisecond))
	}
}

// A server that accepts the connection but never completes the TLS
// handshake: the error names the handshake (not request_timeout), and a
// single-use request is known to be unsent.
func TestTLSHandshakeTimeout(t *testing.T) {
	addr, _ := silentServer(t)
	base, err := ParseAuthDomain("https://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport(nil, nil)
	tr.TLSHandshakeTimeout = 200 * time.Millisecond
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: tr}, Retry: RetryPolicy{AttemptTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RefreshToken(context.Background(), testCreds, "rt-single-use")
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.Unsent() || !strings.Contains(err.Error(), "TLS handshake") || strings.Contains(err.Error(), "request_timeout") {
		t.Errorf("err = %v; want an unsent transport error about the TLS handshake", err)
	}
}

// request_timeout shorter than the TLS handshake timeout, against a server
// that never finishes the handshake: the attempt ends before any request
// byte was written, so the request is known to be unsent, and the error
// says that no connection was made in time, not that no answer came.
func TestRequestTimeoutDuringTheTLSHandshakeIsUnsent(t *testing.T) {
	addr, _ := silentServer(t)
	base, err := ParseAuthDomain("https://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, Retry: RetryPolicy{AttemptTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"})
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.Unsent() || OutcomeOf(err) != NeverSent {
		t.Errorf("err = %v (%v); want a transport error that says the request was never sent", err, OutcomeOf(err))
	}
	if err == nil || !strings.Contains(err.Error(), "no connection within 300ms (request_timeout)") || strings.Contains(err.Error(), "no answer") {
		t.Errorf("err = %v; want \"no connection within 300ms (request_timeout)\"", err)
	}
}

// silentServer accepts connections and holds them open without a word (a
// TLS handshake never completes). It returns its address and how many
// connections it accepted.
func silentServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String(), &conns
}
