package ciam

import (
	"strings"
	"testing"
)

func TestRedactorRemovesSecretsAndCredentialShapes(t *testing.T) {
	secret := "dk464qqp5cmo+/=&x"
	r := newRedactor(secret, "", "abc")
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
		out := r.apply(in)
		for _, leak := range []string{secret, "dk464qqp5cmo", "OAUTH2c615b14e", "Ugvo1lO7Se8vvIPrIOwn", "eyJraWQiOiJmOTY5NGQ5My", "D8khbU3BkWTHD6sRTY9M"} {
			if strings.Contains(out, leak) {
				t.Errorf("apply(%q) = %q still contains %q", in, out, leak)
			}
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("apply(%q) = %q has no redaction marker", in, out)
		}
	}
	if got := r.apply("abc is too short to redact"); got != "abc is too short to redact" {
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
