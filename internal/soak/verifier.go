package soak

import (
	"crypto/rand"
	"encoding/base64"
)

// randomVerifier returns a fresh RFC 7636 code verifier (43 characters).
func randomVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
