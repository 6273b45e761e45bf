package ciam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// Bodies exactly as in the vendor's pages (seeds 000 and 001).
const (
	seedClientCredentialsBody = `{
  "access_token" : "eyJraWQiOiJmOTY5NGQ5My1kNTQxLTQ5ODUtODhkYy00MjIyOTg3MzAwOGUiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURU5BTlRfQ0xJRU5UX0lEIn0.D8khbU3BkWTHD6sRTY9M",
  "scope" : "identity_proofing",
  "token_type" : "Bearer",
  "expires_in" : 299
}`
	seedSCIMBody = `{
    "access_token": "OAUTH2c615b14e-26e9-497a-b5e8-7dd2d649d870",
    "token_type": "Bearer",
    "expires_in": 7200,
    "scope": "/scim/"
}`
	testSecret = "E8eZdbqrQO6iLpIH7QvgcQ"
)

var testCreds = Credentials{ClientID: "SNzNmBYGT3JKY5AR7LUGw", ClientSecret: testSecret}

func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := ParseAuthDomain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, UserAgent: "terraform-provider-ciam/test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testSecret) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("text leaks a secret %q: %s", s, text)
		}
	}
}

func TestClientCredentialsToken_seedRequestAndResponse(t *testing.T) {
	var got *http.Request
	var form url.Values
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		_ = r.ParseForm()
		form = r.PostForm
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, seedClientCredentialsBody)
	})
	before := time.Now()
	tok, err := c.ClientCredentialsToken(context.Background(), testCreds, []string{"identity_proofing", "users.read"})
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/oauth2/token" || got.URL.RawQuery != "" {
		t.Errorf("request = %s %s?%s, want POST /oauth2/token with no query", got.Method, got.URL.Path, got.URL.RawQuery)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := got.Header.Get("User-Agent"); ua != "terraform-provider-ciam/test" {
		t.Errorf("User-Agent = %q", ua)
	}
	want := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {testCreds.ClientID},
		"client_secret": {testSecret}, "scope": {"identity_proofing users.read"},
	}
	if form.Encode() != want.Encode() {
		t.Errorf("form = %q, want %q", form.Encode(), want.Encode())
	}
	if !strings.HasPrefix(tok.AccessToken, "eyJraWQi") || tok.TokenType != "Bearer" || tok.ExpiresIn != 299 || !tok.HasExpiresIn || tok.Scope != "identity_proofing" {
		t.Errorf("token = %+v", tok)
	}
	at, ok := tok.ExpiresAt()
	if !ok || at.Before(before.Add(299*time.Second)) || at.After(time.Now().Add(299*time.Second)) {
		t.Errorf("ExpiresAt = %v, %v; want receipt + 299s", at, ok)
	}
	if g := tok.GrantedScopes(); len(g) != 1 || g[0] != "identity_proofing" {
		t.Errorf("GrantedScopes = %v", g)
	}
}

func TestClientCredentialsToken_noScopeSendsNone(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if _, ok := r.PostForm["scope"]; ok {
			t.Errorf("scope sent although none requested: %q", r.PostForm.Get("scope"))
		}
		_, _ = io.WriteString(w, `{"access_token":"x.y.z","token_type":"Bearer","expires_in":299}`)
	})
	tok, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Scope != "" || len(tok.GrantedScopes()) != 0 {
		t.Errorf("scope = %q, want none", tok.Scope)
	}
}

func TestSCIMToken_seedRequestAndResponse(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/scim/api/token" {
			t.Errorf("request = %s %s", r.Method, r.URL.Path)
		}
		q := r.URL.Query()
		if q.Get("client_id") != testCreds.ClientID || q.Get("client_secret") != testSecret {
			t.Errorf("query = %v", q)
		}
		_, _ = io.WriteString(w, seedSCIMBody)
	})
	tok, err := c.SCIMToken(context.Background(), testCreds)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "OAUTH2c615b14e-26e9-497a-b5e8-7dd2d649d870" || tok.ExpiresIn != 7200 || tok.Scope != "/scim/" {
		t.Errorf("token = %+v", tok)
	}
}

func TestTokenErrors_documentedCodes(t *testing.T) {
	cases := []struct {
		status     int
		body, code string
		desc, uri  string
	}{
		{401, "{\n  \"error\" : \"invalid_client\"\n}", ErrCodeInvalidClient, "", ""},
		{400, "{\n  \"error\" : \"unauthorized_client\"\n}", ErrCodeUnauthorizedClient, "", ""},
		{400, "{\n  \"error\" : \"invalid_scope\"\n}", ErrCodeInvalidScope, "", ""},
		{400, `{"error" : "unsupported_grant_type","error_description" : "OAuth 2.0 Parameter: grant_type","error_uri" : "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"}`,
			ErrCodeUnsupportedGrantType, "OAuth 2.0 Parameter: grant_type", "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"},
	}
	for _, tc := range cases {
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		})
		_, err := c.ClientCredentialsToken(context.Background(), testCreds, []string{"identity_proofing"})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is not *Error", tc.code, err)
		}
		if e.StatusCode != tc.status || e.Code != tc.code || e.Description != tc.desc || e.URI != tc.uri || e.Op != "POST /oauth2/token" {
			t.Errorf("%s: error = %+v", tc.code, e)
		}
		if !IsOAuthError(err, tc.code) {
			t.Errorf("IsOAuthError(%v, %s) = false", err, tc.code)
		}
		if !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), "HTTP") {
			t.Errorf("error string %q does not name status and code", err)
		}
		assertNoSecret(t, err.Error())
	}
}

func TestTokenErrors_emptyAndNonJSONBodies(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		reason      string
		excerpt     string
	}{
		{"empty 401 (PKCE wrong grant)", 401, "", "", "empty response body", ""},
		{"gateway html", 502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>client_secret=" + testSecret + "</body></html>",
			"not an OAuth error object", "502 Bad Gateway 502 Bad Gateway client_secret=[REDACTED]"},
		{"json without error", 500, "application/json", `{"message":"boom"}`, "not an OAuth error object", `{"message":"boom"}`},
	}
	for _, tc := range cases {
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			if tc.contentType != "" {
				w.Header().Set("Content-Type", tc.contentType)
			}
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		})
		_, err := c.SCIMToken(context.Background(), testCreds)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is not *Error", tc.name, err)
		}
		if e.StatusCode != tc.status || e.Code != "" || !strings.Contains(e.Reason, tc.reason) || e.Excerpt != tc.excerpt {
			t.Errorf("%s: error = %+v", tc.name, e)
		}
		if e.Op != "GET /scim/api/token" {
			t.Errorf("%s: op = %q", tc.name, e.Op)
		}
		assertNoSecret(t, err.Error())
	}
}

func TestTokenResponse_deliberateHandling(t *testing.T) {
	cases := []struct {
		name, body string
		wantErr    string
		check      func(*Token) bool
	}{
		{"no access_token", `{"token_type":"Bearer","expires_in":299}`, "no access_token", nil},
		{"empty access_token", `{"access_token":"","token_type":"Bearer"}`, "no access_token", nil},
		{"no token_type", `{"access_token":"a.b.c","expires_in":299}`, "no token_type", nil},
		{"mac token_type", `{"access_token":"a.b.c","token_type":"mac","expires_in":299}`, `token_type "mac"`, nil},
		{"bearer lower case", `{"access_token":"a.b.c","token_type":"bearer","expires_in":299}`, "", func(t *Token) bool { return t.TokenType == "bearer" }},
		{"bearer with spaces", `{"access_token":"a.b.c","token_type":" Bearer ","expires_in":299}`, "", func(t *Token) bool { return t.TokenType == "Bearer" }},
		{"scope array with null and empty", `{"access_token":"a.b.c","token_type":"Bearer","scope":["openid",null,"","users.read"]}`, "", func(t *Token) bool { return t.Scope == "openid users.read" }},
		{"expires_in absent", `{"access_token":"a.b.c","token_type":"Bearer"}`, "", func(t *Token) bool { _, ok := t.ExpiresAt(); return !t.HasExpiresIn && !ok }},
		{"expires_in null", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":null}`, "", func(t *Token) bool { return !t.HasExpiresIn }},
		{"expires_in string", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":"299"}`, "", func(t *Token) bool { return t.HasExpiresIn && t.ExpiresIn == 299 }},
		{"expires_in float whole", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":299.0}`, "", func(t *Token) bool { return t.ExpiresIn == 299 }},
		{"expires_in negative", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":-1}`, "negative expires_in", nil},
		{"expires_in fractional", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":1.5}`, "not a whole number", nil},
		{"expires_in words", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":"soon"}`, "not a number", nil},
		{"expires_in beyond a Duration", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":1e10}`, "expires_in, 1e10 (10000000000 seconds), is more than 10 years", nil},
		{"expires_in just over 10 years", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":"315360001"}`, "expires_in, 315360001 (315360001 seconds), is more than 10 years", nil},
		{"expires_in 10 years", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":315360000}`, "", func(t *Token) bool {
			at, _ := t.ExpiresAt()
			return t.ExpiresIn == 315360000 && at.After(time.Now().AddDate(9, 11, 0))
		}},
		{"scope repeats a value", `{"access_token":"a.b.c","token_type":"Bearer","scope":"openid openid users.read openid"}`, "", func(t *Token) bool {
			return t.Scope == "openid openid users.read openid" && strings.Join(t.GrantedScopes(), ",") == "openid,users.read"
		}},
		{"scope array", `{"access_token":"a.b.c","token_type":"Bearer","scope":["openid","users.read"]}`, "", func(t *Token) bool { return t.Scope == "openid users.read" }},
		{"scope object", `{"access_token":"a.b.c","token_type":"Bearer","scope":{"a":1}}`, "neither a string nor an array", nil},
		{"not json", `access_token=a.b.c&token_type=Bearer`, "response body is not JSON", nil},
	}
	for _, tc := range cases {
		tok, reason := parseTokenResponse([]byte(tc.body), time.Now())
		if tc.wantErr != "" {
			if tok != nil || !strings.Contains(reason, tc.wantErr) {
				t.Errorf("%s: got %v, %q; want error containing %q", tc.name, tok, reason, tc.wantErr)
			}
			assertNoSecret(t, reason, "a.b.c")
			continue
		}
		if tok == nil || reason != "" || !tc.check(tok) {
			t.Errorf("%s: got %+v, %q", tc.name, tok, reason)
		}
	}
}

func TestTokenResponse_unusable200IsError(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>Welcome to nginx! token=OAUTH2leaked-value</html>")
	})
	_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 200 || e.ContentType != "text/html" || !strings.Contains(e.Reason, "it looks like an HTML page") || e.Excerpt != "" {
		t.Fatalf("error = %#v", err)
	}
	assertNoSecret(t, err.Error(), "OAUTH2leaked-value")
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	var followed int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed++ }))
	defer other.Close()
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	_, err := c.SCIMToken(context.Background(), testCreds)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 307 {
		t.Fatalf("error = %v, want a 307 *Error", err)
	}
	host := strings.TrimPrefix(other.URL, "http://")
	if e.RedirectHost != host || !strings.Contains(err.Error(), host) {
		t.Errorf("error %q should name the redirect host %q", err, host)
	}
	if strings.Contains(err.Error(), "/steal") {
		t.Errorf("error %q names more than the target host", err)
	}
	if followed != 0 {
		t.Errorf("redirect was followed %d times", followed)
	}
	assertNoSecret(t, err.Error())
}

func TestOversizedBodyIsRejected(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		chunk := strings.Repeat("x", 64<<10)
		for i := 0; i < 160; i++ { // 10 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	_, err := c.ClientCredentialsToken(context.Background(), testCreds, nil)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Reason, "larger than") {
		t.Fatalf("error = %v, want an oversized-body error", err)
	}
}

func TestTransportErrorsNeverCarryTheURL(t *testing.T) {
	// A closed port: the request fails before any answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	base, _ := ParseAuthDomain("http://" + addr)
	c, _ := New(Config{BaseURL: base})
	_, err = c.SCIMToken(context.Background(), testCreds)
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %T %v is not *TransportError", err, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("error chain still holds a *url.Error: %v", ue)
	}
	if !strings.Contains(err.Error(), "GET /scim/api/token") || strings.Contains(err.Error(), "client_id=") {
		t.Errorf("error %q", err)
	}
	assertNoSecret(t, err.Error())
}

func TestCancellationEndsRequestPromptly(t *testing.T) {
	release := make(chan struct{})
	c := newTestClient(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := c.SCIMToken(ctx, testCreds)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled in the chain", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	assertNoSecret(t, err.Error())
}

// Every attempt is reported, and nothing in a report carries a secret: not
// the SCIM URL (whose query holds the secret), not a body that echoes it, not
// a transport error that would quote the URL.
func TestOnRequestReportsWithoutSecrets(t *testing.T) {
	var infos []RequestInfo
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body>upstream failed for "+r.URL.String()+"</body></html>")
	}))
	defer srv.Close()
	base, _ := ParseAuthDomain(srv.URL)
	report := func(_ context.Context, i RequestInfo) { infos = append(infos, i) }
	c, _ := New(Config{BaseURL: base, OnRequest: report, Retry: fastRetry(1)})
	creds := Credentials{ClientID: leaktest.ClientID, ClientSecret: leaktest.Secret}
	_, _ = c.SCIMToken(context.Background(), creds)
	// A server that is down: the transport error is reported too.
	down, _ := ParseAuthDomain("http://127.0.0.1:1")
	d, _ := New(Config{BaseURL: down, OnRequest: report, Retry: fastRetry(0)})
	_, _ = d.SCIMToken(context.Background(), creds)
	if len(infos) != 3 || infos[0].Op != "GET /scim/api/token" || infos[0].StatusCode != 502 || infos[1].Attempt != 2 || infos[2].Err == nil {
		t.Fatalf("infos = %+v", infos)
	}
	for i, info := range infos {
		text := fmt.Sprintf("%+v %#v", info, info)
		if info.Err != nil {
			text += " " + info.Err.Error()
		}
		leaktest.AssertNone(t, fmt.Sprintf("report %d", i), text, leaktest.Secret)
	}
}

func TestStringersNeverPrintSecrets(t *testing.T) {
	tok := Token{AccessToken: "OAUTH2-access-value", RefreshToken: "refresh-value", IDToken: "id-value", TokenType: "Bearer"}
	for _, s := range []string{tok.String(), tok.GoString(), testCreds.String(), testCreds.GoString()} {
		assertNoSecret(t, s, "OAUTH2-access-value", "refresh-value", "id-value")
	}
}
