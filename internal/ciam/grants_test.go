package ciam

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

const seedCodeBody = `{"access_token" : "eyJraWQiOiJkNDli.eyJzdWIiOiJNT0NL.SnBaXHhZ0jz3","refresh_token" : "Ugvo1lO7Se8vvIPrIOwn_eBe0hoi5","scope" : "openid","id_token" : "eyJraWQiOiJkNDli.eyJzdWIiOiJNT0NLX1VTRVJOQU1FIn0.enLzJ","token_type" : "Bearer","expires_in" : 299}`

func TestAuthorizationCodeToken_confidentialAndPKCE(t *testing.T) {
	var forms []url.Values
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		forms = append(forms, r.PostForm)
		_, _ = io.WriteString(w, seedCodeBody)
	})
	ctx := context.Background()
	tok, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "MOCK_CODE", RedirectURI: "https://example.com/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "Ugvo1lO7Se8vvIPrIOwn_eBe0hoi5" || !strings.HasPrefix(tok.IDToken, "eyJ") || tok.Scope != "openid" {
		t.Errorf("token = %+v", tok)
	}
	want := "client_id=SNzNmBYGT3JKY5AR7LUGw&client_secret=" + testSecret + "&code=MOCK_CODE&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback"
	if forms[0].Encode() != want {
		t.Errorf("form = %s", forms[0].Encode())
	}
	if _, err := c.AuthorizationCodeToken(ctx, testCreds, AuthorizationCodeRequest{Code: "C", RedirectURI: "https://e/cb", CodeVerifier: "v-123"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := forms[1]["client_secret"]; ok || forms[1].Get("code_verifier") != "v-123" {
		t.Errorf("PKCE form = %s; want a code_verifier and no client_secret", forms[1].Encode())
	}
}

func TestAuthorizationCodeToken_neverRetried(t *testing.T) {
	var n atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := c.AuthorizationCodeToken(context.Background(), testCreds, AuthorizationCodeRequest{Code: "single-use-code-value", RedirectURI: "https://e/cb"})
	if err == nil || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests; want an error after exactly 1", err, n.Load())
	}
	assertNoSecret(t, err.Error(), "single-use-code-value")
}

func TestRefreshAndRevoke(t *testing.T) {
	var forms []url.Values
	var paths []string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		forms = append(forms, r.PostForm)
		paths = append(paths, r.URL.Path)
		if r.URL.Path == RevokePath {
			return // 200, empty body
		}
		_, _ = io.WriteString(w, seedCodeBody)
	})
	ctx := context.Background()
	if _, err := c.RefreshToken(ctx, testCreds, "refresh-value-123"); err != nil {
		t.Fatal(err)
	}
	if f := forms[0]; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "refresh-value-123" || f.Get("client_secret") != testSecret {
		t.Errorf("refresh form = %v", f)
	}
	if err := c.Revoke(ctx, testCreds, "refresh-value-123"); err != nil {
		t.Fatal(err)
	}
	if paths[1] != RevokePath || forms[1].Get("token") != "refresh-value-123" || forms[1].Get("client_id") != testCreds.ClientID {
		t.Errorf("revoke: %s %v", paths[1], forms[1])
	}
	// A public client refreshes without a secret.
	if _, err := c.RefreshToken(ctx, Credentials{ClientID: "public"}, "r"); err != nil {
		t.Fatal(err)
	}
	if _, ok := forms[2]["client_secret"]; ok {
		t.Error("client_secret sent for a public client")
	}
}

func TestRevokeError(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
	})
	err := c.Revoke(context.Background(), testCreds, "refresh-value-456")
	if !IsOAuthError(err, ErrCodeInvalidClient) {
		t.Fatalf("err = %v", err)
	}
	assertNoSecret(t, err.Error(), "refresh-value-456")
}

// A revocation answered 200 with an HTML page was answered by a proxy or a
// web page, not by the directory (which answers with an empty body): it is
// an error, so that destroy warns that the token may not be revoked. An
// empty or JSON 200 is a revocation (RFC 7009 section 2.2).
func TestRevokeAnsweredWithAnHTMLPage(t *testing.T) {
	for _, tc := range []struct {
		contentType, body string
		ok                bool
	}{
		{"", "", true},
		{"text/html", "", true}, // an empty answer, whatever its label
		{"application/json", "{}", true},
		{"Text/HTML; charset=UTF-8", "Revoked.", false},
		{"text/html; charset=utf-8", "<html><body>Service Temporarily Unavailable</body></html>", false},
		{"", "  <!DOCTYPE html><html></html>", false},
	} {
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			if tc.contentType != "" {
				w.Header().Set("Content-Type", tc.contentType)
			}
			_, _ = io.WriteString(w, tc.body)
		})
		err := c.Revoke(context.Background(), testCreds, "refresh-value-456")
		var e *Error
		switch {
		case tc.ok && err != nil:
			t.Errorf("%q: %v", tc.body, err)
		case !tc.ok && (!errors.As(err, &e) || e.StatusCode != 200 || !strings.Contains(e.Reason, "HTML page")):
			t.Errorf("%q: err = %v, want an *Error saying the 200 answer is an HTML page", tc.body, err)
		}
	}
}
