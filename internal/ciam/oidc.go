package ciam

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
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
// section 4.3): a mix-up defence, so the document is not used. Announced is
// as received (callers bound it when they print it).
type IssuerMismatchError struct {
	Announced, Expected string
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("the discovery document announces issuer %q, but it was fetched from %q; the two must be identical", printable(e.Announced, 256), e.Expected)
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
	bad := func(reason string) error {
		return &Error{Op: "GET " + DiscoveryPath, Host: c.base.Host, StatusCode: http.StatusOK, Reason: reason}
	}
	members, reason := jsonMembers(body)
	if reason != "" {
		return nil, bad("response body is not a JSON discovery document: " + reason)
	}
	d := Discovery{Raw: body}
	for name, into := range map[string]*string{
		"issuer": &d.Issuer, "authorization_endpoint": &d.AuthorizationEndpoint, "token_endpoint": &d.TokenEndpoint,
		"jwks_uri": &d.JWKSURI, "userinfo_endpoint": &d.UserinfoEndpoint, "revocation_endpoint": &d.RevocationEndpoint,
	} {
		if raw, ok := members[name]; ok && string(raw) != "null" && json.Unmarshal(raw, into) != nil {
			return nil, bad("the discovery document's " + name + " is not a string")
		}
	}
	for name, into := range map[string]*[]string{
		"grant_types_supported": &d.GrantTypesSupported, "response_types_supported": &d.ResponseTypesSupported,
		"scopes_supported": &d.ScopesSupported, "token_endpoint_auth_methods_supported": &d.TokenEndpointAuthMethodsSupported,
		"id_token_signing_alg_values_supported": &d.IDTokenSigningAlgValuesSupported,
	} {
		if raw, ok := members[name]; ok && string(raw) != "null" && json.Unmarshal(raw, into) != nil {
			return nil, bad("the discovery document's " + name + " is not an array of strings")
		}
	}
	if d.Issuer == "" {
		return nil, bad("the discovery document has no issuer")
	}
	if !identicalIssuer(d.Issuer, c.base) {
		return nil, &IssuerMismatchError{Announced: d.Issuer, Expected: c.base.String()}
	}
	return &d, nil
}

// jsonMembers reads a JSON object's members by their exact names (JSON
// names are case-sensitive; encoding/json's struct matching is not). A
// member named twice, or anything after the object, is a reason to refuse
// the document: readers could disagree about what it says.
func jsonMembers(body []byte) (map[string]json.RawMessage, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "it is not a JSON object"
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return nil, "it is not valid JSON"
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "it is not valid JSON"
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Sprintf("it names the member %q twice", printable(name, 64))
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, "it is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "it has data after its JSON object"
	}
	return members, ""
}

// identicalIssuer reports whether issuer is the auth domain's URL, as
// OpenID Connect Discovery section 4.3 requires: the same string as the base
// URL (lower-case host, the port as configured) with or without a final "/".
// Nothing is folded: another case, a default port spelled out, a path, a
// query or fragment marker, or a character outside ASCII is another issuer.
func identicalIssuer(issuer string, base *url.URL) bool {
	b := base.String()
	return issuer == b || issuer == b+"/"
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
		discovered, perr := c.documentURL(d.JWKSURI)
		if perr != nil {
			return nil, &Error{Op: "GET " + DiscoveryPath, Host: c.base.Host, StatusCode: http.StatusOK, Reason: "the discovery document's jwks_uri " + perr.Error()}
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
		return nil, &Error{Op: "GET " + u.EscapedPath(), Host: u.Host, StatusCode: http.StatusOK, Reason: err.Error()}
	}
	set.URI = u.String()
	return set, nil
}

// documentURL checks a URL the directory gave for one of its documents:
// https, a host, no user information or fragment. Plain http is accepted
// only when the auth domain itself is a loopback http URL: a remote
// directory must not send the provider to the runner's own loopback.
func (c *Client) documentURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return nil, errors.New("is not an absolute URL")
	case u.User != nil || u.Fragment != "":
		return nil, errors.New("must not hold user information or a fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && c.base.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("uses scheme %q; only https is accepted (http only next to a loopback http auth_domain, for tests)", printable(u.Scheme, 16))
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
		return e.body, e.err
	}
	r := request{method: http.MethodGet, target: u, mode: retrySafe}
	body, err := flight(ctx, &c.docs.flight, key, func(ctx context.Context) ([]byte, error) {
		res, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		var entry docEntry
		switch {
		case res.status >= 200 && res.status <= 299:
			entry = docEntry{body: res.data, at: c.now()}
		case res.status == http.StatusNotFound:
			// Definitive (no discovery document): remembered like a document.
			entry = docEntry{err: c.statusError(r, res), at: c.now()}
		default:
			return nil, c.statusError(r, res)
		}
		c.docs.mu.Lock()
		c.docs.entries[key] = entry
		c.docs.mu.Unlock()
		return entry.body, entry.err
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
	doc, reason := jsonMembers(body)
	if reason != "" {
		return nil, errors.New("the key set is not usable: " + reason)
	}
	rawKeys, ok := doc["keys"]
	member := "keys"
	if alt, hasAlt := doc["Keys"]; hasAlt {
		if ok {
			return nil, errors.New(`the key set has both "keys" and "Keys": readers could disagree about which keys it holds`)
		}
		rawKeys, ok, member = alt, true, "Keys"
	}
	if !ok {
		return nil, errors.New(`the key set has no "keys" member`)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(rawKeys, &raws); err != nil || raws == nil {
		return nil, fmt.Errorf("the key set's %q member is not an array", member)
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
		skip := func(reason string) {
			set.Skipped = append(set.Skipped, SkippedKey{KID: kid, KTY: printable(kty, 16), Reason: reason})
		}
		if reason := notForSignatures(members); reason != "" {
			skip(reason)
			continue
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
			skip(reason)
			continue
		}
		if reason := weakRSA(k); reason != "" {
			skip(reason)
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

// minRSABits is the smallest RSA modulus a key set may publish: keys below
// it are left out rather than handed to gateways (Go itself refuses to
// verify with fewer than 1024 bits).
const minRSABits = 2048

// weakRSA says why an RSA key is not fit to verify signatures, or "".
func weakRSA(k jose.JSONWebKey) string {
	pub, ok := k.Key.(*rsa.PublicKey)
	switch {
	case !ok:
		return ""
	case pub.N.Bit(0) == 0:
		return "it is not a valid RSA key (its modulus is even)"
	case pub.N.BitLen() < minRSABits:
		return fmt.Sprintf("its RSA modulus has %d bits, too few to trust (%d at least)", pub.N.BitLen(), minRSABits)
	}
	return ""
}

// notForSignatures says why a key is not meant to verify signatures (RFC
// 7517 sections 4.2 and 4.3: use "enc", or key_ops without "verify"), or "".
func notForSignatures(members map[string]any) string {
	if use, ok := members["use"]; ok && use != "sig" {
		return fmt.Sprintf("it is not a signing key (use %q)", printable(fmt.Sprint(use), 16))
	}
	if ops, ok := members["key_ops"]; ok {
		list, _ := ops.([]any)
		if !slices.Contains(list, any("verify")) {
			return "it is not a signing key (its key_ops do not include verify)"
		}
	}
	return ""
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
	VerifyCritical     = "critical extension"
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
	if crit, ok := header["crit"]; ok {
		return nil, nil, verifyErr(VerifyCritical, "the token's header marks %s as critical (crit), an extension the provider does not implement, so the token is refused",
			printable(fmt.Sprint(crit), 64))
	}
	sigAlg := jose.SignatureAlgorithm(alg)
	key, err := selectKey(header, set, sigAlg)
	if err != nil {
		return nil, nil, err
	}
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

// selectKey picks the key for a token: by kid (among keys that share one,
// the first whose type and curve fit the algorithm), or the only key of a set
// of one when the token names none.
func selectKey(header map[string]any, set *JWKS, alg jose.SignatureAlgorithm) (JWK, error) {
	kid, hasKID := header["kid"].(string)
	if !hasKID {
		if len(set.Keys) != 1 {
			return JWK{}, verifyErr(VerifyUnknownKID, "the token's header has no kid and the key set holds %d keys; it cannot be told which to use", len(set.Keys))
		}
		return set.Keys[0], nil
	}
	var named []JWK
	for _, k := range set.Keys {
		if k.KID == kid {
			if fitsAlgorithm(k, alg) {
				return k, nil
			}
			named = append(named, k)
		}
	}
	if len(named) > 0 {
		return named[0], nil // it does not fit: the caller says why
	}
	for _, s := range set.Skipped {
		if s.KID == kid {
			return JWK{}, verifyErr(VerifyUnknownKID, "the key set's key with the token's kid %q was left out: %s", printable(kid, 128), s.Reason)
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

// fitsAlgorithm reports whether a key may verify a signature of alg: the
// algorithms of its type (and curve), and its own alg when it has one.
func fitsAlgorithm(k JWK, alg jose.SignatureAlgorithm) bool {
	return slices.Contains(signingAlgorithms[k.KTY], alg) && (k.KTY != "EC" || ecAlgorithmCurve[alg] == k.Crv) && (k.Alg == "" || k.Alg == string(alg))
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
