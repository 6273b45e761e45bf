package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ resource.ResourceWithConfigure      = &authorizationCodeTokenResource{}
	_ resource.ResourceWithValidateConfig = &authorizationCodeTokenResource{}
)

// defaultMinRemaining is how much lifetime an access token must have left
// when the resource is read; below it, the token is renewed. The CIAM's access
// tokens live 300 s, so a minute leaves room for the run that uses them.
const defaultMinRemaining = "1m"

func newAuthorizationCodeTokenResource() resource.Resource {
	return &authorizationCodeTokenResource{}
}

// authorizationCodeTokenResource is ciam_authorization_code_token. It is a
// managed resource, not a data source or ephemeral resource, because an
// authorization code is single-use: it must be exchanged exactly once and
// the resulting refresh token kept between runs.
type authorizationCodeTokenResource struct {
	data *providerData
}

type authorizationCodeTokenModel struct {
	Code         types.String `tfsdk:"code"`
	RedirectURI  types.String `tfsdk:"redirect_uri"`
	CodeVerifier types.String `tfsdk:"code_verifier"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	MinRemaining types.String `tfsdk:"min_remaining"`
	tokenResultModel
	RefreshToken types.String `tfsdk:"refresh_token"`
	IDToken      types.String `tfsdk:"id_token"`
}

func (r *authorizationCodeTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_authorization_code_token"
}

func (r *authorizationCodeTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	attrs := map[string]schema.Attribute{
		"code": schema.StringAttribute{
			MarkdownDescription: "The authorization code the CIAM returned to `redirect_uri`. It is exchanged once, on create, and never sent again; a new code replaces the resource.",
			Required:            true, Sensitive: true, PlanModifiers: replace,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		"redirect_uri": schema.StringAttribute{
			MarkdownDescription: "The redirect URI used to obtain the code; it must match exactly. Changing it replaces the resource.",
			Required:            true, PlanModifiers: replace,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		"code_verifier": schema.StringAttribute{
			MarkdownDescription: "The PKCE code verifier (RFC 7636, S256) whose challenge was sent to `/oauth2/authorize`. When set, the exchange sends no client secret, as in the CIAM's PKCE mode. Changing it replaces the resource.",
			Optional:            true, Sensitive: true, PlanModifiers: replace,
			Validators: []validator.String{stringvalidator.LengthBetween(43, 128)},
		},
		"client_id": schema.StringAttribute{
			MarkdownDescription: "Client ID of the application that obtained the code, instead of the provider's `client_id`. Changing it replaces the resource.",
			Optional:            true, PlanModifiers: replace,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		"client_secret": schema.StringAttribute{
			MarkdownDescription: "Client secret that goes with this block's `client_id`. Not needed with `code_verifier` for a public client. Stored in state (sensitive); a change takes effect on the next renewal without replacing the resource.",
			Optional:            true, Sensitive: true,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), stringvalidator.AlsoRequires(path.MatchRoot("client_id"))},
		},
		"min_remaining": schema.StringAttribute{
			MarkdownDescription: "When the resource is read (plan, apply, refresh) and the access token has less than this left, it is renewed with the refresh token. A Go duration such as `90s` or `5m`; default `" + defaultMinRemaining + "`.",
			Optional:            true, Computed: true, Default: stringdefault.StaticString(defaultMinRemaining),
			Validators: []validator.String{durationValidator{}},
		},
		"refresh_token": schema.StringAttribute{
			MarkdownDescription: "The refresh token; revoked when the resource is destroyed.",
			Computed:            true, Sensitive: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"id_token": schema.StringAttribute{
			MarkdownDescription: "The OpenID Connect ID token (a JWT; see `provider::ciam::decode_jwt`).",
			Computed:            true, Sensitive: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
	}
	for _, s := range tokenResultSpecs {
		if s.kind == kindInt64 {
			attrs[s.name] = schema.Int64Attribute{MarkdownDescription: s.description, Computed: true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}}
			continue
		}
		attrs[s.name] = schema.StringAttribute{MarkdownDescription: s.description, Computed: true, Sensitive: s.sensitive,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Exchanges an OAuth 2.0 authorization code (`POST /oauth2/token`, `grant_type=authorization_code`) exactly once and keeps the " +
			"tokens fresh: whenever the resource is read and the access token has less than `min_remaining` left, it is renewed with the refresh token. " +
			"If the refresh token is rejected, the resource leaves state with a warning and the next apply needs a new code. Destroying the resource revokes the " +
			"refresh token. The tokens are stored in state (sensitive). Import is not supported: a code cannot be exchanged twice.",
		Attributes: attrs,
	}
}

func (r *authorizationCodeTokenResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig catches, at validate time, a block client_id without the
// block's client_secret in a flow that needs one: the provider's secret
// belongs to the provider's client_id and is never sent with another.
func (r *authorizationCodeTokenResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.ClientID.IsNull() && !m.ClientID.IsUnknown() && m.ClientSecret.IsNull() && m.CodeVerifier.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("client_id"), "Missing Client Secret For This Block's client_id",
			"this block's client_id needs this block's client_secret: the provider's client_secret belongs to the provider's client_id and is never sent with another. "+
				"Set client_secret on this block, remove client_id to use the provider's pair, or, for a public client, use PKCE (code_verifier).")
	}
}

// credentials resolves the client for the code flow: the block's client_id
// (with its secret, possibly none for PKCE) or the provider's application
// pair. A secret is required unless the exchange uses PKCE.
func (r *authorizationCodeTokenResource) credentials(m *authorizationCodeTokenModel) (ciam.Credentials, string, diag.Diagnostics) {
	var diags diag.Diagnostics
	creds := ciam.Credentials{ClientID: r.data.app.id, ClientSecret: r.data.app.secret}
	hint := r.data.app.names()
	if !m.ClientID.IsNull() {
		creds = ciam.Credentials{ClientID: m.ClientID.ValueString(), ClientSecret: m.ClientSecret.ValueString()}
		hint = "this block's client_id and client_secret"
	}
	if creds.ClientID == "" {
		diags.AddError("Missing CIAM Credentials", "ciam_authorization_code_token needs the client ID of the application that obtained the code. "+
			"Set client_id (and client_secret) on the block, or "+r.data.app.names()+".")
	} else if creds.ClientSecret == "" && m.CodeVerifier.IsNull() {
		diags.AddError("Missing CIAM Client Secret", "Without code_verifier (PKCE) the code exchange needs the application's client secret. "+
			"Set client_secret on the block, or "+r.data.app.names()+", or use PKCE with code_verifier.")
	}
	return creds, hint, diags
}

func (r *authorizationCodeTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer r.data.guard(&resp.Diagnostics)
	var m authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	creds, hint, diags := r.credentials(&m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.data.secrets.addCredentials(creds.ClientID, creds.ClientSecret)
	r.data.secrets.add(m.Code.ValueString(), m.CodeVerifier.ValueString())
	tok, err := r.data.client.AuthorizationCodeToken(ctx, creds, ciam.AuthorizationCodeRequest{
		Code: m.Code.ValueString(), RedirectURI: m.RedirectURI.ValueString(), CodeVerifier: m.CodeVerifier.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(codeExchangeDiagnostic(err, tokenRequest{
			what: "authorization-code exchange", grant: "authorization_code", host: r.data.client.Host(),
			clientID: creds.ClientID, credentialHint: hint,
		}, !m.CodeVerifier.IsNull()))
		return
	}
	m.setTokens(tok)
	m.registerSecrets(r.data.secrets)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// codeExchangeDiagnostic explains a failed exchange, adding what only this
// grant needs: the code is spent, and the CIAM's PKCE mode answers a wrong
// code or verifier with invalid_client.
func codeExchangeDiagnostic(err error, req tokenRequest, pkce bool) diag.Diagnostic {
	summary, detail := explainTokenError(err, req)
	switch {
	case ciam.IsOAuthError(err, ciam.ErrCodeInvalidGrant):
		detail += " An authorization code is single-use and short-lived: get a new one from /oauth2/authorize and set code to it."
	case pkce && ciam.IsOAuthError(err, ciam.ErrCodeInvalidClient):
		detail += "\n\nIn PKCE mode the CIAM also answers invalid_client when the code or code_verifier is wrong or already used: " +
			"check that code_verifier matches the code_challenge sent to /oauth2/authorize, and get a new code."
	}
	detail += " The exchange was not retried: a code must never be sent twice."
	return diag.NewErrorDiagnostic(summary, detail)
}

func (r *authorizationCodeTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer r.data.guard(&resp.Diagnostics)
	m, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	expiresAt, err := time.Parse(time.RFC3339, m.ExpiresAt.ValueString())
	if err != nil {
		return // the CIAM gave no lifetime: nothing to renew against
	}
	minRemaining, err := time.ParseDuration(m.MinRemaining.ValueString())
	if err != nil {
		minRemaining, _ = time.ParseDuration(defaultMinRemaining)
	}
	remaining := time.Until(expiresAt)
	if remaining >= minRemaining {
		return
	}
	if m.RefreshToken.ValueString() == "" {
		if remaining <= 0 {
			resp.Diagnostics.AddWarning("CIAM Access Token Expired",
				"The access token of this ciam_authorization_code_token expired and the CIAM gave no refresh token to renew it. "+
					"The resource has been removed from state; the next apply creates it again, which needs a new authorization code in code.")
			resp.State.RemoveResource(ctx)
		}
		return
	}
	creds, _, diags := r.credentials(m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tok, err := r.data.client.RefreshToken(ctx, creds, m.RefreshToken.ValueString())
	var cerr *ciam.Error
	switch {
	case err == nil:
		m.setTokens(tok)
		m.registerSecrets(r.data.secrets)
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	case errors.As(err, &cerr) && cerr.Code == ciam.ErrCodeInvalidGrant:
		resp.Diagnostics.AddWarning("CIAM Refresh Token Rejected",
			fmt.Sprintf("The access token of this ciam_authorization_code_token had %s left (less than min_remaining = %s), and the CIAM rejected the refresh token "+
				"with invalid_grant: it was revoked, expired, or replaced by a newer one (refresh token rotation). "+
				"The resource has been removed from state; the next apply creates it again, which needs a new authorization code in code.",
				remaining.Round(time.Second), minRemaining))
		resp.State.RemoveResource(ctx)
	default:
		resp.Diagnostics.Append(tokenErrorDiagnostic(err, tokenRequest{
			what: "refresh-token", grant: "refresh_token", host: r.data.client.Host(), clientID: creds.ClientID,
			credentialHint: "the block's client_id and client_secret, or the provider's",
		}))
	}
}

func (r *authorizationCodeTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	// Only client_secret and min_remaining can change in place; the tokens
	// stay as they are (the plan carries them from state).
	defer r.data.guard(&resp.Diagnostics)
	var m authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *authorizationCodeTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	defer r.data.guard(&resp.Diagnostics)
	m, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	token := m.RefreshToken.ValueString()
	if token == "" {
		token = m.AccessToken.ValueString()
	}
	if token == "" {
		return
	}
	creds, _, diags := r.credentials(m)
	if diags.HasError() {
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked", "The token could not be revoked because the client credentials are missing; it stays valid until it expires.")
		return
	}
	if err := r.data.client.Revoke(ctx, creds, token); err != nil {
		_, detail := explainTokenError(err, tokenRequest{what: "revocation", grant: "revocation", host: r.data.client.Host(), clientID: creds.ClientID,
			credentialHint: "the block's client_id and client_secret, or the provider's"})
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked",
			"The resource was removed from state, but revoking its refresh token failed, so the token stays valid until it expires or is revoked in the CIAM console. "+detail)
	}
}

// setTokens stores a token response. A refresh response may leave out the
// refresh token, id token or scope: the ones held are kept then.
func (m *authorizationCodeTokenModel) setTokens(tok *ciam.Token) {
	oldScope := m.Scope
	m.set(tok)
	if tok.Scope == "" && !oldScope.IsUnknown() {
		m.Scope = oldScope
	}
	m.RefreshToken = keepOrSet(m.RefreshToken, tok.RefreshToken)
	m.IDToken = keepOrSet(m.IDToken, tok.IDToken)
}

// keepOrSet returns v when it is non-empty, else the value held (or null
// when none is held yet).
func keepOrSet(held types.String, v string) types.String {
	switch {
	case v != "":
		return types.StringValue(v)
	case held.IsUnknown():
		return types.StringNull()
	default:
		return held
	}
}

// loadState reads the resource's state and registers its secrets with the
// redaction layer.
func (r *authorizationCodeTokenResource) loadState(ctx context.Context, state tfsdk.State, diags *diag.Diagnostics) (*authorizationCodeTokenModel, bool) {
	var m authorizationCodeTokenModel
	diags.Append(state.Get(ctx, &m)...)
	if diags.HasError() {
		return nil, false
	}
	m.registerSecrets(r.data.secrets)
	return &m, true
}

// registerSecrets adds the resource's secrets to the redaction layer.
func (m *authorizationCodeTokenModel) registerSecrets(s *secretSet) {
	s.add(m.Code.ValueString(), m.CodeVerifier.ValueString(), m.ClientSecret.ValueString(),
		m.AccessToken.ValueString(), m.RefreshToken.ValueString(), m.IDToken.ValueString())
}
