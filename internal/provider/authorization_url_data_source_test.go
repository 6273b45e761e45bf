package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const authURLAddr = "data.ciam_authorization_url.login"

// RFC 7636 Appendix B's verifier and its S256 challenge.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// signIn follows a sign-in URL against the local CIAM as a browser would,
// and returns the code of the redirect, which must carry state back.
func signIn(rawURL, state string) (string, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(rawURL)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	switch {
	case resp.StatusCode != http.StatusFound:
		return "", fmt.Errorf("the sign-in answered %d, not a redirect", resp.StatusCode)
	case err != nil:
		return "", err
	case loc.Query().Get("error") != "":
		return "", fmt.Errorf("the sign-in redirected with error=%s", loc.Query().Get("error"))
	case loc.Query().Get("state") != state:
		return "", fmt.Errorf("the redirect carries state %q, not %q", loc.Query().Get("state"), state)
	}
	return loc.Query().Get("code"), nil
}

// The URL the data source builds is the local CIAM's sign-in, and the code
// it redirects with creates ciam_authorization_code_token: for a
// confidential client, and for a public one whose challenge the directory
// checks against the verifier at the exchange.
func TestAccAuthorizationURLDataSource_signInCreatesTheResource(t *testing.T) {
	for _, public := range []bool{false, true} {
		t.Run(fmt.Sprintf("public %t", public), func(t *testing.T) {
			unsetCIAMEnv(t)
			srv := localciam.StartTest(t, localciam.Options{PublicClientRefresh: true})
			creds := []string{"client_id", localciam.DemoClientID}
			verifier := ""
			if public {
				verifier = fmt.Sprintf("code_verifier = %q", rfcVerifier)
			} else {
				creds = append(creds, "client_secret", localciam.DemoClientSecret)
			}
			urlBlock := testAccProviderConfig(srv.URL(), creds...) + fmt.Sprintf(`
data "ciam_authorization_url" "login" {
  redirect_uri = %q
  state        = "af0ifjsldkj"
  %s
}
`, localciam.DemoRedirectURI, verifier)
			vars := config.Variables{}
			follow := func(s *terraform.State) error {
				code, err := signIn(s.RootModule().Resources[authURLAddr].Primary.Attributes["url"], "af0ifjsldkj")
				if err != nil {
					return err
				}
				vars["code"] = config.StringVariable(code)
				return nil
			}
			checks := []statecheck.StateCheck{
				statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), knownvalue.StringRegexp(regexp.MustCompile(
					"^"+regexp.QuoteMeta(srv.URL()+"/oauth2/authorize?")+".*response_type=code"))),
				statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("code_challenge"), knownvalue.Null()),
			}
			if public {
				checks[1] = statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("code_challenge"), knownvalue.StringExact(rfcChallenge))
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: urlBlock, ConfigStateChecks: checks, Check: follow},
					{
						Config: urlBlock + fmt.Sprintf(`
variable "code" {
  type      = string
  sensitive = true
}

resource "ciam_authorization_code_token" "login" {
  code         = var.code
  redirect_uri = data.ciam_authorization_url.login.redirect_uri
  %s
}
`, verifierLine(public)),
						ConfigVariables: vars,
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("ciam_authorization_code_token.login", tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
						},
					},
				},
			})
			if n := srv.Attempts(localciam.GrantAuthorizationCode); n != 1 {
				t.Errorf("code exchanges = %d, want 1", n)
			}
		})
	}
}

func verifierLine(public bool) string {
	if public {
		return "code_verifier = data.ciam_authorization_url.login.code_verifier"
	}
	return ""
}

// The URL carries exactly the documented parameters, the provider's
// client_id unless the block sets one, openid unless scopes are given, and
// never the verifier.
func TestAccAuthorizationURLDataSource_parameters(t *testing.T) {
	unsetCIAMEnv(t)
	t.Setenv(envClientID, "from-env")
	const domain = "https://tenant.portal.tencentciam.com"
	query := func(want url.Values) knownvalue.Check { return urlQuery{want} }
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig(domain) + `
data "ciam_authorization_url" "login" {
  redirect_uri = "https://app.example.com/callback"
  state        = "xyz"
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), query(url.Values{
						"response_type": {"code"}, "client_id": {"from-env"}, "redirect_uri": {"https://app.example.com/callback"},
						"scope": {"openid"}, "state": {"xyz"},
					})),
					statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("code_challenge_method"), knownvalue.Null()),
				},
			},
			{
				Config: testAccProviderConfig(domain) + fmt.Sprintf(`
data "ciam_authorization_url" "login" {
  client_id     = "app/7"
  redirect_uri  = "com.example.app:/callback?x=1"
  scopes        = ["openid", "users.read"]
  state         = "a b&c"
  code_verifier = %q
}`, rfcVerifier),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), query(url.Values{
						"response_type": {"code"}, "client_id": {"app/7"}, "redirect_uri": {"com.example.app:/callback?x=1"},
						"scope": {"openid users.read"}, "state": {"a b&c"}, "code_challenge": {rfcChallenge}, "code_challenge_method": {"S256"},
					})),
					statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("code_challenge_method"), knownvalue.StringExact("S256")),
				},
			},
		},
	})
}

// urlQuery checks that a URL is https://tenant.portal.tencentciam.com's
// /oauth2/authorize with exactly the query want.
type urlQuery struct{ want url.Values }

func (c urlQuery) CheckValue(v any) error {
	s, _ := v.(string)
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host != "tenant.portal.tencentciam.com" || u.Path != "/oauth2/authorize" {
		return fmt.Errorf("URL %q is not the directory's /oauth2/authorize", s)
	}
	if got := u.Query().Encode(); got != c.want.Encode() {
		return fmt.Errorf("query %s, want %s", got, c.want.Encode())
	}
	return nil
}

func (c urlQuery) String() string { return c.want.Encode() }

// The block is checked with the resource's rules and messages, and without
// a client ID anywhere it says where to set one.
func TestAccAuthorizationURLDataSource_invalid(t *testing.T) {
	unsetCIAMEnv(t)
	block := func(body string) string {
		return testAccProviderConfig("https://tenant.portal.tencentciam.com") + "data \"ciam_authorization_url\" \"login\" {\n" + body + "\n}\n"
	}
	ok := "redirect_uri = \"https://app.example.com/callback\"\nstate = \"s\"\n"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: block(ok), ExpectError: errorMatching("Missing CIAM Credentials", "ciam_authorization_url needs the client ID", "CIAM_CLIENT_ID")},
			{Config: block("client_id = \"a\"\nredirect_uri = \"https://app.example.com/cb#x\"\nstate = \"s\""), ExpectError: errorMatching("Invalid Redirect URI", "fragment")},
			{Config: block("client_id = \"a\"\n" + ok + "scopes = [\"users read\"]"), ExpectError: errorMatching(`Scope "users read" must be a scope token`)},
			{Config: block("client_id = \"a\"\n" + ok + "scopes = []"), ExpectError: regexp.MustCompile(`at least 1`)},
			{Config: block("client_id = \"a\"\nredirect_uri = \"https://app.example.com/callback\"\nstate = \"\""), ExpectError: regexp.MustCompile(`state`)},
			{Config: block("client_id = \"a\"\n" + ok + "code_verifier = \"short\""), ExpectError: errorMatching("Invalid Code Verifier", "it has 5 characters")},
			{Config: block("client_id = \" a\"\n" + ok), ExpectError: errorMatching("Leading Or Trailing Whitespace")},
		},
	})
}

// The URL needs the provider's auth_domain, and its client_id when the
// block has none, and nothing else: a client_secret (or a block's
// client_id over an unknown provider client_id) not known until apply
// changes nothing; an unknown auth_domain is named.
func TestAccAuthorizationURLDataSource_unknownProviderSettings(t *testing.T) {
	unsetCIAMEnv(t)
	// Each step names a new terraform_data, so that its output is unknown
	// at plan time.
	step := 0
	cfg := func(provider, block string) string {
		step++
		provider = strings.ReplaceAll(provider, "terraform_data.later", fmt.Sprintf("terraform_data.later%d", step))
		return fmt.Sprintf(`resource "terraform_data" "later%d" {
  input = "tenant.portal.tencentciam.com"
}
`, step) + `
provider "ciam" {
` + provider + `
}

data "ciam_authorization_url" "login" {
  redirect_uri = "https://app.example.com/callback"
  state        = "s"
` + block + `
}
`
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// An unusable auth_domain is named as such, not as missing.
				Config: cfg(`  auth_domain   = "ftp://tenant.portal.tencentciam.com"
  client_id     = "app"
  client_secret = terraform_data.later.output`, ""),
				ExpectError: errorMatching("Invalid CIAM Auth Domain", "ftp"),
			},
			{
				Config: cfg(`  auth_domain   = "https://tenant.portal.tencentciam.com"
  client_id     = "app"
  client_secret = terraform_data.later.output`, ""),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), urlQuery{url.Values{
					"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"https://app.example.com/callback"}, "scope": {"openid"}, "state": {"s"},
				}})},
			},
			{
				Config: cfg(`  auth_domain = "https://tenant.portal.tencentciam.com"
  client_id   = terraform_data.later.output`, `  client_id = "block-app"`),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), urlQuery{url.Values{
					"response_type": {"code"}, "client_id": {"block-app"}, "redirect_uri": {"https://app.example.com/callback"}, "scope": {"openid"}, "state": {"s"},
				}})},
			},
			{
				Config:      cfg(`  auth_domain = terraform_data.later.output`, `  client_id = "block-app"`),
				ExpectError: errorMatching("Unknown CIAM Provider Setting", "ciam_authorization_url builds the sign-in URL during plan", "auth_domain is not known until apply"),
			},
		},
	})
}

// The URL needs no client secret: a CIAM_CLIENT_SECRET that is unusable
// (a final newline) does not stop it, one in CIAM_CLIENT_ID does, and
// without a client ID the error names client_id alone.
func TestAccAuthorizationURLDataSource_onlyTheClientIDMatters(t *testing.T) {
	unsetCIAMEnv(t)
	block := testAccProviderConfig("https://tenant.portal.tencentciam.com") + `data "ciam_authorization_url" "login" {
  redirect_uri = "https://app.example.com/callback"
  state        = "s"
}
`
	t.Setenv(envClientSecret, "secret\n")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { t.Setenv(envClientID, "app") },
				Config:    block,
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(authURLAddr, tfjsonpath.New("url"), urlQuery{url.Values{
					"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"https://app.example.com/callback"}, "scope": {"openid"}, "state": {"s"},
				}})},
			},
			{
				PreConfig:   func() { t.Setenv(envClientID, "app\t") },
				Config:      block,
				ExpectError: errorMatching("Leading Or Trailing Whitespace", "CIAM_CLIENT_ID"),
			},
			{
				PreConfig:   func() { t.Setenv(envClientID, "") },
				Config:      block,
				ExpectError: regexp.MustCompile(`(?s)Set client_id on the block, or the provider's client_id \(or the\s+CIAM_CLIENT_ID environment variable\)\.`),
			},
		},
	})
}
