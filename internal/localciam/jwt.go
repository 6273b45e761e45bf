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
	if err == nil && s.opts.JWKSMember != "" && s.opts.JWKSMember != "keys" {
		var doc map[string]json.RawMessage
		if err = json.Unmarshal(body, &doc); err == nil {
			doc[s.opts.JWKSMember] = doc["keys"]
			delete(doc, "keys")
			body, err = json.Marshal(doc)
		}
	}
	if err != nil {
		http.Error(w, "jwks", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body)
}

// handleDiscovery serves the discovery document as the vendor documents it:
// no userinfo_endpoint and no revocation_endpoint (those paths are fixed,
// not discovered).
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	if s.opts.NoDiscovery {
		http.NotFound(w, r)
		return
	}
	iss := s.issuer(r)
	announced := iss
	if s.opts.AnnouncedIssuer != "" {
		announced = s.opts.AnnouncedIssuer
	}
	doc := map[string]any{
		"issuer":                                announced,
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
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
