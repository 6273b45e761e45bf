package ciam

import (
	"context"
	"net/http"
	"net/url"
)

// RevokePath is the token revocation endpoint.
const RevokePath = "/oauth2/revoke"

// AuthorizationCodeRequest is an authorization-code exchange (seed 003).
type AuthorizationCodeRequest struct {
	Code        string
	RedirectURI string
	// CodeVerifier, when set, makes this a PKCE exchange: the client secret
	// is not sent, as in the vendor's PKCE mode.
	CodeVerifier string
}

// AuthorizationCodeToken exchanges a single-use authorization code. The
// exchange is never sent twice: it is retried only when the connection could
// not be made at all.
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
	return c.token(ctx, request{method: http.MethodPost, path: TokenPath, form: form, creds: creds, mode: retryUnsent,
		secrets: []string{r.Code, r.CodeVerifier}})
}

// RefreshToken runs the refresh-token grant. The client secret is sent when
// there is one; a public client (PKCE, no secret) sends its client_id alone
// (RFC 6749 section 6).
//
// A refresh token is treated as single-use, like a code: a directory that
// rotates refresh tokens (RFC 9700 section 4.14.2) spends it when it
// processes the request, and may revoke the whole grant when it comes back.
// So the request is retried only when it cannot have reached the server (the
// connection was never made); a 5xx, 429 or timeout ends the renewal.
func (c *Client) RefreshToken(ctx context.Context, creds Credentials, refreshToken string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return c.token(ctx, request{method: http.MethodPost, path: TokenPath, form: form, creds: creds,
		mode: retryUnsent, secrets: []string{refreshToken}})
}

// Revoke revokes a token (POST /oauth2/revoke). The CIAM answers 200 with an
// empty body, also for tokens it does not know; revoking a refresh token
// revokes the access tokens issued with it.
func (c *Client) Revoke(ctx context.Context, creds Credentials, token string) error {
	r := request{method: http.MethodPost, path: RevokePath, form: url.Values{"token": {token}}, creds: creds,
		mode: retrySafe, secrets: []string{token}}
	res, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if res.status < 200 || res.status > 299 {
		return c.statusError(r, res)
	}
	return nil
}
