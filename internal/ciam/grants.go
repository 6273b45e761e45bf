package ciam

import (
	"context"
	"net/http"
	"net/url"
	"strings"
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
// exchange is sent at most once: it is never retried, whatever happens.
func (c *Client) AuthorizationCodeToken(ctx context.Context, creds Credentials, r AuthorizationCodeRequest) (*Token, error) {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"client_id":    {creds.ClientID},
		"code":         {r.Code},
		"redirect_uri": {r.RedirectURI},
	}
	if r.CodeVerifier != "" {
		form.Set("code_verifier", r.CodeVerifier)
	} else {
		form.Set("client_secret", creds.ClientSecret)
	}
	return c.postToken(ctx, form, newRedactor(creds.ClientSecret, r.Code, r.CodeVerifier))
}

// RefreshToken runs the refresh-token grant. The client secret is sent when
// there is one (public PKCE clients have none).
func (c *Client) RefreshToken(ctx context.Context, creds Credentials, refreshToken string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {creds.ClientID},
		"refresh_token": {refreshToken},
	}
	if creds.ClientSecret != "" {
		form.Set("client_secret", creds.ClientSecret)
	}
	return c.postToken(ctx, form, newRedactor(creds.ClientSecret, refreshToken))
}

// Revoke revokes a token (POST /oauth2/revoke). The CIAM answers 200 with an
// empty body, also for tokens it does not know; revoking a refresh token
// revokes the access tokens issued with it.
func (c *Client) Revoke(ctx context.Context, creds Credentials, token string) error {
	form := url.Values{"client_id": {creds.ClientID}, "token": {token}}
	if creds.ClientSecret != "" {
		form.Set("client_secret", creds.ClientSecret)
	}
	red := newRedactor(creds.ClientSecret, token)
	req, err := c.newRequest(ctx, http.MethodPost, RevokePath, nil, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	op := "POST " + RevokePath
	status, body, _, err := c.do(req, op, red)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		e := &Error{Op: op, StatusCode: status, ContentType: body.contentType}
		parseErrorResponse(e, body.data, red)
		return e
	}
	return nil
}
