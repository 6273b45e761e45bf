package provider

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// RFC 7636 Appendix B: the example verifier gives the example challenge;
// verifiers of 43 and 128 characters are accepted.
func TestFunctionPKCEChallenge_rfc7636AppendixB(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `output "challenge" {
  value = provider::ciam::pkce_challenge("` + rfcVerifier + `")
}
output "longest" {
  value = provider::ciam::pkce_challenge("` + strings.Repeat("a-._~Z9", 19)[:128] + `")
}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("challenge", knownvalue.StringExact(rfcChallenge)),
				statecheck.ExpectKnownOutputValue("longest", knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`))),
			},
		}},
	})
}

// A verifier RFC 7636 section 4.1 forbids is an error that says why.
func TestFunctionPKCEChallenge_refusesForbiddenVerifiers(t *testing.T) {
	var steps []resource.TestStep
	for _, tc := range []struct{ verifier, says string }{
		{strings.Repeat("Q", 42), "it has 42 characters"},
		{strings.Repeat("Q", 129), "it has 129 characters"},
		{strings.Repeat("Q", 42) + "+", "holds another character"},
		{strings.Repeat("Q", 42) + "é", "holds another character"},
		{" " + strings.Repeat("Q", 43), "leading or trailing whitespace"},
		{"", "it has 0 characters"},
	} {
		steps = append(steps, resource.TestStep{
			Config:      `output "challenge" { value = provider::ciam::pkce_challenge("` + tc.verifier + `") }`,
			ExpectError: errorMatching("Invalid value for \"verifier\" parameter", "Invalid code verifier", tc.says),
		})
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
}

// The function's own error text never holds the verifier. (Terraform
// prints a failing call's arguments unless they are sensitive, as the
// function's description says; see ..._sensitiveVerifierIsNotShown.)
func TestFunctionPKCEChallenge_errorHoldsNoVerifier(t *testing.T) {
	ctx := context.Background()
	for _, v := range []string{"Sq7Kp2Lm9vXw4Rt8Yb3Nc6Jd1Hf5Gz0" + "+", strings.Repeat("Sq7Kp2Lm9v", 13), " " + strings.Repeat("Sq7Kp2Lm9v", 5)} {
		resp := &function.RunResponse{Result: function.NewResultData(types.StringUnknown())}
		(&pkceChallengeFunction{}).Run(ctx, function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{types.StringValue(v)})}, resp)
		if resp.Error == nil {
			t.Fatalf("verifier of %d characters accepted", len(v))
		}
		leaktest.AssertNone(t, "the error", resp.Error.Text, strings.TrimSpace(v))
	}
}

// A sensitive verifier that the function refuses is not printed by
// Terraform, which shows a failing call's non-sensitive arguments only.
func TestFunctionPKCEChallenge_sensitiveVerifierIsNotShown(t *testing.T) {
	const bad = "Sq7Kp2Lm9vXw4Rt8Yb3Nc6Jd1Hf5Gz0+"
	t.Setenv("TF_VAR_verifier", bad)
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   functionVersionChecks,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `variable "verifier" {
  type      = string
  sensitive = true
}
output "challenge" { value = nonsensitive(provider::ciam::pkce_challenge(var.verifier)) }`,
			// The error, with no 8-character window of the verifier in it.
			ExpectError: regexp.MustCompile(`(?s)\A(?:[^S]|S[^q]|Sq[^7])*Invalid code verifier(?:[^S]|S[^q]|Sq[^7])*\z`),
		}},
	})
}
