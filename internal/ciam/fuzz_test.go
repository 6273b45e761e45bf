package ciam

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []string{
		seedClientCredentialsBody, seedSCIMBody, seedCodeBody, okBody,
		`{"access_token":"a","token_type":"Bearer","expires_in":"299","scope":["a","b"]}`,
		`{"access_token":"a","token_type":"mac"}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":-5}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":1e308}`,
		`{"access_token":null}`, `[]`, `null`, ``, `{"access_token":"a"`, "\x00\xff",
		// A member that holds the token, echoed in the reason (fuzzing found
		// the first).
		`{"access_token":"00000000","token_type":"000000000"}`,
		`{"access_token":"00000000","token_type":"Bearer","expires_in":"00000000x"}`,
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
			for _, v := range []string{tok.AccessToken, tok.RefreshToken, tok.IDToken} {
				if strings.IndexFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
					t.Fatalf("accepted a token value an Authorization header cannot carry: %q", v)
				}
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
		`<html><body>502 Bad Gateway client_secret=` + leaktest.Secret + `</body></html>`,
		`{"error":"x\u0000\u001b[31m` + leaktest.Secret + `"}`, ``, `   `, `{"error":12}`, `{"message":"no"}`,
	} {
		f.Add([]byte(seed))
	}
	// Every encoding of the secret straddling every point where a text is
	// cut: the OAuth members (64 and 256 characters), the excerpt (160
	// characters) and the 4096 bytes at which excerpts used to be cut.
	for _, enc := range leaktest.Encodings(leaktest.ClientID, leaktest.Secret) {
		for _, at := range []int{64, 160, 256, 4096} {
			for _, k := range []int{1, 5, 8, len(enc) / 2, len(enc) - 1} {
				pad := strings.Repeat("a", max(at-k, 0))
				f.Add([]byte(`{"error":"` + pad + enc + `"}`))
				f.Add([]byte(`{"error":"e","error_description":"` + pad + enc + `","error_uri":"` + pad + enc + `"}`))
				f.Add([]byte(pad + enc + " trailing"))
				f.Add([]byte(strings.Repeat("<i>", max(at-k, 0)/3) + enc + " trailing"))
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := &Error{Op: "POST /oauth2/token", StatusCode: 400}
		parseErrorResponse(e, body, NewRedactor(leaktest.Secret, BasicAuthValue(leaktest.ClientID, leaktest.Secret)).Redact)
		// The oracle: no 8-character window of the secret, in any encoding,
		// appears in any text, wherever it was cut.
		for name, v := range map[string]string{"code": e.Code, "description": e.Description, "uri": e.URI, "excerpt": e.Excerpt, "reason": e.Reason, "error": e.Error()} {
			if w, ok := leaktest.Window(v, leaktest.Secret); ok {
				t.Fatalf("%s %q leaks the %s", name, v, w)
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
		"https://u:p@h", "https://h:0", "ftp://h", "", "://", "[::1", "h:99999", "HTTP://LOCALHOST:9", "https:/h", "https:h", "//h",
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
