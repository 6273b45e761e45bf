package ciam

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const seedCodeBody = `{"access_token" : "eyJraWQiOiJkNDli.eyJzdWIiOiJNT0NL.SnBaXHhZ0jz3","refresh_token" : "Ugvo1lO7Se8vvIPrIOwn_eBe0hoi5","scope" : "openid","id_token" : "eyJraWQiOiJkNDli.eyJzdWIiOiJNT0NLX1VTRVJOQU1FIn0.enLzJ","token_type" : "Bearer","expires_in" : 299}`

func TestAuthorizationCodeToken_confidentialAndPKCE(t *testing.T) {
	var forms []url.Values
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		forms = append(forms, r.PostForm)
		_, _ = io.WriteString(w, seedCodeBody)
	})
	ctx := context.Background()
	tok, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "MOCK_CODE", RedirectURI: "https://example.com/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "Ugvo1lO7Se8vvIPrIOwn_eBe0hoi5" || !strings.HasPrefix(tok.IDToken, "eyJ") || tok.Scope != "openid" {
		t.Errorf("token = %+v", tok)
	}
	want := "client_id=SNzNmBYGT3JKY5AR7LUGw&client_secret=" + testSecret + "&code=MOCK_CODE&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback"
	if forms[0].Encode() != want {
		t.Errorf("form = %s", forms[0].Encode())
	}
	if _, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "C", RedirectURI: "https://e/cb", CodeVerifier: "v-123"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := forms[1]["client_secret"]; ok || forms[1].Get("code_verifier") != "v-123" {
		t.Errorf("PKCE form = %s; want a code_verifier and no client_secret", forms[1].Encode())
	}
}

func TestAuthorizationCodeToken_neverRetried(t *testing.T) {
	var n atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "single-use-code-value", RedirectURI: "https://e/cb"})
	if err == nil || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests; want an error after exactly 1", err, n.Load())
	}
	assertNoSecret(t, err.Error(), "single-use-code-value")
}

func TestRefreshAndRevoke(t *testing.T) {
	var forms []url.Values
	var paths []string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		forms = append(forms, r.PostForm)
		paths = append(paths, r.URL.Path)
		if r.URL.Path == RevokePath {
			return // 200, empty body
		}
		_, _ = io.WriteString(w, seedCodeBody)
	})
	ctx := context.Background()
	if _, err := c.RefreshToken(ctx, testCreds, "refresh-value-123"); err != nil {
		t.Fatal(err)
	}
	if f := forms[0]; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "refresh-value-123" || f.Get("client_secret") != testSecret {
		t.Errorf("refresh form = %v", f)
	}
	if err := c.Revoke(ctx, testCreds, "refresh-value-123"); err != nil {
		t.Fatal(err)
	}
	if paths[1] != RevokePath || forms[1].Get("token") != "refresh-value-123" || forms[1].Get("client_id") != testCreds.ClientID {
		t.Errorf("revoke: %s %v", paths[1], forms[1])
	}
	// A public client refreshes without a secret.
	if _, err := c.RefreshToken(ctx, Credentials{ClientID: "public"}, "r"); err != nil {
		t.Fatal(err)
	}
	if _, ok := forms[2]["client_secret"]; ok {
		t.Error("client_secret sent for a public client")
	}
}

func TestRevokeError(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
	})
	err := c.Revoke(context.Background(), testCreds, "refresh-value-456")
	if !IsOAuthError(err, ErrCodeInvalidClient) {
		t.Fatalf("err = %v", err)
	}
	assertNoSecret(t, err.Error(), "refresh-value-456")
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
// byte was written, so the request is known to be unsent.
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
	if !errors.As(err, &terr) || !terr.Unsent() {
		t.Errorf("err = %v; want a transport error that says the request was never sent", err)
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
