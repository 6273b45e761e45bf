package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure      = &clientCredentialsTokenEphemeralResource{}
	_ ephemeral.EphemeralResourceWithValidateConfig = &clientCredentialsTokenEphemeralResource{}
)

func newClientCredentialsTokenEphemeralResource() ephemeral.EphemeralResource {
	return &clientCredentialsTokenEphemeralResource{}
}

// clientCredentialsTokenEphemeralResource is the ephemeral
// ciam_client_credentials_token: the same token as the data source, never
// written to plan or state.
type clientCredentialsTokenEphemeralResource struct {
	data *providerData
}

func (e *clientCredentialsTokenEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_client_credentials_token"
}

func (e *clientCredentialsTokenEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: clientCredentialsTokenDescription + " As an ephemeral resource, nothing of it is written to plan or state " +
			"(Terraform 1.10 or later, OpenTofu 1.11 or later).",
		Attributes: ephemeralAttributes(clientCredentialsTokenSpecs()...),
	}
}

func (e *clientCredentialsTokenEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (e *clientCredentialsTokenEphemeralResource) ValidateConfig(_ context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTokenBlockConfig(req.Config)...)
}

func (e *clientCredentialsTokenEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	if e.data.cannotRequestInOpen(req, resp, "The ephemeral resource ciam_client_credentials_token") {
		return
	}
	m, diags := readClientCredentialsBlock(req.Config.Raw)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(e.data.fetchClientCredentialsToken(ctx, ciam.PoolEphemeral, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, diags := m.raw(ctx, resp.Result.Schema.Type().TerraformType(ctx))
	resp.Diagnostics.Append(diags...)
	resp.Result.Raw = raw
}
