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
