package ciam

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a secret wherever the client prints one.
const Redacted = "[REDACTED]"

// Everything the client turns into text (error strings, excerpts of response
// bodies, log fields) passes through a redactor first. It removes the secrets
// it knows (the request's client secret, in raw and URL-encoded forms, and
// any token already received) and, as a second line of defence, anything
// shaped like a credential: JWTs, credential query/form parameters, JSON
// credential members and Authorization header values.
var redactPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`), Redacted},
	{regexp.MustCompile(`(?i)\b(client_secret|access_token|refresh_token|id_token|code_verifier|code|token)=[^&\s"'<>]*`), "${1}=" + Redacted},
	{regexp.MustCompile(`(?i)"(client_secret|access_token|refresh_token|id_token|code_verifier|code|token)"\s*:\s*"(?:[^"\\]|\\.)*"?`), `"${1}":"` + Redacted + `"`},
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`), "${1} " + Redacted},
}

type redactor struct {
	secrets []string
}

// newRedactor returns a redactor for the given secrets. Empty and very short
// values are ignored: replacing every "a" in a message helps nobody, and the
// patterns still catch such values in credential positions.
func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.add(s)
	}
	return r
}

func (r *redactor) add(secret string) {
	if len(secret) < 4 {
		return
	}
	for _, v := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		if !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
}

func (r *redactor) apply(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	for _, p := range redactPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// printable keeps the printable ASCII characters of s (RFC 6749 restricts
// error codes and descriptions to them), turns other characters into spaces,
// collapses runs of whitespace and cuts the result to limit bytes.
func printable(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, c := range s {
		if c > 0x20 && c < 0x7f {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(c)
		} else {
			space = true
		}
		if b.Len() >= limit {
			return strings.TrimSpace(b.String()[:limit]) + "..."
		}
	}
	return b.String()
}

// Redact removes the given secrets, and anything shaped like a credential,
// from s. It is the same redaction the client applies to its own errors.
func Redact(s string, secrets ...string) string {
	return newRedactor(secrets...).apply(s)
}
