package ciam

import (
	"net/url"
	"testing"
)

// RFC 7636 Appendix B: the verifier and the S256 challenge of its example.
func TestS256Challenge_rfc7636AppendixB(t *testing.T) {
	if got, want := S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; got != want {
		t.Errorf("S256Challenge = %q, want %q", got, want)
	}
}

// The URL is the directory's /oauth2/authorize with the documented
// parameters, encoded, and never the verifier.
func TestAuthorizationURL(t *testing.T) {
	base, err := ParseAuthDomain("tenant.portal.tencentciam.com")
	if err != nil {
		t.Fatal(err)
	}
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	raw := AuthorizationURL(base, AuthorizeRequest{
		ClientID: "app/1", RedirectURI: "https://app.example.com/callback?x=1&y=2",
		Scopes: []string{"openid", "users.read"}, State: "s t&a=te", CodeVerifier: verifier,
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "tenant.portal.tencentciam.com" || u.Path != AuthorizePath {
		t.Errorf("URL %q is not the directory's %s", raw, AuthorizePath)
	}
	want := url.Values{
		"response_type": {"code"}, "client_id": {"app/1"}, "redirect_uri": {"https://app.example.com/callback?x=1&y=2"},
		"scope": {"openid users.read"}, "state": {"s t&a=te"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	if got := u.Query(); got.Encode() != want.Encode() {
		t.Errorf("query = %v, want %v", got, want)
	}
	// Without a verifier, scopes or state, none of their parameters.
	bare, _ := url.Parse(AuthorizationURL(base, AuthorizeRequest{ClientID: "app", RedirectURI: "https://app.example.com/cb"}))
	for _, p := range []string{"scope", "state", "code_challenge", "code_challenge_method"} {
		if bare.Query().Has(p) {
			t.Errorf("a bare request's URL has %s: %s", p, bare)
		}
	}
}
