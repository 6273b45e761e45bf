package ciam

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// testClaims are the claims every test token carries.
const testClaims = `{"sub":"u1","iss":"https://d.example","exp":1700000000}`

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(testClaims))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyJWT(t *testing.T) {
	rsaKey, ecKey, edKey := testKeys(t)
	set, err := ParseJWKS(testJWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
		kid string
	}{
		{jose.RS256, rsaKey, "rsa-1"}, {jose.RS512, rsaKey, "rsa-1"}, {jose.PS256, rsaKey, "rsa-1"},
		{jose.ES256, ecKey, "ec-1"}, {jose.EdDSA, edKey, "ed-1"},
	} {
		token := sign(t, tc.alg, tc.key, tc.kid)
		header, got, err := VerifyJWT(token, set)
		if err != nil || got["sub"] != "u1" || header["alg"] != string(tc.alg) || got["exp"] != json.Number("1700000000") {
			t.Errorf("%s: %v %v %v", tc.alg, header, got, err)
		}
	}
	good := sign(t, jose.RS256, rsaKey, "rsa-1")
	parts := strings.Split(good, ".")
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := map[string]struct {
		token, kind, msg string
	}{
		"tampered claims":   {parts[0] + "." + b64(`{"sub":"admin"}`) + "." + parts[2], VerifyBadSignature, "does not verify"},
		"tampered sig":      {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), VerifyBadSignature, "does not verify"},
		"another key":       {sign(t, jose.RS256, otherKey, "rsa-1"), VerifyBadSignature, "signed by another key"},
		"alg none":          {b64(`{"alg":"none","kid":"rsa-1"}`) + "." + parts[1] + ".", VerifyAlgNone, `alg "none"`},
		"alg None":          {b64(`{"alg":"None","kid":"rsa-1"}`) + "." + parts[1] + ".", VerifyAlgNone, "never accepted"},
		"hmac":              {sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "rsa-1"), VerifyHMAC, "HMAC"},
		"unknown kid":       {sign(t, jose.RS256, rsaKey, "rsa-9"), VerifyUnknownKID, `kid "rsa-9"`},
		"no kid, many keys": {sign(t, jose.RS256, rsaKey, ""), VerifyUnknownKID, "no kid and the key set holds 3 keys"},
		"EC alg on RSA key": {b64(`{"alg":"ES256","kid":"rsa-1"}`) + "." + parts[1] + "." + parts[2], VerifyAlgorithm, "does not fit the RSA key"},
		"RSA alg on EC key": {sign(t, jose.RS256, rsaKey, "ec-1"), VerifyAlgorithm, "allowed: ES256"},
		"ES384 on P-256":    {b64(`{"alg":"ES384","kid":"ec-1"}`) + "." + parts[1] + "." + parts[2], VerifyAlgorithm, "does not fit the EC key"},
		"no alg":            {b64(`{"kid":"rsa-1"}`) + "." + parts[1] + "." + parts[2], VerifyMalformed, "no alg"},
		"opaque token":      {"OAUTH2c615b14e-26e9", VerifyMalformed, "not a JWT"},
	}
	for name, c := range cases {
		_, _, err := VerifyJWT(c.token, set)
		var verr *VerifyError
		if !errors.As(err, &verr) || verr.Kind != c.kind || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %s containing %q", name, err, c.kind, c.msg)
			continue
		}
		if strings.Contains(err.Error(), parts[1]) || strings.Contains(err.Error(), parts[2][:20]) {
			t.Errorf("%s: the error quotes the token", name)
		}
	}
	// A key's own alg binds it.
	pinned := `{"keys":[{"kty":"RSA","kid":"rsa-1","alg":"RS512","n":"` + base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes()) + `","e":"AQAB"}]}`
	pset, _ := ParseJWKS([]byte(pinned))
	if _, _, err := VerifyJWT(good, pset); err == nil || !strings.Contains(err.Error(), `not the alg "RS512" of the key`) {
		t.Errorf("pinned alg: %v", err)
	}
	// A set of one key verifies a token without kid.
	one, _ := ParseJWKS([]byte(strings.Replace(pinned, `"alg":"RS512",`, "", 1)))
	if _, _, err := VerifyJWT(sign(t, jose.RS256, rsaKey, ""), one); err != nil {
		t.Errorf("no kid, one key: %v", err)
	}
}

func TestVerifyJWTCriticalAndSharedKIDs(t *testing.T) {
	rsaKey, ecKey, _ := testKeys(t)
	// An EC and an RSA key that share a kid, as RFC 7517 allows: each token
	// is verified with the key its algorithm fits.
	shared, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ecKey.PublicKey, KeyID: "k1"}, {Key: &rsaKey.PublicKey, KeyID: "k1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := ParseJWKS(shared)
	for _, tok := range []string{sign(t, jose.RS256, rsaKey, "k1"), sign(t, jose.ES256, ecKey, "k1")} {
		if _, _, err := VerifyJWT(tok, set); err != nil {
			t.Errorf("shared kid: %v", err)
		}
	}
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithHeader("crit", []string{"exp"}).WithHeader("exp", 1))
	obj, _ := s.Sign([]byte(testClaims))
	crit, _ := obj.CompactSerialize()
	var verr *VerifyError
	if _, _, err := VerifyJWT(crit, set); !errors.As(err, &verr) || verr.Kind != VerifyCritical || !strings.Contains(err.Error(), "critical (crit)") {
		t.Errorf("crit: %v", err)
	}
}

// Two keys of one type that share a kid (a directory in the middle of a
// rotation, say): a token signed by either verifies, and one signed by
// neither says that it was tried with both.
func TestVerifyJWTTriesEveryKeyWithTheKID(t *testing.T) {
	rsaKey, _, _ := testKeys(t)
	second, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	third, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "r1"}, {Key: &second.PublicKey, KeyID: "r1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	set, err := ParseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]*rsa.PrivateKey{"the first": rsaKey, "the second": second} {
		if _, _, err := VerifyJWT(sign(t, jose.RS256, key, "r1"), set); err != nil {
			t.Errorf("a token signed by %s key with kid r1: %v", name, err)
		}
	}
	_, _, err = VerifyJWT(sign(t, jose.RS256, third, "r1"), set)
	if err == nil || !strings.Contains(err.Error(), `none of the 2 keys with kid "r1"`) {
		t.Errorf("a token signed by another key: %v", err)
	}
}

// go-jose's own allow-list is the key's algorithms, not the token's: with
// the checks before it out of the way, a token whose alg the key does not
// allow is still refused by the signature check itself.
func TestTheSignatureCheckAllowsTheKeysAlgorithmsOnly(t *testing.T) {
	rsaKey, ecKey, _ := testKeys(t)
	set, err := ParseJWKS(testJWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	var rsaJWK, ecJWK JWK
	for _, k := range set.Keys {
		switch k.KTY {
		case "RSA":
			rsaJWK = k
		case "EC":
			ecJWK = k
		}
	}
	rs384Only := rsaJWK
	rs384Only.Alg = string(jose.RS384)
	for name, tc := range map[string]struct {
		token string
		key   JWK
		ok    bool
	}{
		"RS256 with an RSA key":           {sign(t, jose.RS256, rsaKey, "r1"), rsaJWK, true},
		"RS256 with an RSA key for RS384": {sign(t, jose.RS256, rsaKey, "r1"), rs384Only, false},
		"ES256 with an RSA key":           {sign(t, jose.ES256, ecKey, "r1"), rsaJWK, false},
		"ES256 with a P-256 key":          {sign(t, jose.ES256, ecKey, "e1"), ecJWK, true},
		"RS256 with a P-256 key":          {sign(t, jose.RS256, rsaKey, "e1"), ecJWK, false},
	} {
		_, err := verifySignature(tc.token, tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %t", name, err, tc.ok)
		}
	}
}
