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

func TestAccSCIMTokenEphemeralResource_allAttributes(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	data := tfjsonpath.New("data")
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersionChecks,
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig(srv.URL()) + `
ephemeral "ciam_scim_token" "test" {}
provider "echo" {
  data = ephemeral.ciam_scim_token.test
}
resource "echo" "test" {}
`,
				ExpectError: errorMatching("Missing CIAM Credentials", "data-sync (SCIM) credentials"),
			},
			{
				Config: testAccProviderConfig(srv.URL()) + `
ephemeral "ciam_scim_token" "test" {
  client_id     = "` + localciam.DemoSCIMClientID + `"
  client_secret = "` + localciam.DemoSCIMClientSecret + `"
}
provider "echo" {
  data = ephemeral.ciam_scim_token.test
}
resource "echo" "test" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("id"), isFingerprintOfIssued{srv}),
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^OAUTH2[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("token_type"), knownvalue.StringExact("Bearer")),
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("expires_in"), knownvalue.Int64Exact(7200)),
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("expires_at"), expiresAround{7200 * time.Second}),
					statecheck.ExpectKnownValue("echo.test", data.AtMapKey("scope"), knownvalue.StringExact("/scim/")),
				},
			},
		},
	})
}
