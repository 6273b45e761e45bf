package ciam

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// These tests hold single-use requests (a code, a refresh token) to "at most
// once" over HTTP/2, whose client replays a request on some stream errors,
// and to honest "never sent" reports. The client's own transport sends them
// over HTTP/1.1 (TestSingleUseRequestsUseHTTP1); the HTTP/2 tests go through
// another transport, which the client cannot switch to HTTP/1.1.

// otherTransport is a transport the client does not know (not an
// *http.Transport).
type otherTransport struct{ http.RoundTripper }

// rawH2 is an HTTP/2 token endpoint made of frames. The first request it
// receives is reset with RST_STREAM(PROTOCOL_ERROR), after it was read in
// full (the directory has the refresh token). With goAway, a GOAWAY is sent
// first and the connection closed; later connections are then held open and
// never complete the TLS handshake. Otherwise later requests are answered.
type rawH2 struct {
	addr     string
	roots    *x509.CertPool
	received atomic.Int32 // requests carrying the refresh token, read in full
	conns    atomic.Int32
}

func startRawH2(t *testing.T, goAway bool) *rawH2 {
	t.Helper()
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.EnableHTTP2 = true
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	hs.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawH2{addr: ln.Addr().String(), roots: roots}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn)
			mu.Unlock()
			n := s.conns.Add(1)
			if goAway && n > 1 {
				continue // held: the TLS handshake never completes
			}
			go s.serve(conn, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}, goAway)
		}
	}()
	return s
}

// h2Accept completes the TLS handshake and the HTTP/2 preface on raw and
// returns the framer (nil when the client went away).
func h2Accept(raw net.Conn, cfg *tls.Config) (*http2.Framer, *tls.Conn) {
	tc := tls.Server(raw, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, nil
	}
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(tc, preface); err != nil {
		return nil, nil
	}
	fr := http2.NewFramer(tc, tc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	_ = fr.WriteSettings()
	return fr, tc
}

// h2Answer answers stream id with 200 and the seed token.
func h2Answer(fr *http2.Framer, id uint32) {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	_ = enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/json"})
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
	_ = fr.WriteData(id, true, []byte(seedCodeBody))
}

func (s *rawH2) serve(raw net.Conn, cfg *tls.Config, goAway bool) {
	fr, tc := h2Accept(raw, cfg)
	if fr == nil {
		return
	}
	bodies := map[uint32]*bytes.Buffer{}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var id uint32
		ended := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
			continue
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
			}
			continue
		case *http2.MetaHeadersFrame:
			id = f.StreamID
			bodies[id] = &bytes.Buffer{}
			ended = f.StreamEnded()
		case *http2.DataFrame:
			id = f.StreamID
			if b := bodies[id]; b != nil {
				b.Write(f.Data())
			}
			ended = f.StreamEnded()
		default:
			continue
		}
		if !ended {
			continue
		}
		if strings.Contains(bodies[id].String(), "refresh_token=rt-single-use") {
			if s.received.Add(1) == 1 {
				if goAway {
					_ = fr.WriteGoAway(id, http2.ErrCodeNo, nil)
				}
				_ = fr.WriteRSTStream(id, http2.ErrCodeProtocol)
				if goAway {
					time.Sleep(100 * time.Millisecond)
					tc.Close()
					return
				}
				continue
			}
		}
		h2Answer(fr, id)
	}
}

func (s *rawH2) client(t *testing.T, handshake time.Duration, retries int) *Client {
	t.Helper()
	base, err := ParseAuthDomain("https://" + s.addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport(s.roots, nil)
	tr.TLSHandshakeTimeout = handshake
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: otherTransport{tr}}, Retry: RetryPolicy{MaxRetries: retries, AttemptTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A stream reset after the directory read the whole request: Go's HTTP/2
// client would replay the request if it could; a single-use one must reach
// the directory once per attempt.
func TestHTTP2SingleUseRequestIsNotReplayed(t *testing.T) {
	s := startRawH2(t, false)
	_, err := s.client(t, 10*time.Second, 0).RefreshToken(context.Background(), testCreds, "rt-single-use")
	if n := s.received.Load(); n != 1 {
		t.Errorf("the directory received the refresh token %d times in one attempt (err %v)", n, err)
	}
	var terr *TransportError
	if errors.As(err, &terr) && terr.Unsent() {
		t.Errorf("the directory read the request, yet the error says it was never sent: %v", err)
	}
}

// The directory read the refresh token, then went away; a replay on a new
// connection whose handshake times out must not turn the error into "never
// sent".
func TestHTTP2SingleUseRequestReadThenGoneIsNotUnsent(t *testing.T) {
	s := startRawH2(t, true)
	_, err := s.client(t, 300*time.Millisecond, 0).RefreshToken(context.Background(), testCreds, "rt-single-use")
	if s.received.Load() == 0 {
		t.Fatalf("the fixture never received the refresh token (err %v): the test proves nothing", err)
	}
	if OutcomeOf(err) != MaybeSpent {
		t.Errorf("the directory received the refresh token, and the outcome is %v, not maybe spent: %v", OutcomeOf(err), err)
	}
}

// A TLS handshake that times out sent nothing: a single-use request is
// retried after it, as after a failure to connect.
func TestTLSHandshakeTimeoutIsRetried(t *testing.T) {
	addr, conns := silentServer(t)
	base, err := ParseAuthDomain("https://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport(nil, nil)
	tr.TLSHandshakeTimeout = 200 * time.Millisecond
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: tr},
		Retry: RetryPolicy{MaxRetries: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, AttemptTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefreshToken(context.Background(), testCreds, "rt-single-use"); err == nil {
		t.Fatal("no error")
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for max_retries 2, want 3", n)
	}
}

// The dialer's own timeout is not request_timeout.
func TestDialTimeoutIsNotLabelledRequestTimeout(t *testing.T) {
	base, err := ParseAuthDomain("https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport(nil, (&net.Dialer{Timeout: time.Nanosecond}).DialContext)
	c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: tr}, Retry: RetryPolicy{AttemptTimeout: 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RefreshToken(context.Background(), testCreds, "rt-single-use")
	if err == nil || strings.Contains(err.Error(), "request_timeout") {
		t.Errorf("err = %v; want a connection timeout, not request_timeout", err)
	}
}

// Single-use requests go over HTTP/1.1, which never replays a POST once any
// of it was written and retries one on a fresh connection only when nothing
// was written (a keep-alive connection the server had closed); the others
// keep HTTP/2.
func TestSingleUseRequestsUseHTTP1(t *testing.T) {
	var mu sync.Mutex
	protos := map[string]int{}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		protos[r.PostForm.Get("grant_type")] = r.ProtoMajor
		mu.Unlock()
		_, _ = io.WriteString(w, seedCodeBody)
	}))
	hs.EnableHTTP2 = true
	hs.StartTLS()
	defer hs.Close()
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	base, err := ParseAuthDomain(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ClientCredentialsToken(ctx, testCreds, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefreshToken(ctx, testCreds, "rt-single-use"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "code-single-use", RedirectURI: "https://e/cb"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"client_credentials": 2, "refresh_token": 1, "authorization_code": 1}
	mu.Lock()
	defer mu.Unlock()
	for grant, major := range want {
		if protos[grant] != major {
			t.Errorf("%s went over HTTP/%d, want HTTP/%d", grant, protos[grant], major)
		}
	}
}

// The first request on the first connection is refused in a way that HTTP/2
// says the server did not process it (REFUSED_STREAM, or GOAWAY with a last
// stream id below it); everything else is answered.
func startRefusingH2(t *testing.T, goAway bool) (addr string, roots *x509.CertPool, conns, answered *atomic.Int32) {
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.EnableHTTP2 = true
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	roots = x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	hs.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns, answered = &atomic.Int32{}, &atomic.Int32{}
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go func() {
				defer raw.Close()
				fr, _ := h2Accept(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
				if fr == nil {
					return
				}
				refused := false
				for {
					f, err := fr.ReadFrame()
					if err != nil {
						return
					}
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							_ = fr.WriteSettingsAck()
						}
					case *http2.MetaHeadersFrame:
						id := f.StreamID
						if n == 1 && !refused {
							refused = true
							if goAway {
								_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil) // stream id 0: nothing was processed
								time.Sleep(200 * time.Millisecond)
								return
							}
							_ = fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
							continue
						}
						// answer (ignore the body frames that follow)
						answered.Add(1)
						h2Answer(fr, id)
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), roots, conns, answered
}

// A request that HTTP/2 says the server did not process (REFUSED_STREAM, a
// GOAWAY below its stream) had a connection: the connection trace alone
// decides, so it counts as maybe spent and is not sent again. (Only a server
// that tells the truth could make it safe to retry, and the provider's own
// transport sends single-use requests over HTTP/1.1 anyway.)
func TestHTTP2RefusedSingleUseRequestIsNotRetried(t *testing.T) {
	for name, goAway := range map[string]bool{"REFUSED_STREAM": false, "GOAWAY": true} {
		t.Run(name, func(t *testing.T) {
			addr, roots, conns, answered := startRefusingH2(t, goAway)
			base, err := ParseAuthDomain("https://" + addr)
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(Config{BaseURL: base, HTTPClient: &http.Client{Transport: otherTransport{newTransport(roots, nil)}},
				Retry: RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, AttemptTimeout: 5 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.RefreshToken(context.Background(), testCreds, "rt-single-use")
			if conns.Load() == 0 {
				t.Fatalf("the fixture received nothing (err %v): the test proves nothing", err)
			}
			if err == nil || answered.Load() != 0 || conns.Load() != 1 || OutcomeOf(err) != MaybeSpent {
				t.Errorf("err %v (%v), %d connections, %d answered; want one connection, nothing answered, maybe spent", err, OutcomeOf(err), conns.Load(), answered.Load())
			}
		})
	}
}
