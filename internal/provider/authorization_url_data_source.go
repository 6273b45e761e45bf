package provider

import (
	"context"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ datasource.DataSourceWithConfigure      = &authorizationURLDataSource{}
	_ datasource.DataSourceWithValidateConfig = &authorizationURLDataSource{}
)

func newAuthorizationURLDataSource() datasource.DataSource {
	return &authorizationURLDataSource{}
}

// authorizationURLDataSource is ciam_authorization_url: the first step of
// the authorization-code flow, built from the configuration alone.
type authorizationURLDataSource struct {
	data *providerData
}

type authorizationURLModel struct {
	ClientID            types.String `tfsdk:"client_id"`
	RedirectURI         types.String `tfsdk:"redirect_uri"`
	Scopes              types.List   `tfsdk:"scopes"`
	State               types.String `tfsdk:"state"`
	CodeVerifier        types.String `tfsdk:"code_verifier"`
	URL                 types.String `tfsdk:"url"`
	CodeChallenge       types.String `tfsdk:"code_challenge"`
	CodeChallengeMethod types.String `tfsdk:"code_challenge_method"`
}

// defaultAuthorizeScope is the scope of a URL whose block sets none: the
// CIAM's sign-in asks for openid (CIAM-API.md).
const defaultAuthorizeScope = "openid"

func (d *authorizationURLDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_authorization_url"
}

func (d *authorizationURLDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The URL of the directory's sign-in page (`GET /oauth2/authorize` on the provider's `auth_domain`) that starts the authorization-code grant: " +
			"open it in a browser, sign in, and the directory redirects to `redirect_uri` with `code` (and `state`) in the query; give that code to " +
			"`ciam_authorization_code_token`. With `code_verifier` the URL carries its S256 challenge (PKCE), which a public client needs and protects any client's code. " +
			"The parameters are the ones the CIAM documents for `/oauth2/authorize`: `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, `code_challenge` and `code_challenge_method=S256`; " +
			"it documents no others (`nonce`, `prompt`, `login_hint`), so none are sent. " +
			"Nothing is sent: the URL is built from the configuration, with the same rules for `client_id`, `redirect_uri`, `code_verifier` and scopes as the resource and the token data sources. " +
			"The URL holds no secret (the verifier stays out of it); `code_verifier` is sensitive.",
		Attributes: map[string]schema.Attribute{
			"client_id": schema.StringAttribute{
				MarkdownDescription: "Client ID of the application the user signs in to, instead of the provider's `client_id` (or `CIAM_CLIENT_ID`). No secret is needed: the URL carries none.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}},
			},
			"redirect_uri": schema.StringAttribute{
				MarkdownDescription: "Where the directory sends the browser back with the code: one of the application's registered redirect URIs, exactly (the exchange must send the same one).",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}, redirectURIValidator{}},
			},
			"scopes": schema.ListAttribute{
				MarkdownDescription: "Scopes to ask for, sent space-separated in this order; default `[\"" + defaultAuthorizeScope + "\"]`. Each must be registered for the application.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.NoNullValues()},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "A value the redirect carries back unchanged: make it unguessable (for example a `random_id`) and check that the redirect has it, " +
					"so that a code someone else started cannot be slipped in (RFC 6749 section 10.12).",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}},
			},
			"code_verifier": schema.StringAttribute{
				MarkdownDescription: "The PKCE code verifier (RFC 7636): 43 to 128 of the characters `A-Z`, `a-z`, `0-9`, `-`, `.`, `_` and `~`. " +
					"The URL carries its S256 challenge; give the same verifier to `ciam_authorization_code_token`'s `code_verifier`. " +
					"Like every argument of a data source it is stored in state (sensitive), as the resource stores it too; a configuration that keeps it out of this block's state " +
					"builds the URL from `provider::ciam::pkce_challenge` instead.",
				Optional: true, Sensitive: true,
				Validators: []validator.String{noSurroundingSpace{secret: true}, pkceVerifier{}},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The sign-in URL: `/oauth2/authorize` on the provider's `auth_domain` with `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, " +
					"and with a verifier `code_challenge` and `code_challenge_method=S256`. Not a secret.",
				Computed: true,
			},
			"code_challenge": schema.StringAttribute{
				MarkdownDescription: "The S256 challenge of `code_verifier` (as `provider::ciam::pkce_challenge` computes it); null without a verifier.",
				Computed:            true,
			},
			"code_challenge_method": schema.StringAttribute{
				MarkdownDescription: "`S256` with a verifier (the only method the CIAM supports); null without one.",
				Computed:            true,
			},
		},
	}
}

func (d *authorizationURLDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks each scope with the rule of the token data sources.
func (d *authorizationURLDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var scopes types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("scopes"), &scopes)...)
	for _, s := range knownStrings(scopes) {
		resp.Diagnostics.Append(scopeProblem(s)...)
	}
}

func (d *authorizationURLDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m authorizationURLModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.cannotBuild(req, resp, m.ClientID.IsNull()) {
		return
	}
	// The URL takes the client ID alone: a problem with the provider's
	// client secret is not this block's.
	clientID := m.ClientID.ValueString()
	if m.ClientID.IsNull() {
		if d.data.app.idProblem != "" {
			resp.Diagnostics.AddError("Leading Or Trailing Whitespace", d.data.app.idProblem)
			return
		}
		clientID = d.data.app.id
	}
	if clientID == "" {
		resp.Diagnostics.Append(missingClientID("ciam_authorization_url needs the client ID of the application the user signs in to.",
			"the provider's client_id (or the "+envClientID+" environment variable)"))
		return
	}
	scopes := knownStrings(m.Scopes)
	if m.Scopes.IsNull() {
		scopes = []string{defaultAuthorizeScope}
	}
	verifier := m.CodeVerifier.ValueString()
	m.URL = types.StringValue(ciam.AuthorizationURL(d.data.base, ciam.AuthorizeRequest{
		ClientID: clientID, RedirectURI: m.RedirectURI.ValueString(), Scopes: scopes, State: m.State.ValueString(), CodeVerifier: verifier,
	}))
	m.CodeChallenge, m.CodeChallengeMethod = types.StringNull(), types.StringNull()
	if verifier != "" {
		m.CodeChallenge, m.CodeChallengeMethod = types.StringValue(ciam.S256Challenge(verifier)), types.StringValue("S256")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// cannotBuild tells whether the URL cannot be built yet: it needs the
// provider's auth_domain, and its client_id when the block has none, and
// nothing else (no secret, no transport setting). It defers, where
// Terraform allows it, while those are unknown.
func (d *authorizationURLDataSource) cannotBuild(req datasource.ReadRequest, resp *datasource.ReadResponse, providerClientID bool) bool {
	const what = "The data source ciam_authorization_url"
	if d.data == nil || d.data.noAuthDomain {
		resp.Diagnostics.Append(d.data.missingAuthDomain(what))
		return true
	}
	var unknown []string
	for _, s := range []string{"auth_domain", "client_id"} {
		if slices.Contains(d.data.unknown, s) && (s == "auth_domain" || providerClientID) {
			unknown = append(unknown, s)
		}
	}
	switch {
	case len(unknown) > 0 && req.ClientCapabilities.DeferralAllowed:
		resp.Deferred = &datasource.Deferred{Reason: datasource.DeferredReasonProviderConfigUnknown}
		return true
	case len(unknown) > 0:
		resp.Diagnostics.Append(unknownSettings(what+" builds the sign-in URL during plan from the provider's auth_domain and client_id", unknown))
		return true
	case d.data.base == nil:
		resp.Diagnostics.Append(d.data.missingAuthDomain(what))
		return true
	}
	return false
}

// knownStrings returns the known, non-null elements of a list of strings.
func knownStrings(l types.List) []string {
	var out []string
	for _, e := range l.Elements() {
		if s, ok := e.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			out = append(out, s.ValueString())
		}
	}
	return out
}
