package ciam

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

// oidcServer serves a discovery document with the given issuer (the
// server's own URL when empty) and the test key set, counting requests.
func oidcServer(t *testing.T, issuer string, discovery bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case DiscoveryPath:
			if !discovery {
				http.NotFound(w, r)
				return
			}
			iss := issuer
			if iss == "" {
				iss = srv.URL
			}
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%s/oauth2/token","jwks_uri":"%s/keys/v1","grant_types_supported":["authorization_code"]}`, iss, srv.URL, srv.URL)
		case "/keys/v1", JWKSPath:
			_, _ = w.Write(testJWKS(t))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDiscoveryAndJWKSFetch(t *testing.T) {
	srv, n := oidcServer(t, "", true)
	c := clientFor(t, srv.URL, Config{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.JWKS(ctx); err != nil {
				t.Error(err)
			}
			if _, err := c.Discovery(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n.Load() != 2 {
		t.Errorf("100 reads of two documents cost %d requests, want 2", n.Load())
	}
	d, _ := c.Discovery(ctx)
	set, _ := c.JWKS(ctx)
	if d.Issuer != srv.URL || d.GrantTypesSupported[0] != "authorization_code" || d.UserinfoEndpoint != "" || set.URI != srv.URL+"/keys/v1" || len(set.Keys) != 3 {
		t.Errorf("discovery %+v, jwks from %s", d, set.URI)
	}

	// No discovery document: the key set comes from /oauth2/jwks.
	bare, _ := oidcServer(t, "", false)
	set, err := clientFor(t, bare.URL, Config{}).JWKS(ctx)
	if err != nil || set.URI != bare.URL+JWKSPath {
		t.Errorf("fallback: %v %+v", err, set)
	}

	// A document that announces another issuer is refused, for both.
	evil, _ := oidcServer(t, "https://login.example.com", true)
	ec := clientFor(t, evil.URL, Config{})
	for _, f := range []func() error{
		func() error { _, err := ec.Discovery(ctx); return err },
		func() error { _, err := ec.JWKS(ctx); return err },
	} {
		var mismatch *IssuerMismatchError
		if err := f(); !errors.As(err, &mismatch) || mismatch.Announced != "https://login.example.com" || mismatch.Expected != evil.URL {
			t.Errorf("issuer mismatch: %v", err)
		}
	}
}

func TestIdenticalIssuerAndDocumentURLs(t *testing.T) {
	base, _ := ParseAuthDomain("https://sample.portal.tencentciam.com")
	for issuer, want := range map[string]bool{
		"https://sample.portal.tencentciam.com":       true,
		"https://sample.portal.tencentciam.com/":      true,
		"HTTPS://Sample.Portal.TencentCIAM.com":       false, // identical means identical
		"https://sample.portal.tencentciam.com:443":   false,
		"https://sample.portal.tencentciam.com/t1":    false,
		"http://sample.portal.tencentciam.com":        false,
		"https://sample.portal.tencentciam.com:8443":  false,
		"https://evil.example/sample.portal":          false,
		"https://sample.portal.tencentciam.com?":      false,
		"https://sample.portal.tencentciam.com#":      false,
		"https://u@sample.portal.tencentciam.com":     false,
		"https://sample.portal.tencentciam.com.evil/": false,
		"https://sample.portal.tencentciam.coſm":      false,
	} {
		if identicalIssuer(issuer, base) != want {
			t.Errorf("identicalIssuer(%q) = %v", issuer, !want)
		}
	}
	remote := clientFor(t, "https://sample.portal.tencentciam.com", Config{})
	loopback := clientFor(t, "http://127.0.0.1:9", Config{})
	for raw, want := range map[string][2]bool{ // accepted next to a remote, a loopback auth domain
		"https://cdn.example/keys": {true, true},
		"http://127.0.0.1:8/k":     {false, true}, // a remote directory may not send us to our loopback
		"http://cdn.example/keys":  {false, false},
		"/oauth2/jwks":             {false, false},
		"ftp://x/k":                {false, false},
		"https://u:p@x/k":          {false, false},
		"HTTPS://cdn.example/k":    {true, true},
	} {
		for i, c := range []*Client{remote, loopback} {
			if _, err := c.documentURL(raw); (err == nil) != want[i] {
				t.Errorf("documentURL(%q) next to %s = %v", raw, c.base, err)
			}
		}
	}
}

// A discovery document is read by its members' exact names; a member named
// twice, or data after the object, refuses it.
func TestDiscoveryIsReadStrictly(t *testing.T) {
	var body string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.ReplaceAll(body, "SELF", srv.URL))
	}))
	defer srv.Close()
	for doc, want := range map[string]string{
		`{"issuer":"https://evil.example","Issuer":"SELF"}`: "announces issuer",
		`{"ISSUER":"SELF"}`:                                       "has no issuer",
		`{"issuer":"SELF","issuer":"SELF"}`:                       `names the member "issuer" twice`,
		`{"issuer":"SELF"} trailing`:                              "data after its JSON object",
		`{"issuer":"SELF"}{"issuer":"SELF"}`:                      "data after its JSON object",
		`[]`:                                                      "not a JSON object",
		`{"issuer":"SELF","jwks_uri":7}`:                          "jwks_uri is not a string",
		`{"issuer":"SELF","scopes_supported":"openid"}`:           "scopes_supported is not an array of strings",
		`{"issuer":"SELF","scopes_supported":null,"x":{"y":[1]}}`: "",
	} {
		body = doc
		_, err := clientFor(t, srv.URL, Config{}).Discovery(context.Background())
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: err = %v, want %q", doc, err, want)
		}
	}
}

func TestDocumentErrorsAreClear(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"issuer": 42}`)
	}))
	defer srv.Close()
	_, err := clientFor(t, srv.URL, Config{}).Discovery(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the discovery document's issuer is not a string") {
		t.Errorf("err = %v", err)
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

// Without a discovery document, repeated key set reads cost one discovery
// request (the 404 is remembered) and one key set request.
func TestJWKSWithoutDiscoveryIsFetchedOnce(t *testing.T) {
	srv, n := oidcServer(t, "", false)
	c := clientFor(t, srv.URL, Config{})
	for i := 0; i < 20; i++ {
		if _, err := c.JWKS(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 2 {
		t.Errorf("20 key set reads without discovery cost %d requests, want 2", n.Load())
	}
}
