package ciam

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKSPath is where the CIAM serves its key set; used when the directory
// serves no discovery document.
const JWKSPath = "/oauth2/jwks"

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
		return nil, &Error{Op: "GET " + u.EscapedPath(), Host: u.Host, StatusCode: http.StatusOK, Reason: err.Error(), cause: err}
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

// ErrPrivateKeyMaterial marks a key set refused because a key carries
// private or symmetric material: the directory's misconfiguration (its
// error text is empty, so that wrapping it adds nothing).
var ErrPrivateKeyMaterial = errors.New("")

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
		return nil, errors.New("the key set is not usable: it " + reason)
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
				return nil, fmt.Errorf("%s carries private or symmetric key material (member %q): a published key set must hold public keys only, so the set is refused%w", name, m, ErrPrivateKeyMaterial)
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
			skip(unparsableKey(members, err))
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

// unparsableKey says why a key go-jose did not turn into a usable public
// key is left out, in words a directory's operator can act on.
func unparsableKey(members map[string]any, err error) string {
	kty, _ := members["kty"].(string)
	crv, _ := members["crv"].(string)
	text := ""
	if err != nil {
		text = strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
	}
	switch {
	case members["kty"] == nil:
		return "it has no kty member, so its type is unknown"
	case err == nil:
		return "its type is not supported (RSA, EC P-256/P-384/P-521 and OKP Ed25519 are)"
	case errors.Is(err, jose.ErrUnsupportedKeyType):
		return fmt.Sprintf("its type %q is not supported (RSA, EC and OKP Ed25519 are)", printable(kty, 16))
	case strings.Contains(text, "not on declared curve"):
		return fmt.Sprintf("its point is not on the curve it names (%s), so it is not a valid EC key", printable(crv, 16))
	case strings.Contains(text, "unsupported elliptic curve"):
		return fmt.Sprintf("its curve %q is not supported (P-256, P-384 and P-521 are)", printable(crv, 16))
	}
	return "it is not a valid " + printable(kty, 16) + " key: " + printable(text, 120)
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
