package provider

import (
	"encoding/base64"
	"fmt"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// verifyJWTConfig fetches a real access token and the key set from the local
// CIAM and passes the token through expr (in which TOKEN is the token) to
// verify_jwt.
func verifyJWTConfig(srv *localciam.Server, expr string) string {
	return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + fmt.Sprintf(`
data "ciam_client_credentials_token" "t" {
  scopes = ["openid"]
}
data "ciam_jwks" "k" {}
locals {
  token = data.ciam_client_credentials_token.t.access_token
  parts = split(".", local.token)
}
locals {
  verified = provider::ciam::verify_jwt(%s, data.ciam_jwks.k.json)
}
# Every plan reads a new token: only the members that stay the same.
output "verified" {
  value = {
    claims = { for k in ["sub", "iss", "scope"] : k => nonsensitive(local.verified.claims[k]) }
    header = nonsensitive(local.verified.header)
  }
}
`, expr)
}

func TestFunctionVerifyJWT(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	kid, _ := servedKey(t, srv)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	hmacToken := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		obj, _ := s.Sign([]byte(`{"sub":"demo-app"}`))
		out, _ := obj.CompactSerialize()
		return out
	}()
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// A real access token verifies and gives its claims.
				Config: verifyJWTConfig(srv, "local.token"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValueAtPath("verified", tfpath("claims", "sub"), knownvalue.StringExact(localciam.DemoClientID)),
					statecheck.ExpectKnownOutputValueAtPath("verified", tfpath("claims", "iss"), knownvalue.StringExact(srv.URL())),
					statecheck.ExpectKnownOutputValueAtPath("verified", tfpath("claims", "scope"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("openid")})),
					statecheck.ExpectKnownOutputValueAtPath("verified", tfpath("header", "kid"), knownvalue.StringExact(kid)),
					statecheck.ExpectKnownOutputValueAtPath("verified", tfpath("header", "alg"), knownvalue.StringExact("RS256")),
				},
			},
			{
				// A tampered signature.
				Config:      verifyJWTConfig(srv, `join(".", [local.parts[0], local.parts[1], "${substr(local.parts[2], 0, 40)}${strrev(substr(local.parts[2], 40, -1))}"])`),
				ExpectError: errorMatching("Invalid function argument", `Invalid value for "token" parameter: JWT not verified: the signature does not verify`),
			},
			{
				// Tampered claims under the real signature.
				Config:      verifyJWTConfig(srv, fmt.Sprintf(`join(".", [local.parts[0], %q, local.parts[2]])`, b64(`{"sub":"admin","iss":"`+srv.URL()+`"}`))),
				ExpectError: errorMatching("JWT not verified: the signature does not verify", "altered"),
			},
			{
				Config:      verifyJWTConfig(srv, fmt.Sprintf(`join(".", [%q, local.parts[1], ""])`, b64(`{"alg":"none","kid":"`+kid+`"}`))),
				ExpectError: errorMatching(`JWT not verified: the token is unsigned (alg "none")`),
			},
			{
				Config:      verifyJWTConfig(srv, fmt.Sprintf("%q", hmacToken)),
				ExpectError: errorMatching("JWT not verified: the token is signed with HMAC", "HS256"),
			},
			{
				Config:      verifyJWTConfig(srv, fmt.Sprintf(`join(".", [%q, local.parts[1], local.parts[2]])`, b64(`{"alg":"RS256","kid":"retired-key"}`))),
				ExpectError: errorMatching(`JWT not verified: no key in the set has the token's kid "retired-key"`),
			},
			{
				Config:      verifyJWTConfig(srv, `"not-a-jwt"`),
				ExpectError: errorMatching("Invalid JWT: the token is not a JWT"),
			},
			{
				Config: testAccProviderConfig(srv.URL()) + `output "v" {
  value = provider::ciam::verify_jwt("a.b.c", "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}]}")
}`,
				ExpectError: errorMatching(`Invalid value for "jwks" parameter: Invalid JWKS: the key with kid "h" carries private or symmetric key material`),
			},
			{
				// The post-test destroy runs with the last configuration.
				Config: verifyJWTConfig(srv, "local.token"),
			},
		},
	})
}

// tfpath is a path into an output's value.
func tfpath(keys ...string) tfjsonpath.Path {
	p := tfjsonpath.New(keys[0])
	for _, k := range keys[1:] {
		p = p.AtMapKey(k)
	}
	return p
}
