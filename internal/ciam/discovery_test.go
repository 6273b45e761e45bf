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
)

// oidcServer serves a discovery document with the given issuer (the
// server's own URL when empty) and the test key set, counting requests.
func oidcServer(t *testing.T, issuer string, discovery bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case DiscoveryPath:
			if !discovery {
				http.NotFound(w, r)
				return
			}
			iss := issuer
			if iss == "" {
				iss = srv.URL
			}
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%s/oauth2/token","jwks_uri":"%s/keys/v1","grant_types_supported":["authorization_code"]}`, iss, srv.URL, srv.URL)
		case "/keys/v1", JWKSPath:
			_, _ = w.Write(testJWKS(t))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDiscoveryAndJWKSFetch(t *testing.T) {
	srv, n := oidcServer(t, "", true)
	c := clientFor(t, srv.URL, Config{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.JWKS(ctx); err != nil {
				t.Error(err)
			}
			if _, err := c.Discovery(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n.Load() != 2 {
		t.Errorf("100 reads of two documents cost %d requests, want 2", n.Load())
	}
	d, _ := c.Discovery(ctx)
	set, _ := c.JWKS(ctx)
	if d.Issuer != srv.URL || d.GrantTypesSupported[0] != "authorization_code" || d.UserinfoEndpoint != "" || set.URI != srv.URL+"/keys/v1" || len(set.Keys) != 3 {
		t.Errorf("discovery %+v, jwks from %s", d, set.URI)
	}

	// No discovery document: the key set comes from /oauth2/jwks.
	bare, _ := oidcServer(t, "", false)
	set, err := clientFor(t, bare.URL, Config{}).JWKS(ctx)
	if err != nil || set.URI != bare.URL+JWKSPath {
		t.Errorf("fallback: %v %+v", err, set)
	}

	// A document that announces another issuer is refused, for both.
	evil, _ := oidcServer(t, "https://login.example.com", true)
	ec := clientFor(t, evil.URL, Config{})
	for _, f := range []func() error{
		func() error { _, err := ec.Discovery(ctx); return err },
		func() error { _, err := ec.JWKS(ctx); return err },
	} {
		var mismatch *IssuerMismatchError
		if err := f(); !errors.As(err, &mismatch) || mismatch.Announced != "https://login.example.com" || mismatch.Expected != evil.URL {
			t.Errorf("issuer mismatch: %v", err)
		}
	}
}

func TestIdenticalIssuerAndDocumentURLs(t *testing.T) {
	base, _ := ParseAuthDomain("https://sample.portal.tencentciam.com")
	for issuer, want := range map[string]bool{
		"https://sample.portal.tencentciam.com":       true,
		"https://sample.portal.tencentciam.com/":      true,
		"HTTPS://Sample.Portal.TencentCIAM.com":       false, // identical means identical
		"https://sample.portal.tencentciam.com:443":   false,
		"https://sample.portal.tencentciam.com/t1":    false,
		"http://sample.portal.tencentciam.com":        false,
		"https://sample.portal.tencentciam.com:8443":  false,
		"https://evil.example/sample.portal":          false,
		"https://sample.portal.tencentciam.com?":      false,
		"https://sample.portal.tencentciam.com#":      false,
		"https://u@sample.portal.tencentciam.com":     false,
		"https://sample.portal.tencentciam.com.evil/": false,
		"https://sample.portal.tencentciam.coſm":      false,
	} {
		if identicalIssuer(issuer, base) != want {
			t.Errorf("identicalIssuer(%q) = %v", issuer, !want)
		}
	}
	remote := clientFor(t, "https://sample.portal.tencentciam.com", Config{})
	loopback := clientFor(t, "http://127.0.0.1:9", Config{})
	for raw, want := range map[string][2]bool{ // accepted next to a remote, a loopback auth domain
		"https://cdn.example/keys": {true, true},
		"http://127.0.0.1:8/k":     {false, true}, // a remote directory may not send us to our loopback
		"http://cdn.example/keys":  {false, false},
		"/oauth2/jwks":             {false, false},
		"ftp://x/k":                {false, false},
		"https://u:p@x/k":          {false, false},
		"HTTPS://cdn.example/k":    {true, true},
	} {
		for i, c := range []*Client{remote, loopback} {
			if _, err := c.documentURL(raw); (err == nil) != want[i] {
				t.Errorf("documentURL(%q) next to %s = %v", raw, c.base, err)
			}
		}
	}
}

// A discovery document is read by its members' exact names; a member named
// twice, or data after the object, refuses it.
func TestDiscoveryIsReadStrictly(t *testing.T) {
	var body string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.ReplaceAll(body, "SELF", srv.URL))
	}))
	defer srv.Close()
	for doc, want := range map[string]string{
		`{"issuer":"https://evil.example","Issuer":"SELF"}`: "announces issuer",
		`{"ISSUER":"SELF"}`:                                       "has no issuer",
		`{"issuer":"SELF","issuer":"SELF"}`:                       `names the member "issuer" twice`,
		`{"issuer":"SELF"} trailing`:                              "data after its JSON object",
		`{"issuer":"SELF"}{"issuer":"SELF"}`:                      "data after its JSON object",
		`[]`:                                                      "not a JSON object",
		`{"issuer":"SELF","jwks_uri":7}`:                          "jwks_uri is not a string",
		`{"issuer":"SELF","scopes_supported":"openid"}`:           "scopes_supported is not an array of strings",
		`{"issuer":"SELF","scopes_supported":null,"x":{"y":[1]}}`: "",
	} {
		body = doc
		_, err := clientFor(t, srv.URL, Config{}).Discovery(context.Background())
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: err = %v, want %q", doc, err, want)
		}
	}
}

// A document with several bad members names the first of them in the order
// the members are documented (issuer first), every time.
func TestDiscoveryNamesItsFirstBadMemberInAFixedOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"scopes_supported":1,"jwks_uri":2,"token_endpoint":3,"authorization_endpoint":4,"issuer":5,`+
			`"userinfo_endpoint":6,"revocation_endpoint":7,"grant_types_supported":8,"response_types_supported":9}`)
	}))
	defer srv.Close()
	seen := map[string]bool{}
	for range 30 {
		_, err := clientFor(t, srv.URL, Config{}).Discovery(context.Background())
		if err == nil {
			t.Fatal("no error")
		}
		seen[err.Error()] = true
	}
	if len(seen) != 1 {
		t.Errorf("30 reads of one document gave %d different errors: %v", len(seen), seen)
	}
	for text := range seen {
		if !strings.Contains(text, "the discovery document's issuer is not a string") {
			t.Errorf("err = %s; want the issuer named first", text)
		}
	}
}

func TestDocumentErrorsAreClear(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"issuer": 42}`)
	}))
	defer srv.Close()
	_, err := clientFor(t, srv.URL, Config{}).Discovery(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the discovery document's issuer is not a string") {
		t.Errorf("err = %v", err)
	}
}

// Without a discovery document, repeated key set reads cost one discovery
// request (the 404 is remembered) and one key set request.
func TestJWKSWithoutDiscoveryIsFetchedOnce(t *testing.T) {
	srv, n := oidcServer(t, "", false)
	c := clientFor(t, srv.URL, Config{})
	for i := 0; i < 20; i++ {
		if _, err := c.JWKS(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 2 {
		t.Errorf("20 key set reads without discovery cost %d requests, want 2", n.Load())
	}
}
