package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ datasource.DataSourceWithConfigure      = &clientCredentialsTokenDataSource{}
	_ datasource.DataSourceWithValidateConfig = &clientCredentialsTokenDataSource{}
)

func newClientCredentialsTokenDataSource() datasource.DataSource {
	return &clientCredentialsTokenDataSource{}
}

// clientCredentialsTokenDataSource is ciam_client_credentials_token.
type clientCredentialsTokenDataSource struct {
	data *providerData
}

func (d *clientCredentialsTokenDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_client_credentials_token"
}

func (d *clientCredentialsTokenDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: clientCredentialsTokenDescription + " The token is stored in state (marked sensitive); " +
			"use the ephemeral resource of the same name to keep it out of state.",
		Attributes: dataSourceAttributes(clientCredentialsTokenSpecs()...),
	}
}

func (d *clientCredentialsTokenDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *clientCredentialsTokenDataSource) ValidateConfig(_ context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTokenBlockConfig(req.Config)...)
}

func (d *clientCredentialsTokenDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data.cannotRequestInRead(req, resp, "The data source ciam_client_credentials_token") {
		return
	}
	m, diags := readClientCredentialsBlock(req.Config.Raw)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(d.data.fetchClientCredentialsToken(ctx, ciam.PoolStored, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, diags := m.raw(ctx, resp.State.Schema.Type().TerraformType(ctx))
	resp.Diagnostics.Append(diags...)
	resp.State.Raw = raw
}
