package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = &openIDConfigurationDataSource{}

func newOpenIDConfigurationDataSource() datasource.DataSource {
	return &openIDConfigurationDataSource{}
}

// openIDConfigurationDataSource is ciam_openid_configuration.
type openIDConfigurationDataSource struct {
	data *providerData
}

type openIDConfigurationModel struct {
	Issuer                            types.String `tfsdk:"issuer"`
	AuthorizationEndpoint             types.String `tfsdk:"authorization_endpoint"`
	TokenEndpoint                     types.String `tfsdk:"token_endpoint"`
	JWKSURI                           types.String `tfsdk:"jwks_uri"`
	UserinfoEndpoint                  types.String `tfsdk:"userinfo_endpoint"`
	RevocationEndpoint                types.String `tfsdk:"revocation_endpoint"`
	GrantTypesSupported               types.List   `tfsdk:"grant_types_supported"`
	ResponseTypesSupported            types.List   `tfsdk:"response_types_supported"`
	ScopesSupported                   types.List   `tfsdk:"scopes_supported"`
	TokenEndpointAuthMethodsSupported types.List   `tfsdk:"token_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported  types.List   `tfsdk:"id_token_signing_alg_values_supported"`
	JSON                              types.String `tfsdk:"json"`
}

func (d *openIDConfigurationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_openid_configuration"
}

func (d *openIDConfigurationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(description string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: description, Computed: true}
	}
	list := func(member string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Computed: true,
			MarkdownDescription: "The document's `" + member + "`, in the order served; null when the document has none."}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The user directory's OpenID Connect discovery document (`GET /.well-known/openid-configuration` on the provider's `auth_domain`): " +
			"its issuer, endpoints and supported values, for configuring the services that accept its tokens. " +
			"The announced `issuer` must be identical to `auth_domain`'s URL (OpenID Connect Discovery, section 4.3): the same scheme, lower-case host and port, " +
			"with or without a final `/`, and nothing else. A document that claims another issuer is an error, not data: it belongs to another directory, or to " +
			"someone impersonating this one. The document is read by its members' exact names; one that names a member twice, or holds data after its object, is refused. " +
			"The document holds no secret; identical blocks share one request per run.",
		Attributes: map[string]schema.Attribute{
			"issuer":                                str("The issuer, identical to `auth_domain`'s origin (checked): the `iss` of the directory's tokens."),
			"authorization_endpoint":                str("Where users are sent to sign in (`/oauth2/authorize`); null when the document has none."),
			"token_endpoint":                        str("The token endpoint (`/oauth2/token`); null when the document has none."),
			"jwks_uri":                              str("Where the directory's signing keys are (see `ciam_jwks`); null when the document has none."),
			"userinfo_endpoint":                     str("The userinfo endpoint; null when the document has none (the CIAM's does not list it)."),
			"revocation_endpoint":                   str("The revocation endpoint; null when the document has none (the CIAM's does not list it)."),
			"grant_types_supported":                 list("grant_types_supported"),
			"response_types_supported":              list("response_types_supported"),
			"scopes_supported":                      list("scopes_supported"),
			"token_endpoint_auth_methods_supported": list("token_endpoint_auth_methods_supported"),
			"id_token_signing_alg_values_supported": list("id_token_signing_alg_values_supported"),
			"json":                                  str("The document as received, e.g. for `jsondecode` to read members this data source does not list."),
		},
	}
}

func (d *openIDConfigurationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *openIDConfigurationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data.cannotRequestInRead(req, resp, "The data source ciam_openid_configuration") {
		return
	}
	doc, err := d.data.client.Discovery(ctx)
	if err != nil {
		resp.Diagnostics.Append(documentErrorDiagnostic(err, "discovery document", d.data.client.Host(), d.data.domain))
		return
	}
	m := openIDConfigurationModel{
		Issuer:                            nullIfEmpty(doc.Issuer),
		AuthorizationEndpoint:             nullIfEmpty(doc.AuthorizationEndpoint),
		TokenEndpoint:                     nullIfEmpty(doc.TokenEndpoint),
		JWKSURI:                           nullIfEmpty(doc.JWKSURI),
		UserinfoEndpoint:                  nullIfEmpty(doc.UserinfoEndpoint),
		RevocationEndpoint:                nullIfEmpty(doc.RevocationEndpoint),
		GrantTypesSupported:               stringList(doc.GrantTypesSupported),
		ResponseTypesSupported:            stringList(doc.ResponseTypesSupported),
		ScopesSupported:                   stringList(doc.ScopesSupported),
		TokenEndpointAuthMethodsSupported: stringList(doc.TokenEndpointAuthMethodsSupported),
		IDTokenSigningAlgValuesSupported:  stringList(doc.IDTokenSigningAlgValuesSupported),
		JSON:                              types.StringValue(string(doc.Raw)),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
