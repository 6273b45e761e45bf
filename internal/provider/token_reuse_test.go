package provider

import (
	"context"
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
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

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

// The data source and the ephemeral resource of a token read through the
// same fetch path of the same configured provider, so within one provider
// instance (one terraform walk) they share the token cache: one request.
func TestTokenReuseIsSharedWithinAProviderInstance(t *testing.T) {
	srv := startCIAM(t)
	p := New("test")()
	ctx := context.Background()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	cfg := tfsdk.Config{Schema: schemaResp.Schema, Raw: providerRaw(t, schemaResp.Schema, map[string]string{
		"auth_domain": srv.URL(), "client_id": localciam.DemoClientID, "client_secret": localciam.DemoClientSecret,
	})}
	var confResp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &confResp)
	if confResp.Diagnostics.HasError() {
		t.Fatal(confResp.Diagnostics)
	}
	pd, ok := confResp.DataSourceData.(*providerData)
	if !ok {
		t.Fatalf("provider data is %T", confResp.DataSourceData)
	}
	if confResp.EphemeralResourceData != confResp.DataSourceData {
		t.Fatal("data sources and ephemeral resources get different provider data")
	}
	scopes, _ := types.SetValueFrom(ctx, types.StringType, []string{"openid"})
	var fromDataSource, fromEphemeral clientCredentialsTokenModel
	fromDataSource.Scopes, fromEphemeral.Scopes = scopes, scopes
	if d := pd.fetchClientCredentialsToken(ctx, &fromDataSource); d.HasError() {
		t.Fatal(d)
	}
	if d := pd.fetchClientCredentialsToken(ctx, &fromEphemeral); d.HasError() {
		t.Fatal(d)
	}
	if fromDataSource.ID != fromEphemeral.ID || srv.Requests(localciam.TokenPath) != 1 {
		t.Errorf("ids %s / %s after %d requests; want one shared token", fromDataSource.ID, fromEphemeral.ID, srv.Requests(localciam.TokenPath))
	}
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
