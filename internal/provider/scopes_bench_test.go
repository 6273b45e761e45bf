package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// BenchmarkClientCredentialsScopes is the provider's share of a
// ciam_client_credentials_token block with many scopes: the validation of
// the scopes value that the framework runs for every set attribute
// (stringSetType.Validate), ValidateConfig, reading the configuration,
// requesting the token (from a stub that answers at once), and writing the
// state. Its cost must grow linearly with the number of scopes: the
// framework's own set handling compares every pair of elements.
func BenchmarkClientCredentialsScopes(b *testing.B) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"a.b.c","token_type":"Bearer","expires_in":299,"scope":"openid"}`)
	}))
	defer stub.Close()
	base, err := ciam.ParseAuthDomain(stub.URL)
	if err != nil {
		b.Fatal(err)
	}
	client, err := ciam.New(ciam.Config{BaseURL: base})
	if err != nil {
		b.Fatal(err)
	}
	data := &providerData{client: client, ephemeral: client, secrets: newSecretSet(),
		app: credentialSource{id: "app", secret: "s3cret-value", idAttr: "client_id", secretAttr: "client_secret"}}
	ds := &clientCredentialsTokenDataSource{data: data}
	var schema datasource.SchemaResponse
	ds.Schema(context.Background(), datasource.SchemaRequest{}, &schema)
	typ, ok := schema.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
	if !ok {
		b.Fatal("the schema is not an object")
	}
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("%d scopes", n), func(b *testing.B) {
			elems := make([]tftypes.Value, n)
			for i := range elems {
				elems[i] = tftypes.NewValue(tftypes.String, fmt.Sprintf("scope-%d", i))
			}
			attrs := map[string]tftypes.Value{}
			for name, at := range typ.AttributeTypes {
				attrs[name] = tftypes.NewValue(at, nil)
			}
			attrs["scopes"] = tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, elems)
			cfg := tfsdk.Config{Schema: schema.Schema, Raw: tftypes.NewValue(typ, attrs)}
			for b.Loop() {
				if diags := newStringSetType().Validate(context.Background(), attrs["scopes"], path.Root("scopes")); diags.HasError() {
					b.Fatal(diags)
				}
				var vresp datasource.ValidateConfigResponse
				ds.ValidateConfig(context.Background(), datasource.ValidateConfigRequest{Config: cfg}, &vresp)
				resp := datasource.ReadResponse{State: tfsdk.State{Schema: schema.Schema, Raw: tftypes.NewValue(typ, nil)}}
				ds.Read(context.Background(), datasource.ReadRequest{Config: cfg}, &resp)
				if resp.Diagnostics.HasError() || vresp.Diagnostics.HasError() {
					b.Fatal(resp.Diagnostics, vresp.Diagnostics)
				}
			}
		})
	}
}
