package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
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

// grantsAre checks the exact number of requests the directory has received
// so far, failed ones included: code exchanges, refresh-token grants and
// revocations. The counts are cumulative. Where a step's reads renew, its
// comment says which terraform command sent what: terraform-plugin-testing
// runs, per configuration step, a plan (with a read), the apply of that plan
// (Check runs here), a plan with -refresh=false, and a plan with a read.
func grantsAre(srv *localciam.Server, codes, refreshes, revocations int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := [3]int64{srv.Attempts(localciam.GrantAuthorizationCode), srv.Attempts(localciam.GrantRefreshToken), srv.Requests(localciam.RevokePath)}
		if want := [3]int64{codes, refreshes, revocations}; got != want {
			return fmt.Errorf("(code exchanges, refreshes, revocations) = %v, want %v", got, want)
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
	changed := func(*terraform.State) error {
		if access[len(access)-1] == access[len(access)-2] {
			return fmt.Errorf("the access token was not renewed")
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Create exchanges the code once. 299 s left and 1m wanted:
				// no read of this test renews until min_remaining changes.
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
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("access_token", &access), recordAttr("refresh_token", &refresh)),
			},
			{
				// The same configuration again: plan and apply, nothing sent.
				Config:           testAccAuthorizationCodeTokenConfig(srv, code1, "1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            grantsAre(srv, 1, 0, 0),
			},
			{
				RefreshState: true,
				Check:        grantsAre(srv, 1, 0, 0),
			},
			{
				// min_remaining changes in place: the read (under 1m) sends
				// nothing, the apply (under 10m) renews once. From here every
				// read renews, 10m being more than the token's 299 s: the
				// plan with a read after this apply sends the second.
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 1, 0), recordAttr("access_token", &access), changed),
			},
			{
				// A refresh renews through the refresh token (the third); the
				// code is not resent. Its plan sends the fourth.
				RefreshState: true,
				Check:        resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 3, 0), recordAttr("access_token", &access), changed),
			},
			{
				// One renewal per run: the plan's read renews (the fifth),
				// and the apply, though min_remaining is raised and the new
				// token is due under it, sends nothing more. The plan with a
				// read after it sends the sixth.
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "20m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(acAddr, tfjsonpath.New("access_token"), knownvalue.NotNull()),
				}},
				Check: grantsAre(srv, 1, 5, 0),
			},
			{
				// A new code is exchanged in place: the plan's read renews
				// (the seventh), the apply exchanges the new code, then
				// revokes the old refresh token.
				Config: testAccAuthorizationCodeTokenConfig(srv, code2, "1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					grantsAre(srv, 2, 7, 1),
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
				ExpectError:   errorMatching("Import Not Supported For ciam_authorization_code_token"),
			},
		},
		// The destroy sends the second revocation and nothing else.
		CheckDestroy: grantsAre(srv, 2, 7, 2),
	})
}

// A grant whose refresh token the directory rejects is lost. It stays in
// state, so that no later plan creates it again with the spent code: every
// plan that keeps the code fails, naming what is needed, and the code is
// never sent again; a new code replaces it.
func TestAccAuthorizationCodeTokenResource_rejectedRefreshKeepsTheLostGrant(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code1, code2 := issueCode(t, srv, ""), issueCode(t, srv, "")
	var refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Every read renews (10m wanted, 299 s held): the plan with a
				// read after the apply sends the first refresh.
				Config: testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				Check:  resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("refresh_token", &refresh)),
			},
			{
				// An administrator revokes the refresh token: the next read
				// sends it (the second refresh) and finds the grant lost;
				// the plan that follows says a new code is needed. (terraform
				// refresh plans too, so it fails, and saves nothing.)
				PreConfig:    func() { srv.RevokeRefreshToken(refresh[0]) },
				RefreshState: true,
				ExpectError:  errorMatching("New Authorization Code Needed", "is lost", "the directory rejected its refresh token (invalid_grant)", "never sent again", "set code to it"),
			},
			{
				// Every plan that keeps the code fails the same way. Its read
				// finds the grant lost again (the third refresh: nothing
				// recorded the loss); the code is not sent.
				Config:      testAccAuthorizationCodeTokenConfig(srv, code1, "10m"),
				ExpectError: errorMatching("New Authorization Code Needed", "is lost"),
			},
			{
				// A new code replaces the grant, in place (the plan's read:
				// the fourth refresh); the lost grant has nothing to revoke.
				Config: testAccAuthorizationCodeTokenConfig(srv, code2, "10m"),
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 2, 4, 0), func(*terraform.State) error {
					if srv.Presented(code1) != 1 {
						return fmt.Errorf("the spent code reached the directory %d times", srv.Presented(code1))
					}
					return nil
				}),
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
				ExpectError: errorMatching("CIAM Rejected The PKCE Exchange (invalid_client)", "No client secret was sent (PKCE)", "code_verifier matches the code_challenge"),
			},
			{
				Config: cfg(good, verifier),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
					statecheck.ExpectSensitiveValue(acAddr, tfjsonpath.New("code_verifier")),
				},
				Check: grantsAre(srv, 2, 0, 0),
			},
		},
		// The local CIAM requires the secret to revoke; without one the
		// revocation is sent once and fails, which is a warning: destroy
		// still succeeds.
		CheckDestroy: func(s *terraform.State) error {
			if srv.Revocations() != 0 {
				return fmt.Errorf("revocation unexpectedly succeeded without a client secret")
			}
			return grantsAre(srv, 2, 0, 1)(s)
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
			{
				// A code read with file() keeps the file's final newline:
				// an error at plan time, not an invalid_grant that spends
				// nothing but suggests getting a new code.
				Config:      acConfig(srv, "c0de\n", "redirect_uri", `"https://app.example.com/callback"`),
				ExpectError: errorMatching("Leading Or Trailing Whitespace", "code starts or ends with whitespace", "trimspace(file("),
			},
			{
				Config:      acConfig(srv, "c0de", "redirect_uri", `"https://app.example.com/callback"`, "client_id", `"app"`, "client_secret", `" s3cret"`),
				ExpectError: errorMatching("Leading Or Trailing Whitespace", "client_secret starts or ends with whitespace"),
			},
		},
	})
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

// acConfig is a ciam_authorization_code_token with the given arguments
// (besides code), provider credentials in the provider block.
func acConfig(srv *localciam.Server, code string, args ...string) string {
	var b strings.Builder
	b.WriteString(testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret))
	fmt.Fprintf(&b, "resource \"ciam_authorization_code_token\" \"test\" {\n  code = %q\n", code)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, "  %s = %s\n", args[i], args[i+1])
	}
	b.WriteString("}\n")
	return b.String()
}

// A create whose directory is down never sends the code, and says that it
// is still good rather than that it must never be sent twice.
func TestAccAuthorizationCodeTokenResource_createWhileTheDirectoryIsDown(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	down := localciam.StartTest(t, localciam.Options{})
	url := down.URL()
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// max_retries keeps its default: every attempt fails to connect.
				Config:      strings.Replace(acConfig(srv, code, "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI)), srv.URL(), url, 1),
				ExpectError: regexp.MustCompile(`(?s)never sent.*still good`),
			},
			{
				// Still good indeed: the ledger of sent codes released it.
				Config: acConfig(srv, code, "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI)),
				Check:  grantsAre(srv, 1, 0, 0),
			},
		},
	})
	if n := srv.Presented(code); n != 1 {
		t.Errorf("the code reached the directory %d times, want 1", n)
	}
}

// A redirect_uri that is not exactly the one the code was issued for (an
// extra trailing slash) is named among the causes of the rejection, with
// the value sent: a new code alone would fail the same way.
func TestAccAuthorizationCodeTokenResource_redirectURIMismatch(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acConfig(srv, code, "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI+"/")),
				ExpectError: errorMatching("CIAM Rejected The Grant (invalid_grant)", "redirect_uri", `"`+localciam.DemoRedirectURI+`/"`,
					"exactly the one", "/oauth2/authorize"),
			},
			{
				// A query may carry anything: it is shown by its length.
				Config:      acConfig(srv, issueCode(t, srv, ""), "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI+"?state=Qs7-private-value")),
				ExpectError: errorMatching("CIAM Rejected The Grant (invalid_grant)", `"`+localciam.DemoRedirectURI+`" with a query of 23 characters`),
			},
		},
	})
}

// A code requested with a code_challenge (PKCE) and exchanged without
// code_verifier is rejected; the error names that cause too, since a new
// code alone would fail the same way.
func TestAccAuthorizationCodeTokenResource_pkceCodeWithoutVerifier(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, localciam.S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acConfig(srv, code, "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI)),
				ExpectError: errorMatching("CIAM Rejected The Grant (invalid_grant)", "code_challenge", "code_verifier is not set",
					"check redirect_uri and code_verifier"),
			},
		},
	})
}

// A redirect_uri that no code can have been issued for (not absolute, or
// with a fragment), and a code_verifier that RFC 7636 does not allow, fail
// at plan time, before the code is sent; a verifier's error never shows it.
func TestAccAuthorizationCodeTokenResource_redirectURIAndVerifierChecks(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	verifier := func(v string) string {
		return acConfig(srv, "c0de", "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI), "code_verifier", fmt.Sprintf("%q", v))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: acConfig(srv, "c0de", "redirect_uri", `"app.example.com/callback"`), ExpectError: errorMatching("Invalid Redirect URI", "absolute URI")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https://app.example.com/callback#top"`), ExpectError: errorMatching("Invalid Redirect URI", "fragment")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https:///callback"`), ExpectError: errorMatching("Invalid Redirect URI", "https URI needs a host")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https:"`), ExpectError: errorMatching("Invalid Redirect URI", "https URI needs a host")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"http://:8080/cb"`), ExpectError: errorMatching("Invalid Redirect URI", "http URI needs a host")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https://app.exa\u200bmple.com/callback"`), ExpectError: errorMatching("Invalid Redirect URI", "whitespace or an invisible character")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https://app.example.com/call back"`), ExpectError: errorMatching("Invalid Redirect URI", "whitespace or an invisible character")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"https://app.example.com/%zz"`), ExpectError: errorMatching("Invalid Redirect URI", "not a valid URI")},
			{Config: acConfig(srv, "c0de", "redirect_uri", `"javascript:alert(1)"`), ExpectError: errorMatching("Invalid Redirect URI", "javascript")},
			{Config: verifier(strings.Repeat("v", 42)), ExpectError: errorMatching("Invalid Code Verifier", "it has 42 characters")},
			{Config: verifier(strings.Repeat("é", 40)), ExpectError: errorMatching("Invalid Code Verifier", "it has 40 characters")},
			{Config: verifier(strings.Repeat("v", 42) + "+"), ExpectError: errorMatching("Invalid Code Verifier", "holds another character")},
			{
				// A private-use scheme (RFC 8252) is an absolute URI.
				Config: acConfig(srv, "c0de", "redirect_uri", `"com.example.app:/callback"`), PlanOnly: true, ExpectNonEmptyPlan: true,
			},
		},
	})
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

// A confidential client refused at the exchange (invalid_client): the CIAM
// gives that answer for a wrong secret, and also for a code issued to
// another client_id, after it looked at the code (seed 003). So the code
// may be spent: it is not sent again, even once the secret is right, and a
// new code works.
func TestAccAuthorizationCodeTokenResource_createWithAWrongSecret(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	cfg := func(code, secret string) string {
		return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", secret) +
			fmt.Sprintf("resource \"ciam_authorization_code_token\" \"test\" {\n  code = %q\n  redirect_uri = %q\n}\n", code, localciam.DemoRedirectURI)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(code, "wrong-secret"), ExpectError: errorMatching("invalid_client", "code issued to another client_id", "not sent again")},
			{Config: cfg(code, localciam.DemoClientSecret), ExpectError: errorMatching("New Authorization Code Needed")},
			{Config: cfg(issueCode(t, srv, ""), localciam.DemoClientSecret), Check: grantsAre(srv, 2, 0, 0)},
		},
	})
	if n := srv.Presented(code); n != 1 {
		t.Errorf("the first code reached the directory %d times, want 1", n)
	}
}

// refreshTokenStillWorks checks that the refresh token recorded first still
// works and the resource is still in state.
func refreshTokenStillWorks(srv *localciam.Server, refresh *[]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if _, ok := s.RootModule().Resources[acAddr]; !ok {
			return fmt.Errorf("the resource left state")
		}
		if !srv.RefreshTokenWorks((*refresh)[0]) {
			return fmt.Errorf("the refresh token no longer works")
		}
		return nil
	}
}

// A change that only a new code can satisfy, with the same code, fails at
// plan time and names the attribute; the grant keeps working. A credential
// move that resolves to the same client changes nothing but the arguments.
func TestAccAuthorizationCodeTokenResource_changesThatNeedANewCode(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	srv.SetClient(localciam.Client{ID: "other-app", Secret: "Ot9/h&E+r%1=App2", Grants: []string{localciam.GrantAuthorizationCode, localciam.GrantRefreshToken},
		RedirectURIs: []string{localciam.DemoRedirectURI}, Scopes: []string{"openid"}})
	code := issueCode(t, srv, "")
	redirect := fmt.Sprintf("%q", localciam.DemoRedirectURI)
	var refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acConfig(srv, code, "redirect_uri", redirect, "client_id", `"demo-app"`, "client_secret", fmt.Sprintf("%q", localciam.DemoClientSecret)),
				Check:  resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("refresh_token", &refresh)),
			},
			{
				Config:      acConfig(srv, code, "redirect_uri", `"https://app.example.com/other"`, "client_id", `"demo-app"`, "client_secret", fmt.Sprintf("%q", localciam.DemoClientSecret)),
				ExpectError: errorMatching("New Authorization Code Needed", "redirect_uri", "changed", "obtain a new authorization code", "set code to it"),
			},
			{
				// A query may carry anything: it is shown by its length.
				Config:      acConfig(srv, code, "redirect_uri", `"https://app.example.com/callback?state=Qs7-private-value"`, "client_id", `"demo-app"`, "client_secret", fmt.Sprintf("%q", localciam.DemoClientSecret)),
				ExpectError: errorMatching("redirect_uri changed", `"https://app.example.com/callback" with a query of 23 characters`),
			},
			{
				Config:      acConfig(srv, code, "redirect_uri", redirect, "client_id", `"other-app"`, "client_secret", `"Ot9/h&E+r%1=App2"`),
				ExpectError: errorMatching("New Authorization Code Needed", "client_id", `"demo-app"`, `"other-app"`),
			},
			{
				Config:      acConfig(srv, code, "redirect_uri", redirect, "code_verifier", `"Wq3Xz9LmN0pR5tV7yB2cD4fG6hJ8kA1sE3uI5oP7aZx"`, "client_id", `"demo-app"`, "client_secret", fmt.Sprintf("%q", localciam.DemoClientSecret)),
				ExpectError: errorMatching("New Authorization Code Needed", "code_verifier"),
			},
			{
				// The block's pair moves to the provider block: the same
				// client, so an in-place update that sends nothing.
				Config: acConfig(srv, code, "redirect_uri", redirect),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(acAddr, tfjsonpath.New("access_token"), knownvalue.NotNull()),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(refreshTokenStillWorks(srv, &refresh), grantsAre(srv, 1, 0, 0)),
			},
		},
	})
}

// A change of min_remaining takes effect in the run where it changes: the
// plan shows the token unknown, and the apply, finding it due under the new
// value, renews.
func TestAccAuthorizationCodeTokenResource_minRemainingTakesEffectAtOnce(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	redirect := fmt.Sprintf("%q", localciam.DemoRedirectURI)
	var access []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: acConfig(srv, code, "redirect_uri", redirect, "min_remaining", `"1m"`), Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("access_token", &access))},
			{
				Config: acConfig(srv, code, "redirect_uri", redirect, "min_remaining", `"10m"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("expires_at")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(recordAttr("access_token", &access), grantsAre(srv, 1, 1, 0), func(*terraform.State) error {
					if access[1] == access[0] {
						return fmt.Errorf("the apply did not renew the token")
					}
					return nil
				}),
			},
		},
	})
}

// An in-place update whose read did not decide leaves the decision to the
// apply (the token could become due before it): the plan shows the token
// unknown, and an apply that finds it fresh keeps it, sending nothing.
func TestAccAuthorizationCodeTokenResource_updateKeepsAFreshToken(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	args := func(minRemaining string) []string {
		return []string{"redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI), "min_remaining", minRemaining, "renew_in_plan", "false"}
	}
	var access []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: acConfig(srv, code, args(`"1m"`)...), Check: recordAttr("access_token", &access)},
			{
				Config: acConfig(srv, code, args(`"2m"`)...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("access_token", &access), func(*terraform.State) error {
					if access[1] != access[0] {
						return fmt.Errorf("the fresh token was not kept")
					}
					return nil
				}),
			},
		},
	})
}

// readDecided reads only the state, its private part and the configuration.
func TestReadDecided(t *testing.T) {
	const rt = "rt-1"
	model := func(rip types.Bool, minRemaining types.String) *authorizationCodeTokenModel {
		return &authorizationCodeTokenModel{RenewInPlan: rip, MinRemaining: minRemaining, RefreshToken: types.StringValue(rt)}
	}
	state := model(types.BoolValue(true), types.StringValue("5m"))
	for name, tc := range map[string]struct {
		plan, state *authorizationCodeTokenModel
		grant       grantPrivate
		want        bool
	}{
		"read renews, nothing changed":      {model(types.BoolValue(true), types.StringValue("5m")), state, grantPrivate{}, true},
		"read sent a refresh, min raised":   {model(types.BoolValue(true), types.StringValue("9m")), state, grantPrivate{ReadRenewal: renewalMark(rt)}, true},
		"an earlier token's mark":           {model(types.BoolValue(true), types.StringValue("9m")), state, grantPrivate{ReadRenewal: renewalMark("rt-0")}, false},
		"min raised":                        {model(types.BoolValue(true), types.StringValue("9m")), state, grantPrivate{}, false},
		"min unknown":                       {model(types.BoolValue(true), types.StringUnknown()), state, grantPrivate{}, false},
		"switched to renewal at apply":      {model(types.BoolValue(false), types.StringValue("5m")), state, grantPrivate{}, false},
		"renew_in_plan unknown":             {model(types.BoolUnknown(), types.StringValue("5m")), state, grantPrivate{}, false},
		"read deferred: settings unknown":   {model(types.BoolValue(true), types.StringValue("5m")), state, grantPrivate{ReadDeferred: renewalMark(rt)}, false},
		"renewal at apply, nothing changed": {model(types.BoolValue(false), types.StringValue("5m")), model(types.BoolValue(false), types.StringValue("5m")), grantPrivate{}, false},
		"read refused, same client":         {model(types.BoolValue(true), types.StringValue("9m")), state, grantPrivate{ReadRefused: renewalMark(rt)}, true},
		"read refused, new secret": {func() *authorizationCodeTokenModel {
			m := model(types.BoolValue(true), types.StringValue("5m"))
			m.ClientSecret = types.StringValue("new")
			return m
		}(), state, grantPrivate{ReadRefused: renewalMark(rt)}, false},
		"state from before renew_in_plan": {model(types.BoolValue(true), types.StringValue("5m")), model(types.BoolNull(), types.StringValue("5m")), grantPrivate{}, true},
	} {
		if got := readDecided(tc.plan, tc.state, tc.grant); got != tc.want {
			t.Errorf("%s: readDecided = %v, want %v", name, got, tc.want)
		}
	}
}

// With renew_in_plan = false, reads never send a request; a plan that finds
// the token due shows an in-place update with the token unknown, and the
// apply renews, once.
func TestAccAuthorizationCodeTokenResource_renewInPlanFalse(t *testing.T) {
	unsetCIAMEnv(t)
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	code := issueCode(t, srv, "")
	args := []string{"redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI), "min_remaining", `"10m"`, "renew_in_plan", "false"}
	var refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Create; the plans that follow (10m wanted, 299s held) show
				// a renewal but send nothing.
				Config:             acConfig(srv, code, args...),
				Check:              resource.ComposeAggregateTestCheckFunc(recordAttr("refresh_token", &refresh), grantsAre(srv, 1, 0, 0)),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: acConfig(srv, code, args...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("refresh_token")),
					plancheck.ExpectKnownValue(acAddr, tfjsonpath.New("code"), knownvalue.StringExact(code)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 1, 0), recordAttr("refresh_token", &refresh), func(*terraform.State) error {
					if refresh[1] == refresh[0] || !srv.RefreshTokenWorks(refresh[1]) {
						return fmt.Errorf("the apply did not store the rotated refresh token")
					}
					return nil
				}),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// A configuration whose auth_domain comes from another resource plans and
// applies in one run.
func TestAccAuthorizationCodeTokenResource_providerSettingsUnknownAtPlan(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "directory" {
  input = %q
}
provider "ciam" {
  auth_domain   = terraform_data.directory.output
  client_id     = %q
  client_secret = %q
}
resource "ciam_authorization_code_token" "test" {
  code         = %q
  redirect_uri = %q
}
`, srv.URL(), localciam.DemoClientID, localciam.DemoClientSecret, code, localciam.DemoRedirectURI),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(acAddr, tfjsonpath.New("id"), isFingerprintOfIssued{srv}),
			},
			Check: grantsAre(srv, 1, 0, 0),
		}},
	})
}

// Import explains why it cannot work and what to do instead.
func TestAccAuthorizationCodeTokenResource_importExplainsItself(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:        acConfig(srv, "x", "redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI)),
			ResourceName:  acAddr,
			ImportState:   true,
			ImportStateId: "anything",
			ExpectError: errorMatching("Import Not Supported", "cannot be imported", "a refresh token cannot be read back from the CIAM",
				"/oauth2/authorize", "Set code", "terraform apply"),
		}},
	})
}

// A change of the provider's client is caught at plan time even when the
// token is due: Read does not renew with another client's credentials (which
// the directory refuses, and which used to drop the live grant from state).
func TestAccAuthorizationCodeTokenResource_providerClientChange(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	srv.SetClient(localciam.Client{ID: "other-app", Secret: "Ot9/h&E+r%1=App2", Grants: []string{localciam.GrantAuthorizationCode, localciam.GrantRefreshToken},
		RedirectURIs: []string{localciam.DemoRedirectURI}, Scopes: []string{"openid"}})
	code := issueCode(t, srv, "")
	block := fmt.Sprintf(`
resource "ciam_authorization_code_token" "test" {
  code          = %q
  redirect_uri  = %q
  min_remaining = "10m"
}
`, code, localciam.DemoRedirectURI)
	var refresh []string

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Every read renews (10m wanted, 299 s held): the plan with a
				// read after the apply sends the first refresh.
				Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + block,
				Check:  resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("refresh_token", &refresh)),
			},
			{
				Config:      testAccProviderConfig(srv.URL(), "client_id", "other-app", "client_secret", "Ot9/h&E+r%1=App2") + block,
				ExpectError: errorMatching("New Authorization Code Needed", `the grant belongs to client_id "demo-app"`, `client_id "other-app" (client_id and client_secret came from the provider block)`, "terraform destroy -refresh=false"),
			},
			{
				// The other client's plan sent nothing; this plan's read
				// renews (the second).
				Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + block,
				Check:  resource.ComposeAggregateTestCheckFunc(refreshTokenStillWorks(srv, &refresh), grantsAre(srv, 1, 2, 0)),
			},
		},
	})
}

// A code that is unknown at plan time (it comes from a resource that is
// replaced) plans an in-place update: the grant is not revoked when the code
// turns out to be the same one. Other changes in the same plan work as with
// a known code: the apply renews when the token is due.
func TestAccAuthorizationCodeTokenResource_unknownCodeDoesNotReplace(t *testing.T) {
	for name, tc := range map[string]struct {
		before, after string
		renewals      int64
	}{
		"nothing else changes":               {"", "", 0},
		"min_remaining changes, token fresh": {`min_remaining = "1m"`, `min_remaining = "2m"`, 0},
		"renewal at apply, token due":        {"min_remaining = \"10m\"\n  renew_in_plan = false", "min_remaining = \"10m\"\n  renew_in_plan = false", 1},
		"credentials move into the block":    {"", fmt.Sprintf("client_id = %q\n  client_secret = %q", localciam.DemoClientID, localciam.DemoClientSecret), 0},
	} {
		t.Run(name, func(t *testing.T) {
			unsetCIAMEnv(t)
			srv := startCIAM(t)
			code := issueCode(t, srv, "")
			cfg := func(rev, block string) string {
				return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + fmt.Sprintf(`
resource "terraform_data" "code" {
  input            = %q
  triggers_replace = %q
}
resource "ciam_authorization_code_token" "test" {
  code         = terraform_data.code.output
  redirect_uri = %q
  %s
}
`, code, rev, localciam.DemoRedirectURI, block)
			}
			var refresh []string
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: cfg("1", tc.before), Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("refresh_token", &refresh)), ExpectNonEmptyPlan: tc.renewals > 0},
					{
						Config: cfg("2", tc.after),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
						}},
						Check:              resource.ComposeAggregateTestCheckFunc(refreshTokenStillWorks(srv, &refresh), grantsAre(srv, 1, tc.renewals, 0)),
						ExpectNonEmptyPlan: tc.renewals > 0,
					},
				},
			})
		})
	}
}

// A code not known until apply that turns out to be a new one is exchanged
// by the apply, in place, and the old grant revoked after it: no
// "Provider produced inconsistent final plan" (the plan made again during
// the apply must keep the action it planned).
func TestAccAuthorizationCodeTokenResource_unknownCodeThatTurnsOutNew(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code1, code2 := issueCode(t, srv, ""), issueCode(t, srv, "")
	cfg := func(code string) string {
		return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + fmt.Sprintf(`
resource "terraform_data" "code" {
  input = %q
}
resource "ciam_authorization_code_token" "test" {
  code         = terraform_data.code.output
  redirect_uri = %q
}
`, code, localciam.DemoRedirectURI)
	}
	var refresh []string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(code1), Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 1, 0, 0), recordAttr("refresh_token", &refresh))},
			{
				Config: cfg(code2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(grantsAre(srv, 2, 0, 1), recordAttr("refresh_token", &refresh), func(*terraform.State) error {
					if !srv.RefreshTokenRevoked(refresh[0]) || !srv.RefreshTokenWorks(refresh[1]) || srv.Presented(code2) != 1 {
						return fmt.Errorf("old grant revoked %t, new grant works %t, new code sent %d times",
							srv.RefreshTokenRevoked(refresh[0]), srv.RefreshTokenWorks(refresh[1]), srv.Presented(code2))
					}
					return nil
				}),
			},
		},
	})
}

// Switching renew_in_plan from false to true with the token due: Read did
// not renew (the stored setting was false), so the apply does.
func TestAccAuthorizationCodeTokenResource_renewInPlanSwitchedOn(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	code := issueCode(t, srv, "")
	args := func(rip string) []string {
		return []string{"redirect_uri", fmt.Sprintf("%q", localciam.DemoRedirectURI), "min_remaining", `"10m"`, "renew_in_plan", rip}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: acConfig(srv, code, args("false")...), Check: grantsAre(srv, 1, 0, 0), ExpectNonEmptyPlan: true},
			{
				Config: acConfig(srv, code, args("true")...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(acAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(acAddr, tfjsonpath.New("access_token")),
				}},
				Check: grantsAre(srv, 1, 1, 0),
			},
		},
	})
}

// An expired token is said to have expired, not to have a negative time left.
func TestLeftPhrase(t *testing.T) {
	for remaining, want := range map[time.Duration]string{
		90 * time.Second:                                      "has 1m30s left, less than min_remaining (5m0s)",
		-4*time.Minute - 58*time.Second:                       "expired 4m58s ago",
		4*time.Minute + 59*time.Second + 600*time.Millisecond: "has 4m59s left, less than min_remaining (5m0s)",
	} {
		if got := leftPhrase(remaining, 5*time.Minute); got != want {
			t.Errorf("leftPhrase(%v) = %q, want %q", remaining, got, want)
		}
	}
}

// A failed renewal gives one remaining time, not "53s left" and "in 54s".
func TestRenewalFailureGivesOneRemainingTime(t *testing.T) {
	m := &authorizationCodeTokenModel{}
	remaining := 53*time.Second + 700*time.Millisecond
	text := renewalFailure(m, grantClient{}, &ciam.Error{StatusCode: 503}, "ciam.example", domainSpec{}, time.Unix(0, 0), remaining, time.Minute)
	if !strings.Contains(text, "has 53s left") || !strings.Contains(text, "(in 53s)") {
		t.Errorf("two different remaining times, or neither: %s", text)
	}
}
