package localciam

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// oauthError is an error answer exactly as the vendor documents it.
type oauthError struct {
	status      int
	code        string
	description string
	uri         string
}

// The vendor's documented error answers.
var (
	errInvalidClient      = oauthError{status: http.StatusUnauthorized, code: "invalid_client"}
	errUnauthorizedClient = oauthError{status: http.StatusBadRequest, code: "unauthorized_client"}
	errInvalidScope       = oauthError{status: http.StatusBadRequest, code: "invalid_scope"}
	errInvalidRequest     = oauthError{status: http.StatusBadRequest, code: "invalid_request"}
	errInvalidGrant       = oauthError{status: http.StatusBadRequest, code: "invalid_grant"}
	errUnsupportedGrant   = oauthError{
		status:      http.StatusBadRequest,
		code:        "unsupported_grant_type",
		description: "OAuth 2.0 Parameter: grant_type",
		uri:         "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2",
	}
)

// writeOrdered writes a JSON object with its members in the given order, in
// the vendor's layout ("key" : value), with the vendor's content type and the
// no-store headers RFC 6749 section 5.1 requires.
func writeOrdered(w http.ResponseWriter, status int, members ...any) {
	var b strings.Builder
	b.WriteString("{\n")
	for i := 0; i+1 < len(members); i += 2 {
		k, _ := members[i].(string)
		v, err := json.Marshal(members[i+1])
		if err != nil {
			v = []byte("null")
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  ")
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(" : ")
		b.Write(v)
	}
	b.WriteString("\n}")
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func writeError(w http.ResponseWriter, e oauthError) {
	members := []any{"error", e.code}
	if e.description != "" {
		members = append(members, "error_description", e.description)
	}
	if e.uri != "" {
		members = append(members, "error_uri", e.uri)
	}
	writeOrdered(w, e.status, members...)
}

// clientAuth extracts client credentials from the request: HTTP Basic
// (client_secret_basic, id and secret form-url-encoded before base64 as RFC
// 6749 section 2.3.1 requires) or the body (client_secret_post).
func clientAuth(r *http.Request) (id, secret string, basic bool, ok bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", "", true, false
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", "", true, false
		}
		encID, encSecret, found := strings.Cut(string(raw), ":")
		if !found {
			return "", "", true, false
		}
		id, err1 := url.QueryUnescape(encID)
		secret, err2 := url.QueryUnescape(encSecret)
		if err1 != nil || err2 != nil {
			return "", "", true, false
		}
		return id, secret, true, true
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), false, true
}

func secretsEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authenticate checks the client. A missing client_id is 400
// invalid_request (documented); an unknown client, a wrong or missing secret
// or a disabled client is 401 invalid_client (documented). A public PKCE
// exchange (public true) identifies the client by client_id alone.
func (s *Server) authenticate(r *http.Request, public bool) (Client, *oauthError) {
	id, secret, _, ok := clientAuth(r)
	if !ok {
		return Client{}, &errInvalidClient
	}
	if id == "" {
		return Client{}, &errInvalidRequest
	}
	s.mu.Lock()
	c, found := s.clients[id]
	s.mu.Unlock()
	if !found || c.Disabled || (!public && !secretsEqual(c.Secret, secret)) {
		return Client{}, &errInvalidClient
	}
	return c, nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		writeError(w, errInvalidRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, errInvalidRequest)
		return
	}
	grant := r.PostForm.Get("grant_type")
	_, secret, basic, _ := clientAuth(r)
	public := !basic && secret == "" && r.PostForm.Get("code_verifier") != ""
	if public && grant != GrantAuthorizationCode {
		// Documented: a wrong grant_type in the PKCE flow is a bare 401.
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	publicRefresh := grant == GrantRefreshToken && s.publicRequest(r)
	// Client authentication comes first, as in the vendor's server.
	client, oerr := s.authenticate(r, public || publicRefresh)
	if oerr != nil {
		writeError(w, *oerr)
		return
	}
	switch grant {
	case GrantClientCredentials:
		s.clientCredentials(w, r, client)
	case GrantAuthorizationCode:
		s.authorizationCode(w, r, client, public)
	case GrantRefreshToken:
		s.refreshToken(w, r, client, publicRefresh)
	default:
		writeError(w, errUnsupportedGrant)
	}
}

// clientCredentials issues a token for the client-credentials grant.
// Inferred: with no scope requested, no scope is granted and the response has
// no scope member (the vendor's samples always request one).
func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, c Client) {
	if !c.allows(GrantClientCredentials) {
		writeError(w, errUnauthorizedClient)
		return
	}
	scopes, ok := requestedScopes(r.PostForm.Get("scope"), c)
	if !ok {
		writeError(w, errInvalidScope)
		return
	}
	access, err := s.accessToken(r, c.ID, c.ID, scopes)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	s.record(access)
	s.grantCount(GrantClientCredentials)
	members := []any{"access_token", access}
	if len(scopes) > 0 {
		members = append(members, "scope", strings.Join(scopes, " "))
	}
	members = append(members, "token_type", "Bearer", "expires_in", s.opts.AccessTokenExpiresIn)
	writeOrdered(w, http.StatusOK, members...)
}

// requestedScopes splits a scope parameter and checks every value against the
// client's allowed scopes. Duplicates are dropped; order is kept.
func requestedScopes(param string, c Client) ([]string, bool) {
	var out []string
	for _, sc := range strings.Fields(param) {
		if !slices.Contains(c.Scopes, sc) {
			return nil, false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, true
}

// accessToken signs an access token with the vendor's claims: sub, aud, nbf,
// scope (an array), iss, exp, iat, jti.
func (s *Server) accessToken(r *http.Request, sub, aud string, scopes []string) (string, error) {
	now := s.now().Unix()
	claims := map[string]any{
		"sub": sub,
		"aud": aud,
		"nbf": now,
		"iss": s.issuer(r),
		"exp": now + s.opts.AccessTokenExpiresIn + 1,
		"iat": now,
		"jti": newID(),
	}
	if len(scopes) > 0 {
		claims["scope"] = scopes
	}
	return s.signer.sign(claims)
}

// handleSCIMToken serves GET /scim/api/token?client_id=...&client_secret=...
// (seed 000). Inferred: a missing client_id is 400 invalid_request and wrong
// credentials are 401 invalid_client, as on the token endpoint.
func (s *Server) handleSCIMToken(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	id, secret := q.Get("client_id"), q.Get("client_secret")
	if id == "" {
		writeError(w, errInvalidRequest)
		return
	}
	s.mu.Lock()
	c, found := s.scimClients[id]
	s.mu.Unlock()
	if !found || c.Disabled || !secretsEqual(c.Secret, secret) {
		writeError(w, errInvalidClient)
		return
	}
	token := "OAUTH2" + newID()
	s.record(token)
	s.grantCount(IssuedSCIM)
	writeOrdered(w, http.StatusOK,
		"access_token", token,
		"token_type", "Bearer",
		"expires_in", s.opts.SCIMExpiresIn,
		"scope", "/scim/",
	)
}
