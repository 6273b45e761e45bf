package ciam

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Endpoints of the directory's OpenID Connect metadata.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	// JWKSPath is where the CIAM serves its key set; used when the directory
	// serves no discovery document.
	JWKSPath = "/oauth2/jwks"
)

// documentMaxAge bounds how long a fetched document (discovery, JWKS) is
// reused. A provider instance lives for one Terraform walk, so in practice
// every identical block of a walk shares one request.
const documentMaxAge = 5 * time.Minute

// Discovery is the directory's OpenID Connect discovery document.
type Discovery struct {
	// Raw is the document as received.
	Raw []byte

	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
}

// IssuerMismatchError says that the discovery document announces an issuer
// other than the auth domain it was fetched from (OpenID Connect Discovery
// section 4.3): a mix-up defence, so the document is not used.
type IssuerMismatchError struct {
	Announced, Expected string
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("the discovery document announces issuer %q, but it was fetched from %q; the two must be identical", e.Announced, e.Expected)
}

// IsNotFound reports whether err is an answer 404 (e.g. a directory that
// serves no discovery document).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound && e.Code == ""
}

// Discovery fetches and checks the discovery document. Concurrent and
// repeated calls share one request (documents hold no secret). A document
// whose issuer is not the auth domain is an *IssuerMismatchError.
func (c *Client) Discovery(ctx context.Context) (*Discovery, error) {
	u := *c.base
	u.Path = DiscoveryPath
	body, err := c.document(ctx, &u)
	if err != nil {
		return nil, err
	}
	var d Discovery
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&d); err != nil {
		return nil, &Error{Op: "GET " + DiscoveryPath, StatusCode: http.StatusOK, Reason: "response body is not a JSON discovery document (" + jsonProblem(err) + ")"}
	}
	if d.Issuer == "" {
		return nil, &Error{Op: "GET " + DiscoveryPath, StatusCode: http.StatusOK, Reason: "the discovery document has no issuer"}
	}
	if !sameOrigin(d.Issuer, c.base) {
		return nil, &IssuerMismatchError{Announced: printable(d.Issuer, 256), Expected: c.base.String()}
	}
	d.Raw = body
	return &d, nil
}

// jsonProblem says briefly what is wrong with a JSON document, without
// quoting it.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s is a JSON %s, not a %s", printable(typeErr.Field, 64), typeErr.Value, typeErr.Type)
	}
	return "not a JSON object"
}

// sameOrigin reports whether issuer is the base URL: the same scheme and
// host (case-insensitive, default port implied) and no path but "/".
func sameOrigin(issuer string, base *url.URL) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return false
	}
	port := func(v *url.URL) string {
		if p := v.Port(); p != "" {
			return p
		}
		if strings.EqualFold(v.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Hostname(), base.Hostname()) && port(u) == port(base)
}

// JWKS fetches the directory's key set from the discovered jwks_uri, or from
// /oauth2/jwks when the directory serves no discovery document, and parses it
// (see ParseJWKS). Repeated calls share one request.
func (c *Client) JWKS(ctx context.Context) (*JWKS, error) {
	u := *c.base
	u.Path = JWKSPath
	d, err := c.Discovery(ctx)
	switch {
	case err == nil && d.JWKSURI != "":
		discovered, perr := ParseDocumentURL(d.JWKSURI)
		if perr != nil {
			return nil, &Error{Op: "GET " + DiscoveryPath, StatusCode: http.StatusOK, Reason: "the discovery document's jwks_uri " + perr.Error()}
		}
		u = *discovered
	case err != nil && !IsNotFound(err):
		return nil, err
	}
	body, err := c.document(ctx, &u)
	if err != nil {
		return nil, err
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return nil, &Error{Op: "GET " + u.EscapedPath(), StatusCode: http.StatusOK, Reason: err.Error()}
	}
	set.URI = u.String()
	return set, nil
}

// ParseDocumentURL checks a URL the directory gave for one of its
// documents: https (http only to a loopback host), a host, and no user
// information or fragment.
func ParseDocumentURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return nil, errors.New("is not an absolute URL")
	case u.User != nil || u.Fragment != "":
		return nil, errors.New("must not hold user information or a fragment")
	case strings.EqualFold(u.Scheme, "https"):
	case strings.EqualFold(u.Scheme, "http") && IsLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("uses scheme %q; only https (http for a loopback host) is accepted", printable(u.Scheme, 16))
	}
	return u, nil
}

// document GETs a document under the transport rules of every request
// (bounded body, no redirects, retries, redaction), shared between
// concurrent and repeated callers for documentMaxAge.
func (c *Client) document(ctx context.Context, u *url.URL) ([]byte, error) {
	key := u.String()
	c.docs.mu.Lock()
	e, ok := c.docs.entries[key]
	c.docs.mu.Unlock()
	if ok && c.now().Sub(e.at) < documentMaxAge {
		return e.body, nil
	}
	r := request{method: http.MethodGet, target: u, mode: retrySafe}
	body, err := flight(ctx, &c.docs.flight, key, func(ctx context.Context) ([]byte, error) {
		res, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		if res.status < 200 || res.status > 299 {
			return nil, c.statusError(r, res)
		}
		c.docs.mu.Lock()
		c.docs.entries[key] = docEntry{body: res.data, at: c.now()}
		c.docs.mu.Unlock()
		return res.data, nil
	})
	return body, c.waitEnded(ctx, err, r)
}

// JWKS is a parsed JSON Web Key Set.
type JWKS struct {
	// URI is where the set was fetched from (empty when parsed from text).
	URI string
	// Keys are the usable public keys, in the order served.
	Keys []JWK
	// Skipped are keys of a type the provider does not support.
	Skipped []SkippedKey
	// Canonical is the set as RFC 7517 JSON (member "keys"), with the
	// usable keys only.
	Canonical []byte
}

// JWK is one public key with the members the provider exposes.
type JWK struct {
	KID, KTY, Use, Alg string
	// N and E (RSA), X, Y and Crv (EC, OKP), base64url as in the JWK.
	N, E, X, Y, Crv string
	// PublicKeyPEM is the key as a PKIX "PUBLIC KEY" PEM block.
	PublicKeyPEM string
	// Thumbprint is the RFC 7638 SHA-256 thumbprint, base64url.
	Thumbprint string
	// Key is the parsed key, for verification.
	Key jose.JSONWebKey
}

// SkippedKey is a key ParseJWKS left out, with the reason.
type SkippedKey struct {
	KID, KTY, Reason string
}

// privateMembers are the JWK members that hold private or symmetric key
// material (RFC 7518 sections 6.2.2, 6.3.2 and 6.4.1; RFC 8037).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// ParseJWKS parses a JWK set. It accepts the member "keys" (RFC 7517) and,
// as one vendor sample spells it, "Keys". A key that carries private or
// symmetric material makes the whole set an error: a published key set must
// never hold one. Keys of a type other than RSA, EC (P-256, P-384, P-521)
// and OKP Ed25519 are skipped and listed in Skipped. The keys are parsed and
// marshalled by go-jose.
func ParseJWKS(body []byte) (*JWKS, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("the key set is not a JSON object")
	}
	rawKeys, ok := doc["keys"]
	if !ok {
		rawKeys, ok = doc["Keys"]
	}
	if !ok {
		return nil, errors.New(`the key set has no "keys" member`)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(rawKeys, &raws); err != nil {
		return nil, errors.New(`the key set's "keys" member is not an array`)
	}
	set := &JWKS{}
	var keys []jose.JSONWebKey
	for i, raw := range raws {
		var members map[string]any
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, fmt.Errorf("key %d of the set is not a JSON object", i)
		}
		kid, _ := members["kid"].(string)
		kty, _ := members["kty"].(string)
		name := describeKey(i, kid)
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				return nil, fmt.Errorf("%s carries private or symmetric key material (member %q): a published key set must hold public keys only, so the set is refused", name, m)
			}
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.IsPublic() || !supportedKey(k) {
			reason := "go-jose cannot parse it"
			switch {
			case err == nil:
				reason = "its type is not supported (RSA, EC P-256/P-384/P-521 and OKP Ed25519 are)"
			case errors.Is(err, jose.ErrUnsupportedKeyType):
				reason = fmt.Sprintf("its type %q is not supported (RSA, EC and OKP Ed25519 are)", printable(kty, 16))
			}
			set.Skipped = append(set.Skipped, SkippedKey{KID: printable(kid, 128), KTY: printable(kty, 16), Reason: reason})
			continue
		}
		jwk, err := describeJWK(k)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		keys = append(keys, k)
		set.Keys = append(set.Keys, jwk)
	}
	canonical, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("the key set cannot be written back as JSON: %v", err)
	}
	if keys == nil {
		canonical = []byte(`{"keys":[]}`)
	}
	set.Canonical = canonical
	return set, nil
}

func describeKey(i int, kid string) string {
	if kid == "" {
		return fmt.Sprintf("key %d of the set (no kid)", i)
	}
	return fmt.Sprintf("the key with kid %q", printable(kid, 128))
}

func supportedKey(k jose.JSONWebKey) bool {
	return slices.Contains([]string{"RSA", "EC", "OKP"}, keyType(k))
}

// describeJWK fills the members the provider exposes from go-jose's own
// marshalling of the key.
func describeJWK(k jose.JSONWebKey) (JWK, error) {
	b, err := k.MarshalJSON()
	if err != nil {
		return JWK{}, err
	}
	var m struct {
		Kty, Kid, Use, Alg, N, E, X, Y, Crv string
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return JWK{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil {
		return JWK{}, fmt.Errorf("cannot be written as PEM: %v", err)
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return JWK{}, fmt.Errorf("has no thumbprint: %v", err)
	}
	return JWK{
		KID: m.Kid, KTY: m.Kty, Use: m.Use, Alg: m.Alg, N: m.N, E: m.E, X: m.X, Y: m.Y, Crv: m.Crv,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		Thumbprint:   base64.RawURLEncoding.EncodeToString(sum),
		Key:          k,
	}, nil
}

// keyType is the JWK kty of a parsed public key.
func keyType(k jose.JSONWebKey) string {
	b, err := k.MarshalJSON()
	if err != nil {
		return ""
	}
	var m struct{ Kty string }
	_ = json.Unmarshal(b, &m)
	return m.Kty
}

// signingAlgorithms are the algorithms a key of each type may verify. Never
// "none", never HMAC: a public key set cannot verify a shared-secret
// signature, and accepting one is the classic key-confusion attack.
var signingAlgorithms = map[string][]jose.SignatureAlgorithm{
	"RSA": {jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512},
	"EC":  {jose.ES256, jose.ES384, jose.ES512},
	"OKP": {jose.EdDSA},
}

// ecAlgorithmCurve is the curve each ECDSA algorithm requires (RFC 7518
// section 3.4).
var ecAlgorithmCurve = map[jose.SignatureAlgorithm]string{jose.ES256: "P-256", jose.ES384: "P-384", jose.ES512: "P-521"}

// VerifyError is a JWS that does not verify against a key set; Kind says
// why, for callers that need to tell the cases apart.
type VerifyError struct {
	Kind string
	msg  string
}

func (e *VerifyError) Error() string { return e.msg }

// Kinds of VerifyError.
const (
	VerifyMalformed    = "malformed"
	VerifyAlgNone      = "alg none"
	VerifyHMAC         = "hmac"
	VerifyUnknownKID   = "unknown kid"
	VerifyAlgorithm    = "algorithm"
	VerifyBadSignature = "bad signature"
)

func verifyErr(kind, format string, args ...any) error {
	return &VerifyError{Kind: kind, msg: fmt.Sprintf(format, args...)}
}

// VerifyJWT verifies a compact JWS against a key set and returns its header
// and claims (numbers as json.Number), as DecodeJWT does. It selects the key
// by kid (a token without kid needs a set of one key), allows the algorithms
// of the key's type only (RS*/PS* for RSA, ES* with the matching curve for
// EC, EdDSA for Ed25519; never "none", never HMAC), and honours a key's own
// alg. It does not check exp, nbf, iss or aud: the result must not depend on
// the time it is called, and the caller knows which issuer and audience it
// expects. Errors never quote the token.
func VerifyJWT(token string, set *JWKS) (header, claims map[string]any, err error) {
	header, _, err = DecodeJWT(token)
	if err != nil {
		return nil, nil, &VerifyError{Kind: VerifyMalformed, msg: err.Error()}
	}
	alg, _ := header["alg"].(string)
	switch {
	case alg == "":
		return nil, nil, verifyErr(VerifyMalformed, "the token's header has no alg")
	case strings.EqualFold(alg, "none"):
		return nil, nil, verifyErr(VerifyAlgNone, `the token is unsigned (alg "none"); unsigned tokens are never accepted`)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return nil, nil, verifyErr(VerifyHMAC, "the token is signed with HMAC (alg %q), a shared secret; only public-key signatures (RS*, PS*, ES*, EdDSA) are verified against a key set, "+
			"since accepting HMAC here is the classic key-confusion attack", printable(alg, 16))
	}
	key, err := selectKey(header, set)
	if err != nil {
		return nil, nil, err
	}
	sigAlg := jose.SignatureAlgorithm(alg)
	kty := key.KTY
	if !slices.Contains(signingAlgorithms[kty], sigAlg) || (kty == "EC" && ecAlgorithmCurve[sigAlg] != key.Crv) {
		return nil, nil, verifyErr(VerifyAlgorithm, "the token's alg %q does not fit the %s key %q (%s); allowed: %s",
			printable(alg, 16), kty, printable(key.KID, 128), keyDetail(key), algList(kty, key.Crv))
	}
	if key.Alg != "" && key.Alg != alg {
		return nil, nil, verifyErr(VerifyAlgorithm, "the token's alg %q is not the alg %q of the key %q", printable(alg, 16), printable(key.Alg, 16), printable(key.KID, 128))
	}
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(token), []jose.SignatureAlgorithm{sigAlg})
	if err != nil {
		return nil, nil, verifyErr(VerifyMalformed, "the token is not a valid JWS: %s", printable(strings.TrimPrefix(err.Error(), "go-jose/go-jose: "), 160))
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, nil, verifyErr(VerifyBadSignature, "the signature does not verify with the key %q: the token was altered, or signed by another key", printable(key.KID, 128))
	}
	if claims, err = decodeJSONObject(payload, "claims"); err != nil {
		return nil, nil, &VerifyError{Kind: VerifyMalformed, msg: err.Error()}
	}
	return header, claims, nil
}

func selectKey(header map[string]any, set *JWKS) (JWK, error) {
	kid, hasKID := header["kid"].(string)
	if !hasKID {
		if len(set.Keys) != 1 {
			return JWK{}, verifyErr(VerifyUnknownKID, "the token's header has no kid and the key set holds %d keys; it cannot be told which to use", len(set.Keys))
		}
		return set.Keys[0], nil
	}
	for _, k := range set.Keys {
		if k.KID == kid {
			return k, nil
		}
	}
	known := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		known = append(known, fmt.Sprintf("%q", printable(k.KID, 64)))
	}
	sort.Strings(known)
	if len(known) > 10 {
		known = append(known[:10], "...")
	}
	has := "no keys"
	if len(known) > 0 {
		has = "kid " + strings.Join(known, ", ")
	}
	return JWK{}, verifyErr(VerifyUnknownKID, "no key in the set has the token's kid %q (the set has %s); the token was signed by another directory, or with a key the set no longer holds",
		printable(kid, 128), has)
}

func keyDetail(k JWK) string {
	if k.Crv != "" {
		return k.Crv
	}
	return k.KTY
}

func algList(kty, crv string) string {
	var out []string
	for _, a := range signingAlgorithms[kty] {
		if kty == "EC" && ecAlgorithmCurve[a] != crv {
			continue
		}
		out = append(out, string(a))
	}
	return strings.Join(out, ", ")
}
