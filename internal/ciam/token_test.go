package ciam

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// opaqueToken is shaped like the SCIM tokens of the vendor's samples: no
// JWT, no credential parameter around it, nothing a pattern would know.
const opaqueToken = "OAUTH2c615b9f0a7d24e8b9c61d3e5f7a9b1c3"

// A 200 answer that cannot be used is described by its structure (which
// member, what JSON type, what content type), never quoted: the body may
// hold a token in any shape.
func TestUnusableTokenResponsesAreDescribedNotQuoted(t *testing.T) {
	for name, tc := range map[string]struct {
		contentType, body, want string
	}{
		"access_token in an array": {"application/json", `{"access_token":["` + opaqueToken + `"],"token_type":"Bearer","expires_in":7200}`,
			"access_token is a JSON array, not a string"},
		"access_token in an object": {"application/json", `{"access_token":{"value":"` + opaqueToken + `"},"token_type":"Bearer"}`,
			"access_token is a JSON object, not a string"},
		"refresh_token in an array": {"application/json", `{"access_token":"a.b.c","refresh_token":["` + opaqueToken + `"],"token_type":"Bearer"}`,
			"refresh_token is a JSON array, not a string"},
		"id_token a number": {"application/json", `{"access_token":"a.b.c","id_token":12345678901234567890,"token_type":"Bearer"}`,
			"id_token is a JSON number, not a string"},
		"token_type an array": {"application/json", `{"access_token":"` + opaqueToken + `","token_type":["Bearer"]}`,
			"token_type is a JSON array, not a string"},
		"an HTML page": {"text/html", `<html><body><p>Your token is ` + opaqueToken + `</p></body></html>`,
			"response body is not JSON: it looks like an HTML page"},
		"plain text": {"text/plain", `token ` + opaqueToken,
			"response body is not JSON"},
		"a JSON array": {"application/json", `["` + opaqueToken + `"]`,
			"response body is a JSON array, not a JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = io.WriteString(w, tc.body)
			})
			_, err := c.SCIMToken(context.Background(), testCreds)
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != 200 || !strings.Contains(e.Reason, tc.want) || e.ContentType != tc.contentType {
				t.Fatalf("err = %v; want a 200 error whose reason says %q, with the content type", err, tc.want)
			}
			if e.Excerpt != "" {
				t.Errorf("a 200 answer was quoted: %q", e.Excerpt)
			}
			leaktest.AssertNone(t, name, err.Error(), opaqueToken)
		})
	}
}

// The token response is read as strictly as the discovery document: a
// member named twice, data after the object, and token values an
// Authorization header cannot carry are refused.
func TestTokenResponsesAreReadStrictly(t *testing.T) {
	for body, want := range map[string]string{
		`{"access_token":"a.b.c","access_token":"d.e.f","token_type":"Bearer"}`: `response body names the member "access_token" twice`,
		`{"access_token":"a.b.c","token_type":"Bearer"} {"x":1}`:                `response body has data after its JSON object`,
		`{"access_token":"a.b.c","token_type":"Bearer"}garbage`:                 `response body has data after its JSON object`,
		`{"access_token":"a.b c","token_type":"Bearer"}`:                        `access_token holds a space or a control character`,
		`{"access_token":"a.b.c\r\nX-Injected: 1","token_type":"Bearer"}`:       `access_token holds a space or a control character`,
		`{"access_token":"a.b.c","refresh_token":"r t","token_type":"Bearer"}`:  `refresh_token holds a space or a control character`,
		`{"access_token":"a.b.c","id_token":"i\tt","token_type":"Bearer"}`:      `id_token holds a space or a control character`,
		`{"access_token":"a.b.c","token_type":"Bearer\r\nX-Injected: 1"}`:       `token_type holds a space or a control character`,
	} {
		tok, reason := parseTokenResponse([]byte(body), time.Now())
		if tok != nil || !strings.Contains(reason, want) {
			t.Errorf("%s: got %v, %q; want %q", body, tok, reason, want)
		}
	}
}

// Excerpts of answers that are not OAuth error objects redact anything
// shaped like an opaque token, whatever JSON type holds it.
func TestExcerptsRedactTokenShapedValues(t *testing.T) {
	for name, body := range map[string]string{
		"an array member":     `{"tokens":["` + opaqueToken + `"]}`,
		"an HTML page":        `<html><body>Service unavailable. Your token ` + opaqueToken + ` was not used.</body></html>`,
		"a number-like value": `{"session":"` + opaqueToken + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, body)
			})
			_, err := c.SCIMToken(context.Background(), testCreds)
			var e *Error
			if !errors.As(err, &e) || e.Excerpt == "" {
				t.Fatalf("err = %v; want an excerpt", err)
			}
			leaktest.AssertNone(t, name, err.Error(), opaqueToken)
		})
	}
}
