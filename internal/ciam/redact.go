package ciam

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted replaces a secret wherever the client prints one.
const Redacted = "[REDACTED]"

// Everything the client turns into text (error strings, excerpts of response
// bodies, log fields) passes through a Redactor first, before anything is
// cut to length: a secret cut in half no longer matches as a whole.
//
// A Redactor removes the secrets it knows wherever any 8-character window of
// them appears (so a fragment another layer cut off is caught too), in the
// encodings a server may echo them in: raw, percent-encoded in upper or lower
// case (with + or %20 for a space), JSON-escaped (\/, \u0026, \u002b, ...),
// HTML entities, and mixes of these; secrets of 4 to 7 characters are matched
// whole. As a second line of defence it removes anything shaped like a
// credential: JWTs, credential query/form parameters, JSON credential members
// and Authorization header values.
var redactPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`), Redacted},
	// The value ends at a delimiter, and at a closing bracket or parenthesis,
	// so that text around a quoted URL survives.
	{regexp.MustCompile(`(?i)\b(client_secret|access_token|refresh_token|id_token|code_verifier|code|token)=(?:\[REDACTED\]|[^&\s"'<>\])]*)`), "${1}=" + Redacted},
	{regexp.MustCompile(`(?i)"(client_secret|access_token|refresh_token|id_token|code_verifier|code|token)"\s*:\s*"(?:[^"\\]|\\.)*"?`), `"${1}":"` + Redacted + `"`},
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`), "${1} " + Redacted},
}

const (
	// window is the length of the fragments a Redactor recognises.
	window = 8
	// minSecret is the shortest secret worth redacting: replacing every "a"
	// in a message helps nobody, and the patterns still catch short values
	// in credential positions.
	minSecret = 4
)

// Redactor removes a fixed set of secrets from text. It is safe for
// concurrent use; its matching tables are built on first use, so a Redactor
// that is never needed (a request that succeeds) costs nothing.
type Redactor struct {
	secrets []string
	once    sync.Once
	// literal matches the text as it is (encodings are listed as variants);
	// decoded matches the text with its escapes decoded, which also catches
	// mixes of encodings within one secret.
	literal, decoded matcher
}

// NewRedactor returns a Redactor for the given secrets. Values shorter than 4
// bytes are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= minSecret && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// BasicAuthValue is the credential of an HTTP Basic Authorization header for
// a client (RFC 6749 section 2.3.1: id and secret form-url-encoded first).
// It is as secret as the client secret, and is redacted with it.
func BasicAuthValue(clientID, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))
}

// Redact returns s without the Redactor's secrets and without anything shaped
// like a credential. A nil Redactor applies the patterns only.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if r != nil && len(r.secrets) > 0 {
		r.once.Do(r.compile)
		spans := r.literal.find(s, false)
		spans = append(spans, r.decoded.find(s, true)...)
		s = replaceSpans(s, spans)
	}
	for _, p := range redactPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

func (r *Redactor) compile() {
	for _, s := range r.secrets {
		plus := strings.ReplaceAll(s, " ", "+")
		r.decoded.add(s, plus)
		r.literal.add(encodings(s)...)
		r.literal.add(plus)
	}
}

// encodings returns s as a server may echo it without decoding it first.
func encodings(s string) []string {
	q, p := url.QueryEscape(s), url.PathEscape(s)
	goJSON, _ := json.Marshal(s) // escapes <, >, & as \u003c, \u003e, \u0026
	var php, lower, upper strings.Builder
	for _, c := range s {
		switch {
		case c == '/':
			php.WriteString(`\/`)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&php, `\u%04x`, c)
		default:
			php.WriteRune(c)
		}
		if isAlnum(c) {
			lower.WriteRune(c)
			upper.WriteRune(c)
		} else {
			fmt.Fprintf(&lower, `\u%04x`, c)
			fmt.Fprintf(&upper, `\u%04X`, c)
		}
	}
	return []string{
		s, q, lowerHex(q), p, lowerHex(p),
		strings.Trim(string(goJSON), `"`), php.String(), lower.String(), upper.String(),
	}
}

func isAlnum(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lowerHex lower-cases the hex digits of percent escapes.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if b[j] >= 'A' && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// matcher finds the fragments of a set of strings in text.
type matcher struct {
	// windows holds every 8-byte window of every variant, packed into an
	// integer: one map lookup per position of the text.
	windows map[uint64]struct{}
	// short holds variants of 4 to 7 bytes, matched whole.
	short []string
}

func (m *matcher) add(variants ...string) {
	if m.windows == nil {
		m.windows = map[uint64]struct{}{}
	}
	for _, v := range variants {
		n, _, _ := normalize(v, false)
		switch {
		case len(n) >= window:
			for i := 0; i+window <= len(n); i++ {
				m.windows[binary.LittleEndian.Uint64(n[i:])] = struct{}{}
			}
		case len(n) >= minSecret && !slices.Contains(m.short, string(n)):
			m.short = append(m.short, string(n))
		}
	}
}

// span is a byte range [from, to) of the original text.
type span struct{ from, to int }

// decodeRounds bounds how many layers of escaping the decoding pass peels
// off: a secret percent-encoded twice, or JSON-escaped inside a JSON string.
const decodeRounds = 4

// find returns the ranges of s that hold a fragment. With decode, escapes in
// s are decoded before matching, layer by layer (%252F is %2F, then /), and
// every layer is matched.
func (m *matcher) find(s string, decode bool) []span {
	if len(m.windows) == 0 && len(m.short) == 0 {
		return nil
	}
	n, from, to := normalize(s, decode)
	out := m.match(n, from, to, nil)
	for round := 1; decode && round < decodeRounds; round++ {
		next, f, t := normalize(string(n), true)
		if string(next) == string(n) {
			break
		}
		// Map the new layer's ranges back to s.
		for i := range next {
			f[i], t[i] = from[f[i]], to[t[i]-1]
		}
		n, from, to = next, f, t
		out = m.match(n, from, to, out)
	}
	return out
}

// match appends the ranges of the original text (from, to give them for each
// byte of n) that hold a fragment.
func (m *matcher) match(n []byte, from, to []int32, out []span) []span {
	mark := func(i, j int) { // n[i:j] matched
		out = append(out, span{int(from[i]), int(to[j-1])})
	}
	if len(m.windows) > 0 {
		for i := 0; i+window <= len(n); i++ {
			if _, ok := m.windows[binary.LittleEndian.Uint64(n[i:])]; ok {
				mark(i, i+window)
			}
		}
	}
	text := string(n)
	for _, v := range m.short {
		for off := 0; ; {
			k := strings.Index(text[off:], v)
			if k < 0 {
				break
			}
			mark(off+k, off+k+len(v))
			off += k + 1
		}
	}
	return out
}

// normalize maps s to the form matching works on, and records for every
// output byte the range of s it came from. It mirrors printable: runs of
// whitespace, control and non-ASCII characters become one space, so a window
// that printable could produce is one that matching saw. With decode, percent
// escapes, JSON escapes and HTML character references are decoded.
func normalize(s string, decode bool) (out []byte, from, to []int32) {
	out = make([]byte, 0, len(s))
	from = make([]int32, 0, len(s))
	to = make([]int32, 0, len(s))
	for i := 0; i < len(s); {
		c, n := byte(0), 0
		if decode {
			c, n = decodeEscape(s[i:])
		}
		if n == 0 {
			if s[i] < utf8.RuneSelf {
				c, n = s[i], 1
			} else {
				_, n = utf8.DecodeRuneInString(s[i:])
				c = ' '
			}
		}
		if c <= 0x20 || c >= 0x7f {
			c = ' '
			if k := len(out) - 1; k >= 0 && out[k] == ' ' {
				to[k] = int32(i + n) // one space for the whole run
				i += n
				continue
			}
		}
		out = append(out, c)
		from = append(from, int32(i))
		to = append(to, int32(i+n))
		i += n
	}
	return out, from, to
}

var htmlEntities = map[string]byte{"&amp;": '&', "&quot;": '"', "&lt;": '<', "&gt;": '>', "&apos;": '\''}

// decodeEscape decodes one escape at the start of s: %XX, \uXXXX, \/ and the
// other JSON escapes, &amp; and friends, &#NN; and &#xHH;. It returns the
// byte (a space for anything outside printable ASCII) and the escape's length,
// or 0 when s does not start with an escape.
func decodeEscape(s string) (byte, int) {
	switch {
	case len(s) >= 3 && s[0] == '%' && isHex(s[1]) && isHex(s[2]):
		v, _ := strconv.ParseUint(s[1:3], 16, 8)
		return byte(v), 3
	case len(s) >= 6 && s[0] == '\\' && s[1] == 'u' && isHex(s[2]) && isHex(s[3]) && isHex(s[4]) && isHex(s[5]):
		v, _ := strconv.ParseUint(s[2:6], 16, 16)
		if v >= 0x80 {
			return ' ', 6
		}
		return byte(v), 6
	case len(s) >= 2 && s[0] == '\\':
		switch s[1] {
		case '/', '\\', '"', '\'':
			return s[1], 2
		case 'n', 'r', 't', 'b', 'f':
			return ' ', 2
		}
	case len(s) >= 4 && s[0] == '&':
		end := strings.IndexByte(s[:min(len(s), 10)], ';')
		if end < 0 {
			return 0, 0
		}
		ref := s[:end+1]
		if c, ok := htmlEntities[ref]; ok {
			return c, len(ref)
		}
		if ref[1] == '#' {
			base, digits := 10, ref[2:end]
			if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
				base, digits = 16, digits[1:]
			}
			if v, err := strconv.ParseUint(digits, base, 32); err == nil {
				if v >= 0x80 {
					return ' ', len(ref)
				}
				return byte(v), len(ref)
			}
		}
	}
	return 0, 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// replaceSpans replaces the given ranges of s (in any order, possibly
// overlapping) with Redacted.
func replaceSpans(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].from <= cur.to; i++ {
			cur.to = max(cur.to, spans[i].to)
		}
		b.WriteString(s[at:cur.from])
		b.WriteString(Redacted)
		at = cur.to
	}
	b.WriteString(s[at:])
	return b.String()
}

// printable keeps the printable ASCII characters of s (RFC 6749 restricts
// error codes and descriptions to them), turns other characters into spaces,
// collapses runs of whitespace and cuts the result to limit bytes. Callers
// redact before they call it: it is a cut.
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
