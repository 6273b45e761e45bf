// Command examples-stub stands in, during the offline examples check, for
// the third-party providers that the examples hand ciam tokens to (only
// Mastercard/restapi today). It serves a provider schema with the provider
// attributes the examples set, with the types the real provider gives them,
// so that `terraform validate` can check the ciam side of those examples
// (blocks, references, ephemeral values flowing into a provider block)
// without the registry. It checks nothing about the third-party provider
// beyond those attribute names and types. Never linked into the provider.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the registry address this stub answers for.
const Address = "registry.terraform.io/mastercard/restapi"

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return restapiStub{} },
		providerserver.ServeOpts{Address: Address})
	if err != nil {
		log.Fatal(err)
	}
}

type restapiStub struct{}

func (restapiStub) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "restapi"
}

// Schema mirrors the restapi provider attributes used in examples/.
func (restapiStub) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"uri":                  schema.StringAttribute{Required: true},
		"headers":              schema.MapAttribute{ElementType: types.StringType, Optional: true},
		"write_returns_object": schema.BoolAttribute{Optional: true},
	}}
}

func (restapiStub) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (restapiStub) Resources(context.Context) []func() resource.Resource { return nil }

func (restapiStub) DataSources(context.Context) []func() datasource.DataSource { return nil }
