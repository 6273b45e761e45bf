package ciam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const okBody = `{"access_token":"a.b.c","token_type":"Bearer","expires_in":299}`

func fastRetry(n int) RetryPolicy {
	return RetryPolicy{MaxRetries: n, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, AttemptTimeout: 5 * time.Second}
}

// sequenceServer answers with the given statuses in turn, then 200 okBody.
func sequenceServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			w.WriteHeader(statuses[i])
			_, _ = io.WriteString(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		_, _ = io.WriteString(w, okBody)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func clientFor(t *testing.T, rawURL string, cfg Config) *Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"3600", MaxRetryAfter, true},
		{now.Add(4 * time.Second).Format(http.TimeFormat), 4 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), MaxRetryAfter, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, c := range cases {
		got, ok := parseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	ms := time.Millisecond
	for n, limit := range []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms} {
		for i := 0; i < 50; i++ {
			d := p.backoff(n)
			if d < limit/2 || d > limit {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, limit/2, limit)
			}
		}
	}
}

func TestRetry_503503200SucceedsAfterThreeRequests(t *testing.T) {
	srv, n := sequenceServer(t, 503, 503)
	var infos []RequestInfo
	c := clientFor(t, srv.URL, Config{Retry: fastRetry(4), OnRequest: func(_ context.Context, i RequestInfo) { infos = append(infos, i) }})
	tok, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	if err != nil || tok.AccessToken != "a.b.c" {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 3 || len(infos) != 3 || infos[0].RetryIn == 0 || infos[2].RetryIn != 0 || infos[2].Attempt != 3 {
		t.Errorf("requests = %d, infos = %+v", n.Load(), infos)
	}
}

func TestRetry_429HonoursRetryAfter(t *testing.T) {
	for _, header := range []string{"1", "date"} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if n.Add(1) == 1 {
				v := header
				if v == "date" {
					v = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
				}
				w.Header().Set("Retry-After", v)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			_, _ = io.WriteString(w, okBody)
		}))
		c := clientFor(t, srv.URL, Config{Retry: fastRetry(2)})
		start := time.Now()
		_, err := c.SCIMToken(context.Background(), testCreds)
		elapsed := time.Since(start)
		srv.Close()
		if err != nil || n.Load() != 2 {
			t.Fatalf("Retry-After %s: err = %v after %d requests", header, err, n.Load())
		}
		// HTTP dates have one-second resolution: at least one second passes.
		if elapsed < 900*time.Millisecond || elapsed > 5*time.Second {
			t.Errorf("Retry-After %s: waited %v", header, elapsed)
		}
	}
}

func TestRetry_neverForFinalAnswers(t *testing.T) {
	cases := []struct {
		status int
		body   string
	}{
		{401, `{"error":"invalid_client"}`},
		{400, `{"error":"unauthorized_client"}`},
		{400, `{"error":"invalid_scope"}`},
		{400, `{"error":"invalid_grant"}`},
		{400, `{"error":"invalid_request"}`},
		{403, `forbidden`},
		{404, `<html>not found</html>`},
		{200, `not json`},
	}
	for _, tc := range cases {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}))
		c := clientFor(t, srv.URL, Config{Retry: fastRetry(4)})
		_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
		srv.Close()
		if err == nil || n.Load() != 1 {
			t.Errorf("%d %s: err = %v after %d requests; want an error after 1", tc.status, tc.body, err, n.Load())
		}
	}
}

func TestRetry_boundedByMaxRetries(t *testing.T) {
	srv, n := sequenceServer(t, 503, 503, 503, 503, 503, 503)
	c := clientFor(t, srv.URL, Config{Retry: fastRetry(2)})
	_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != 3 || n.Load() != 3 || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
}

func TestRetry_boundedByContextDeadline(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{Retry: fastRetry(5)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.ClientCredentialsToken(ctx, testCreds, nil)
	if err == nil || n.Load() != 1 || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %d requests in %v; want to give up at once", err, n.Load(), time.Since(start))
	}
}

func TestRetry_attemptTimeout(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	p := fastRetry(1)
	p.AttemptTimeout = 100 * time.Millisecond
	c := clientFor(t, srv.URL, Config{Retry: p})
	start := time.Now()
	_, err := c.SCIMToken(context.Background(), testCreds)
	var te *TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "no answer within 100ms (request_timeout)") || n.Load() != 2 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	assertNoSecret(t, err.Error())
}

func TestRetry_resetAndTruncatedBodiesAreRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		switch n.Add(1) {
		case 1: // reset
			conn, _, _ := hj.Hijack()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
		case 2: // truncated
			conn, buf, _ := hj.Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"access_token\":")
			_ = buf.Flush()
			_ = conn.Close()
		default:
			_, _ = io.WriteString(w, okBody)
		}
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{Retry: fastRetry(3)})
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err != nil || n.Load() != 3 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
}

// Single-use requests (a code exchange, a refresh, which a rotating
// directory spends) are retried only when nothing was sent.
func TestRetry_singleUseGrantsOnlyWhenNeverSent(t *testing.T) {
	grants := map[string]func(*Client) error{
		"code exchange": func(c *Client) error {
			_, err := c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "c", RedirectURI: "https://e/cb"})
			return err
		},
		"refresh": func(c *Client) error {
			_, err := c.RefreshToken(context.Background(), testCreds, "refresh-token-value")
			return err
		},
	}
	for name, send := range grants {
		// Answered with 503 or 429: the request reached the server; never resent.
		for _, status := range []int{503, 429} {
			srv, n := sequenceServer(t, status)
			if err := send(clientFor(t, srv.URL, Config{Retry: fastRetry(4)})); err == nil || n.Load() != 1 {
				t.Fatalf("%s: HTTP %d: err = %v after %d requests", name, status, err, n.Load())
			}
		}
		// Reset after the request was sent: may have reached it; never resent.
		var m atomic.Int32
		reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			m.Add(1)
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				_ = conn.Close()
			}
		}))
		if err := send(clientFor(t, reset.URL, Config{Retry: fastRetry(4)})); err == nil || m.Load() != 1 {
			t.Fatalf("%s: reset: err = %v after %d requests", name, err, m.Load())
		}
		reset.Close()
		// Connection refused: nothing was sent, so it is retried.
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		_ = ln.Close()
		var attempts []int
		c := clientFor(t, "http://"+addr, Config{Retry: fastRetry(2), OnRequest: func(_ context.Context, i RequestInfo) { attempts = append(attempts, i.Attempt) }})
		if err := send(c); err == nil || len(attempts) != 3 {
			t.Fatalf("%s: refused: err = %v after attempts %v", name, err, attempts)
		}
	}
}

func TestCancellationDuringBackoff(t *testing.T) {
	srv, _ := sequenceServer(t, 503, 503, 503)
	p := fastRetry(3)
	p.MinBackoff, p.MaxBackoff = 5*time.Second, 5*time.Second
	c := clientFor(t, srv.URL, Config{Retry: p})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ClientCredentialsToken(ctx, testCreds, nil)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestClientSecretBasic(t *testing.T) {
	creds := Credentials{ClientID: "app:1 x", ClientSecret: "s3cr3t+/=:%"}
	var got *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_ = r.ParseForm()
		form = r.PostForm
		_, _ = io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{AuthMethod: AuthMethodClientSecretBasic})
	if _, err := c.ClientCredentialsToken(context.Background(), creds, nil); err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("app%3A1+x:s3cr3t%2B%2F%3D%3A%25"))
	if h := got.Header.Get("Authorization"); h != want {
		t.Errorf("Authorization = %q, want %q", h, want)
	}
	if _, ok := form["client_secret"]; ok {
		t.Error("client_secret also sent in the body")
	}
	if _, err := New(Config{BaseURL: c.base, AuthMethod: "private_key_jwt"}); err == nil {
		t.Error("unknown auth method accepted")
	}
}

func TestProxyIsResolvedPerRequest(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		if r.URL.Host != "ciam.example.test" {
			t.Errorf("proxy got request for %q", r.URL.Host)
		}
		_, _ = io.WriteString(w, okBody)
	}))
	defer proxy.Close()
	// The base URL is built directly: ParseAuthDomain would refuse plain
	// http to a non-loopback host.
	c, err := New(Config{BaseURL: &url.URL{Scheme: "http", Host: "ciam.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	// Set after the client exists: a per-process cache would miss it.
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err != nil || proxied.Load() != 1 {
		t.Fatalf("err = %v, proxied = %d", err, proxied.Load())
	}
	t.Setenv("NO_PROXY", "example.test")
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err == nil || proxied.Load() != 1 {
		t.Fatalf("NO_PROXY ignored: err = %v, proxied = %d", err, proxied.Load())
	}
}

func TestTLS_privateCAAndMinimumVersion(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, okBody) }))
	defer srv.Close()
	// Unknown CA: refused, classified, and not retried (it would fail the
	// same way every time).
	c := clientFor(t, srv.URL, Config{Retry: fastRetry(3)})
	_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.CertificateError() || terr.Attempts > 1 || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate error after one attempt", err)
	}
	// With the CA in the pool: accepted.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c = clientFor(t, srv.URL, Config{RootCAs: pool})
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err != nil {
		t.Fatal(err)
	}
	// A server that speaks only TLS 1.1: refused.
	old := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, okBody) }))
	old.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	old.StartTLS()
	defer old.Close()
	pool.AddCert(old.Certificate())
	c = clientFor(t, old.URL, Config{RootCAs: pool})
	if _, err := c.ClientCredentialsToken(context.Background(), testCreds, nil); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

// A 10 MiB body fails cleanly, and what the client allocates does not grow
// with the body: a 20 MiB body costs what a 2 MiB one does (the cap is read,
// the rest never is).
func TestOversizedBodyMemoryIsBounded(t *testing.T) {
	chunk := []byte(strings.Repeat("x", 64<<10))
	var size atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for n := size.Load(); n > 0; n -= int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := clientFor(t, srv.URL, Config{})
	measure := func(bytes int64) uint64 {
		size.Store(bytes)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("%d-byte body: err = %v", bytes, err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	measure(2 << 20) // warm up connections and pools
	small, ten, large := measure(2<<20), measure(10<<20), measure(20<<20)
	t.Logf("allocated: 2 MiB body %d B, 10 MiB body %d B, 20 MiB body %d B", small, ten, large)
	if large > small+(1<<20) || ten > small+(1<<20) {
		t.Errorf("allocation grows with the body: 2 MiB -> %d B, 10 MiB -> %d B, 20 MiB -> %d B", small, ten, large)
	}
}

// An https request answered in plain HTTP is final: one connection, an
// error that says so, and never sent (the TLS handshake never finished).
func TestPlainHTTPAnswerIsNotRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	counting := &countingListener{Listener: ln, n: &conns}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(counting) }()
	defer srv.Close()
	base, err := ParseAuthDomain(ln.Addr().String()) // a bare host: https implied
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, Retry: fastRetry(3)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ClientCredentialsToken(context.Background(), testCreds, nil)
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.PlainHTTPAnswer() || !terr.Unsent() || conns.Load() != 1 || !strings.Contains(err.Error(), "answered in plain HTTP") {
		t.Errorf("err %v after %d connections; want one connection, a plain-HTTP error", err, conns.Load())
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
