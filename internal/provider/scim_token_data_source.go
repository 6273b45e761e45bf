package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ datasource.DataSourceWithConfigure      = &scimTokenDataSource{}
	_ datasource.DataSourceWithValidateConfig = &scimTokenDataSource{}
)

func newSCIMTokenDataSource() datasource.DataSource {
	return &scimTokenDataSource{}
}

// scimTokenDataSource is ciam_scim_token.
type scimTokenDataSource struct {
	data *providerData
}

func (d *scimTokenDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_scim_token"
}

func (d *scimTokenDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: scimTokenDescription + " The token is stored in state (marked sensitive); " +
			"use the ephemeral resource of the same name to keep it out of state.",
		Attributes: dataSourceAttributes(scimTokenSpecs()...),
	}
}

func (d *scimTokenDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *scimTokenDataSource) ValidateConfig(_ context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTokenBlockConfig(req.Config)...)
}

func (d *scimTokenDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m scimTokenModel
	if d.data.cannotRequestInRead(req, resp, "The data source ciam_scim_token") {
		return
	}
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(d.data.fetchSCIMToken(ctx, ciam.PoolStored, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
