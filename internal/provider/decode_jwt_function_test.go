package provider

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

var functionVersionChecks = []tfversion.TerraformVersionCheck{skipWithout{devenv.Functions}}

// The access token of the vendor's sample (seed 001).
const seedAccessToken = "eyJraWQiOiJmOTY5NGQ5My1kNTQxLTQ5ODUtODhkYy00MjIyOTg3MzAwOGUiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURU5BTlRfQ0xJRU5UX0lEIiwiYXVkIjoiVEVOQU5UX0NMSUVOVF9JRCIsIm5iZiI6MTY0MDU4ODgyOCwic2NvcGUiOlsiaWRlbnRpdHlfcHJvb2ZpbmciXSwiaXNzIjoiaHR0cHM6XC9cL3NhbXBsZS5wb3J0YWwudGVuY2VudGNpYW0uY29tIiwiZXhwIjoxNjQwNTg5MTI4LCJpYXQiOjE2NDA1ODg4MjgsImp0aSI6Ijk5MzliYzNmLTVlZGYtNDZjMy04ZjVjLTJiMWRjMWFjZmE5MCJ9.D8khbU3BkWTHD6sRTY9M_bbRq7AF4MGina2S1ycFA2HOUo-k_P_f81V4fP1DLO7n"

func TestFunctionDecodeJWT_known(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `output "jwt" {
  value = provider::ciam::decode_jwt("` + seedAccessToken + `")
}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("jwt", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"header": knownvalue.ObjectExact(map[string]knownvalue.Check{
						"kid": knownvalue.StringExact("f9694d93-d541-4985-88dc-42229873008e"),
						"typ": knownvalue.StringExact("JWT"),
						"alg": knownvalue.StringExact("RS256"),
					}),
					"claims": knownvalue.ObjectExact(map[string]knownvalue.Check{
						"sub":   knownvalue.StringExact("TENANT_CLIENT_ID"),
						"aud":   knownvalue.StringExact("TENANT_CLIENT_ID"),
						"nbf":   knownvalue.Int64Exact(1640588828),
						"scope": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("identity_proofing")}),
						"iss":   knownvalue.StringExact("https://sample.portal.tencentciam.com"),
						"exp":   knownvalue.Int64Exact(1640589128),
						"iat":   knownvalue.Int64Exact(1640588828),
						"jti":   knownvalue.StringExact("9939bc3f-5edf-46c3-8f5c-2b1dc1acfa90"),
					}),
				})),
			},
		}},
	})
}

// decode_jwt returns the seeds' claims for a token from the local CIAM.
func TestFunctionDecodeJWT_tokenFromLocalCIAM(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccClientCredentialsTokenConfig(srv, `scopes = ["identity_proofing"]`) + `
locals {
  jwt = provider::ciam::decode_jwt(data.ciam_client_credentials_token.test.access_token)
}
output "header" {
  value = nonsensitive(local.jwt.header)
}
# Each plan reads a new token, so only the claims that stay the same are
# compared by value; the others by presence.
output "claims" {
  value = nonsensitive({
    for k, v in local.jwt.claims : k => v if contains(["sub", "aud", "scope", "iss"], k)
  })
}
output "claim_names" {
  value = nonsensitive(sort(keys(local.jwt.claims)))
}
output "lifetime" {
  value = nonsensitive(local.jwt.claims.exp - local.jwt.claims.iat)
}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("header", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"kid": knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`)),
					"typ": knownvalue.StringExact("JWT"),
					"alg": knownvalue.StringExact("RS256"),
				})),
				statecheck.ExpectKnownOutputValue("claims", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"sub":   knownvalue.StringExact(localciam.DemoClientID),
					"aud":   knownvalue.StringExact(localciam.DemoClientID),
					"scope": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("identity_proofing")}),
					"iss":   knownvalue.StringExact(srv.URL()),
				})),
				statecheck.ExpectKnownOutputValue("claim_names", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("aud"), knownvalue.StringExact("exp"), knownvalue.StringExact("iat"), knownvalue.StringExact("iss"),
					knownvalue.StringExact("jti"), knownvalue.StringExact("nbf"), knownvalue.StringExact("scope"), knownvalue.StringExact("sub"),
				})),
				statecheck.ExpectKnownOutputValue("lifetime", knownvalue.Int64Exact(300)),
			},
		}},
	})
}

func TestFunctionDecodeJWT_null(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `output "jwt" { value = provider::ciam::decode_jwt(null) }`,
			ExpectError: errorMatching("Invalid function argument", "argument must not be null"),
		}},
	})
}

func TestFunctionDecodeJWT_unknown(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `resource "terraform_data" "token" {
  input = "` + seedAccessToken + `"
}
output "sub" {
  value = provider::ciam::decode_jwt(terraform_data.token.output).claims.sub
}`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectUnknownOutputValue("sub")}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("sub", knownvalue.StringExact("TENANT_CLIENT_ID")),
			},
		}},
	})
}

func TestFunctionDecodeJWT_malformed(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := b64(`{"alg":"RS256"}`)
	cases := map[string]string{
		"OAUTH2c615b14e-26e9-497a-b5e8-7dd2d649d870": "is not a JWT: it has no dots. It looks like an opaque token; SCIM tokens (ciam_scim_token) are opaque and cannot be decoded.",
		"a.b":              "is not a JWT: it has 2 dot-separated parts, a signed JWT has three (header.claims.signature).",
		"a.b.c.d.e":        "encrypted JWT (JWE",
		"e30.bm90IGpzb24.": "claims segment is not JSON.",
		"!!.e30.sig":       "the token holds a character a JWT cannot hold",
		"A.e30.sig":        "header segment is not base64url.",
		// Numbers that a Terraform number cannot hold are errors that name
		// the claim, not an infinity that fails far away, nor a silent 0.
		header + "." + b64(`{"exp":1e1000000000}`) + ".sig":                `claim "exp" is a number too large to represent (1e1000000000).`,
		header + "." + b64(`{"x":{"y":[-1e1000000000]}}`) + ".sig":         `claim "x.y[0]" is a number too large to represent`,
		header + "." + b64(`{"nbf":1e-1000000000}`) + ".sig":               `claim "nbf" is a number too small to represent (1e-1000000000); it is not 0.`,
		b64(`{"alg":"RS256","n":1e999999999999}`) + "." + b64(`{}`) + ".s": `header member "n" is a number too large to represent`,
	}
	var steps []resource.TestStep
	for in, want := range cases {
		pattern := errorMatching("Invalid JWT", want)
		if strings.HasSuffix(want, ".") {
			// Terraform adds the final period: the message must not.
			pattern = regexp.MustCompile(pattern.String() + `(?:[^.]|$)`)
		}
		steps = append(steps, resource.TestStep{
			Config:      `output "jwt" { value = provider::ciam::decode_jwt("` + in + `") }`,
			ExpectError: pattern,
		})
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
}
