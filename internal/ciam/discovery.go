package ciam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// DiscoveryPath is the directory's OpenID Connect discovery document.
const DiscoveryPath = "/.well-known/openid-configuration"

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
		return nil, bad("response body is not a JSON discovery document: it " + reason)
	}
	d := Discovery{Raw: body}
	// In the order of the struct (and of OpenID Connect Discovery section
	// 3): the first bad member is the one named, every time.
	for _, m := range []struct {
		name string
		into *string
	}{
		{"issuer", &d.Issuer}, {"authorization_endpoint", &d.AuthorizationEndpoint}, {"token_endpoint", &d.TokenEndpoint},
		{"jwks_uri", &d.JWKSURI}, {"userinfo_endpoint", &d.UserinfoEndpoint}, {"revocation_endpoint", &d.RevocationEndpoint},
	} {
		if raw, ok := members[m.name]; ok && string(raw) != "null" && json.Unmarshal(raw, m.into) != nil {
			return nil, bad("the discovery document's " + m.name + " is not a string")
		}
	}
	for _, m := range []struct {
		name string
		into *[]string
	}{
		{"grant_types_supported", &d.GrantTypesSupported}, {"response_types_supported", &d.ResponseTypesSupported},
		{"scopes_supported", &d.ScopesSupported}, {"token_endpoint_auth_methods_supported", &d.TokenEndpointAuthMethodsSupported},
		{"id_token_signing_alg_values_supported", &d.IDTokenSigningAlgValuesSupported},
	} {
		if raw, ok := members[m.name]; ok && string(raw) != "null" && json.Unmarshal(raw, m.into) != nil {
			return nil, bad("the discovery document's " + m.name + " is not an array of strings")
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

// identicalIssuer reports whether issuer is the auth domain's URL, as
// OpenID Connect Discovery section 4.3 requires: the same string as the base
// URL (lower-case host, the port as configured) with or without a final "/".
// Nothing is folded: another case, a default port spelled out, a path, a
// query or fragment marker, or a character outside ASCII is another issuer.
func identicalIssuer(issuer string, base *url.URL) bool {
	b := base.String()
	return issuer == b || issuer == b+"/"
}
