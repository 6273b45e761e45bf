package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const acAddr = "ciam_authorization_code_token.test"

func issueCode(t *testing.T, srv *localciam.Server, challenge string) string {
	t.Helper()
	code, err := srv.IssueCode(localciam.AuthorizeRequest{
		ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid", CodeChallenge: challenge,
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func testAccAuthorizationCodeTokenConfig(srv *localciam.Server, code, minRemaining string) string {
	return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + fmt.Sprintf(`
resource "ciam_authorization_code_token" "test" {
  code          = %q
  redirect_uri  = %q
  min_remaining = %q
}
`, code, localciam.DemoRedirectURI, minRemaining)
}

// grantsAre checks how many codes were exchanged and tokens refreshed.
func grantsAre(srv *localciam.Server, codes int64, minRefreshes int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := srv.Grants(localciam.GrantAuthorizationCode); got != codes {
			return fmt.Errorf("codes exchanged = %d, want %d", got, codes)
		}
		if got := srv.Grants(localciam.GrantRefreshToken); got < minRefreshes {
			return fmt.Errorf("refreshes = %d, want at least %d", got, minRefreshes)
		}
		return nil
	}
}

func recordAttr(name string, into *[]string) resource.TestCheckFunc {
	return resource.TestCheckResourceAttrWith(acAddr, name, func(v string) error {
		*into = append(*into, v)
		return nil
	})
}

func TestAccAuthorizationCodeTokenResource_lifecycle(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code1, code2 := issueCode(t, srv, ""), issueCode(t, srv, "")
	var access, refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Create exchanges the code once.
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "1m"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("id"), isFingerprintOfIssued{srv}),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("expires_in"), knownvalue.Int64Exact(299)),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("expires_at"), expiresAround{299 * time.Second}),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("scope"), knownvalue.StringExact("openid")),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("min_remaining"), knownvalue.StringExact("1m")),
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("id_token"), knownvalue.StringRegexp(regexp.MustCompile(`^eyJ`))),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("access_token")),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("refresh_token")),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("id_token")),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("code")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0), recordAttr("access_token", &access), recordAttr("refresh_token", &refresh)),
			},
			{
				// The same configuration again: plan and apply, nothing resent.
				Config:           testAccAuthorizationCodeTokenConfig(srv, code1, "1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            grantsAre(srv, 1, 0),
			},
			{
				RefreshState: true,
				Check:        grantsAre(srv, 1, 0),
			},
			{
				// min_remaining changes in place.
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// With 10m wanted and 299s left, a refresh renews the token
				// through the refresh token; the code is still not resent.
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					grantsAre(srv, 1, 1),
					recordAttr("access_token", &access),
					func(*terraform.State) error {
						if access[len(access)-1] == access[0] {
							return fmt.Errorf("the access token was not renewed")
						}
						return nil
					},
				),
			},
			{
				// A new code replaces the resource: the old refresh token is
				// revoked, the new code exchanged.
				Config: testAccAuthorizationCodeTokenConfig(srv, code2, "1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					grantsAre(srv, 2, 1),
					func(*terraform.State) error {
						if !srv.RefreshTokenRevoked(refresh[0]) {
							return fmt.Errorf("the replaced resource's refresh token was not revoked")
						}
						return nil
					},
				),
			},
			{
				ResourceName:  acAddr,
				ImportState:   true,
				ImportStateId: "anything",
				ExpectError:   regexp.MustCompile(`(?i)does not support import|doesn't support import|not support import`),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if n := srv.Revocations(); n != 2 {
				return fmt.Errorf("revocations = %d, want 2 (replace and destroy)", n)
			}
			return nil
		},
	})
}

func TestAccAuthorizationCodeTokenResource_rejectedRefreshLeavesState(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code1, code2 := issueCode(t, srv, ""), issueCode(t, srv, "")
	var refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				Check:  recordAttr("refresh_token", &refresh),
			},
			{
				// An administrator revokes the refresh token: the next read
				// removes the resource (with a warning) and a create is planned.
				PreConfig:          func() { srv.RevokeRefreshToken(refresh[0]) },
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources[acAddr]; ok {
						return fmt.Errorf("the resource is still in state")
					}
					return nil
				},
			},
			{
				// Creating it again with the spent code fails clearly.
				Config:      testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				ExpectError: errorMatching("CIAM Rejected The Grant (invalid_grant)", "single-use", "was not retried"),
			},
			{
				Config: testAccAuthorizationCodeTokenConfig(srv, code2, "10m"),
				Check:  grantsAre(srv, 2, 0),
			},
		},
	})
}

func TestAccAuthorizationCodeTokenResource_pkce(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	good := issueCode(t, srv, localciam.S256Challenge(verifier))
	bad := issueCode(t, srv, localciam.S256Challenge(verifier))
	cfg := func(code, v string) string {
		// No client secret anywhere: a public client.
		return testAccProviderConfig(srv.URL()) + fmt.Sprintf(`
resource "ciam_authorization_code_token" "test" {
  code          = %q
  redirect_uri  = %q
  code_verifier = %q
  client_id     = %q
}
`, code, localciam.DemoRedirectURI, v, localciam.DemoClientID)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg(bad, "Wq3Xz9LmN0pR5tV7yB2cD4fG6hJ8kA1sE3uI5oP7aZx"),
				ExpectError: errorMatching("(invalid_client)", "In PKCE mode the CIAM also answers invalid_client", "code_verifier matches the code_challenge"),
			},
			{
				Config: cfg(good, verifier),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("code_verifier")),
				},
			},
		},
		// The local CIAM requires the secret to revoke; without one the
		// revocation fails, which is a warning: destroy still succeeds.
		CheckDestroy: func(*terraform.State) error {
			if srv.Revocations() != 0 {
				return fmt.Errorf("revocation unexpectedly succeeded without a client secret")
			}
			return nil
		},
	})
}

func TestAccAuthorizationCodeTokenResource_validation(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccAuthorizationCodeTokenConfig(srv, "c", "soon"),
				ExpectError: errorMatching("Invalid Duration", `min_remaining must be a duration such as 10s, 2m or 1h30m; got "soon"`),
			},
			{
				Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID) + `
resource "ciam_authorization_code_token" "test" {
  code         = "c"
  redirect_uri = "https://app.example.com/callback"
}`,
				ExpectError: errorMatching("Missing CIAM Client Secret", "code_verifier"),
			},
			{
				// A block client_id without the block's secret fails at
				// plan time, and does not point at the provider's secret,
				// which belongs to another client.
				Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + `
resource "ciam_authorization_code_token" "test" {
  code         = "c"
  redirect_uri = "https://app.example.com/callback"
  client_id    = "other-app"
}`,
				PlanOnly:    true,
				ExpectError: errorMatching("Missing Client Secret", "this block's client_id needs this block's client_secret", "the provider's client_secret belongs to the provider's client_id", "code_verifier"),
			},
		},
	})
}
