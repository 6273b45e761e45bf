package ciam

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
)

// This file holds every grant the client speaks: the client-credentials
// grant and the SCIM token (reusable, see cache.go), the authorization-code
// exchange and the refresh (single-use, see singleuse.go), and revocation.

// Endpoint paths, relative to the auth domain.
const (
	TokenPath     = "/oauth2/token"
	SCIMTokenPath = "/scim/api/token"
	RevokePath    = "/oauth2/revoke"
)

// ClientCredentialsToken runs the OAuth 2.0 client-credentials grant
// (POST /oauth2/token). Scopes are sent space-joined in the order given; nil
// or empty sends none.
func (c *Client) ClientCredentialsToken(ctx context.Context, creds Credentials, scopes []string) (*Token, error) {
	return c.reuse(ctx, TokenPath, "client_credentials", creds, scopes, func() request {
		form := url.Values{"grant_type": {"client_credentials"}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		return request{method: http.MethodPost, path: TokenPath, form: form, creds: creds}
	})
}

// SCIMToken fetches a data-sync (SCIM) token: GET /scim/api/token with the
// credentials in the query, as the vendor requires. The URL is never logged
// or put into an error.
func (c *Client) SCIMToken(ctx context.Context, creds Credentials) (*Token, error) {
	return c.reuse(ctx, SCIMTokenPath, "scim", creds, nil, func() request {
		return request{
			method: http.MethodGet, path: SCIMTokenPath, creds: creds,
			query: url.Values{"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}},
		}
	})
}

// reuse answers from the token cache when reuse is on; the request is built
// only when it has to be sent.
func (c *Client) reuse(ctx context.Context, path, grant string, creds Credentials, scopes []string, build func() request) (*Token, error) {
	if c.cache == nil {
		return c.token(ctx, build())
	}
	key := c.cacheKey(path, grant, creds, scopes)
	tok, err := c.cache.get(ctx, key, c.pool, func(ctx context.Context) (*Token, error) { return c.token(ctx, build()) })
	if err != nil {
		err = c.waitEnded(ctx, err, build())
	}
	return tok, err
}

// AuthorizationCodeRequest is an authorization-code exchange (seed 003).
type AuthorizationCodeRequest struct {
	Code        string
	RedirectURI string
	// CodeVerifier, when set, makes this a PKCE exchange: the client secret
	// is not sent, as in the vendor's PKCE mode.
	CodeVerifier string
}

// AuthorizationCodeToken exchanges a single-use authorization code. It is
// never sent twice (see singleuse.go); a failure is a *SingleUseError whose
// Outcome says whether the code is still good.
func (c *Client) AuthorizationCodeToken(ctx context.Context, creds Credentials, r AuthorizationCodeRequest) (*Token, error) {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {r.Code},
		"redirect_uri": {r.RedirectURI},
	}
	if r.CodeVerifier != "" {
		form.Set("code_verifier", r.CodeVerifier)
		creds.ClientSecret = "" // PKCE: the client_id alone, in the body
	}
	return c.sendSingleUse(ctx, request{method: http.MethodPost, path: TokenPath, form: form, creds: creds,
		secrets: []string{r.Code, r.CodeVerifier}})
}

// RefreshToken runs the refresh-token grant. The client secret is sent when
// there is one; a public client (PKCE, no secret) sends its client_id alone
// (RFC 6749 section 6).
//
// A refresh token is treated as single-use, like a code: a directory that
// rotates refresh tokens (RFC 9700 section 4.14.2) spends it when it
// processes the request, and may revoke the whole grant when it comes back.
// So it is never sent twice (see singleuse.go); a failure is a
// *SingleUseError whose Outcome says whether the refresh token is still
// good.
func (c *Client) RefreshToken(ctx context.Context, creds Credentials, refreshToken string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return c.sendSingleUse(ctx, request{method: http.MethodPost, path: TokenPath, form: form, creds: creds,
		secrets: []string{refreshToken}})
}

// Revoke revokes a token (POST /oauth2/revoke). The CIAM answers 200 with an
// empty body, also for tokens it does not know; revoking a refresh token
// revokes the access tokens issued with it. Revoking twice is harmless, so
// it is retried like any request.
func (c *Client) Revoke(ctx context.Context, creds Credentials, token string) error {
	r := request{method: http.MethodPost, path: RevokePath, form: url.Values{"token": {token}}, creds: creds,
		secrets: []string{token}}
	res, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if res.status < 200 || res.status > 299 {
		return c.statusError(r, res)
	}
	// RFC 7009 has the client ignore the body of a 200, and the CIAM's is
	// empty; an HTML page comes from a proxy or a web page that answered
	// instead of the directory, which may never have seen the request.
	if len(bytes.TrimSpace(res.data)) > 0 && (looksLikeMarkup(res.data) || strings.HasPrefix(strings.ToLower(res.contentType), "text/html")) {
		return &Error{Op: r.op(), Host: c.host(r), StatusCode: res.status, ContentType: res.contentType, Attempts: res.attempts,
			Reason: "the answer is an HTML page, not the CIAM's empty answer: a proxy or web page answered, and the directory may not have revoked the token"}
	}
	return nil
}

// token sends r and turns the response into a Token or an error.
func (c *Client) token(ctx context.Context, r request) (*Token, error) {
	res, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.status < 200 || res.status > 299 {
		return nil, c.statusError(r, res)
	}
	tok, reason := parseTokenResponse(res.data, res.received)
	if reason != "" {
		// Described, never quoted: an answer that cannot be used may still
		// hold a token.
		return nil, &Error{Op: r.op(), Host: c.host(r), StatusCode: res.status, Reason: c.redactor(r)(reason), ContentType: res.contentType, Attempts: res.attempts}
	}
	return tok, nil
}
