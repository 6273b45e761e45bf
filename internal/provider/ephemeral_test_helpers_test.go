package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// testAccEchoProviderFactories adds the echo provider, which copies its
// configuration (where ephemeral values are allowed) into the echo resource's
// state, so that tests can observe what an ephemeral resource produced.
var testAccEchoProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"ciam": testAccProtoV6ProviderFactories["ciam"],
	"echo": echoprovider.NewProviderServer(),
}

var ephemeralVersionChecks = []tfversion.TerraformVersionCheck{skipWithout{devenv.EphemeralResources}}

// skipWithout skips a test on a Terraform or OpenTofu without the feature.
// OpenTofu reports its own version (and gained ephemeral resources only in
// 1.11), so tfversion.SkipBelow alone would gate it wrongly.
type skipWithout struct{ feature devenv.Feature }

func (c skipWithout) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if minimum := c.feature.Minimum(); req.TerraformVersion.LessThan(minimum) {
		resp.Skip = fmt.Sprintf("%s need version %s or later of the tool under test (found %s)", c.feature.Name, minimum, req.TerraformVersion)
	}
}

// fingerprint is the id the provider gives a token.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// isFingerprintOfIssued checks that a value is the fingerprint of a token the
// local CIAM issued: proof that the token itself reached the consumer.
type isFingerprintOfIssued struct{ srv *localciam.Server }

var _ knownvalue.Check = isFingerprintOfIssued{}

func (c isFingerprintOfIssued) CheckValue(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %T", v)
	}
	for _, tok := range c.srv.IssuedTokens() {
		if fingerprint(tok) == s {
			return nil
		}
	}
	return fmt.Errorf("%q is not the fingerprint of any token the CIAM issued", s)
}

func (c isFingerprintOfIssued) String() string { return "fingerprint of an issued token" }

// stateHoldsNoIssuedToken fails if the whole state (every resource, data
// source and output, as `terraform show -json` gives it) contains any token
// the local CIAM issued.
type stateHoldsNoIssuedToken struct{ srv *localciam.Server }

var _ statecheck.StateCheck = stateHoldsNoIssuedToken{}

func (c stateHoldsNoIssuedToken) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	issued := c.srv.IssuedTokens()
	if len(issued) == 0 {
		resp.Error = fmt.Errorf("the CIAM issued no token; the check would prove nothing")
		return
	}
	for i, tok := range issued {
		if strings.Contains(string(b), tok) {
			resp.Error = fmt.Errorf("state holds issued token #%d", i)
			return
		}
	}
}
