package ciam

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
)

// AuthorizePath is where the directory signs users in and redirects them
// back with a code (CIAM-API.md).
const AuthorizePath = "/oauth2/authorize"

// AuthorizeRequest is what /oauth2/authorize takes, as the vendor documents
// it: client_id, redirect_uri (matched exactly), scope, state, and for PKCE
// a code_challenge with the method S256 only. response_type is always code.
type AuthorizeRequest struct {
	ClientID    string
	RedirectURI string
	// Scopes are sent space-joined in the order given; none sends no scope.
	Scopes []string
	// State is sent as given ("" sends none); the redirect carries it back.
	State string
	// CodeVerifier, when set, sends its S256 challenge (RFC 7636); the
	// verifier itself never goes into the URL.
	CodeVerifier string
}

// AuthorizationURL returns the URL of /oauth2/authorize for r at the
// directory whose base URL is base (ParseAuthDomain), where a browser signs
// the user in. It sends nothing, so it needs no Client.
func AuthorizationURL(base *url.URL, r AuthorizeRequest) string {
	u := *base
	u.Path = AuthorizePath
	q := url.Values{"response_type": {"code"}, "client_id": {r.ClientID}, "redirect_uri": {r.RedirectURI}}
	if len(r.Scopes) > 0 {
		q.Set("scope", strings.Join(r.Scopes, " "))
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	if r.CodeVerifier != "" {
		q.Set("code_challenge", S256Challenge(r.CodeVerifier))
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// S256Challenge returns the PKCE S256 challenge of a code verifier (RFC 7636
// section 4.2): BASE64URL(SHA256(verifier)), without padding.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
