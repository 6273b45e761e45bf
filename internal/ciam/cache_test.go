package ciam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// countingServer issues a new token per request with the given lifetime.
func countingServer(t *testing.T, expiresIn int, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		time.Sleep(delay)
		_ = r.ParseForm()
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":%d,"scope":%q}`, i, expiresIn, r.PostForm.Get("scope"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestCache_identicalRequestsReuseWithTruthfulLifetime(t *testing.T) {
	srv, n := countingServer(t, 299, 0)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := clientFor(t, srv.URL, Config{ReuseTokens: true, Now: clock.now})
	ctx := context.Background()
	first, err := c.ClientCredentialsToken(ctx, testCreds, []string{"b", "a"})
	if err != nil || first.Reused {
		t.Fatal(err)
	}
	firstExpiry, _ := first.ExpiresAt()
	for i := 0; i < 1000; i++ {
		if _, err := c.ClientCredentialsToken(ctx, testCreds, []string{"a", "b", "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("1001 identical requests cost %d token requests, want 1", n.Load())
	}
	clock.advance(100*time.Second + 400*time.Millisecond)
	again, _ := c.ClientCredentialsToken(ctx, testCreds, []string{"a", "b"})
	at, _ := again.ExpiresAt()
	if !again.Reused || again.AccessToken != first.AccessToken || again.ExpiresIn != 198 || !at.Equal(firstExpiry) {
		t.Errorf("reused token: expires_in %d (want 198), expires_at %v (want %v), reused %v", again.ExpiresIn, at, firstExpiry, again.Reused)
	}
}

func TestCache_reuseRule(t *testing.T) {
	for _, tc := range []struct {
		lifetime         int
		reuseAt, renewAt time.Duration
	}{
		{299, 268 * time.Second, 270 * time.Second},    // at least 30 s left
		{7200, 6479 * time.Second, 6481 * time.Second}, // at least 10% (720 s) left
	} {
		srv, n := countingServer(t, tc.lifetime, 0)
		clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
		c := clientFor(t, srv.URL, Config{ReuseTokens: true, Now: clock.now})
		ctx := context.Background()
		_, _ = c.SCIMToken(ctx, testCreds)
		clock.advance(tc.reuseAt)
		_, _ = c.SCIMToken(ctx, testCreds)
		if n.Load() != 1 {
			t.Errorf("lifetime %d: refetched at %v", tc.lifetime, tc.reuseAt)
		}
		clock.advance(tc.renewAt - tc.reuseAt)
		tok, _ := c.SCIMToken(ctx, testCreds)
		if n.Load() != 2 || tok.Reused {
			t.Errorf("lifetime %d: still reused at %v", tc.lifetime, tc.renewAt)
		}
	}
}

func TestCache_concurrentIdenticalRequestsCollapse(t *testing.T) {
	srv, n := countingServer(t, 299, 100*time.Millisecond)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	var wg sync.WaitGroup
	tokens := make([]*Token, 200)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], _ = c.ClientCredentialsToken(context.Background(), testCreds, []string{"x"})
		}()
	}
	wg.Wait()
	if n.Load() != 1 {
		t.Fatalf("200 concurrent identical requests cost %d token requests, want 1", n.Load())
	}
	for i, tok := range tokens {
		if tok == nil || tok.AccessToken != "tok-1" {
			t.Fatalf("caller %d got %+v", i, tok)
		}
	}
	if tokens[0] == tokens[1] {
		t.Error("callers share one *Token")
	}
}

func TestCache_keySeparatesWhatDiffers(t *testing.T) {
	srv, n := countingServer(t, 299, 0)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	ctx := context.Background()
	other := Credentials{ClientID: testCreds.ClientID, ClientSecret: "another-secret-value"}
	_, _ = c.ClientCredentialsToken(ctx, testCreds, []string{"a"})
	_, _ = c.ClientCredentialsToken(ctx, testCreds, []string{"b"})
	_, _ = c.ClientCredentialsToken(ctx, testCreds, nil)
	_, _ = c.ClientCredentialsToken(ctx, other, []string{"a"})
	_, _ = c.SCIMToken(ctx, testCreds)
	if n.Load() != 5 {
		t.Errorf("5 different requests cost %d token requests", n.Load())
	}
	key := c.cacheKey(TokenPath, "client_credentials", testCreds, []string{"a"})
	if strings.Contains(key, testSecret) {
		t.Error("the cache key holds the secret")
	}
	basic := clientFor(t, srv.URL, Config{ReuseTokens: true, AuthMethod: AuthMethodClientSecretBasic})
	if basic.cacheKey(TokenPath, "client_credentials", testCreds, []string{"a"}) == key {
		t.Error("the auth method is not part of the key")
	}
}

func TestCache_errorsAreNeverCached(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		_, _ = io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); !IsOAuthError(err, ErrCodeInvalidClient) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err != nil || n.Load() != 2 {
		t.Fatalf("err = %v after %d requests; the error was cached", err, n.Load())
	}
}

func TestCache_notUsedWithoutLifetimeOrWhenOff(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		_, _ = io.WriteString(w, `{"access_token":"a","token_type":"Bearer"}`)
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	_, _ = c.ClientCredentialsToken(context.Background(), testCreds, nil)
	_, _ = c.ClientCredentialsToken(context.Background(), testCreds, nil)
	if n.Load() != 2 {
		t.Errorf("a token without expires_in was reused")
	}
	srv2, n2 := countingServer(t, 299, 0)
	off := clientFor(t, srv2.URL, Config{})
	for i := 0; i < 3; i++ {
		_, _ = off.ClientCredentialsToken(context.Background(), testCreds, nil)
	}
	if n2.Load() != 3 {
		t.Errorf("reuse off: %d requests for 3 reads", n2.Load())
	}
	// Single-use grants never go through the cache.
	code := clientFor(t, srv2.URL, Config{ReuseTokens: true})
	for i := 0; i < 2; i++ {
		_, _ = code.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "c", RedirectURI: "https://e/cb"})
		_, _ = code.RefreshToken(context.Background(), testCreds, "r")
	}
	if n2.Load() != 7 {
		t.Errorf("code and refresh grants: %d requests, want 4 more", n2.Load()-3)
	}
}

func TestCache_cancelledInitiatorDoesNotFailOthers(t *testing.T) {
	srv, n := countingServer(t, 299, 300*time.Millisecond)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	initiator, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := c.ClientCredentialsToken(initiator, testCreds, nil)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan *Token, 1)
	go func() {
		tok, _ := c.ClientCredentialsToken(context.Background(), testCreds, nil)
		done <- tok
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("initiator: err = %v", err)
	}
	if tok := <-done; tok == nil {
		t.Fatal("the other caller got no token")
	}
	if n.Load() < 1 || n.Load() > 2 {
		t.Errorf("requests = %d", n.Load())
	}
}

// What a caller does with the token it got never changes what the next
// caller gets: the cache hands out copies only, the first caller's included.
func TestCache_everyCallerGetsItsOwnCopy(t *testing.T) {
	srv, n := countingServer(t, 299, 0)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	ctx := context.Background()
	first, err := c.ClientCredentialsToken(ctx, testCreds, nil)
	if err != nil {
		t.Fatal(err)
	}
	first.AccessToken, first.Scope, first.ExpiresIn = "mutated", "mutated", 1
	second, err := c.ClientCredentialsToken(ctx, testCreds, nil)
	if err != nil || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
	if second.AccessToken != "tok-1" || second.ExpiresIn < 290 {
		t.Errorf("the second caller got the first caller's changes: %q, expires_in %d", second.AccessToken, second.ExpiresIn)
	}
}

// A caller that joined a shared fetch whose initiator ran out of time gets
// its own answer while its own context is alive.
func TestCache_joinerOutlivesTheInitiatorsDeadline(t *testing.T) {
	srv, n := countingServer(t, 299, 300*time.Millisecond)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	initiator, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	errs := make(chan error, 1)
	go func() {
		_, err := c.ClientCredentialsToken(initiator, testCreds, nil)
		errs <- err
	}()
	time.Sleep(30 * time.Millisecond)
	tok, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	if err != nil || tok == nil {
		t.Fatalf("the joiner got %v; its own context was alive", err)
	}
	if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("initiator: err = %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("requests = %d, want 2 (the initiator's and the joiner's own)", n.Load())
	}
}

// A joiner whose own deadline passes says so; it was not cancelled.
func TestCache_joinersOwnDeadlineIsATimeout(t *testing.T) {
	srv, _ := countingServer(t, 299, 300*time.Millisecond)
	c := clientFor(t, srv.URL, Config{ReuseTokens: true})
	go func() { _, _ = c.ClientCredentialsToken(context.Background(), testCreds, nil) }()
	time.Sleep(30 * time.Millisecond)
	joiner, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ClientCredentialsToken(joiner, testCreds, nil)
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "cancel") || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v; want a timeout that does not say cancelled", err)
	}
}

// Tokens for callers that store them and tokens for callers that must not
// are never handed to each other; within a pool they are shared.
func TestCache_poolsAreSeparate(t *testing.T) {
	srv, n := countingServer(t, 300, 0)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	c := clientFor(t, srv.URL, Config{ReuseTokens: true, Now: clock.now})
	eph := c.WithPool(PoolEphemeral)
	ctx := context.Background()
	stored1, _ := c.ClientCredentialsToken(ctx, testCreds, nil)
	eph1, _ := eph.ClientCredentialsToken(ctx, testCreds, nil)
	stored2, _ := c.ClientCredentialsToken(ctx, testCreds, nil)
	eph2, _ := eph.ClientCredentialsToken(ctx, testCreds, nil)
	if n.Load() != 2 || stored1.AccessToken == eph1.AccessToken || stored2.AccessToken != stored1.AccessToken || eph2.AccessToken != eph1.AccessToken {
		t.Fatalf("%d requests; stored %s, %s; ephemeral %s, %s", n.Load(), stored1.AccessToken, stored2.AccessToken, eph1.AccessToken, eph2.AccessToken)
	}
	// An ephemeral consumer cannot renew: it is reused only while at least
	// half of its lifetime is left.
	clock.advance(149 * time.Second)
	if tok, _ := eph.ClientCredentialsToken(ctx, testCreds, nil); tok.AccessToken != eph1.AccessToken || tok.ExpiresIn != 151 {
		t.Errorf("with 151 s of 300 left the ephemeral token was not reused: %+v", tok)
	}
	clock.advance(2 * time.Second)
	if tok, _ := eph.ClientCredentialsToken(ctx, testCreds, nil); tok.AccessToken == eph1.AccessToken || tok.ExpiresIn != 300 {
		t.Errorf("with 149 s of 300 left the ephemeral token was reused: %+v", tok)
	}
	if tok, _ := c.ClientCredentialsToken(ctx, testCreds, nil); tok.AccessToken != stored1.AccessToken {
		t.Errorf("the stored pool's rule changed: %+v", tok)
	}
}
