package localciam

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// authorize drives /oauth2/authorize as a browser would and returns the code
// from the redirect.
func authorize(t *testing.T, s *Server, q url.Values) (code string, loc *url.URL) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL() + AuthorizePath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", nil
	}
	loc, err = url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("code"), loc
}

func authorizeQuery(extra ...string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {DemoClientID}, "redirect_uri": {DemoRedirectURI}, "scope": {"openid"}, "state": {"xyz"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func exchange(t *testing.T, s *Server, form url.Values) (int, map[string]any) {
	t.Helper()
	status, body, _ := postForm(t, s, form)
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	return status, m
}

func codeForm(code string, extra ...string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
		"code": {code}, "redirect_uri": {DemoRedirectURI}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestAuthorizationCodeFlow(t *testing.T) {
	s := StartTest(t, Options{})
	code, loc := authorize(t, s, authorizeQuery())
	if code == "" || loc.Query().Get("state") != "xyz" || !strings.HasPrefix(loc.String(), DemoRedirectURI) {
		t.Fatalf("redirect = %v", loc)
	}
	status, body := exchange(t, s, codeForm(code))
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token", "scope", "token_type", "expires_in"} {
		if _, ok := body[k]; !ok {
			t.Errorf("response lacks %s", k)
		}
	}
	idValue, _ := body["id_token"].(string)
	idTok, err := jwt.ParseSigned(idValue, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := idTok.Claims(&s.signer.key.PublicKey, &claims); err != nil {
		t.Fatal(err)
	}
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if claims["azp"] != DemoClientID || claims["sub"] != DefaultUser || exp-iat != 1800 {
		t.Errorf("id_token claims = %v", claims)
	}

	// Single use: the same code again is invalid_grant.
	if status, body = exchange(t, s, codeForm(code)); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("reuse: %d %v", status, body)
	}

}

func TestRefreshAndRevoke(t *testing.T) {
	s := StartTest(t, Options{})
	code, _ := authorize(t, s, authorizeQuery())
	_, tok := exchange(t, s, codeForm(code))
	refresh, _ := tok["refresh_token"].(string)
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {refresh}}
	// Rotation is off by default: the refresh token comes back unchanged.
	status, body := exchange(t, s, rf)
	if status != 200 || body["refresh_token"] != refresh || body["access_token"] == tok["access_token"] {
		t.Errorf("refresh: %d %v", status, body)
	}
	resp, err := http.PostForm(s.URL()+RevokePath, url.Values{"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "token": {refresh}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !s.RefreshTokenRevoked(refresh) || s.Revocations() != 1 {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if status, body = exchange(t, s, rf); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after revoke: %d %v", status, body)
	}
}

func TestAuthorizationCodeErrors(t *testing.T) {
	s := StartTest(t, Options{})
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	pkceCode, _ := authorize(t, s, authorizeQuery("code_challenge", S256Challenge(verifier), "code_challenge_method", "S256"))
	pkce := func(code, v string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "code": {code}, "redirect_uri": {DemoRedirectURI}, "code_verifier": {v}}
	}
	// PKCE quirk: wrong verifier or code is 401 invalid_client.
	if status, body := exchange(t, s, pkce(pkceCode, "wrong-verifier-wrong-verifier-wrong-verifier")); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong verifier: %d %v", status, body)
	}
	pkceCode2, _ := authorize(t, s, authorizeQuery("code_challenge", S256Challenge(verifier), "code_challenge_method", "S256"))
	if status, body := exchange(t, s, pkce(pkceCode2, verifier)); status != 200 || body["access_token"] == nil {
		t.Errorf("right verifier: %d %v", status, body)
	}
	if status, body := exchange(t, s, pkce("not-a-code", verifier)); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong code (PKCE): %d %v", status, body)
	}
	// PKCE with a wrong grant_type: a bare 401.
	f := pkce("x", verifier)
	f.Set("grant_type", "client_credentials")
	if status, body, _ := postForm(t, s, f); status != 401 || body != "" {
		t.Errorf("PKCE wrong grant_type: %d %q", status, body)
	}
	// Confidential: wrong code is 400 invalid_grant.
	if status, body := exchange(t, s, codeForm("not-a-code")); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("wrong code: %d %v", status, body)
	}
	// Only S256.
	if code, loc := authorize(t, s, authorizeQuery("code_challenge", "abc", "code_challenge_method", "plain")); code != "" || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("plain challenge accepted: %v", loc)
	}
	// Redirect URI must match exactly: no redirect at all.
	if code, loc := authorize(t, s, authorizeQuery("redirect_uri", DemoRedirectURI+"/x")); code != "" || loc != nil {
		t.Errorf("unregistered redirect_uri: %v", loc)
	}
	// A code issued to one client, redeemed by another: 401 invalid_client.
	s.SetClient(Client{ID: "other", Secret: "other-secret", Grants: []string{GrantAuthorizationCode}, RedirectURIs: []string{DemoRedirectURI}})
	code, _ := authorize(t, s, authorizeQuery())
	if status, body := exchange(t, s, codeForm(code, "client_id", "other", "client_secret", "other-secret")); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("foreign code: %d %v", status, body)
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	s := StartTest(t, Options{RotateRefreshTokens: true})
	code, err := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := exchange(t, s, codeForm(code))
	old, _ := tok["refresh_token"].(string)
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {old}}
	_, body := exchange(t, s, rf)
	if body["refresh_token"] == old || !s.RefreshTokenRevoked(old) {
		t.Errorf("rotation: %v", body)
	}
	if s.Grants(GrantAuthorizationCode) != 1 || s.Grants(GrantRefreshToken) != 1 {
		t.Errorf("grant counters: %d %d", s.Grants(GrantAuthorizationCode), s.Grants(GrantRefreshToken))
	}
}

// A rotating directory that detects reuse: a refresh token that was already
// rotated away revokes every refresh token of its grant, as ORY Hydra does.
func TestRefreshTokenReuseRevokesTheGrant(t *testing.T) {
	s := StartTest(t, Options{RotateRefreshTokens: true})
	code, err := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := exchange(t, s, codeForm(code))
	first, _ := tok["refresh_token"].(string)
	refresh := func(rt string) (int, map[string]any) {
		return exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {rt}})
	}
	_, body := refresh(first)
	second, _ := body["refresh_token"].(string)
	if second == "" || second == first {
		t.Fatalf("no rotation: %v", body)
	}
	// The spent one comes back: invalid_grant, and the live one dies too.
	if status, body := refresh(first); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, body)
	}
	if !s.RefreshTokenRevoked(second) || !s.GrantRevoked(second) {
		t.Error("reuse did not revoke the grant")
	}
	if status, _ := refresh(second); status != 400 {
		t.Errorf("the grant's live refresh token still works after reuse: %d", status)
	}
	if s.Attempts(GrantRefreshToken) != 3 || s.Grants(GrantRefreshToken) != 1 {
		t.Errorf("attempts %d, grants %d", s.Attempts(GrantRefreshToken), s.Grants(GrantRefreshToken))
	}
}

// Public clients (a grant issued through PKCE, no secret): refresh and
// revoke with client_id alone where the directory allows it, invalid_client
// where it does not.
func TestPublicClientRefreshAndRevoke(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	for _, allow := range []bool{true, false} {
		s := StartTest(t, Options{PublicClientRefresh: allow})
		code, _ := authorize(t, s, authorizeQuery("code_challenge", S256Challenge(verifier), "code_challenge_method", "S256"))
		_, tok := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "code": {code}, "redirect_uri": {DemoRedirectURI}, "code_verifier": {verifier}})
		rt, _ := tok["refresh_token"].(string)
		status, body := exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "refresh_token": {rt}})
		if allow && (status != 200 || body["access_token"] == nil) || !allow && (status != 401 || body["error"] != "invalid_client") {
			t.Errorf("allow=%v: public refresh: %d %v", allow, status, body)
		}
		resp, err := http.PostForm(s.URL()+RevokePath, url.Values{"client_id": {DemoClientID}, "token": {rt}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if allow != (resp.StatusCode == 200 && s.RefreshTokenRevoked(rt)) {
			t.Errorf("allow=%v: public revoke: %d", allow, resp.StatusCode)
		}
	}
	// A grant issued to a confidential exchange never refreshes without the
	// secret, even where public clients may.
	s := StartTest(t, Options{PublicClientRefresh: true})
	code, _ := authorize(t, s, authorizeQuery())
	_, tok := exchange(t, s, codeForm(code))
	rt, _ := tok["refresh_token"].(string)
	if status, _ := exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "refresh_token": {rt}}); status != 401 {
		t.Errorf("a confidential grant refreshed without its secret: %d", status)
	}
}

// Swallow: the directory acts on the request, then a gateway answers with a
// failure instead of its answer.
func TestFaultSwallowProcessesThenFails(t *testing.T) {
	s := StartTest(t, Options{RotateRefreshTokens: true})
	code, _ := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
	_, tok := exchange(t, s, codeForm(code))
	rt, _ := tok["refresh_token"].(string)
	s.InjectFaults(TokenPath, Fault{Swallow: true, Status: 503})
	status, _ := exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {rt}})
	if status != 503 || !s.RefreshTokenRevoked(rt) || s.Grants(GrantRefreshToken) != 1 {
		t.Errorf("status %d, rotated %v, grants %d", status, s.RefreshTokenRevoked(rt), s.Grants(GrantRefreshToken))
	}
}

// AnswerAfter: the directory acts on the request at once and answers later;
// a client that leaves first finds the work done.
func TestFaultAnswerAfterProcessesAtOnce(t *testing.T) {
	s := StartTest(t, Options{RotateRefreshTokens: true})
	code, _ := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
	_, tok := exchange(t, s, codeForm(code))
	rt, _ := tok["refresh_token"].(string)
	s.InjectFaults(TokenPath, Fault{AnswerAfter: time.Minute})
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {rt}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered at once: %d", resp.StatusCode)
	}
	if !s.RefreshTokenRevoked(rt) || s.Grants(GrantRefreshToken) != 1 {
		t.Errorf("rotated %v, grants %d: the directory did not act before answering", s.RefreshTokenRevoked(rt), s.Grants(GrantRefreshToken))
	}
}

// A renewal whose answer a fault loses after the directory rotated: the
// record says the rotated-away token's successor never reached the client,
// so its coming back is no client's fault; a renewal answered normally
// leaves no such excuse. Each presentation after rotation is counted.
func TestRefreshRecordsLostAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault *Fault
		lost  bool
	}{
		{"answered", nil, false},
		{"swallowed", &Fault{Swallow: true, Status: http.StatusBadGateway}, true},
		{"answered after the client left", &Fault{AnswerAfter: 2 * time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StartTest(t, Options{RotateRefreshTokens: true})
			code, err := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
			if err != nil {
				t.Fatal(err)
			}
			_, m := exchange(t, s, codeForm(code))
			first, _ := m["refresh_token"].(string)
			if tc.fault != nil {
				s.InjectFaults(TokenPath, *tc.fault)
			}
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {first}}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+TokenPath, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			cancel()
			if s.Rotations() != 1 {
				t.Fatalf("rotations = %d, want 1", s.Rotations())
			}
			// The answer_after handler notices the client left when its wait ends.
			for deadline := time.Now().Add(3 * time.Second); tc.lost && !s.Refresh(first).SuccessorLost && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if got, want := s.AnswersLost(), map[bool]int{true: 1}[tc.lost]; got != want {
				t.Errorf("AnswersLost = %d, want %d", got, want)
			}
			rec := s.Refresh(first)
			if !rec.Known || !rec.Rotated || rec.Works || !rec.GrantAlive || rec.SuccessorLost != tc.lost || rec.Presented != 1 {
				t.Fatalf("record %+v, want known, rotated, not working, grant alive, successor lost %t, presented once", rec, tc.lost)
			}
			if st, _ := exchange(t, s, form); st != http.StatusBadRequest {
				t.Fatalf("reuse: %d, want 400", st)
			}
			rec = s.Refresh(first)
			if rec.ReusePresentations != 1 || rec.GrantAlive || rec.Presented != 2 || s.LiveGrants() != 0 {
				t.Errorf("after reuse: record %+v, %d live grants; want one reuse presentation and the grant revoked", rec, s.LiveGrants())
			}
		})
	}
}

// CodeGrant says the exchange's answer was lost only when the answer of the
// code exchange was: a lost renewal answer on a directory that does not
// rotate carries the token the client already holds, and loses nothing.
func TestCodeGrantLostExchange(t *testing.T) {
	for _, tc := range []struct {
		name             string
		rotate, exchange bool
		want             bool
	}{
		{"exchange answer lost", false, true, true},
		{"renewal answer lost, no rotation", false, false, false},
		{"renewal answer lost, rotation", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StartTest(t, Options{RotateRefreshTokens: tc.rotate})
			code, err := s.IssueCode(AuthorizeRequest{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Scope: "openid"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.exchange {
				s.InjectFaults(TokenPath, Fault{Swallow: true, Status: http.StatusBadGateway})
			}
			_, m := exchange(t, s, codeForm(code))
			if !tc.exchange {
				rt, _ := m["refresh_token"].(string)
				s.InjectFaults(TokenPath, Fault{Swallow: true, Status: http.StatusBadGateway})
				exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {rt}})
			}
			if g := s.CodeGrant(code); !g.Exchanged || g.FirstAnswerLost != tc.want {
				t.Errorf("CodeGrant: exchanged %t, alive %t, first answer lost %t; want it lost %t", g.Exchanged, g.Alive, g.FirstAnswerLost, tc.want)
			}
			if n := s.AnswersLost(); n != map[bool]int{true: 1}[tc.exchange || tc.rotate] {
				t.Errorf("AnswersLost = %d", n)
			}
		})
	}
}
