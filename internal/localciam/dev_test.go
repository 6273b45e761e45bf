package localciam

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// devCall sends method to path (with the query) and returns status and body.
func devCall(t *testing.T, s *Server, method, pathAndQuery string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDevEndpointsAreOffUnlessAsked(t *testing.T) {
	s := StartTest(t, Options{})
	for _, p := range []string{DevCodePath, DevFaultsPath, DevRecordsPath} {
		if status, _ := devCall(t, s, http.MethodPost, p); status != http.StatusNotFound {
			t.Errorf("POST %s on a server without DevEndpoints: %d, want 404", p, status)
		}
	}
	if n := s.Requests(""); n != 3 {
		t.Errorf("the server counted %d requests, want the 3 (they are not dev requests here)", n)
	}
}

// /dev/code gives a code that the token endpoint exchanges exactly like one
// from /oauth2/authorize, with PKCE when asked, and says what is wrong with
// a request it cannot serve.
func TestDevCode(t *testing.T) {
	s := StartTest(t, Options{DevEndpoints: true})

	status, body := devCall(t, s, http.MethodPost, DevCodePath)
	code := strings.TrimSuffix(body, "\n")
	if status != http.StatusOK || code == "" || strings.ContainsAny(code, " \n") {
		t.Fatalf("POST %s: %d %q", DevCodePath, status, leaktest.Scrub(body))
	}
	if st, m := exchange(t, s, codeForm(code)); st != http.StatusOK || m["scope"] != "openid" || m["refresh_token"] == nil {
		t.Errorf("exchanging the dev code: %d %v", st, m)
	}
	if st, _ := exchange(t, s, codeForm(code)); st != http.StatusBadRequest {
		t.Errorf("the dev code worked twice: %d", st)
	}

	// PKCE: the server works the challenge out of code_verifier; the code
	// then needs that verifier, and no secret.
	verifier := strings.Repeat("v", 43)
	_, body = devCall(t, s, http.MethodPost, DevCodePath+"?scope=openid+users.read&code_verifier="+verifier)
	code = strings.TrimSuffix(body, "\n")
	pkce := url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "code": {code}, "redirect_uri": {DemoRedirectURI}, "code_verifier": {verifier}}
	if st, m := exchange(t, s, pkce); st != http.StatusOK || m["scope"] != "openid users.read" {
		t.Errorf("the PKCE dev code with its verifier and no secret: %d %v", st, m)
	}

	if n := s.Requests(""); n != 3 {
		t.Errorf("the server counted %d requests, want the 3 token requests (dev requests are not counted)", n)
	}

	for _, tc := range []struct{ query, says string }{
		{"?client_id=nobody", `no application "nobody"`},
		{"?redirect_uri=https://evil.example/cb", "is not registered"},
		{"?scope=admin", `scope "admin" is not allowed`},
		{"?code_verifier=x&code_challenge=y", "not both"},
	} {
		if st, body := devCall(t, s, http.MethodPost, DevCodePath+tc.query); st != http.StatusBadRequest || !strings.Contains(body, tc.says) {
			t.Errorf("POST %s%s: %d %q, want 400 saying %q", DevCodePath, tc.query, st, body, tc.says)
		}
	}
	if st, _ := devCall(t, s, http.MethodGet, DevCodePath); st != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d, want 405 (a code is minted by POST)", DevCodePath, st)
	}
}

// A fault queued through /dev/faults answers the next request to its path
// and is used up; GET lists what is queued, DELETE drops it, and a fault
// that says nothing, or names no endpoint, is refused.
func TestDevFaults(t *testing.T) {
	s := StartTest(t, Options{DevEndpoints: true})
	if st, body := devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/token&status=503&body=down&retry_after=7&count=2"); st != http.StatusOK || !strings.Contains(body, `"pending": 2`) {
		t.Fatalf("queueing: %d %s", st, body)
	}
	if _, body := devCall(t, s, http.MethodGet, DevFaultsPath); !strings.Contains(body, `"/oauth2/token": 2`) {
		t.Errorf("GET %s: %s", DevFaultsPath, body)
	}
	for i := range 2 {
		st, body, h := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, ""))
		if st != http.StatusServiceUnavailable || body != "down" || h.Get("Retry-After") != "7" {
			t.Errorf("request %d: %d %q Retry-After %q, want the queued 503", i+1, st, body, h.Get("Retry-After"))
		}
	}
	if st, _, _ := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "")); st != http.StatusOK {
		t.Errorf("after the queue ran out: %d, want 200", st)
	}

	// content_type with the status; a true swallow (any strconv.ParseBool
	// form): the directory acts, the client gets the status.
	devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/token&status=502&body=%3Chtml%3E&content_type=text/html")
	if st, body, h := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "")); st != http.StatusBadGateway || body != "<html>" || h.Get("Content-Type") != "text/html" {
		t.Errorf("content_type: %d %q %q, want 502 <html> text/html", st, body, h.Get("Content-Type"))
	}
	devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/token&swallow=true")
	before := s.Grants(GrantClientCredentials)
	if st, _, _ := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "")); st != http.StatusBadGateway || s.Grants(GrantClientCredentials) != before+1 {
		t.Errorf("swallow: %d, issued %d more; want 502 with one token issued", st, s.Grants(GrantClientCredentials)-before)
	}

	// A plain delay passes the request on.
	devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/token&delay=200ms")
	start := time.Now()
	if st, _, _ := postForm(t, s, ccForm(DemoClientID, DemoClientSecret, "")); st != http.StatusOK || time.Since(start) < 200*time.Millisecond {
		t.Errorf("delay: %d after %s, want 200 after 200ms", st, time.Since(start))
	}

	devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/jwks&reset=1&count=3")
	if st, _ := devCall(t, s, http.MethodDelete, DevFaultsPath); st != http.StatusNoContent || s.PendingFaults(JWKSPath) != 0 {
		t.Errorf("DELETE: %d, %d still pending", st, s.PendingFaults(JWKSPath))
	}

	for _, tc := range []struct{ query, says string }{
		{"?path=/oauth2/token", "say what the fault does"},
		{"?path=/nowhere&status=500", "path must be one of"},
		{"?path=/oauth2/token&status=99", "status must be an HTTP status code"},
		{"?path=/oauth2/token&status=500&count=0", "count must be"},
		{"?path=/oauth2/token&delay=forever", "delay must be a duration"},
		{"?path=/oauth2/token&reset=1&swallow=1", "exclude each other"},
		{"?path=/oauth2/token&body=x", "need a status"},
		{"?path=/oauth2/token&content_type=text/html", "need a status"},
		{"?path=/oauth2/token&status=503&answer_after=1s", "do not go with it"},
		{"?path=/oauth2/token&reset=yes", "reset must be 1 or 0"},
		{"?path=/oauth2/token&stauts=503", `unknown parameter "stauts"`},
	} {
		if st, body := devCall(t, s, http.MethodPost, DevFaultsPath+tc.query); st != http.StatusBadRequest || !strings.Contains(body, tc.says) {
			t.Errorf("POST %s%s: %d %q, want 400 saying %q", DevFaultsPath, tc.query, st, body, tc.says)
		}
	}
	if n := s.PendingFaults(TokenPath); n != 0 {
		t.Errorf("refused faults were queued: %d pending", n)
	}
}

// /dev/records reports what the directory saw and issued, including reuse
// detection, and no token, code or secret.
func TestDevRecords(t *testing.T) {
	s := StartTest(t, Options{DevEndpoints: true, RotateRefreshTokens: true})
	_, body := devCall(t, s, http.MethodPost, DevCodePath)
	code := strings.TrimSuffix(body, "\n")
	_, m := exchange(t, s, codeForm(code))
	first, _ := m["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {first}}
	if st, _ := exchange(t, s, refresh); st != http.StatusOK {
		t.Fatalf("renewal: %d", st)
	}
	if st, _ := exchange(t, s, refresh); st != http.StatusBadRequest { // the rotated-away token again
		t.Fatalf("reuse: %d", st)
	}
	st, body := devCall(t, s, http.MethodGet, DevRecordsPath)
	var rec struct {
		Requests      map[string]int64 `json:"requests"`
		Issued        map[string]int64 `json:"issued"`
		UnusedCodes   int              `json:"unused_codes"`
		RefreshTokens map[string]int   `json:"refresh_tokens"`
		UserAgents    []string         `json:"user_agents"`
		Presentations []struct {
			Kind      string `json:"kind"`
			Presented int64  `json:"presented"`
			Rotated   bool   `json:"rotated"`
			Reuse     int64  `json:"reuse_presentations"`
		} `json:"presentations"`
	}
	if err := json.Unmarshal([]byte(body), &rec); st != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %v\n%s", DevRecordsPath, st, err, leaktest.Scrub(body, s.Secrets()...))
	}
	if rec.Requests[TokenPath] != 3 || rec.Issued[GrantAuthorizationCode] != 1 || rec.Issued[GrantRefreshToken] != 1 || rec.UnusedCodes != 0 {
		t.Errorf("records %+v, want 3 token requests, one code exchange, one renewal, no unused code", rec)
	}
	if rt := rec.RefreshTokens; rt["grants"] != 1 || rt["live"] != 0 || rt["grants_revoked"] != 1 || rt["reuse_detected"] != 1 {
		t.Errorf("refresh tokens %v, want one grant, revoked by reuse detection, nothing live", rt)
	}
	var got []string
	for _, p := range rec.Presentations {
		got = append(got, fmt.Sprintf("%s %d %t %d", p.Kind, p.Presented, p.Rotated, p.Reuse))
	}
	slices.Sort(got)
	if want := []string{"code 1 false 0", "refresh_token 2 true 1"}; !slices.Equal(got, want) {
		t.Errorf("presentations %q, want %q: the code once, the first refresh token twice, rotated, once after its rotation", got, want)
	}
	if len(rec.UserAgents) != 1 || !strings.HasPrefix(rec.UserAgents[0], "Go-http-client/") {
		t.Errorf("user agents %q, want this test's Go client's", rec.UserAgents)
	}
	for _, secret := range append(s.IssuedTokens(), append(s.Secrets(), code)...) {
		if strings.Contains(body, secret) {
			t.Errorf("the records hold a token, code or secret:\n%s", leaktest.Scrub(body, append(s.IssuedTokens(), append(s.Secrets(), code)...)...))
		}
	}
}

// The request log has a line per request with its grant type, client and
// status, and never a token, code, secret or query.
func TestRequestLogHoldsNoSecret(t *testing.T) {
	var log devenv.SyncBuffer
	s := StartTest(t, Options{DevEndpoints: true, RequestLog: &log})
	_, body := devCall(t, s, http.MethodPost, DevCodePath)
	code := strings.TrimSuffix(body, "\n")
	_, m := exchange(t, s, codeForm(code))
	refresh, _ := m["refresh_token"].(string)
	exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {refresh}})
	if resp, err := http.PostForm(s.URL()+RevokePath, url.Values{"token": {refresh}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}); err == nil {
		resp.Body.Close()
	}
	devCall(t, s, http.MethodGet, SCIMTokenPath+"?client_id="+DemoSCIMClientID+"&client_secret="+url.QueryEscape(DemoSCIMClientSecret))
	devCall(t, s, http.MethodPost, DevFaultsPath+"?path=/oauth2/token&reset=1")
	if resp, err := http.PostForm(s.URL()+TokenPath, ccForm(DemoClientID, DemoClientSecret, "")); err == nil {
		resp.Body.Close() // not reached: the fault resets the connection
	}
	// A client may send anything in a path, a grant_type or a client_id.
	const odd = "Od7-path-or-grant-secret"
	postForm(t, s, url.Values{"grant_type": {odd}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}})
	devCall(t, s, http.MethodGet, "/oauth2/"+odd)
	postForm(t, s, url.Values{"grant_type": {GrantClientCredentials}, "client_id": {odd}, "client_secret": {DemoClientSecret}})
	// The client sees the reset before the handler that made it returns.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(log.String(), "\n") < 8 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	got := log.String()
	for _, want := range []string{
		`POST /oauth2/token grant_type=authorization_code client_id="demo-app" -> 200`,
		`POST /oauth2/token grant_type=refresh_token client_id="demo-app" -> 200`,
		`POST /oauth2/revoke client_id="demo-app" -> 200`,
		`GET /scim/api/token client_id="demo-sync" -> 200`,
		`POST /oauth2/token grant_type=client_credentials client_id="demo-app" -> connection taken over (fault)`,
		`POST /oauth2/token grant_type=(unsupported, 24 characters) client_id="demo-app" -> 400`,
		`GET (an unknown path of 32 characters) -> 404`,
		`POST /oauth2/token grant_type=client_credentials client_id=(unknown, 24 characters) -> 401`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log has no line with %q:\n%s", want, leaktest.Scrub(got, s.Secrets()...))
		}
	}
	if strings.Contains(got, "/dev/") || strings.Contains(got, "?") {
		t.Errorf("the log holds a dev request or a query:\n%s", leaktest.Scrub(got, s.Secrets()...))
	}
	for _, secret := range append(s.IssuedTokens(), append(s.Secrets(), code, odd, url.QueryEscape(DemoSCIMClientSecret))...) {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds a token, code or secret:\n%s", leaktest.Scrub(got, append(s.IssuedTokens(), append(s.Secrets(), code)...)...))
		}
	}
}
