package localciam

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func postForm(t *testing.T, s *Server, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := http.PostForm(s.URL()+TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func ccForm(id, secret, scope string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

func TestDocumentedErrorsAreExact(t *testing.T) {
	s := StartTest(t, Options{})
	s.SetClient(Client{ID: "no-cc", Secret: "no-cc-secret", Grants: []string{GrantAuthorizationCode}})
	s.SetClient(Client{ID: "off", Secret: "off-secret", Disabled: true})
	cases := []struct {
		name   string
		form   url.Values
		status int
		body   string
	}{
		{"wrong secret", ccForm(DemoClientID, "wrong", ""), 401, "{\n  \"error\" : \"invalid_client\"\n}"},
		{"unknown client", ccForm("nobody", "x", ""), 401, "{\n  \"error\" : \"invalid_client\"\n}"},
		{"disabled client", ccForm("off", "off-secret", ""), 401, "{\n  \"error\" : \"invalid_client\"\n}"},
		{"grant not allowed", ccForm("no-cc", "no-cc-secret", ""), 400, "{\n  \"error\" : \"unauthorized_client\"\n}"},
		{"bad scope", ccForm(DemoClientID, DemoClientSecret, "identity_proofing admin"), 400, "{\n  \"error\" : \"invalid_scope\"\n}"},
		{"missing client_id", url.Values{"grant_type": {"client_credentials"}}, 400, "{\n  \"error\" : \"invalid_request\"\n}"},
		{"wrong grant_type", url.Values{"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, 400,
			"{\n  \"error\" : \"unsupported_grant_type\",\n  \"error_description\" : \"OAuth 2.0 Parameter: grant_type\",\n  \"error_uri\" : \"https://datatracker.ietf.org/doc/html/rfc6749#section-5.2\"\n}"},
	}
	for _, c := range cases {
		status, body, h := postForm(t, s, c.form)
		if status != c.status || body != c.body {
			t.Errorf("%s: got %d %q, want %d %q", c.name, status, body, c.status, c.body)
		}
		if ct := h.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("%s: Content-Type %q", c.name, ct)
		}
	}
}

func TestClientCredentialsTokenMatchesSeed(t *testing.T) {
	s := StartTest(t, Options{})
	status, body, h := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "identity_proofing"))
	if status != 200 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v, body %s", status, h, body)
	}
	var r struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Scope != "identity_proofing" || r.TokenType != "Bearer" || r.ExpiresIn != 299 {
		t.Errorf("response = %+v", r)
	}
	if !strings.HasPrefix(body, "{\n  \"access_token\" : ") {
		t.Errorf("body layout differs from the vendor's: %s", body)
	}

	// The JWT verifies against the served JWKS, pinned to RS256, and has the
	// seed's header and claims.
	tok, err := jwt.ParseSigned(r.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h0 := tok.Headers[0]
	if h0.KeyID == "" || h0.ExtraHeaders["typ"] != "JWT" || h0.Algorithm != "RS256" {
		t.Errorf("header = %+v", h0)
	}
	resp, err := http.Get(s.URL() + JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	keys := set.Key(h0.KeyID)
	if len(keys) != 1 || keys[0].Algorithm != "" {
		t.Fatalf("jwks keys for kid %q = %+v (want one, without alg)", h0.KeyID, keys)
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	for _, k := range []string{"sub", "aud", "nbf", "scope", "iss", "exp", "iat", "jti"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["sub"] != DemoClientID || claims["aud"] != DemoClientID || claims["iss"] != s.URL() {
		t.Errorf("claims = %v", claims)
	}
	if sc, ok := claims["scope"].([]any); !ok || len(sc) != 1 || sc[0] != "identity_proofing" {
		t.Errorf("scope claim = %#v, want an array", claims["scope"])
	}
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if exp-iat != 300 {
		t.Errorf("lifetime = %v, want 300", exp-iat)
	}
	if got := s.IssuedTokens(); len(got) != 1 || got[0] != r.AccessToken {
		t.Errorf("IssuedTokens = %d entries", len(got))
	}
}

func TestBasicClientAuthentication(t *testing.T) {
	secret := "p@ss:word/+"
	s := StartTest(t, Options{})
	s.SetClient(Client{ID: "app:1", Secret: secret})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+TokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 2.3.1: form-url-encode each part before base64.
	req.SetBasicAuth(url.QueryEscape("app:1"), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestSCIMTokenMatchesSeed(t *testing.T) {
	s := StartTest(t, Options{})
	resp, err := http.Get(s.URL() + SCIMTokenPath + "?" + url.Values{"client_id": {DemoSCIMClientID}, "client_secret": {DemoSCIMClientSecret}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != 200 || r["token_type"] != "Bearer" || r["expires_in"] != float64(7200) || r["scope"] != "/scim/" ||
		!strings.HasPrefix(fmt.Sprint(r["access_token"]), "OAUTH2") {
		t.Errorf("%d %v", resp.StatusCode, r)
	}
	bad, err := http.Get(s.URL() + SCIMTokenPath + "?client_id=" + DemoSCIMClientID + "&client_secret=wrong")
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != 401 {
		t.Errorf("wrong secret: status %d", bad.StatusCode)
	}
	if s.Requests(SCIMTokenPath) != 2 || s.Requests("") != 2 {
		t.Errorf("counters = %d/%d", s.Requests(SCIMTokenPath), s.Requests(""))
	}
}

// Discovery and JWKS as the vendor documents them, and the options that
// change them for tests.
func TestDiscoveryAndJWKS(t *testing.T) {
	get := func(s *Server, path string) (int, map[string]any) {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&d)
		return resp.StatusCode, d
	}
	s := StartTest(t, Options{})
	_, d := get(s, DiscoveryPath)
	if d["issuer"] != s.URL() || d["token_endpoint"] != s.URL()+TokenPath || d["jwks_uri"] != s.URL()+JWKSPath {
		t.Errorf("discovery = %v", d)
	}
	if _, ok := d["userinfo_endpoint"]; ok {
		t.Error("the vendor's discovery lists no userinfo_endpoint")
	}
	if _, ok := d["revocation_endpoint"]; ok {
		t.Error("the vendor's discovery lists no revocation_endpoint")
	}
	if methods, _ := d["token_endpoint_auth_methods_supported"].([]any); len(methods) != 2 || methods[0] != "client_secret_basic" {
		t.Errorf("auth methods = %v", d["token_endpoint_auth_methods_supported"])
	}
	_, jwks := get(s, JWKSPath)
	keys, _ := jwks["keys"].([]any)
	key, _ := keys[0].(map[string]any)
	if len(keys) != 1 || key["kid"] == "" || key["kty"] != "RSA" || key["alg"] != nil {
		t.Errorf("jwks = %v", jwks)
	}

	other := StartTest(t, Options{JWKSMember: "Keys", AnnouncedIssuer: "https://evil.example", NoDiscovery: false})
	if _, d := get(other, DiscoveryPath); d["issuer"] != "https://evil.example" || d["jwks_uri"] != other.URL()+JWKSPath {
		t.Errorf("announced issuer: %v", d)
	}
	if _, jwks := get(other, JWKSPath); jwks["Keys"] == nil || jwks["keys"] != nil {
		t.Errorf("Keys member: %v", jwks)
	}
	none := StartTest(t, Options{NoDiscovery: true})
	if status, _ := get(none, DiscoveryPath); status != 404 {
		t.Errorf("NoDiscovery: %d", status)
	}
}

func TestFaultsAreUsedInOrder(t *testing.T) {
	s := StartTest(t, Options{})
	s.InjectFaults(TokenPath,
		Fault{Status: 503, Body: "busy", Header: http.Header{"Retry-After": {"1"}}},
		Fault{Delay: 20 * time.Millisecond, Pass: true},
	)
	status, body, h := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, ""))
	if status != 503 || body != "busy" || h.Get("Retry-After") != "1" {
		t.Errorf("first: %d %q", status, body)
	}
	start := time.Now()
	if status, _, _ = postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "")); status != 200 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("second: %d after %v", status, time.Since(start))
	}
	if s.PendingFaults(TokenPath) != 0 {
		t.Error("faults left")
	}
	s.InjectFaults(TokenPath, Fault{Reset: true})
	if resp, err := http.PostForm(s.URL()+TokenPath, ccForm(DemoClientID, DemoClientSecret, "")); err == nil {
		resp.Body.Close()
		t.Error("reset: expected a transport error")
	}
	if s.Requests(TokenPath) != 3 {
		t.Errorf("requests = %d", s.Requests(TokenPath))
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	s, _ := New(Options{})
	if err := s.Start("0.0.0.0:0"); err == nil {
		_ = s.Close()
		t.Fatal("expected a refusal")
	}
}

// A client that leaves during the latency is noticed (the body is read
// before the wait), so the directory does not go on to issue a token
// nobody receives.
func TestLatencyNoticesAClientThatLeaves(t *testing.T) {
	s := StartTest(t, Options{Latency: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+TokenPath, strings.NewReader(ccForm(DemoClientID, DemoClientSecret, "").Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the request was answered within 100ms, before the latency")
	}
	time.Sleep(1500 * time.Millisecond)
	if n := s.Grants(GrantClientCredentials); n != 0 {
		t.Errorf("the directory issued %d tokens after the client left", n)
	}
}
