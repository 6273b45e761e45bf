package ciam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Token is a token response from the CIAM.
//
// Its String and GoString methods never print the secret members, so a Token
// that ends up in a format string or a log field does not leak.
type Token struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	// TokenType is as returned; the client accepts only Bearer (any case).
	TokenType string
	// ExpiresIn is the lifetime in seconds as returned; valid only when
	// HasExpiresIn is true (the member is optional in RFC 6749).
	ExpiresIn    int64
	HasExpiresIn bool
	// Scope is the granted scope as a space-separated string, as returned.
	// An array-valued scope is joined with single spaces. Empty when the
	// response had no scope.
	Scope string
	// ReceivedAt is when the response arrived; expiry counts from here.
	// For a reused token it is moved so that ExpiresAt stays exact while
	// ExpiresIn is the lifetime left.
	ReceivedAt time.Time
	// Reused reports a token answered from the client's cache.
	Reused bool
}

// ExpiresAt returns ReceivedAt plus ExpiresIn, and false when the response
// gave no lifetime.
func (t *Token) ExpiresAt() (time.Time, bool) {
	if !t.HasExpiresIn {
		return time.Time{}, false
	}
	return t.ReceivedAt.Add(time.Duration(t.ExpiresIn) * time.Second), true
}

// GrantedScopes splits Scope into its space-separated values, each once, in
// the order given (a scope that repeats a value grants it once).
func (t *Token) GrantedScopes() []string {
	fields := strings.Fields(t.Scope)
	out := fields[:0]
	for _, f := range fields {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func (t Token) String() string {
	return fmt.Sprintf("Token{TokenType:%q ExpiresIn:%d Scope:%q AccessToken:%s}", t.TokenType, t.ExpiresIn, t.Scope, Redacted)
}

// GoString keeps %#v from printing the secret members.
func (t Token) GoString() string { return t.String() }

// parseTokenResponse parses a 2xx token response body. The reasons it gives
// for rejecting a body describe it by its structure (which member, what
// JSON type) and never quote it: a body that cannot be used may still hold
// a token, in any shape.
//
// It reads the body as strictly as the discovery document: a JSON object
// whose members are named exactly once, with nothing after it.
//
// Deliberate choices (documented in the troubleshooting guide):
//   - no access_token, or an empty one: rejected;
//   - token_type other than Bearer (case-insensitive) or missing: rejected,
//     since the token could not be used as a bearer token;
//   - access_token, refresh_token, id_token and token_type with a space, a
//     control character or anything outside printable ASCII: rejected, since
//     they go into an Authorization header (surrounding whitespace of
//     token_type is trimmed);
//   - expires_in: a number or a numeric string; absent or null means
//     "lifetime not given" (HasExpiresIn false); negative, fractional or
//     non-numeric is rejected;
//   - scope: a space-separated string or an array of strings.
func parseTokenResponse(body []byte, receivedAt time.Time) (*Token, string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "response body is empty"
	}
	members, problem := jsonMembers(body)
	if problem != "" {
		reason := "response body " + problem
		if problem == "is not JSON" && looksLikeMarkup(body) {
			reason += ": it looks like an HTML page"
		}
		return nil, reason
	}
	values := map[string]string{}
	for _, name := range []string{"access_token", "token_type", "refresh_token", "id_token"} {
		raw, ok := members[name]
		if !ok || string(raw) == "null" {
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return nil, fmt.Sprintf("the response's %s is a JSON %s, not a string", name, jsonKind(raw))
		}
		if name == "token_type" {
			v = strings.TrimSpace(v)
		}
		if strings.IndexFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			return nil, fmt.Sprintf("the response's %s holds a space or a control character (or another character outside printable ASCII), "+
				"which an Authorization header cannot carry", name)
		}
		values[name] = v
	}
	if values["access_token"] == "" {
		return nil, "response has no access_token"
	}
	if values["token_type"] == "" {
		return nil, "response has no token_type"
	}
	if !strings.EqualFold(values["token_type"], "Bearer") {
		return nil, withoutTokens(fmt.Sprintf("response has token_type %s; only Bearer tokens are supported", echo(values["token_type"])), values)
	}
	t := &Token{
		AccessToken:  values["access_token"],
		RefreshToken: values["refresh_token"],
		IDToken:      values["id_token"],
		TokenType:    values["token_type"],
		ReceivedAt:   receivedAt,
	}
	var reason string
	t.ExpiresIn, t.HasExpiresIn, reason = parseExpiresIn(members["expires_in"])
	if reason != "" {
		return nil, withoutTokens(reason, values)
	}
	if t.Scope, reason = parseScope(members["scope"]); reason != "" {
		return nil, reason
	}
	return t, ""
}

// looksLikeMarkup reports a body that starts like HTML or XML.
func looksLikeMarkup(body []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}

// echo quotes a short value from a response for a reason; a longer one is
// not quoted at all (cutting it could leave part of a secret that the caller's
// redaction, applied to the whole reason, would no longer recognise).
func echo(v string) string {
	if p := printable(v, 33); len(p) <= 32 {
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("(a value of %d characters)", len(v))
}

// withoutTokens returns reason, which may echo a member of the response,
// without the response's own tokens (values), which are new, so no
// caller's redaction knows them: the Redactor catches any 8 characters of
// them, in any encoding.
func withoutTokens(reason string, values map[string]string) string {
	return NewRedactor(values["access_token"], values["refresh_token"], values["id_token"]).Redact(reason)
}

// echoNumber is echo for a value that parsed as a number: unquoted.
func echoNumber(v string) string {
	if p := printable(v, 33); len(p) <= 32 {
		return p
	}
	return fmt.Sprintf("(a number of %d characters)", len(v))
}

func parseExpiresIn(raw json.RawMessage) (int64, bool, string) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false, ""
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, "response has an unreadable expires_in"
		}
		s = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Sprintf("response has expires_in %s, which is not a number of seconds", echo(s))
	}
	if f < 0 {
		return 0, false, fmt.Sprintf("response has a negative expires_in (%s)", echoNumber(s))
	}
	if f != math.Trunc(f) {
		return 0, false, fmt.Sprintf("response has expires_in %s, which is not a whole number of seconds", echoNumber(s))
	}
	if f > MaxExpiresIn {
		secs := strconv.FormatFloat(f, 'f', 0, 64)
		if f >= 1e15 {
			secs = strconv.FormatFloat(f, 'g', 4, 64)
		}
		return 0, false, fmt.Sprintf("the response's expires_in, %s (%s seconds), is more than 10 years; no token server means a lifetime that long, "+
			"so the token is rejected rather than trusted and never renewed", echoNumber(s), secs)
	}
	return int64(f), true, ""
}

// MaxExpiresIn is the longest lifetime (10 years, in seconds) the client
// accepts. Longer ones are rejected: they are not what a token server means,
// and beyond about 292 years they overflow a time.Duration, which made a
// token "expire" in the past so that it was renewed on every read.
const MaxExpiresIn = 10 * 365 * 24 * 60 * 60

func parseScope(raw json.RawMessage) (string, string) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", ""
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, ""
	}
	var list []*string
	if err := json.Unmarshal(raw, &list); err == nil {
		var values []string
		for _, v := range list {
			if v != nil && strings.TrimSpace(*v) != "" {
				values = append(values, strings.TrimSpace(*v))
			}
		}
		return strings.Join(values, " "), ""
	}
	return "", "response has a scope that is neither a string nor an array of strings"
}

// errorResponse is the JSON body of an OAuth error response.
type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// parseErrorResponse fills e from a non-2xx body: the OAuth members when the
// body is an OAuth error object, otherwise a reason and a sanitized excerpt.
func parseErrorResponse(e *Error, body []byte, redact func(string) string) {
	var r errorResponse
	if len(bytes.TrimSpace(body)) == 0 {
		e.Reason = "empty response body"
		return
	}
	if err := json.Unmarshal(body, &r); err == nil && r.Error != "" {
		// Redact first: truncating first could leave a secret's prefix.
		e.Code = printable(redact(r.Error), 64)
		e.Description = printable(redact(r.ErrorDescription), 256)
		e.URI = printable(redact(r.ErrorURI), 256)
		return
	}
	e.Reason = "response body is not an OAuth error object"
	e.Excerpt = excerpt(body, redact)
}

// excerpt returns the start of a body that is not the expected JSON (an
// error answer) as printable ASCII, with markup tags removed and secrets
// redacted, for error messages: the request's own secrets, and anything
// shaped like an opaque token, whatever holds it. The whole body (at most
// MaxBodyBytes) is redacted before anything is cut: a secret that crossed
// the cut would otherwise leave its first characters behind.
func excerpt(body []byte, redact func(string) string) string {
	red := func(s string) string { return redactTokenShaped(redact(s)) }
	// Redact before and after stripping the markup: a secret that holds a
	// "<" would be cut up by the stripping, and stripping can join pieces.
	return printable(red(stripTags(red(string(body)))), excerptLimit)
}

// tokenShaped is a run of the characters opaque tokens are made of, long
// enough to be one.
var tokenShaped = regexp.MustCompile(`[A-Za-z0-9._~+/=-]{20,}`)

// redactTokenShaped replaces every run of 20 or more token characters that
// mixes letters and digits, as opaque tokens do (the vendor's SCIM token is
// "OAUTH2c615..."): a body may echo a token in a member no pattern knows,
// or in the text of a page. Words and numbers alone are kept.
func redactTokenShaped(s string) string {
	return tokenShaped.ReplaceAllStringFunc(s, func(m string) string {
		if strings.ContainsAny(m, "0123456789") && strings.IndexFunc(m, unicode.IsLetter) >= 0 {
			return Redacted
		}
		return m
	})
}

// excerptLimit is the length, in printable characters, of an excerpt.
const excerptLimit = 160

// stripTags removes <...> markup so that a gateway's HTML error page reads
// as its text.
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	in := false
	for _, c := range s {
		switch {
		case c == '<':
			in = true
			b.WriteByte(' ')
		case c == '>' && in:
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return b.String()
}
