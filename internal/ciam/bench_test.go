package ciam

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memTransport answers every request with a token, in memory, so that the
// benchmarks measure the client and not the network.
type memTransport struct {
	body  []byte
	calls atomic.Int64
	delay time.Duration
}

func (m *memTransport) RoundTrip(*http.Request) (*http.Response, error) {
	m.calls.Add(1)
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
		Body:       io.NopCloser(bytes.NewReader(m.body)),
	}, nil
}

func tokenBody(size int) []byte {
	return []byte(fmt.Sprintf(`{"access_token":"%s","scope":"identity_proofing","token_type":"Bearer","expires_in":299}`, strings.Repeat("x", size)))
}

func memClient(b *testing.B, tr *memTransport, reuse bool) *Client {
	b.Helper()
	c, err := New(Config{
		BaseURL:     &url.URL{Scheme: "https", Host: "bench.example.com"},
		HTTPClient:  &http.Client{Transport: tr},
		ReuseTokens: reuse,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkParseTokenResponse(b *testing.B) {
	body := []byte(seedClientCredentialsBody)
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, reason := parseTokenResponse(body, now); reason != "" {
			b.Fatal(reason)
		}
	}
}

// BenchmarkCacheHit shows that a hit costs the same whatever the token's
// size: it copies the Token struct, never the token's bytes.
func BenchmarkCacheHit(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("token=%dKiB", size>>10), func(b *testing.B) {
			tr := &memTransport{body: tokenBody(size)}
			c := memClient(b, tr, true)
			ctx := context.Background()
			scopes := []string{"identity_proofing"}
			if _, err := c.ClientCredentialsToken(ctx, testCreds, scopes); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.ClientCredentialsToken(ctx, testCreds, scopes); err != nil {
					b.Fatal(err)
				}
			}
			if tr.calls.Load() != 1 {
				b.Fatalf("%d requests, want 1", tr.calls.Load())
			}
		})
	}
}

// BenchmarkCacheMissSingleflight measures a miss shared by 8 concurrent
// callers: each iteration is a new key, fetched once.
func BenchmarkCacheMissSingleflight(b *testing.B) {
	tr := &memTransport{body: tokenBody(1 << 10), delay: 100 * time.Microsecond}
	c := memClient(b, tr, true)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		creds := Credentials{ClientID: fmt.Sprintf("app-%d", i), ClientSecret: testSecret}
		i++
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.ClientCredentialsToken(ctx, creds, nil); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(tr.calls.Load())/float64(i), "requests/op")
}

// BenchmarkNoReuse is the cost of a token request without the cache, for
// comparison.
func BenchmarkNoReuse(b *testing.B) {
	tr := &memTransport{body: tokenBody(1 << 10)}
	c := memClient(b, tr, false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ClientCredentialsToken(ctx, testCreds, nil); err != nil {
			b.Fatal(err)
		}
	}
}
