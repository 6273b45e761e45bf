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

const scimAddr = "data.ciam_scim_token.test"

func TestAccSCIMTokenDataSource_allAttributes(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL(), "scim_client_id", localciam.DemoSCIMClientID, "scim_client_secret", localciam.DemoSCIMClientSecret) +
				`data "ciam_scim_token" "test" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{16}$`))),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^OAUTH2[0-9a-f-]{36}$`))),
				statecheck.ExpectSensitiveValue(scimAddr, tfjsonpath.New("access_token")),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("expires_in"), knownvalue.Int64Exact(7200)),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("expires_at"), expiresAround{7200 * time.Second}),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("scope"), knownvalue.StringExact("/scim/")),
				statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("client_id"), knownvalue.Null()),
			},
		}},
	})
}

func TestAccSCIMTokenDataSource_credentialPrecedence(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	// The application's credentials are also registered for data sync, so
	// the fallback can be seen to work.
	srv.SetSCIMClient(localciam.Client{ID: localciam.DemoClientID, Secret: localciam.DemoClientSecret})
	app := []string{"client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// No scim_* credentials: falls back to client_id/client_secret.
				Config: testAccProviderConfig(srv.URL(), app...) + `data "ciam_scim_token" "test" {}`,
				Check:  resource.TestCheckResourceAttr(scimAddr, "scope", "/scim/"),
			},
			{
				// scim_* credentials come first: wrong ones fail although the
				// application's would work.
				Config: testAccProviderConfig(srv.URL(), append(app, "scim_client_id", localciam.DemoSCIMClientID, "scim_client_secret", "wrong-scim-secret")...) +
					`data "ciam_scim_token" "test" {}`,
				ExpectError: errorMatching(`SCIM token request for client_id "demo-sync" with HTTP 401 invalid_client`, "scim_client_id and scim_client_secret came from the provider block"),
			},
			{
				// The block's own credentials override all provider ones.
				Config: testAccProviderConfig(srv.URL(), "scim_client_id", "x", "scim_client_secret", "wrong") + `
data "ciam_scim_token" "test" {
  client_id     = "` + localciam.DemoSCIMClientID + `"
  client_secret = "` + localciam.DemoSCIMClientSecret + `"
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(scimAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
					statecheck.ExpectSensitiveValue(scimAddr, tfjsonpath.New("client_secret")),
				},
			},
			{
				Config:      testAccProviderConfig(srv.URL(), "scim_client_id", localciam.DemoSCIMClientID) + `data "ciam_scim_token" "test" {}`,
				ExpectError: errorMatching("Incomplete CIAM Credentials", "scim_client_secret is missing", "CIAM_SCIM_CLIENT_SECRET"),
			},
			{
				// The fallback to application credentials that are not a
				// data-sync configuration says that it fell back.
				PreConfig: func() {
					srv.SetSCIMClient(localciam.Client{ID: localciam.DemoClientID, Secret: "another-sync-secret", Disabled: true})
				},
				Config:      testAccProviderConfig(srv.URL(), app...) + `data "ciam_scim_token" "test" {}`,
				ExpectError: errorMatching("invalid_client", "No scim_client_id and scim_client_secret are set, so the provider fell back to the application's credentials", "set scim_client_id and scim_client_secret"),
			},
		},
	})
}

func TestAccSCIMTokenDataSource_credentialsFromEnvironment(t *testing.T) {
	srv := startCIAM(t)
	unsetCIAMEnv(t)
	t.Setenv(envSCIMClientID, localciam.DemoSCIMClientID)
	t.Setenv(envSCIMClientSecret, "wrong-env-secret")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccProviderConfig(srv.URL()) + `data "ciam_scim_token" "test" {}`,
				ExpectError: errorMatching("CIAM Rejected The Client Credentials (invalid_client)", "SCIM token request", "CIAM_SCIM_CLIENT_ID"),
			},
			{
				// Config overrides the environment.
				Config: testAccProviderConfig(srv.URL(), "scim_client_secret", localciam.DemoSCIMClientSecret) + `data "ciam_scim_token" "test" {}`,
				Check:  resource.TestCheckResourceAttr(scimAddr, "expires_in", "7200"),
			},
		},
	})
}
