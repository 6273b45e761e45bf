package ciam

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const fuzzSecret = "fuzz-client-secret-9d2c"

func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []string{
		seedClientCredentialsBody, seedSCIMBody, seedCodeBody, okBody,
		`{"access_token":"a","token_type":"Bearer","expires_in":"299","scope":["a","b"]}`,
		`{"access_token":"a","token_type":"mac"}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":-5}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":1e308}`,
		`{"access_token":null}`, `[]`, `null`, ``, `{"access_token":"a"`, "\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, reason := parseTokenResponse(body, time.Unix(0, 0))
		if (tok == nil) == (reason == "") {
			t.Fatalf("exactly one of token and reason must be set: %v, %q", tok, reason)
		}
		if tok != nil {
			if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") || tok.ExpiresIn < 0 {
				t.Fatalf("accepted an unusable token: %+v", tok)
			}
			return
		}
		// A rejection never repeats the token it rejected.
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if at, ok := m["access_token"].(string); ok && len(at) >= 8 && strings.Contains(reason, at) {
				t.Fatalf("reason %q repeats the access token", reason)
			}
		}
	})
}

func FuzzParseErrorResponse(f *testing.F) {
	for _, seed := range []string{
		`{"error":"invalid_client"}`,
		"{\n  \"error\" : \"invalid_scope\"\n}",
		`{"error":"unsupported_grant_type","error_description":"OAuth 2.0 Parameter: grant_type","error_uri":"https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"}`,
		`<html><body>502 Bad Gateway client_secret=` + fuzzSecret + `</body></html>`,
		`{"error":"x\u0000\u001b[31m` + fuzzSecret + `"}`, ``, `   `, `{"error":12}`, `{"message":"no"}`,
		`{"error":"` + strings.Repeat("e", 50) + fuzzSecret + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := &Error{Op: "POST /oauth2/token", StatusCode: 400}
		parseErrorResponse(e, body, newRedactor(fuzzSecret))
		secretInBody := strings.Contains(string(body), fuzzSecret)
		prefixElsewhere := strings.Contains(strings.ReplaceAll(string(body), fuzzSecret, ""), fuzzSecret[:12])
		for name, v := range map[string]string{"code": e.Code, "description": e.Description, "uri": e.URI, "excerpt": e.Excerpt, "reason": e.Reason, "error": e.Error()} {
			if strings.Contains(v, fuzzSecret) {
				t.Fatalf("%s %q holds the secret", name, v)
			}
			// Not even a cut-off part of a secret that was in the body.
			prefix := fuzzSecret[:12]
			if secretInBody && !prefixElsewhere && strings.Contains(v, prefix) {
				t.Fatalf("%s %q holds a prefix of the secret", name, v)
			}
			for _, c := range v {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("%s %q holds a non-printable character %q", name, v, c)
				}
			}
		}
		if len(e.Code) > 67 || len(e.Description) > 259 || len(e.Excerpt) > 163 {
			t.Fatalf("unbounded field: %+v", e)
		}
	})
}

func FuzzParseAuthDomain(f *testing.F) {
	for _, seed := range []string{
		"sample.portal.tencentciam.com", "https://sample.portal.tencentciam.com:8443/", "http://127.0.0.1:8080",
		"http://[::1]:1", "http://localhost", "http://example.com", "https://h/p", "https://h?q=1", "https://h#f",
		"https://u:p@h", "https://h:0", "ftp://h", "", "://", "[::1", "h:99999", "HTTP://LOCALHOST:9",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseAuthDomain(raw)
		if err != nil {
			if i := strings.IndexAny(raw, "?#@"); i >= 0 && len(raw)-i > 8 && strings.Contains(err.Error(), raw[i:]) {
				t.Fatalf("error %q repeats the query, fragment or user information", err)
			}
			return
		}
		if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Host == "" {
			t.Fatalf("%q gave %q", raw, u)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !IsLoopbackHost(u.Hostname())) {
			t.Fatalf("%q gave a non-https, non-loopback URL %q", raw, u)
		}
		again, err := ParseAuthDomain(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("%q gave %q, which parses to %v, %v", raw, u, again, err)
		}
	})
}
