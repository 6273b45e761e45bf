package provider

import (
	"cmp"
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
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
	_ resource.ResourceWithModifyPlan     = &authorizationCodeTokenResource{}
	_ resource.ResourceWithImportState    = &authorizationCodeTokenResource{}
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
//
// A refresh token is treated as single-use too (a directory may rotate
// them): a renewal is never retried once it may have reached the directory,
// and only a definitive rejection (invalid_grant) gives the grant up. Every
// other failure keeps the stored token and warns.
//
// The resource is split by concern:
//   - this file: the type, model, schema, Configure, ValidateConfig, CRUD;
//   - authorization_code_token_grant.go: the private-state record (the
//     contract between the calls of a run) and the grant's client and
//     directory;
//   - authorization_code_token_plan.go: ModifyPlan, readDecided, the
//     same-grant checks;
//   - authorization_code_token_renewal.go: when the token is due, what a
//     read and an apply do about it, the refresh;
//   - authorization_code_token_messages.go: every message.
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
	RenewInPlan  types.Bool   `tfsdk:"renew_in_plan"`
	tokenResultModel
	RefreshToken types.String `tfsdk:"refresh_token"`
	IDToken      types.String `tfsdk:"id_token"`
}

func (r *authorizationCodeTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_authorization_code_token"
}

func (r *authorizationCodeTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	newCode := " A change needs a new authorization code: with the same `code` it is an error at plan time, and the grant keeps working."
	attrs := map[string]schema.Attribute{
		"code": schema.StringAttribute{
			MarkdownDescription: "The authorization code the CIAM returned to `redirect_uri`. It is exchanged once and never sent again. " +
				"A new code is exchanged in place, by the apply: the new code first, and only when that succeeds is the old grant revoked, so a new code that fails leaves the working grant. " +
				"A code that already reached the directory (exchanged before, or in an exchange that failed after it may have reached it) is refused at plan time; a code not known until apply works the same way.",
			Required: true, Sensitive: true,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{secret: true}},
		},
		"redirect_uri": schema.StringAttribute{
			MarkdownDescription: "The redirect URI used to obtain the code; it must match exactly." + newCode,
			Required:            true,
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}, redirectURIValidator{}},
		},
		"code_verifier": schema.StringAttribute{
			MarkdownDescription: "The PKCE code verifier (RFC 7636, S256) whose challenge was sent to `/oauth2/authorize`. When set, the exchange sends no client secret, as in the CIAM's PKCE mode; " +
				"without a `client_secret` the client is public, and renewal and revocation send `client_id` alone (RFC 6749 section 6, RFC 7009 section 2.1)." + newCode,
			Optional: true, Sensitive: true,
			Validators: []validator.String{noSurroundingSpace{secret: true}, pkceVerifier{}},
		},
		"client_id": schema.StringAttribute{
			MarkdownDescription: "Client ID of the application that obtained the code, instead of the provider's `client_id`. A change to another client needs a new code (an error at plan time with the same `code`); " +
				"moving the same client ID between this block and the provider block changes nothing.",
			Optional:   true,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}},
		},
		"client_secret": schema.StringAttribute{
			MarkdownDescription: "Client secret that goes with this block's `client_id`. Not needed with `code_verifier` for a public client. Stored in state (sensitive); a change takes effect on the next renewal without replacing the resource.",
			Optional:            true, Sensitive: true,
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{secret: true}, stringvalidator.AlsoRequires(path.MatchRoot("client_id"))},
		},
		"min_remaining": schema.StringAttribute{
			MarkdownDescription: "When the access token has less than this left, it is renewed with the refresh token: when the resource is read (plan, apply, refresh) with `renew_in_plan = true`, " +
				"at apply with `renew_in_plan = false`. A change is an in-place update whose apply renews the token if it is due then under the new value (a value not known until apply works the same way), " +
				"unless a read renewed it in this run, or, with `-refresh=false`, in the last run that read. A Go duration such as `90s` or `5m`; default `" + defaultMinRemaining + "`. " +
				"It should be well below the lifetime the directory grants (300 s for the CIAM's access tokens); at or above it, every run renews, and a warning says so.",
			Optional: true, Computed: true, Default: stringdefault.StaticString(defaultMinRemaining),
			Validators: []validator.String{durationValidator{}},
		},
		"renew_in_plan": schema.BoolAttribute{
			MarkdownDescription: "Whether renewal happens when the resource is read, during `terraform plan` too (`true`, the default), or only at apply (`false`). " +
				"With `true`, plans see a fresh token and providers configured from it can use it during plan; but a plan whose state is thrown away spends the refresh token, " +
				"which a directory that rotates refresh tokens does not accept again. With `false`, reads never send a request: a plan that finds the token due shows an in-place update " +
				"with the token attributes unknown (known after apply), and the apply renews; so does any other in-place update, whose apply renews if the token is due by then. Choose `false` for directories that rotate refresh tokens and pipelines that plan without applying.",
			Optional: true, Computed: true, Default: booldefault.StaticBool(true),
		},
		"refresh_token": schema.StringAttribute{
			MarkdownDescription: "The refresh token; revoked when the resource is destroyed.",
			Computed:            true, Sensitive: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"id_token": schema.StringAttribute{
			MarkdownDescription: "The OpenID Connect ID token (a JWT; see `provider::ciam::decode_jwt` and `provider::ciam::verify_jwt`).",
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
			"tokens fresh: when the access token has less than `min_remaining` left, it is renewed with the refresh token, during plan or at apply (`renew_in_plan`). " +
			"A renewal is sent at most once per run. If the refresh token is rejected (`invalid_grant`), the grant is lost and a new code is needed: the resource stays in state, marked as lost, " +
			"so that its code is never sent again, and every plan that keeps `code` fails until it changes. Any other failure keeps the stored token, with a warning during a read and an error at apply. " +
			"Destroying the resource revokes the refresh token. The tokens are stored in state (sensitive). " +
			"Import is not supported: a code cannot be exchanged twice.",
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
		resp.Diagnostics.Append(missingBlockSecret())
	}
}

// Create exchanges the code, once. An exchange that failed after it may
// have reached the directory leaves a lost grant in state (failedCreate).
// The new grant's record of codes sent starts with the ones this provider
// instance saw recorded: a create that replaces a tainted object (destroyed
// first, in this process) carries its codes on.
func (r *authorizationCodeTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, failed, refused, ok := r.exchange(ctx, &m, &resp.Diagnostics)
	if !ok {
		if !failed.Good() {
			r.failedCreate(ctx, &m, c, cmp.Or(refused, lostInCreate), resp)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	resp.Diagnostics.Append(r.newGrant(c, m.Code.ValueString(), r.data.sentMarks()).save(ctx, resp.Private)...)
	resp.Diagnostics.Append(minRemainingWarning(&m, m.MinRemaining)...)
}

// Read renews the access token when it is due and renew_in_plan is true
// (readRenewal). Nothing else in Read sends a request.
func (r *authorizationCodeTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	m, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	r.data.noteSent(append(grant.SentCodes, renewalMark(m.Code.ValueString())), false)
	changed := grant.clearReadMarks() // marks from an earlier run
	if grant.ClientID == "" {
		// State from before the client was recorded: record the client it
		// is configured with now, which is the one it was created with
		// unless the configuration changed since.
		if c, known := r.client(m); known && c.creds.ClientID != "" {
			grant.ClientID = c.creds.ClientID
			changed = true
		}
	}
	if changed {
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
	}
	r.readRenewal(ctx, m, &grant, resp)
	r.data.noteRead(m.RefreshToken.ValueString())
}

// Update stores the new arguments and, when the plan left the tokens unknown
// (ModifyPlan left the decision to the apply), renews if the token is due
// now (applyRenewal). A failure keeps the prior state.
func (r *authorizationCodeTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	state, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	if !plan.Code.Equal(state.Code) {
		r.exchangeNewCode(ctx, &plan, state, grant, resp)
		return
	}
	if grant.Lost != "" { // a code unknown at plan time turned out to be the same
		resp.Diagnostics.AddError("New Authorization Code Needed", grantLost(state, r.grantClientID(state, grant), grant.Lost))
		return
	}
	resp.Diagnostics.Append(r.sameGrant(&plan, state, grant)...) // values unknown at plan time are known now
	if resp.Diagnostics.HasError() {
		return
	}
	c, _ := r.client(&plan)
	grant.ClientID = r.grantClientID(state, grant)
	if plan.AccessToken.IsUnknown() {
		plan.tokenResultModel, plan.RefreshToken, plan.IDToken = state.tokenResultModel, state.RefreshToken, state.IDToken
		if !r.applyRenewal(ctx, &plan, state, c, &grant, &resp.Diagnostics) {
			if grant.Lost != "" {
				// The grant is over: it stays in state, marked, so that no
				// later run sends its code again.
				resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
			}
			return
		}
	}
	grant.clearReadMarks() // the plan is applied: the marks have served
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
}

// Delete revokes the refresh token when it can; a revocation it cannot send
// or that fails is a warning, and the resource leaves state. Two cases keep
// it, with an error: a setting the user can correct (correctableProblem),
// and Ctrl-C during the revocation.
func (r *authorizationCodeTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	m, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	// A replacement created after this destroy must not send these codes.
	r.data.noteSent(append(grant.SentCodes, renewalMark(m.Code.ValueString())), true)
	if summary, problem := r.correctableProblem(m, grant); problem != "" {
		// A mistake to correct (CIAM_AUTH_DOMAIN or CIAM_CLIENT_SECRET with
		// a newline, say), not a directory gone for good: the live grant
		// is not dropped with a warning.
		resp.Diagnostics.Append(destroyBlocked(summary, m, r.grantClientID(m, grant), problem))
		return
	}
	diags, interrupted := r.revokeGrant(ctx, m, grant, "The resource was removed from state")
	resp.Diagnostics.Append(diags...)
	if interrupted {
		// Interrupted, not failed: the destroy did not happen, and the
		// state keeps the token that is still valid.
		resp.Diagnostics.Append(destroyInterrupted(m, r.grantClientID(m, grant)))
	}
}

// ImportState explains why a token cannot be imported and what to do.
func (r *authorizationCodeTokenResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Import Not Supported For ciam_authorization_code_token", importNotSupported)
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
	if r.data != nil {
		m.registerSecrets(r.data.secrets)
	}
	return &m, true
}

// registerSecrets adds the resource's secrets to the redaction layer.
func (m *authorizationCodeTokenModel) registerSecrets(s *secretSet) {
	s.add(m.Code.ValueString(), m.CodeVerifier.ValueString(), m.ClientSecret.ValueString(),
		m.AccessToken.ValueString(), m.RefreshToken.ValueString(), m.IDToken.ValueString())
}

// correctableProblem says why a live grant cannot be revoked because of a
// setting the user can correct: an auth_domain that is set but unusable, or
// credentials from the environment with whitespace. "" when there is none,
// or nothing to revoke.
func (r *authorizationCodeTokenResource) correctableProblem(m *authorizationCodeTokenModel, grant grantPrivate) (summary, problem string) {
	if r.data == nil || grant.Lost != "" || m.RefreshToken.ValueString() == "" && m.AccessToken.ValueString() == "" {
		return "", ""
	}
	if r.data.authDomainProblem != "" {
		return "Invalid CIAM Auth Domain", r.data.noDirectory()
	}
	if c, _ := r.client(m); c.problem != "" {
		return whitespaceTitle, lowerFirst(trimPeriod(c.problem))
	}
	return "", ""
}
