package ciam

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

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
	keys, err := selectKeys(header, set, sigAlg)
	if err != nil {
		return nil, nil, err
	}
	key := keys[0]
	kty := key.KTY
	if !slices.Contains(signingAlgorithms[kty], sigAlg) || (kty == "EC" && ecAlgorithmCurve[sigAlg] != key.Crv) {
		return nil, nil, verifyErr(VerifyAlgorithm, "the token's alg %q does not fit the %s key %q (%s); allowed: %s",
			printable(alg, 16), kty, printable(key.KID, 128), keyDetail(key), algList(key))
	}
	if key.Alg != "" && key.Alg != alg {
		return nil, nil, verifyErr(VerifyAlgorithm, "the token's alg %q is not the alg %q of the key %q", printable(alg, 16), printable(key.Alg, 16), printable(key.KID, 128))
	}
	// Every key with the kid that fits is tried: a set may hold two (a
	// directory that rotates keys and kept the kid); the first that
	// verifies wins.
	var payload []byte
	for _, k := range keys {
		if payload, err = verifySignature(token, k); err == nil {
			break
		}
	}
	var verr *VerifyError
	if err != nil && len(keys) > 1 && errors.As(err, &verr) && verr.Kind == VerifyBadSignature {
		err = verifyErr(VerifyBadSignature, "none of the %d keys with kid %q verifies the signature: the token was altered, or signed by another key",
			len(keys), printable(key.KID, 128))
	}
	if err != nil {
		return nil, nil, err
	}
	if claims, err = decodeJSONObject(payload, "claims"); err != nil {
		return nil, nil, &VerifyError{Kind: VerifyMalformed, msg: err.Error()}
	}
	return header, claims, nil
}

// verifySignature has go-jose check the token's signature with key, allowing
// the algorithms the key may verify (never the ones the token names): the
// checks before it give the clearer message, and this one holds without
// them.
func verifySignature(token string, key JWK) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(token), key.algorithms())
	if err != nil {
		return nil, verifyErr(VerifyMalformed, "the token is not a valid JWS: %s", printable(strings.TrimPrefix(err.Error(), "go-jose/go-jose: "), 160))
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, verifyErr(VerifyBadSignature, "the signature does not verify with the key %q: the token was altered, or signed by another key", printable(key.KID, 128))
	}
	return payload, nil
}

// selectKeys picks the keys to try for a token: by kid (every key with it
// whose type and curve fit the algorithm, in the order served; when none
// fits, the first with the kid, for the caller to say why), or the only key
// of a set of one when the token names none.
func selectKeys(header map[string]any, set *JWKS, alg jose.SignatureAlgorithm) ([]JWK, error) {
	kid, hasKID := header["kid"].(string)
	if !hasKID {
		if len(set.Keys) != 1 {
			return nil, verifyErr(VerifyUnknownKID, "the token's header has no kid and the key set holds %d keys; it cannot be told which to use", len(set.Keys))
		}
		return set.Keys[:1], nil
	}
	var fit, named []JWK
	for _, k := range set.Keys {
		if k.KID == kid {
			if fitsAlgorithm(k, alg) {
				fit = append(fit, k)
			}
			named = append(named, k)
		}
	}
	switch {
	case len(fit) > 0:
		return fit, nil
	case len(named) > 0:
		return named[:1], nil // it does not fit: the caller says why
	}
	for _, s := range set.Skipped {
		if s.KID == kid {
			return nil, verifyErr(VerifyUnknownKID, "the key set's key with the token's kid %q was left out: %s", printable(kid, 128), s.Reason)
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
	return nil, verifyErr(VerifyUnknownKID, "no key in the set has the token's kid %q (the set has %s); the token was signed by another directory, or with a key the set no longer holds",
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

// algorithms are the signature algorithms k may verify: those of its type
// (and curve), and only its own alg when it has one.
func (k JWK) algorithms() []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range signingAlgorithms[k.KTY] {
		if fitsAlgorithm(k, a) {
			out = append(out, a)
		}
	}
	return out
}

func algList(k JWK) string {
	var out []string
	for _, a := range k.algorithms() {
		out = append(out, string(a))
	}
	return strings.Join(out, ", ")
}
