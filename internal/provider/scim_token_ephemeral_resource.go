package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure      = &scimTokenEphemeralResource{}
	_ ephemeral.EphemeralResourceWithValidateConfig = &scimTokenEphemeralResource{}
)

func newSCIMTokenEphemeralResource() ephemeral.EphemeralResource {
	return &scimTokenEphemeralResource{}
}

// scimTokenEphemeralResource is the ephemeral ciam_scim_token: the same
// token as the data source, never written to plan or state.
type scimTokenEphemeralResource struct {
	data *providerData
}

func (e *scimTokenEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_scim_token"
}

func (e *scimTokenEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: scimTokenDescription + " As an ephemeral resource, nothing of it is written to plan or state " +
			"(Terraform 1.10 or later, OpenTofu 1.11 or later).",
		Attributes: ephemeralAttributes(scimTokenSpecs()...),
	}
}

func (e *scimTokenEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (e *scimTokenEphemeralResource) ValidateConfig(_ context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTokenBlockConfig(req.Config)...)
}

func (e *scimTokenEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m scimTokenModel
	if e.data.cannotRequestInOpen(req, resp, "The ephemeral resource ciam_scim_token") {
		return
	}
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(e.data.fetchSCIMToken(ctx, ciam.PoolEphemeral, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
