package localciam

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// signer issues RS256 JWTs whose header carries the key's kid, as the
// vendor's tokens do: {"kid": "<uuid>", "typ": "JWT", "alg": "RS256"}.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

func (s *signer) sign(claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	sg, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: s.key, KeyID: s.kid},
	}, opts)
	if err != nil {
		return "", fmt.Errorf("localciam: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := sg.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("localciam: signing: %w", err)
	}
	return obj.CompactSerialize()
}

// jwks returns the public key set. Like the vendor's, the key carries no
// alg member, so verifiers must pin RS256 themselves.
func (s *signer) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:   &s.key.PublicKey,
		KeyID: s.kid,
		Use:   "sig",
	}}}
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	body, err := json.Marshal(s.signer.jwks())
	if err != nil {
		http.Error(w, "jwks", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body)
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	iss := s.issuer(r)
	doc := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/oauth2/jwks",
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	body, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "discovery", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body)
}

func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	w.WriteHeader(http.StatusMethodNotAllowed)
	return false
}
