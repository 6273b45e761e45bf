package localciam

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Paths of the authorization-code flow.
const (
	AuthorizePath = "/oauth2/authorize"
	RevokePath    = "/oauth2/revoke"
)

// DefaultUser is the subject the local CIAM signs in at /oauth2/authorize:
// there is no login page, so that tests can drive the flow without a browser.
const DefaultUser = "demo-user"

// codeTTL is how long an authorization code stays valid.
const codeTTL = 5 * time.Minute

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	scopes      []string
	user        string
	expires     time.Time
	used        bool
}

type refreshGrant struct {
	clientID string
	scopes   []string
	user     string
	revoked  bool
	// rotated says the token was exchanged for a new one (rotation); using
	// it again is reuse.
	rotated bool
	// pkce says the grant was issued through a PKCE exchange without a
	// secret: a public client's.
	pkce bool
	// family is shared by every refresh token of one grant.
	family *grantFamily
	// answerLost says the answer that carried this token never reached the
	// client: a swallow fault, or an answer_after fault the client left.
	answerLost bool
	// reuses counts the presentations after it was rotated away, and
	// reuseAnswersLost those whose answer a fault lost.
	reuses, reuseAnswersLost int64
	// rotatedFrom is the refresh token this one replaced ("" for the first
	// of a grant).
	rotatedFrom string
}

// grantFamily is one authorization grant: the refresh tokens that rotation
// issued from one code.
type grantFamily struct {
	// code is the authorization code the grant was issued for;
	// exchangeLost says the answer of its exchange never reached the
	// client.
	code         string
	exchangeLost bool
	revoked      bool
	// reused says the grant was revoked because a rotated-away refresh
	// token of it came back (reuse detection).
	reused bool
}

func (g *refreshGrant) valid() bool { return !g.revoked && !g.rotated && !g.family.revoked }

// AuthorizeRequest is what a browser would send to /oauth2/authorize.
type AuthorizeRequest struct {
	ClientID    string
	RedirectURI string
	Scope       string
	State       string
	// CodeChallenge is the PKCE S256 challenge of a code verifier; empty for
	// a confidential client without PKCE.
	CodeChallenge string
	User          string
}

// S256Challenge returns the PKCE S256 challenge of a code verifier.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var errAuthorize = errors.New("localciam: authorize request rejected")

// IssueCode runs /oauth2/authorize in process: it checks the request as the
// endpoint does and returns a fresh single-use code.
func (s *Server) IssueCode(r AuthorizeRequest) (string, error) {
	s.mu.Lock()
	c, ok := s.clients[r.ClientID]
	s.mu.Unlock()
	if !ok || c.Disabled || !slices.Contains(c.RedirectURIs, r.RedirectURI) || !c.allows(GrantAuthorizationCode) {
		return "", errAuthorize
	}
	scopes, ok := requestedScopes(r.Scope, c)
	if !ok {
		return "", errAuthorize
	}
	user := r.User
	if user == "" {
		user = DefaultUser
	}
	code := randomToken(32)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &authCode{
		clientID: r.ClientID, redirectURI: r.RedirectURI, challenge: r.CodeChallenge,
		scopes: scopes, user: user, expires: s.now().Add(codeTTL),
	}
	return code, nil
}

// handleAuthorize serves GET /oauth2/authorize: it signs DefaultUser in at
// once and redirects to redirect_uri with a code and the state. An unknown
// client or a redirect_uri that is not registered (exact match) gets a 400
// page and no redirect, as RFC 6749 section 4.1.2.1 requires; other errors
// are redirected with error=... .
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	req := AuthorizeRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		Scope: q.Get("scope"), State: q.Get("state"), CodeChallenge: q.Get("code_challenge"),
	}
	s.mu.Lock()
	c, ok := s.clients[req.ClientID]
	s.mu.Unlock()
	if !ok || c.Disabled || !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		http.Error(w, "invalid client or redirect_uri", http.StatusBadRequest)
		return
	}
	target, _ := url.Parse(req.RedirectURI)
	back := target.Query()
	if req.State != "" {
		back.Set("state", req.State)
	}
	fail := func(code string) {
		back.Set("error", code)
		target.RawQuery = back.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type")
		return
	case req.CodeChallenge != "" && q.Get("code_challenge_method") != "S256":
		fail("invalid_request") // only S256 is supported
		return
	case !c.allows(GrantAuthorizationCode):
		fail("unauthorized_client")
		return
	}
	code, err := s.IssueCode(req)
	if err != nil {
		fail("invalid_scope")
		return
	}
	back.Set("code", code)
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// authorizationCode serves grant_type=authorization_code. With a
// code_verifier and no client_secret it is the PKCE exchange, where the
// vendor answers a wrong code or verifier with 401 invalid_client; otherwise
// the client authenticates and a wrong or used code is 400 invalid_grant.
// A code issued to another client is 401 invalid_client (seed 003).
func (s *Server) authorizationCode(w http.ResponseWriter, r *http.Request, c Client, pkce bool) {
	if !c.allows(GrantAuthorizationCode) {
		writeError(w, errUnauthorizedClient)
		return
	}
	form := r.PostForm
	codeValue, verifier := form.Get("code"), form.Get("code_verifier")
	badCode := errInvalidGrant
	if pkce {
		badCode = errInvalidClient
	}
	s.mu.Lock()
	code, found := s.codes[codeValue]
	var oerr *oauthError
	switch {
	case !found || code.used || s.now().After(code.expires):
		oerr = &badCode
	case code.clientID != c.ID:
		oerr = &errInvalidClient
	case code.redirectURI != form.Get("redirect_uri"):
		oerr = &errInvalidGrant
	case code.challenge != "" && S256Challenge(verifier) != code.challenge:
		oerr = &badCode
	case code.challenge == "" && pkce:
		oerr = &errInvalidClient
	}
	if found {
		code.used = true // a code is spent by any attempt to use it
	}
	s.mu.Unlock()
	if oerr != nil {
		writeError(w, *oerr)
		return
	}
	s.grantCount(GrantAuthorizationCode)
	refresh := randomToken(96)
	s.mu.Lock()
	s.refresh[refresh] = &refreshGrant{clientID: c.ID, scopes: code.scopes, user: code.user, pkce: pkce, family: &grantFamily{code: codeValue}}
	s.mu.Unlock()
	noteAnswer(r, refresh, true)
	s.writeUserTokens(w, r, c, code.user, code.scopes, refresh)
}

// refreshToken serves grant_type=refresh_token. An unknown, revoked or
// foreign refresh token is 400 invalid_grant. The refresh token is returned
// unchanged (the vendor's sample does so) unless Options.RotateRefreshTokens;
// then a rotated-away token that comes back revokes the whole grant. A public
// client (public, no secret) may refresh only a grant issued through PKCE.
func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request, c Client, public bool) {
	if !c.allows(GrantRefreshToken) {
		writeError(w, errUnauthorizedClient)
		return
	}
	value := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	g, ok := s.refresh[value]
	var oerr *oauthError
	switch {
	case !ok || g.clientID != c.ID:
		oerr = &errInvalidGrant
	case public && !g.pkce:
		oerr = &errInvalidClient // a confidential grant needs its secret
	case g.rotated:
		g.family.revoked, g.family.reused = true, true // reuse detected: the grant is compromised
		g.reuses++
		noteReuse(r, value)
		oerr = &errInvalidGrant
	case !g.valid():
		oerr = &errInvalidGrant
	}
	next := value
	if oerr == nil && s.opts.RotateRefreshTokens {
		g.rotated = true
		s.rotations++
		next = randomToken(96)
		s.refresh[next] = &refreshGrant{clientID: g.clientID, scopes: g.scopes, user: g.user, pkce: g.pkce, family: g.family, rotatedFrom: value}
	}
	s.mu.Unlock()
	if oerr != nil {
		writeError(w, *oerr)
		return
	}
	s.grantCount(GrantRefreshToken)
	if next != value {
		noteAnswer(r, next, false) // a new token: only this answer carries it
	}
	s.writeUserTokens(w, r, c, g.user, g.scopes, next)
}

// writeUserTokens answers with access, refresh and id token in the layout of
// seed 003.
func (s *Server) writeUserTokens(w http.ResponseWriter, r *http.Request, c Client, user string, scopes []string, refresh string) {
	access, err := s.accessToken(r, user, c.ID, scopes)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	now := s.now().Unix()
	id, err := s.signer.sign(map[string]any{
		"sub": user, "aud": c.ID, "azp": c.ID, "iss": s.issuer(r),
		"exp": now + 1800, "iat": now, "jti": newID(),
	})
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	s.record(access, refresh, id)
	writeOrdered(w, http.StatusOK,
		"access_token", access,
		"refresh_token", refresh,
		"scope", strings.Join(scopes, " "),
		"id_token", id,
		"token_type", "Bearer",
		"expires_in", s.opts.AccessTokenExpiresIn,
	)
}

// handleRevoke serves POST /oauth2/revoke: 200 with an empty body, also for
// unknown tokens. A wrong client is 401 invalid_client.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, errInvalidRequest)
		return
	}
	public := s.publicRequest(r)
	c, oerr := s.authenticate(r, public)
	if oerr != nil {
		writeError(w, *oerr)
		return
	}
	s.mu.Lock()
	g, ok := s.refresh[r.PostForm.Get("token")]
	if ok && public && !g.pkce {
		s.mu.Unlock()
		writeError(w, errInvalidClient) // a confidential grant needs its secret
		return
	}
	if ok && g.clientID == c.ID && g.valid() {
		g.revoked = true
		g.family.revoked = true
		s.revocations++
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// publicRequest reports a refresh or revocation by a public client, where
// Options.PublicClientRefresh allows them: client_id in the body and no
// secret anywhere.
func (s *Server) publicRequest(r *http.Request) bool {
	if !s.opts.PublicClientRefresh || r.Header.Get("Authorization") != "" {
		return false
	}
	_, hasSecret := r.PostForm["client_secret"]
	return !hasSecret
}

func (s *Server) grantCount(grant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[grant]++
}

func randomToken(n int) string {
	b := make([]byte, n*3/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
