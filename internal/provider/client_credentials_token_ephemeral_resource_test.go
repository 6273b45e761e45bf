package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func TestAccClientCredentialsTokenEphemeralResource_allAttributes(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	data := tfjsonpath.New("data")
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersionChecks,
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + `
ephemeral "ciam_client_credentials_token" "test" {
  scopes = ["users.read", "identity_proofing"]
}
provider "echo" {
  data = ephemeral.ciam_client_credentials_token.test
}
resource "echo" "test" {}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("id"), isFingerprintOfIssued{srv}),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$`))),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("token_type"), knownvalue.StringExact("Bearer")),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("expires_in"), knownvalue.Int64Exact(299)),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("expires_at"), expiresAround{299 * time.Second}),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("scope"), knownvalue.StringExact("identity_proofing users.read")),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("granted_scopes"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("identity_proofing"), knownvalue.StringExact("users.read"),
				})),
				statecheck.ExpectKnownValue("echo.test", data.AtMapKey("client_id"), knownvalue.Null()),
			},
		}},
	})
}

// After an apply that uses only ephemeral token blocks, the state holds no
// token, yet the tokens reached their consumer (the echo provider's
// configuration), as the fingerprints show.
func TestAccClientCredentialsTokenEphemeralResource_stateHoldsNoToken(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	data := tfjsonpath.New("data")
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersionChecks,
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret,
				"scim_client_id", localciam.DemoSCIMClientID, "scim_client_secret", localciam.DemoSCIMClientSecret) + `
ephemeral "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing"]
}
ephemeral "ciam_scim_token" "sync" {}

provider "echo" {
  data = {
    api_id     = ephemeral.ciam_client_credentials_token.api.id
    api_header = "Bearer ${sha256(ephemeral.ciam_client_credentials_token.api.access_token)}"
    sync_id    = ephemeral.ciam_scim_token.sync.id
  }
}
resource "echo" "consumer" {}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.consumer", data.AtMapKey("api_id"), isFingerprintOfIssued{srv}),
				statecheck.ExpectKnownValue("echo.consumer", data.AtMapKey("sync_id"), isFingerprintOfIssued{srv}),
				statecheck.ExpectKnownValue("echo.consumer", data.AtMapKey("api_header"), knownvalue.StringRegexp(regexp.MustCompile(`^Bearer [0-9a-f]{64}$`))),
				stateHoldsNoIssuedToken{srv},
			},
		}},
	})
	if srv.Requests(localciam.TokenPath) == 0 || srv.Requests(localciam.SCIMTokenPath) == 0 {
		t.Errorf("ephemeral resources made no token request")
	}
}

func TestAccClientCredentialsTokenEphemeralResource_error(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersionChecks,
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + `
ephemeral "ciam_client_credentials_token" "test" {
  scopes = ["admin"]
}
provider "echo" {
  data = ephemeral.ciam_client_credentials_token.test
}
resource "echo" "test" {}
`,
			ExpectError: errorMatching("Invalid CIAM Scope (invalid_scope)", `["admin"]`),
		}},
	})
}
