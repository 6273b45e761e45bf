package ciam

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

var (
	testKeysOnce sync.Once
	testRSA      *rsa.PrivateKey
	testEC       *ecdsa.PrivateKey
	testEd       ed25519.PrivateKey
)

func testKeys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	testKeysOnce.Do(func() {
		testRSA, _ = rsa.GenerateKey(rand.Reader, 2048)
		testEC, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, testEd, _ = ed25519.GenerateKey(rand.Reader)
	})
	return testRSA, testEC, testEd
}

// testJWKS is a key set with the public halves of the test keys, as the
// vendor serves it: no alg member.
func testJWKS(t *testing.T) []byte {
	rsaKey, ecKey, edKey := testKeys(t)
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "rsa-1", Use: "sig"},
		{Key: &ecKey.PublicKey, KeyID: "ec-1", Use: "sig"},
		{Key: edKey.Public(), KeyID: "ed-1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJWKS(t *testing.T) {
	rsaKey, _, _ := testKeys(t)
	for _, member := range []string{"keys", "Keys"} {
		body := strings.Replace(string(testJWKS(t)), `"keys"`, `"`+member+`"`, 1)
		set, err := ParseJWKS([]byte(body))
		if err != nil || len(set.Keys) != 3 || len(set.Skipped) != 0 {
			t.Fatalf("%s: %v %+v", member, err, set)
		}
		k := set.Keys[0]
		if k.KID != "rsa-1" || k.KTY != "RSA" || k.Use != "sig" || k.Alg != "" || k.E != "AQAB" ||
			k.N != base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes()) {
			t.Errorf("%s: rsa key = %+v", member, k)
		}
		block, _ := pem.Decode([]byte(k.PublicKeyPEM))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if rsaPub, ok := pub.(*rsa.PublicKey); block.Type != "PUBLIC KEY" || err != nil || !ok || rsaPub.N.Cmp(rsaKey.N) != 0 {
			t.Errorf("%s: PEM does not hold the modulus: %v", member, err)
		}
		if ec := set.Keys[1]; ec.KTY != "EC" || ec.Crv != "P-256" || ec.X == "" || ec.Y == "" {
			t.Errorf("%s: ec key = %+v", member, ec)
		}
		if ed := set.Keys[2]; ed.KTY != "OKP" || ed.Crv != "Ed25519" || ed.X == "" {
			t.Errorf("%s: ed key = %+v", member, ed)
		}
		// The canonical set is RFC 7517: member "keys", parseable again.
		var canon map[string][]map[string]any
		if err := json.Unmarshal(set.Canonical, &canon); err != nil || len(canon["keys"]) != 3 {
			t.Errorf("%s: canonical = %s", member, set.Canonical)
		}
	}
	// RFC 7638's example: the thumbprint of its key.
	rfc := `{"keys":[{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}]}`
	set, err := ParseJWKS([]byte(rfc))
	if err != nil || set.Keys[0].Thumbprint != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" || set.Keys[0].Alg != "RS256" {
		t.Errorf("RFC 7638 thumbprint: %v %+v", err, set)
	}
	// An unsupported type is skipped and named; the others are kept.
	mixed := `{"keys":[{"kty":"OKP","crv":"X25519","kid":"enc-1","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},` + rfc[9:len(rfc)-1] + `}`
	set, err = ParseJWKS([]byte(mixed))
	if err != nil || len(set.Keys) != 1 || len(set.Skipped) != 1 || set.Skipped[0].KID != "enc-1" {
		t.Errorf("mixed: %v %+v", err, set)
	}
	// Private or symmetric material refuses the whole set, without quoting it.
	for _, bad := range []string{
		`{"keys":[{"kty":"RSA","kid":"leaky","n":"AQAB","e":"AQAB","d":"c2VjcmV0LXByaXZhdGUtZXhwb25lbnQ"}]}`,
		`{"keys":[{"kty":"oct","kid":"hmac","k":"c2VjcmV0LXNoYXJlZC1rZXktdmFsdWU"}]}`,
	} {
		_, err := ParseJWKS([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), "private or symmetric key material") || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("%s: err = %v", bad[:40], err)
		}
	}
	for _, bad := range []string{`[]`, `{}`, `{"keys":{}}`, `{"keys":[1]}`, `not json`} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// Keys that are not for signatures, or not strong enough, are left out with
// the reason; ambiguous sets are refused.
func TestParseJWKSLeavesOutKeysUnfitToVerify(t *testing.T) {
	rsaKey, _, _ := testKeys(t)
	n := base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes())
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	even := new(big.Int).Lsh(rsaKey.N, 1)
	key := func(kid, extra, modulus string) string {
		return `{"kty":"RSA","kid":"` + kid + `","e":"AQAB","n":"` + modulus + `"` + extra + `}`
	}
	body := `{"keys":[` + strings.Join([]string{
		key("good", `,"use":"sig","key_ops":["verify"]`, n),
		key("enc", `,"use":"enc"`, n),
		key("ops", `,"key_ops":["encrypt"]`, n),
		key("small", "", base64.RawURLEncoding.EncodeToString(small.N.Bytes())),
		key("even", "", base64.RawURLEncoding.EncodeToString(even.Bytes())),
	}, ",") + `]}`
	set, err := ParseJWKS([]byte(body))
	if err != nil || len(set.Keys) != 1 || set.Keys[0].KID != "good" {
		t.Fatalf("%v %+v", err, set)
	}
	reasons := map[string]string{}
	for _, s := range set.Skipped {
		reasons[s.KID] = s.Reason
	}
	for kid, want := range map[string]string{"enc": `use "enc"`, "ops": "key_ops do not include verify", "small": "1024 bits, too few", "even": "modulus is even"} {
		if !strings.Contains(reasons[kid], want) {
			t.Errorf("%s: reason %q, want %q", kid, reasons[kid], want)
		}
	}
	for _, bad := range []string{`{"keys":[],"Keys":[]}`, `{"keys":null}`, `{"keys":[],"keys":[]}`} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	// A token whose key was left out says so.
	token := sign(t, jose.RS256, small, "small")
	if _, _, err := VerifyJWT(token, set); err == nil || !strings.Contains(err.Error(), `kid "small" was left out: its RSA modulus has 1024 bits`) {
		t.Errorf("verify with a left-out key: %v", err)
	}
}

// A key left out says why in words: no kty, a point that is not on its
// curve; not only that go-jose cannot parse it.
func TestSkippedKeysSayWhy(t *testing.T) {
	rsaKey, _, _ := testKeys(t)
	n := base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes())
	coordinate := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	body := `{"keys":[` +
		`{"kid":"good","kty":"RSA","e":"AQAB","n":"` + n + `"},` +
		`{"kid":"nokty","e":"AQAB","n":"` + n + `"},` +
		`{"kid":"offcurve","kty":"EC","crv":"P-256","x":"` + coordinate + `","y":"` + coordinate + `"}]}`
	set, err := ParseJWKS([]byte(body))
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("%v %+v", err, set)
	}
	reasons := map[string]string{}
	for _, s := range set.Skipped {
		reasons[s.KID] = s.Reason
	}
	for kid, want := range map[string]string{"nokty": "it has no kty member", "offcurve": "its point is not on the curve it names (P-256)"} {
		if !strings.Contains(reasons[kid], want) {
			t.Errorf("%s: reason %q, want %q", kid, reasons[kid], want)
		}
	}
}
