package leaktest

import (
	"net/url"
	"strings"
	"testing"
)

// Scrub leaves no window of a secret, in any encoding, nor a token-shaped
// word, and keeps the rest of the text readable.
func TestScrub(t *testing.T) {
	token := "Qx7vN2pL9sK4mR8tW1yZ3bC6"
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl"
	text := "client_secret=" + url.QueryEscape(Secret) + " raw " + Secret + " token " + token + " id " + jwt + " status 503 renewed_access_token"
	got := Scrub(text, Secret)
	if _, ok := Window(got, Secret, token, jwt); ok {
		t.Errorf("Scrub left a window of a secret: %s", got)
	}
	for _, keep := range []string{"client_secret=", "status 503", "renewed_access_token"} {
		if !strings.Contains(got, keep) {
			t.Errorf("Scrub removed %q: %s", keep, got)
		}
	}
	// A fragment that no encoding replaces whole withholds the text.
	if got := Scrub("part "+Secret[2:14], Secret); !strings.Contains(got, "withheld") {
		t.Errorf("a fragment of the secret was not withheld: %s", got)
	}
}

// The index finds what Window finds, names the secret and not its value,
// and finds nothing in a text without one.
func TestIndex(t *testing.T) {
	x := NewIndex(ClientID, map[string]string{"the secret": Secret, "a short one": "abc12"})
	for _, text := range []string{"log: " + Secret[3:11] + " end", "q=" + url.QueryEscape(Secret), "x abc12 y"} {
		what, ok := x.Find(text)
		if _, want := Window(text, Secret, "abc12"); ok != want || !ok {
			t.Errorf("Find(%q) = %q, %t; Window finds one: %t", text, what, ok, want)
		}
		if strings.Contains(what, Secret[:8]) {
			t.Errorf("Find names the value: %q", what)
		}
	}
	if what, ok := x.Find("nothing secret here, " + Secret[:7]); ok {
		t.Errorf("Find found %q in a text without a full window", what)
	}
}

// A window of hex digits and dashes (a UUID's shape, as in the CIAM's SCIM
// tokens, "OAUTH2" and a UUID) carries at most 32 random bits, and a trace
// log is full of other UUIDs (request IDs): such a window counts only with
// four more characters of the secret beside it. An unrelated UUID that
// shares 8 characters with the secret is no leak (make soak, seed 11010);
// the token, or any 12 characters of it, still is.
func TestUUIDShapedWindowsNeedTwelveCharacters(t *testing.T) {
	const scim = "OAUTH2c615b14e-26e9-497a-b5e8-7dd2d649d870"
	other := "tf_req_id=0f3e9a11-26e9-497a-0000-111122223333" // "-26e9-497a-" in common
	x := NewIndex(ClientID, map[string]string{"the SCIM token": scim})
	if what, ok := x.Find(other); ok {
		t.Errorf("Find took an unrelated UUID for the token: %s", what)
	}
	if what, ok := Window(other, scim); ok {
		t.Errorf("Window took an unrelated UUID for the token: %s", what)
	}
	for _, leak := range []string{scim, scim[6:], scim[10:22], scim[30:], `"` + scim + `"`, url.QueryEscape(scim)} {
		if _, ok := x.Find("log: " + leak + " end"); !ok {
			t.Errorf("Find missed %d characters of the token", len(leak))
		}
		if _, ok := Window("log: "+leak+" end", scim); !ok {
			t.Errorf("Window missed %d characters of the token", len(leak))
		}
	}
	// A window with other characters counts alone, as before.
	if _, ok := x.Find("x OAUTH2c6 y"); !ok {
		t.Error("Find missed the token's first 8 characters")
	}
}
