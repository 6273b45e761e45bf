package ciam

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// The access token of seed 001.
const seedJWT = "eyJraWQiOiJmOTY5NGQ5My1kNTQxLTQ5ODUtODhkYy00MjIyOTg3MzAwOGUiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURU5BTlRfQ0xJRU5UX0lEIiwiYXVkIjoiVEVOQU5UX0NMSUVOVF9JRCIsIm5iZiI6MTY0MDU4ODgyOCwic2NvcGUiOlsiaWRlbnRpdHlfcHJvb2ZpbmciXSwiaXNzIjoiaHR0cHM6XC9cL3NhbXBsZS5wb3J0YWwudGVuY2VudGNpYW0uY29tIiwiZXhwIjoxNjQwNTg5MTI4LCJpYXQiOjE2NDA1ODg4MjgsImp0aSI6Ijk5MzliYzNmLTVlZGYtNDZjMy04ZjVjLTJiMWRjMWFjZmE5MCJ9.D8khbU3BkWTHD6sRTY9M_bbRq7AF4MGina2S1ycFA2HOUo"

func TestDecodeJWT_seedToken(t *testing.T) {
	h, c, err := DecodeJWT(seedJWT)
	if err != nil {
		t.Fatal(err)
	}
	if h["kid"] != "f9694d93-d541-4985-88dc-42229873008e" || h["typ"] != "JWT" || h["alg"] != "RS256" {
		t.Errorf("header = %v", h)
	}
	if c["sub"] != "TENANT_CLIENT_ID" || c["iss"] != "https://sample.portal.tencentciam.com" || c["exp"] != json.Number("1640589128") {
		t.Errorf("claims = %v", c)
	}
	if sc, ok := c["scope"].([]any); !ok || len(sc) != 1 || sc[0] != "identity_proofing" {
		t.Errorf("scope = %#v", c["scope"])
	}
}

// nested is a claims segment whose value nests n arrays deep.
func nested(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`))
}

func TestDecodeJWT_malformed(t *testing.T) {
	parts := strings.Split(seedJWT, ".")
	cases := map[string]string{
		"":                                  "empty",
		"abc":                               "not a JWT: it has no dots",
		"a.b":                               "not a JWT: it has 2 dot-separated parts",
		"a.b.c.d.e":                         "encrypted JWT",
		"!!!." + parts[1] + "." + parts[2]:  "holds a character a JWT cannot hold",
		"A." + parts[1] + "." + parts[2]:    "header segment is not base64url",
		parts[0] + ".\n" + parts[1] + ".x":  "holds a character a JWT cannot hold",
		parts[0] + "." + nested(40) + ".x":  "claims segment nests values deeper than 32 levels",
		parts[0] + ".bm90IGpzb24." + "sig":  "claims segment is not JSON",
		parts[0] + ".WzEsMl0." + "sig":      "claims segment is not a JSON object",
		"eyJhIjoxfXt9." + parts[1] + ".sig": "header segment has data after",
	}
	for in, want := range cases {
		_, _, err := DecodeJWT(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeJWT(%q) error = %v, want %q", in, err, want)
			continue
		}
		if len(in) > 20 && strings.Contains(err.Error(), in[:20]) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}
