package ciam

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

func TestRedactorRemovesSecretsAndCredentialShapes(t *testing.T) {
	secret := "dk464qqp5cmo+/=&x"
	r := NewRedactor(secret, "", "abc")
	cases := []string{
		"GET /scim/api/token?client_id=id&client_secret=" + secret,
		"client_secret=" + strings.ReplaceAll(strings.ReplaceAll(secret, "+", "%2B"), "/", "%2F"),
		`{"access_token":"OAUTH2c615b14e-26e9","token_type":"Bearer"}`,
		`{"refresh_token" : "Ugvo1lO7Se8vvIPrIOwn"}`,
		"Authorization: Bearer OAUTH2c615b14e26e9497a",
		"token eyJraWQiOiJmOTY5NGQ5My.eyJzdWIiOiJURU5BTlRf.D8khbU3BkWTHD6sRTY9M here",
		"echo: " + secret,
	}
	for _, in := range cases {
		out := r.Redact(in)
		for _, leak := range []string{secret, "dk464qqp5cmo", "OAUTH2c615b14e", "Ugvo1lO7Se8vvIPrIOwn", "eyJraWQiOiJmOTY5NGQ5My", "D8khbU3BkWTHD6sRTY9M"} {
			if strings.Contains(out, leak) {
				t.Errorf("apply(%q) = %q still contains %q", in, out, leak)
			}
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("apply(%q) = %q has no redaction marker", in, out)
		}
	}
	if got := r.Redact("abc is too short to redact"); got != "abc is too short to redact" {
		t.Errorf("short secrets must not be redacted everywhere: %q", got)
	}
}

func TestPrintable(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"invalid_client", 64, "invalid_client"},
		{"bad\x00\x1b[31mcode\r\n", 64, "bad [31mcode"},
		{"h\u00e9llo  w\u00f6rld", 64, "h llo w rld"},
		{strings.Repeat("a", 100), 10, strings.Repeat("a", 10) + "..."},
		{"  leading and trailing  ", 64, "leading and trailing"},
	}
	for _, c := range cases {
		if got := printable(c.in, c.max); got != c.want {
			t.Errorf("printable(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

var leakCreds = Credentials{ClientID: leaktest.ClientID, ClientSecret: leaktest.Secret}

// A server that echoes the request's secret in any encoding, in an error body
// of any kind, never gets a fragment of it into the client's error.
func TestErrorsHoldNoFragmentOfAnEchoedSecret(t *testing.T) {
	for name, enc := range leaktest.Encodings(leaktest.ClientID, leaktest.Secret) {
		bodies := map[string]string{
			"html":          "<html><body><h1>502 Bad Gateway</h1><p>echo: " + enc + "</p></body></html>",
			"json-error":    `{"error":"bad_thing","error_description":"echo: ` + enc + ` end","error_uri":"https://x/?s=` + enc + `"}`,
			"json-no-error": `{"message":"echo: ` + enc + `"}`,
			"plain":         "echo: " + enc,
		}
		for kind, body := range bodies {
			for _, method := range []string{AuthMethodClientSecretPost, AuthMethodClientSecretBasic} {
				c := newLeakClient(t, method, 502, body)
				_, err := c.ClientCredentialsToken(context.Background(), leakCreds, nil)
				if err == nil {
					t.Fatalf("%s/%s: no error", name, kind)
				}
				leaktest.AssertNone(t, name+"/"+kind+"/"+method, err.Error(), leaktest.Secret)
			}
		}
	}
}

// An excerpt is cut at excerptLimit printable characters. The secret is
// put across that cut, k characters before it, for every k: redacting the
// whole body first leaves no fragment, where cutting first would leave the
// secret's first k characters (too short for the redactor to recognise).
func TestExcerptRedactsBeforeItCuts(t *testing.T) {
	for _, enc := range []string{leaktest.Secret, url.QueryEscape(leaktest.Secret)} {
		for k := 1; k < len(enc); k++ {
			const lead = "<b>echo:</b> "
			body := lead + strings.Repeat(".", excerptLimit-k-len("echo: ")) + enc + " trailing text"
			// The markup is stripped and the whitespace collapsed: the
			// excerpt's text has the secret at excerptLimit-k.
			if at := strings.Index(printable(stripTags(body), MaxBodyBytes), enc); at != excerptLimit-k {
				t.Fatalf("cut after %d bytes: the secret starts at %d of the excerpt's text, want %d", k, at, excerptLimit-k)
			}
			c := newLeakClient(t, AuthMethodClientSecretPost, 500, body)
			_, err := c.ClientCredentialsToken(context.Background(), leakCreds, nil)
			if err == nil {
				t.Fatal("no error")
			}
			leaktest.AssertNone(t, fmt.Sprintf("cut after %d bytes", k), err.Error(), leaktest.Secret)
			if k >= 3 && strings.Contains(err.Error(), "."+enc[:k]) {
				t.Errorf("cut after %d bytes: the error holds the secret's first %d characters: %q", k, k, err)
			}
		}
	}
}

// redact is a one-off Redactor, for tests.
func redact(s string, secrets ...string) string { return NewRedactor(secrets...).Redact(s) }

func TestRedactCatchesFragmentsAndEncodings(t *testing.T) {
	// Fragments of at least 8 characters, wherever another layer cut them.
	for _, frag := range []string{leaktest.Secret[:12], leaktest.Secret[5:17], leaktest.Secret[len(leaktest.Secret)-9:]} {
		leaktest.AssertNone(t, "fragment", redact("text "+frag+" more", leaktest.Secret), leaktest.Secret)
	}
	// Every encoding, and a mix of two in one string.
	for name, enc := range leaktest.Encodings(leaktest.ClientID, leaktest.Secret) {
		leaktest.AssertNone(t, name, redact("a "+enc+" b", leaktest.Secret, base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(leaktest.ClientID)+":"+url.QueryEscape(leaktest.Secret)))), leaktest.Secret)
	}
	// Escaped twice: percent-encoded twice, a JSON-escaped percent, JSON
	// escaped inside a JSON string.
	twice := url.QueryEscape(url.QueryEscape(leaktest.Secret))
	pctJSON := strings.ReplaceAll(url.QueryEscape(leaktest.Secret), "%", `\u0025`)
	jsonTwice := strings.NewReplacer(`\`, `\\`, `/`, `\\\/`, "&", `\\u0026`).Replace(leaktest.Secret)
	for name, enc := range map[string]string{"percent twice": twice, "JSON-escaped percent": pctJSON, "JSON twice": jsonTwice} {
		out := redact("x "+enc+" y", leaktest.Secret)
		if !strings.Contains(out, Redacted) || strings.Contains(out, "wX9") || strings.Contains(out, "Zq8") {
			t.Errorf("%s survived: %q", name, out)
		}
	}
	mixed := strings.NewReplacer("/", `\/`, "&", `\u0026`, "+", "%2b").Replace(leaktest.Secret)
	if out := redact("x "+mixed+" y", leaktest.Secret); !strings.Contains(out, Redacted) || strings.Contains(out, "wX9") {
		t.Errorf("a mixed encoding survived: %q", out)
	}
	// HTML character references, as a gateway's error page writes them.
	html := strings.NewReplacer("&", "&amp;", "/", "&#47;", "+", "&#x2B;").Replace(leaktest.Secret)
	if out := redact("<p>"+html+"</p>", leaktest.Secret); strings.Contains(out, "wX9") || strings.Contains(out, "Zq8") {
		t.Errorf("HTML references survived: %q", out)
	}
	// What is not secret stays readable.
	if out := redact("client_id \"app-1\" at host.example (HTTP 401) [see https://x/?client_secret=abc]. Next", leaktest.Secret); out != `client_id "app-1" at host.example (HTTP 401) [see https://x/?client_secret=[REDACTED]]. Next` {
		t.Errorf("Redact changed more than the secret: %q", out)
	}
}

func newLeakClient(t *testing.T, method string, status int, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	base, err := ParseAuthDomain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: base, AuthMethod: method, Retry: RetryPolicy{MaxRetries: 0}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A secret that holds markup characters is redacted before the markup is
// stripped (stripping would cut it into pieces too short to recognise), and
// pieces that stripping joins are caught after.
func TestExcerptRedactsAroundMarkup(t *testing.T) {
	for _, secret := range []string{"Zq8/k<v+T%3=wX9pL2", "abcdefg<x>hijklmnop", "tail>of<secret-value"} {
		red := NewRedactor(secret).Redact
		for _, body := range []string{"echo: " + secret, "<p>echo: " + secret + "</p>", "<b>" + secret[:9] + "</b>" + secret[9:]} {
			out := excerpt([]byte(body), red)
			for i := 0; i+5 <= len(secret); i++ {
				if w := secret[i : i+5]; !strings.ContainsAny(w, "<>") && strings.Contains(out, w) {
					t.Errorf("excerpt of %q holds %q: %q", body, w, out)
					break
				}
			}
		}
	}
}
