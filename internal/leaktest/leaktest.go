// Package leaktest is the tests' oracle for secrets in output: the forms in
// which a server may echo a secret, and a check that no 8-character window of
// any of them appears in a text. It is written independently of the
// redaction it checks (internal/ciam/redact.go), and only tests import it:
// the provider binary never links it (make check-deps).
package leaktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ClientID and Secret are test credentials holding every character that an
// encoding changes: / & + % = and a space.
const (
	ClientID = "app/7+&id"
	Secret   = "Zq8/k&v+T%3=wX9 pL2@rN5~yB"
)

var percentHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// Encodings lists the forms in which a server may echo a secret: raw,
// percent-encoded (query and path style, upper- and lower-case hex, + for a
// space), JSON-escaped as Go and PHP do it and with every special character
// as \u00XX, and the base64 value of the HTTP Basic header that carries it.
func Encodings(id, secret string) map[string]string {
	lower := func(s string) string {
		return percentHex.ReplaceAllStringFunc(s, strings.ToLower)
	}
	goJSON, _ := json.Marshal(secret)
	var php, full, fullUpper strings.Builder
	for _, c := range secret {
		switch {
		case c == '/':
			php.WriteString(`\/`)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&php, `\u%04x`, c)
		default:
			php.WriteRune(c)
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			full.WriteRune(c)
			fullUpper.WriteRune(c)
		} else {
			fmt.Fprintf(&full, `\u%04x`, c)
			fmt.Fprintf(&fullUpper, `\u%04X`, c)
		}
	}
	return map[string]string{
		"raw":         secret,
		"query":       url.QueryEscape(secret),
		"query-lower": lower(url.QueryEscape(secret)),
		"path":        url.PathEscape(secret),
		"path-lower":  lower(url.PathEscape(secret)),
		"json-go":     strings.Trim(string(goJSON), `"`),
		"json-php":    php.String(),
		"json-full":   full.String(),
		"json-FULL":   fullUpper.String(),
		"basic":       base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
	}
}

// Window returns the first 8-character window of any encoding of any of the
// secrets (of ClientID) that text contains, described for a failure message
// (never the whole secret).
func Window(text string, secrets ...string) (string, bool) {
	for _, s := range secrets {
		if w, ok := WindowOf(text, ClientID, s); ok {
			return w, true
		}
	}
	return "", false
}

// WindowOf is Window for one secret of the given client ID (which the Basic
// header encoding includes).
func WindowOf(text, clientID, s string) (string, bool) {
	if len(s) < 8 {
		if strings.Contains(text, s) {
			return "whole short secret", true
		}
		return "", false
	}
	for name, enc := range Encodings(clientID, s) {
		for i := 0; i+8 <= len(enc); i++ {
			if w := window(enc, i); strings.Contains(text, w) {
				return fmt.Sprintf("%s window %q", name, w), true
			}
		}
	}
	return "", false
}

// window returns the window of enc at i that counts as a leak: its 8
// characters, or, when they are all hex digits and dashes (a UUID's shape,
// at most 32 random bits, and trace logs are full of other UUIDs), 12
// characters of enc from there (or the last 12, or all of a shorter enc).
func window(enc string, i int) string {
	w := enc[i : i+8]
	if strings.Trim(w, "0123456789abcdefABCDEF-") != "" {
		return w
	}
	switch {
	case len(enc) <= 12:
		return enc
	case i+12 <= len(enc):
		return enc[i : i+12]
	default:
		return enc[len(enc)-12:]
	}
}

// AssertNone fails t when text holds a window of any of the secrets.
func AssertNone(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	if w, ok := Window(text, secrets...); ok {
		t.Errorf("%s leaks the %s", what, w)
	}
}

var (
	jwtShaped   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	tokenShaped = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)
	hasDigit    = regexp.MustCompile(`[0-9]`)
	hasLetter   = regexp.MustCompile(`[A-Za-z]`)
)

// Scrub returns text fit for a test's failure message: every encoding of
// each secret, every JWT-shaped string and every token-shaped word (20 or
// more base64url characters, letters and digits both) replaced with
// [SCRUBBED]. When a window of a secret survives that, the text is withheld
// whole.
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, enc := range Encodings(ClientID, s) {
			text = strings.ReplaceAll(text, enc, "[SCRUBBED]")
		}
	}
	text = jwtShaped.ReplaceAllString(text, "[SCRUBBED]")
	text = tokenShaped.ReplaceAllStringFunc(text, func(w string) string {
		if hasDigit.MatchString(w) && hasLetter.MatchString(w) {
			return "[SCRUBBED]"
		}
		return w
	})
	if w, ok := Window(text, secrets...); ok {
		return fmt.Sprintf("(%d bytes withheld: they hold the %s)", len(text), w)
	}
	return text
}

// Index finds a window of any of many secrets in long texts (trace logs,
// state and plan files) in one pass: it holds every window (see window) of
// every encoding of each secret, by length.
type Index struct {
	windows map[string]string // 8 characters
	long    map[string]string // 12 characters
	short   map[string]string
}

// NewIndex indexes secrets, named for failure messages (the name, never the
// value, is reported), with the encodings of Encodings for clientID but the
// ones named in skip. (Files full of base64, such as a state that holds
// JWTs, skip "basic": an 8-character window of base64 is 6 bytes of what it
// encodes, and two tokens that share 6 hex digits of a UUID share one.)
func NewIndex(clientID string, secrets map[string]string, skip ...string) *Index {
	x := &Index{windows: map[string]string{}, long: map[string]string{}, short: map[string]string{}}
	for name, s := range secrets {
		if len(s) < 8 {
			if s != "" {
				x.short[s] = name
			}
			continue
		}
		for enc, v := range Encodings(clientID, s) {
			if slices.Contains(skip, enc) {
				continue
			}
			for i := 0; i+8 <= len(v); i++ {
				what := fmt.Sprintf("%s (%s window %d)", name, enc, i)
				switch w := window(v, i); len(w) {
				case 8:
					x.windows[w] = what
				case 12:
					x.long[w] = what
				default:
					x.short[w] = what
				}
			}
		}
	}
	return x
}

// Find returns a description of the first window of an indexed secret that
// text holds.
func (x *Index) Find(text string) (string, bool) {
	for i := 0; i+8 <= len(text); i++ {
		if what, ok := x.windows[text[i:i+8]]; ok {
			return what, true
		}
		if i+12 <= len(text) {
			if what, ok := x.long[text[i:i+12]]; ok {
				return what, true
			}
		}
	}
	for s, name := range x.short {
		if strings.Contains(text, s) {
			return name + " (whole)", true
		}
	}
	return "", false
}
