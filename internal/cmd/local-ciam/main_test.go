package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

var listening = regexp.MustCompile(`local CIAM listening on (http://\S+)`)

// start runs the command with args until the test ends and returns its URL
// and output.
func start(t *testing.T, args ...string) (string, *devenv.SyncBuffer) {
	t.Helper()
	out := &devenv.SyncBuffer{}
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- run(args, out, io.Discard, stop) }()
	t.Cleanup(func() {
		stop <- os.Interrupt
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
	}
	t.Fatalf("the command did not start:\n%s", leaktest.Scrub(out.String(), localciam.DemoClientSecret, localciam.DemoSCIMClientSecret))
	return "", nil
}

func post(t *testing.T, u string, form url.Values) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

// publicGrant gets a code through /dev/code with PKCE and exchanges it as a
// public client (no secret); it returns the token answer.
func publicGrant(t *testing.T, base string) map[string]any {
	t.Helper()
	verifier := strings.Repeat("k", 50)
	st, _, body := post(t, base+localciam.DevCodePath, url.Values{"code_verifier": {verifier}})
	if st != http.StatusOK {
		t.Fatalf("POST /dev/code: %d %s", st, leaktest.Scrub(body))
	}
	st, m, body := post(t, base+localciam.TokenPath, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {localciam.DemoClientID}, "code": {strings.TrimSpace(body)},
		"redirect_uri": {localciam.DemoRedirectURI}, "code_verifier": {verifier},
	})
	if st != http.StatusOK {
		t.Fatalf("the PKCE exchange: %d %s", st, leaktest.Scrub(body))
	}
	return m
}

func publicRefresh(t *testing.T, base, refresh string) (int, map[string]any) {
	t.Helper()
	st, m, _ := post(t, base+localciam.TokenPath, url.Values{"grant_type": {"refresh_token"}, "client_id": {localciam.DemoClientID}, "refresh_token": {refresh}})
	return st, m
}

// The flags set the token lifetime, rotation with reuse detection and
// public clients, and the dev endpoints are on.
func TestFlagsDriveTheDirectory(t *testing.T) {
	base, out := start(t, "-token-lifetime", "70s", "-rotate-refresh-tokens", "-public-clients")
	m := publicGrant(t, base)
	if m["expires_in"] != float64(70) {
		t.Errorf("expires_in %v, want 70 (-token-lifetime 70s)", m["expires_in"])
	}
	first, _ := m["refresh_token"].(string)
	st, m := publicRefresh(t, base, first)
	second, _ := m["refresh_token"].(string)
	if st != http.StatusOK || second == "" || second == first {
		t.Fatalf("a public renewal with rotation: %d, new refresh token %t", st, second != "" && second != first)
	}
	if st, _ := publicRefresh(t, base, first); st != http.StatusBadRequest {
		t.Errorf("the rotated-away refresh token again: %d, want 400", st)
	}
	if st, _ := publicRefresh(t, base, second); st != http.StatusBadRequest {
		t.Errorf("after reuse, the grant's newest refresh token: %d, want 400 (reuse revokes the grant)", st)
	}
	resp, err := http.Get(base + localciam.DevRecordsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec struct {
		RefreshTokens map[string]int `json:"refresh_tokens"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || rec.RefreshTokens["reuse_detected"] != 1 {
		t.Errorf("records: %v %v, want one grant revoked by reuse detection", rec, err)
	}

	for _, want := range []string{
		"export CIAM_AUTH_DOMAIN=" + base,
		"Access tokens live 1m10s; refresh tokens rotate (a reused one revokes its grant); public clients renew and revoke with client_id alone.",
		"curl -fsS -X POST " + base + "/dev/code",
		"POST /oauth2/token grant_type=refresh_token client_id=\"demo-app\" -> 400",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output has no %q:\n%s", want, leaktest.Scrub(out.String(), localciam.DemoClientSecret, localciam.DemoSCIMClientSecret))
		}
	}
}

// Without the flags: vendor defaults, no rotation, and a public client
// cannot renew.
func TestDefaultsFollowTheVendor(t *testing.T) {
	base, out := start(t, "-quiet")
	m := publicGrant(t, base)
	if m["expires_in"] != float64(299) {
		t.Errorf("expires_in %v, want the vendor's 299", m["expires_in"])
	}
	first, _ := m["refresh_token"].(string)
	if st, _ := publicRefresh(t, base, first); st != http.StatusUnauthorized {
		t.Errorf("a public renewal without -public-clients: %d, want 401", st)
	}
	st, m, _ := post(t, base+localciam.TokenPath, url.Values{"grant_type": {"refresh_token"}, "client_id": {localciam.DemoClientID}, "client_secret": {localciam.DemoClientSecret}, "refresh_token": {first}})
	if st != http.StatusOK || m["refresh_token"] != first {
		t.Errorf("a confidential renewal: %d, same refresh token %t; want 200 and the same one (no rotation)", st, m["refresh_token"] == first)
	}
	if strings.Contains(out.String(), "POST /oauth2/token") {
		t.Errorf("-quiet logged requests:\n%s", leaktest.Scrub(out.String(), localciam.DemoClientSecret, localciam.DemoSCIMClientSecret))
	}
}

func TestBadFlagsSayWhy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-token-lifetime", "1500ms"}, "-token-lifetime must be whole seconds"},
		{[]string{"-scim-token-lifetime", "0s"}, "-scim-token-lifetime must be whole seconds, at least 1s"},
		{[]string{"-latency", "-1s"}, "-latency must not be negative"},
		{[]string{"-addr", "0.0.0.0:0"}, "refusing to listen on non-loopback address"},
		{[]string{"serve"}, `unexpected argument "serve"`},
	} {
		err := run(tc.args, io.Discard, io.Discard, make(chan os.Signal))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.says)
		}
	}
	var usage strings.Builder
	if err := run([]string{"-h"}, io.Discard, &usage, make(chan os.Signal)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, want := range []string{"POST /dev/code", "POST /dev/faults", "GET  /dev/records", "-rotate-refresh-tokens", "-public-clients", "-token-lifetime"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("the usage does not mention %q:\n%s", want, usage.String())
		}
	}
}
