package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// tokenReuseConfig has five identical blocks and one with another scope set
// (the same scopes in another order count as identical).
func tokenReuseConfig(srv *localciam.Server, reuse string) string {
	var b strings.Builder
	b.WriteString(testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret, "token_reuse", reuse))
	for i := 0; i < 5; i++ {
		scopes := `["identity_proofing", "users.read"]`
		if i%2 == 1 {
			scopes = `["users.read", "identity_proofing"]`
		}
		fmt.Fprintf(&b, "data \"ciam_client_credentials_token\" \"same%d\" {\n  scopes = %s\n}\n", i, scopes)
	}
	b.WriteString("data \"ciam_client_credentials_token\" \"other\" {\n  scopes = [\"openid\"]\n}\n")
	return b.String()
}

func TestAccProvider_tokenReuse(t *testing.T) {
	unsetCIAMEnv(t)
	requests := map[string]int64{}
	for _, reuse := range []string{"true", "false"} {
		srv := startCIAM(t)
		same := statecheck.CompareValue(compare.ValuesSame())
		checks := []statecheck.StateCheck{}
		if reuse == "true" {
			for i := 0; i < 5; i++ {
				checks = append(checks, same.AddStateValue(fmt.Sprintf("data.ciam_client_credentials_token.same%d", i), tfjsonpath.New("id")))
			}
		}
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps:                    []resource.TestStep{{Config: tokenReuseConfig(srv, reuse), ConfigStateChecks: checks}},
		})
		requests[reuse] = srv.Requests(localciam.TokenPath)
	}
	// Every terraform command reads all six blocks: with reuse that is two
	// token requests (two distinct scope sets), without it six.
	if requests["true"] == 0 || requests["false"] != 3*requests["true"] {
		t.Errorf("token requests: %d with reuse, %d without; want a ratio of 1:3", requests["true"], requests["false"])
	}
}

// Within one provider instance (one terraform walk) data sources share
// tokens with data sources and ephemeral resources with ephemeral resources,
// never across: a data source's token is stored in state and plans.
func TestTokenReusePoolsWithinAProviderInstance(t *testing.T) {
	srv := startCIAM(t)
	ctx := context.Background()
	pd := configuredProviderData(t, map[string]string{
		"auth_domain": srv.URL(), "client_id": localciam.DemoClientID, "client_secret": localciam.DemoClientSecret,
	})
	ids := map[string]types.String{}
	for _, read := range []struct {
		name string
		pool ciam.Pool
	}{{"data1", ciam.PoolStored}, {"eph1", ciam.PoolEphemeral}, {"data2", ciam.PoolStored}, {"eph2", ciam.PoolEphemeral}} {
		m := clientCredentialsTokenModel{scopes: []string{"openid"}}
		if d := pd.fetchClientCredentialsToken(ctx, read.pool, &m); d.HasError() {
			t.Fatal(d)
		}
		ids[read.name] = m.ID
	}
	if ids["data1"] != ids["data2"] || ids["eph1"] != ids["eph2"] || ids["data1"] == ids["eph1"] || srv.Requests(localciam.TokenPath) != 2 {
		t.Errorf("ids %v after %d requests; want one token per pool", ids, srv.Requests(localciam.TokenPath))
	}
}

// configuredProviderData configures the provider in process with the given
// string attributes and returns what its types receive.
func configuredProviderData(t *testing.T, values map[string]string) *providerData {
	t.Helper()
	unsetCIAMEnv(t)
	p := New("test")()
	ctx := context.Background()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	cfg := tfsdk.Config{Schema: schemaResp.Schema, Raw: providerRaw(t, schemaResp.Schema, values)}
	var confResp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &confResp)
	if confResp.Diagnostics.HasError() {
		t.Fatal(confResp.Diagnostics)
	}
	pd, ok := confResp.DataSourceData.(*providerData)
	if !ok {
		t.Fatalf("provider data is %T", confResp.DataSourceData)
	}
	return pd
}

// providerRaw builds a provider configuration value with the given string
// attributes set and the others null.
func providerRaw(t *testing.T, s providerschema.Schema, values map[string]string) tftypes.Value {
	t.Helper()
	typ, ok := s.Type().TerraformType(context.Background()).(tftypes.Object)
	if !ok {
		t.Fatal("the provider schema is not an object")
	}
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := values[name]; ok {
			attrs[name] = tftypes.NewValue(tftypes.String, v)
		} else {
			attrs[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, attrs)
}

// A data source and an ephemeral resource with identical scopes never share
// a token: the data source's token is stored in state and in the saved plan,
// the ephemeral one must be in neither. Two ephemeral blocks (and two data
// sources) do share one.
func TestAccProvider_tokenReuseKeepsEphemeralTokensOutOfState(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	data := tfjsonpath.New("data")
	var plan []byte
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersionChecks,
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) + `
data "ciam_client_credentials_token" "stored" {
  scopes = ["identity_proofing"]
}
data "ciam_client_credentials_token" "stored_too" {
  scopes = ["identity_proofing"]
}
ephemeral "ciam_client_credentials_token" "eph" {
  scopes = ["identity_proofing"]
}
ephemeral "ciam_client_credentials_token" "eph_too" {
  scopes = ["identity_proofing"]
}
provider "echo" {
  data = {
    eph     = ephemeral.ciam_client_credentials_token.eph.id
    eph_too = ephemeral.ciam_client_credentials_token.eph_too.id
  }
}
resource "echo" "ids" {}

# Evaluated in every walk, plan included, with the values of that walk.
resource "terraform_data" "not_shared" {
  lifecycle {
    precondition {
      condition     = ephemeral.ciam_client_credentials_token.eph.id != data.ciam_client_credentials_token.stored.id
      error_message = "The ephemeral block got the data source's token."
    }
  }
}
`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{savePlan{&plan}}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("data.ciam_client_credentials_token.stored", tfjsonpath.New("id"),
					"data.ciam_client_credentials_token.stored_too", tfjsonpath.New("id"), compare.ValuesSame()),
				statecheck.CompareValuePairs("echo.ids", data.AtMapKey("eph"), "echo.ids", data.AtMapKey("eph_too"), compare.ValuesSame()),
				statecheck.CompareValuePairs("echo.ids", data.AtMapKey("eph"),
					"data.ciam_client_credentials_token.stored", tfjsonpath.New("id"), compare.ValuesDiffer()),
				ephemeralTokenNotStored{srv, data.AtMapKey("eph"), &plan},
			},
		}},
	})
}

// savePlan keeps the saved plan, as terraform show -json gives it.
type savePlan struct{ into *[]byte }

func (c savePlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	*c.into, resp.Error = json.Marshal(req.Plan)
}

// ephemeralTokenNotStored finds the token whose fingerprint an echo resource
// holds at path (the token of an ephemeral block) and fails if the state or
// the saved plan holds that token.
type ephemeralTokenNotStored struct {
	srv  *localciam.Server
	path tfjsonpath.Path
	plan *[]byte
}

func (c ephemeralTokenNotStored) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	state, err := json.Marshal(req.State)
	if err != nil || len(*c.plan) == 0 {
		resp.Error = fmt.Errorf("no state or plan to check (%v)", err)
		return
	}
	var id any
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address == "echo.ids" {
			id, err = tfjsonpath.Traverse(r.AttributeValues, c.path)
		}
	}
	if err != nil || id == nil {
		resp.Error = fmt.Errorf("the echo resource holds no fingerprint at %s: %v", c.path, err)
		return
	}
	for _, tok := range c.srv.IssuedTokens() {
		if fingerprint(tok) != id {
			continue
		}
		if strings.Contains(string(state), tok) || strings.Contains(string(*c.plan), tok) {
			resp.Error = fmt.Errorf("the ephemeral token %s is in the state or the saved plan", id)
		}
		return
	}
	resp.Error = fmt.Errorf("%v is not the fingerprint of an issued token", id)
}
