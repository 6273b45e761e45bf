package provider

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const oidcAddr = "data.ciam_openid_configuration.test"

func TestAccOpenIDConfigurationDataSource_asServed(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	strings := func(values ...string) knownvalue.Check {
		checks := make([]knownvalue.Check, len(values))
		for i, v := range values {
			checks[i] = knownvalue.StringExact(v)
		}
		return knownvalue.ListExact(checks)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			// No credentials needed: the document is public.
			Config: testAccProviderConfig(srv.URL()) + `data "ciam_openid_configuration" "test" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("issuer"), knownvalue.StringExact(srv.URL())),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("authorization_endpoint"), knownvalue.StringExact(srv.URL()+"/oauth2/authorize")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("token_endpoint"), knownvalue.StringExact(srv.URL()+"/oauth2/token")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("jwks_uri"), knownvalue.StringExact(srv.URL()+"/oauth2/jwks")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("userinfo_endpoint"), knownvalue.Null()),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("revocation_endpoint"), knownvalue.Null()),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("token_endpoint_auth_methods_supported"), strings("client_secret_basic", "client_secret_post")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("grant_types_supported"), strings("authorization_code", "client_credentials", "refresh_token")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("response_types_supported"), strings("code")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("scopes_supported"), strings("openid")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("id_token_signing_alg_values_supported"), strings("RS256")),
				statecheck.ExpectKnownValue(oidcAddr, tfjsonpath.New("json"), jsonWithMember{"code_challenge_methods_supported"}),
			},
		}},
	})
}

// An announced issuer other than auth_domain is an error that names both.
func TestAccOpenIDConfigurationDataSource_issuerMismatch(t *testing.T) {
	unsetCIAMEnv(t)
	srv := localciam.StartTest(t, localciam.Options{AnnouncedIssuer: "https://login.attacker.example"})
	var steps []resource.TestStep
	for _, block := range []string{`data "ciam_openid_configuration" "test" {}`, `data "ciam_jwks" "test" {}`} {
		steps = append(steps, resource.TestStep{
			Config:      testAccProviderConfig(srv.URL()) + block,
			ExpectError: errorMatching("CIAM Issuer Mismatch", `"https://login.attacker.example"`, fmt.Sprintf("%q", srv.URL()), "section 4.3"),
		})
	}
	steps = append(steps, resource.TestStep{
		PreConfig:   func() {},
		Config:      testAccProviderConfig(localciam.StartTest(t, localciam.Options{NoDiscovery: true}).URL()) + `data "ciam_openid_configuration" "test" {}`,
		ExpectError: errorMatching("CIAM Serves No Discovery Document", "HTTP 404"),
	})
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// jsonWithMember checks that a string is a JSON object with the member.
type jsonWithMember struct{ member string }

func (c jsonWithMember) CheckValue(v any) error {
	s, _ := v.(string)
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return err
	}
	if _, ok := m[c.member]; !ok {
		return fmt.Errorf("the document has no %s", c.member)
	}
	return nil
}

func (c jsonWithMember) String() string { return "JSON with " + c.member }
