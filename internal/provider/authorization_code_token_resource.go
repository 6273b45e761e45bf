package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

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

// grantPrivate is what the resource keeps in its private state.
type grantPrivate struct {
	// ClientID is the client the grant was issued to, however it was
	// configured (block or provider): a change of it needs a new code, a move
	// of the credentials that keeps it does not.
	ClientID string `json:"client_id,omitempty"`
	// Directory is the host of the directory that issued the grant: its
	// refresh token and the client's secret go nowhere else. State from
	// before it was recorded learns it from the first successful renewal
	// (a directory that renews the grant is the one that issued it).
	Directory string `json:"directory,omitempty"`
	// Rotates records that the directory was seen rotating refresh tokens
	// (and that the warning about it was given).
	Rotates bool `json:"rotates,omitempty"`
	// ReadRenewal marks the refresh token in state as the outcome of a
	// renewal that Read sent: the token it got, or the one it sent when the
	// answer was lost. Read writes it on every refresh, so it speaks of the
	// current run. ModifyPlan then plans no second renewal: a refresh token
	// is single-use, and Terraform plans each resource again during the
	// apply (in another provider process, without a Read), so the decision
	// must come from the state, not from memory.
	ReadRenewal string `json:"read_renewal,omitempty"`
	// ReadDeferred marks the refresh token in state as one that Read found
	// due but could not renew, the provider's settings being unknown until
	// apply: the apply renews it. Like ReadRenewal it speaks of the current
	// run only.
	ReadDeferred string `json:"read_deferred,omitempty"`
	// ReadRefused marks the refresh token in state as one whose renewal by
	// Read the directory refused for the client (invalid_client): nothing
	// was spent. Read used the credentials in state; when the configuration
	// has others, the apply renews with them.
	ReadRefused string `json:"read_refused,omitempty"`
}

// renewalMark is what ReadRenewal holds for a refresh token: a truncated
// SHA-256, never the token.
func renewalMark(refreshToken string) string {
	if refreshToken == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(refreshToken))
	return hex.EncodeToString(sum[:16])
}

const privateGrantKey = "grant"

// replaceOnKnownNewCode replaces the resource when code changes to a known
// value. An unknown code does not: replacing would revoke the working grant
// even when the code turns out to be the same one.
var replaceOnKnownNewCode = stringplanmodifier.RequiresReplaceIf(
	func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !req.PlanValue.IsUnknown()
	},
	"A new, known code replaces the resource.",
	"A new, known `code` replaces the resource.",
)

// privateGetter and privateSetter are what the framework's request and
// response private state offer.
type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

func loadGrantPrivate(ctx context.Context, p privateGetter) grantPrivate {
	var g grantPrivate
	if p == nil {
		return g
	}
	if b, diags := p.GetKey(ctx, privateGrantKey); !diags.HasError() && len(b) > 0 {
		_ = json.Unmarshal(b, &g) // unreadable private state: start afresh
	}
	return g
}

func (g grantPrivate) save(ctx context.Context, p privateSetter) diag.Diagnostics {
	b, err := json.Marshal(g)
	if err != nil {
		return nil
	}
	return p.SetKey(ctx, privateGrantKey, b)
}

func (r *authorizationCodeTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_authorization_code_token"
}

func (r *authorizationCodeTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	newCode := " A change needs a new authorization code: with the same `code` it is an error at plan time, and the grant keeps working."
	attrs := map[string]schema.Attribute{
		"code": schema.StringAttribute{
			MarkdownDescription: "The authorization code the CIAM returned to `redirect_uri`. It is exchanged once, on create, and never sent again; a new code replaces the resource. " +
				"A code that is not known until apply (it comes from a resource that is still planned) plans an in-place update, not a replacement that would revoke the grant; " +
				"if it then turns out to be a new code, Terraform stops the apply (\"Provider produced inconsistent final plan\": the update it planned is now a replacement), nothing is changed, " +
				"and the next plan replaces the resource.",
			Required: true, Sensitive: true, PlanModifiers: []planmodifier.String{replaceOnKnownNewCode},
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}},
		},
		"redirect_uri": schema.StringAttribute{
			MarkdownDescription: "The redirect URI used to obtain the code; it must match exactly." + newCode,
			Required:            true,
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}},
		},
		"code_verifier": schema.StringAttribute{
			MarkdownDescription: "The PKCE code verifier (RFC 7636, S256) whose challenge was sent to `/oauth2/authorize`. When set, the exchange sends no client secret, as in the CIAM's PKCE mode; " +
				"without a `client_secret` the client is public, and renewal and revocation send `client_id` alone (RFC 6749 section 6, RFC 7009 section 2.1)." + newCode,
			Optional: true, Sensitive: true,
			Validators: []validator.String{stringvalidator.LengthBetween(43, 128), noSurroundingSpace{}},
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
			Validators: []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}, stringvalidator.AlsoRequires(path.MatchRoot("client_id"))},
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
			"A renewal is sent at most once per run. If the refresh token is rejected (`invalid_grant`), a new code is needed: a renewal during a read removes the resource from state " +
			"with a warning, one at apply is an error. Any other failure keeps the stored token, with a warning during a read and an error at apply. " +
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
		resp.Diagnostics.AddAttributeError(path.Root("client_id"), "Missing Client Secret For This Block's client_id",
			"this block's client_id needs this block's client_secret: the provider's client_secret belongs to the provider's client_id and is never sent with another. "+
				"Set client_secret on this block, remove client_id to use the provider's pair, or, for a public client, use PKCE (code_verifier).")
	}
}

// grantClient is the client of the grant and where its credentials came
// from. A public client has no secret: its renewals and revocations send the
// client_id alone.
type grantClient struct {
	creds  ciam.Credentials
	origin string
	// missingSecret says the grant is a confidential client's (issued
	// without PKCE) and no secret is configured for it.
	missingSecret bool
}

// public reports a public client: a PKCE grant without a client secret.
func (c grantClient) public() bool { return c.creds.ClientSecret == "" && !c.missingSecret }

// usableFor reports whether the credentials can be sent for the grant of
// owner: its client ID, with the secret when the grant is confidential.
func (c grantClient) usableFor(owner string) bool {
	return c.creds.ClientID != "" && c.creds.ClientID == owner && !c.missingSecret
}

// client resolves the client for the code flow: the block's client_id (with
// its secret, possibly none for PKCE) or the provider's application pair.
// ok is false while the provider's settings are unknown.
func (r *authorizationCodeTokenResource) client(m *authorizationCodeTokenModel) (c grantClient, ok bool) {
	switch {
	case !m.ClientID.IsNull():
		c = grantClient{creds: ciam.Credentials{ClientID: m.ClientID.ValueString(), ClientSecret: m.ClientSecret.ValueString()}, origin: blockOrigin}
		ok = !m.ClientID.IsUnknown() && !m.ClientSecret.IsUnknown()
	case r.data == nil || len(r.data.unknown) > 0 || r.data.noAuthDomain:
		return c, false
	default:
		c = grantClient{creds: ciam.Credentials{ClientID: r.data.app.id, ClientSecret: r.data.app.secret}, origin: r.data.app.origin()}
		ok = true
	}
	switch {
	case c.creds.ClientID == "" || c.creds.ClientSecret != "":
	case m.CodeVerifier.IsNull():
		// A grant issued without PKCE is a confidential client's: without
		// its secret nothing may be sent, and it is not a public client.
		c.missingSecret = true
	default:
		c.origin = "a public client: client_id with no client secret (none is configured), as PKCE allows"
	}
	return c, ok
}

// exchangeClient is client for the code exchange, which needs a client ID
// and, unless the exchange uses PKCE, a secret.
func (r *authorizationCodeTokenResource) exchangeClient(m *authorizationCodeTokenModel) (grantClient, diag.Diagnostics) {
	var diags diag.Diagnostics
	c, _ := r.client(m)
	if c.creds.ClientID == "" {
		diags.AddError("Missing CIAM Credentials", "ciam_authorization_code_token needs the client ID of the application that obtained the code. "+
			"Set client_id (and client_secret) on the block, or "+r.data.app.names()+".")
	} else if c.creds.ClientSecret == "" && m.CodeVerifier.IsNull() {
		diags.AddError("Missing CIAM Client Secret", "Without code_verifier (PKCE) the code exchange needs the application's client secret. "+
			"Set client_secret on the block, or "+r.data.app.names()+", or use PKCE with code_verifier.")
	}
	return c, diags
}

func (r *authorizationCodeTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer r.data.guard(&resp.Diagnostics)
	var m authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.data.noAuthDomain {
		resp.Diagnostics.Append(missingAuthDomain("ciam_authorization_code_token"))
		return
	}
	c, diags := r.exchangeClient(&m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	r.data.secrets.add(m.Code.ValueString(), m.CodeVerifier.ValueString())
	tok, err := r.data.client.AuthorizationCodeToken(ctx, c.creds, ciam.AuthorizationCodeRequest{
		Code: m.Code.ValueString(), RedirectURI: m.RedirectURI.ValueString(), CodeVerifier: m.CodeVerifier.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(codeExchangeDiagnostic(err, tokenRequest{
			what: "authorization-code exchange", grant: "authorization_code", host: r.data.client.Host(),
			clientID: c.creds.ClientID, credentialHint: c.origin,
		}, !m.CodeVerifier.IsNull()))
		return
	}
	m.setTokens(tok)
	m.registerSecrets(r.data.secrets)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	resp.Diagnostics.Append(grantPrivate{ClientID: c.creds.ClientID, Directory: r.data.client.Directory()}.save(ctx, resp.Private)...)
	resp.Diagnostics.Append(minRemainingWarning(&m, m.MinRemaining)...)
}

// codeExchangeDiagnostic explains a failed exchange, adding what only this
// grant needs: the code is spent, and the CIAM's PKCE mode answers a wrong
// code or verifier with invalid_client.
func codeExchangeDiagnostic(err error, req tokenRequest, pkce bool) diag.Diagnostic {
	req.singleUse = true
	summary, detail := explainTokenError(err, req)
	var cerr *ciam.Error
	switch {
	case ciam.IsOAuthError(err, ciam.ErrCodeInvalidGrant):
		detail += " An authorization code is single-use and short-lived: get a new one from /oauth2/authorize and set code to it."
	case pkce && errors.As(err, &cerr) && cerr.Code == ciam.ErrCodeInvalidClient:
		// No secret was sent: the generic text about a wrong secret does not apply.
		summary = "CIAM Rejected The PKCE Exchange (invalid_client)"
		detail = fmt.Sprintf("The CIAM at %s answered the PKCE code exchange for client_id %s with HTTP %d invalid_client. No client secret was sent (PKCE). "+
			"In PKCE mode the CIAM answers invalid_client when the code or code_verifier is wrong or already used, or the application does not exist or is disabled: "+
			"check that code_verifier matches the code_challenge sent to /oauth2/authorize, and get a new code.", req.host, quoted(req.clientID), cerr.StatusCode)
	}
	var terr *ciam.TransportError
	switch {
	case errors.As(err, &terr) && terr.Unsent():
		detail += " The code was never sent (no connection was made), so it is still good if it has not expired: the next apply tries again."
	case !pkce && (ciam.IsOAuthError(err, ciam.ErrCodeInvalidClient) || ciam.IsOAuthError(err, ciam.ErrCodeUnauthorizedClient)):
		// A confidential client is authenticated before the code is looked at.
		detail += " The CIAM refused the client before it looked at the code, so the code is still good if it has not expired: fix the credentials and apply again."
	default:
		detail += " The exchange was not retried: a code must never be sent twice."
	}
	return diag.NewErrorDiagnostic(summary, detail)
}

// Read renews the access token when it has less than min_remaining left and
// renew_in_plan is true. Nothing else in Read sends a request.
func (r *authorizationCodeTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer r.data.guard(&resp.Diagnostics)
	m, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	changed := grant.ReadRenewal != "" || grant.ReadDeferred != "" || grant.ReadRefused != "" // marks from an earlier run
	grant.ReadRenewal, grant.ReadDeferred, grant.ReadRefused = "", "", ""
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
	expiresAt, remaining, minRemaining, due := m.renewalDue(m.MinRemaining, r.data.clock())
	if !due {
		return
	}
	if m.RefreshToken.ValueString() == "" {
		if remaining <= 0 {
			resp.Diagnostics.AddWarning("CIAM Access Token Expired",
				fmt.Sprintf("The access token of %s expired at %s and the CIAM gave no refresh token to renew it. "+
					"The resource has been removed from state; the next apply creates it again, which needs a new authorization code in code.",
					m.describe(grant.ClientID), expiresAt.UTC().Format(time.RFC3339)))
			resp.State.RemoveResource(ctx)
		}
		return
	}
	if !m.RenewInPlan.IsNull() && !m.RenewInPlan.ValueBool() {
		return // renew_in_plan = false: ModifyPlan plans the renewal, Update makes it
	}
	c, known := r.client(m)
	if r.data == nil {
		return
	}
	if r.data.noAuthDomain || !known || r.data.client == nil {
		// The provider's settings are known at apply (or the apply has an
		// auth_domain where this read had none): the stored token stays,
		// and the plan renews at apply.
		grant.ReadDeferred = renewalMark(m.RefreshToken.ValueString())
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
		if r.data.noAuthDomain {
			resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewed(m, r.grantClientID(m, grant), remaining, minRemaining,
				"the provider has no auth_domain (nor "+envAuthDomain+")")+
				" The plan leaves the renewal to the apply, which fails unless the provider has an auth_domain by then.")
		}
		return
	}
	owner := r.grantClientID(m, grant)
	if other := r.otherDirectory(grant); other != "" {
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewed(m, owner, remaining, minRemaining, other))
		return
	}
	if !c.usableFor(owner) {
		// No credentials, or another client's: a refresh would be refused
		// (and reported as a lost grant). ModifyPlan says what changed.
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewed(m, owner, remaining, minRemaining,
			fmt.Sprintf("the grant belongs to client_id %s, and %s", quoted(owner), clientProblem(c))))
		return
	}
	sent := m.RefreshToken.ValueString()
	// Terraform saves nothing of an interrupted refresh: waiting for the
	// answer after a Ctrl-C would only delay the stop.
	err := r.renew(ciam.AbandonOnCancel(ctx), m, c, &grant, true, &resp.Diagnostics)
	var terr *ciam.TransportError
	switch {
	case c.refused(err):
		grant.ReadRefused = renewalMark(sent)
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
	case !errors.As(err, &terr) || !terr.Unsent():
		grant.ReadRenewal = renewalMark(m.RefreshToken.ValueString())
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
	}
	switch {
	case err == nil:
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	case ciam.IsOAuthError(err, ciam.ErrCodeInvalidGrant):
		resp.Diagnostics.AddWarning("CIAM Refresh Token Rejected",
			fmt.Sprintf("The access token of %s %s, and the CIAM rejected the refresh token "+
				"with invalid_grant: it was revoked, expired, or replaced by a newer one (refresh token rotation, see renew_in_plan). "+
				"The resource has been removed from state; the next apply creates it again, which needs a new authorization code in code.",
				m.describe(c.creds.ClientID), leftPhrase(remaining, minRemaining)))
		resp.State.RemoveResource(ctx)
	default:
		stored := ""
		if c.refused(err) && c.origin == blockOrigin {
			stored = " A read uses the client_id and client_secret stored in state by the last apply, as it cannot see the configuration: " +
				"if client_secret has changed since, the apply renews with the new one."
		}
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", renewalFailure(m, c, err, r.data.client.Host(), expiresAt, remaining, minRemaining)+
			stored+" The next plan or apply tries again.")
	}
}

// refused reports a renewal refused for the client (RFC 6749 section 5.2):
// the directory authenticates a confidential client before it looks at the
// refresh token, so nothing was spent. A public client authenticates nothing,
// and a directory may answer a spent refresh token with invalid_client (the
// CIAM does so for a used PKCE code): its refusal may have spent it.
func (c grantClient) refused(err error) bool {
	return !c.public() && c.creds.ClientSecret != "" &&
		(ciam.IsOAuthError(err, ciam.ErrCodeInvalidClient) || ciam.IsOAuthError(err, ciam.ErrCodeUnauthorizedClient))
}

// clientProblem says what is wrong with the configured client for a grant
// that belongs to another (or to one whose credentials are missing).
func clientProblem(c grantClient) string {
	switch {
	case c.creds.ClientID == "":
		return "no client credentials are configured for it (set client_id and client_secret on the block, or the provider's, or CIAM_CLIENT_ID and CIAM_CLIENT_SECRET)"
	case c.missingSecret:
		return "no client secret is configured for it, and the grant is a confidential client's (it was issued without PKCE), so nothing may be sent without one " +
			"(set client_secret on the block, or the provider's, or CIAM_CLIENT_SECRET)"
	}
	return fmt.Sprintf("the configured credentials are for client_id %s (%s)", quoted(c.creds.ClientID), c.origin)
}

// renew sends one refresh request for m (never retried once it may have
// reached the directory) and, on success, stores the new tokens in m and
// notes rotation in grant. warnRotation asks for the warning about rotation
// (renew_in_plan = true), given once per grant.
func (r *authorizationCodeTokenResource) renew(ctx context.Context, m *authorizationCodeTokenModel, c grantClient, grant *grantPrivate, warnRotation bool, diags *diag.Diagnostics) error {
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	sent := m.RefreshToken.ValueString()
	tok, err := r.data.client.RefreshToken(ctx, c.creds, sent)
	if err != nil {
		return err
	}
	m.setTokens(tok)
	m.registerSecrets(r.data.secrets)
	if grant.Directory == "" {
		grant.Directory = r.data.client.Directory()
	}
	if tok.RefreshToken != "" && tok.RefreshToken != sent && !grant.Rotates {
		grant.Rotates = true
		if warnRotation {
			diags.AddWarning("CIAM Rotates Refresh Tokens",
				fmt.Sprintf("The CIAM at %s returned a new refresh token when %s was renewed: this directory rotates refresh tokens. "+
					"With renew_in_plan = true (the default) the token is renewed whenever Terraform reads the resource, also during a terraform plan whose state is thrown away: "+
					"the refresh token that plan spent is gone, the next run sends the old one, and a directory that detects reuse revokes the whole grant. "+
					"Set renew_in_plan = false so that only applies renew (plans then show the renewal as an in-place update), and apply that change directly "+
					"(terraform apply, or a plan made with -refresh=false): the plan that proposes it still reads, and renews, with the stored setting. This warning is given once.",
					r.data.client.Host(), m.describe(c.creds.ClientID)))
		}
	}
	return nil
}

// publicClientRefused reports an answer that refuses a request sent without
// a client secret: the client authentication errors, and an invalid_request
// (some servers answer a missing secret so).
func publicClientRefused(e *ciam.Error) bool {
	switch e.Code {
	case ciam.ErrCodeInvalidClient, ciam.ErrCodeUnauthorizedClient, ciam.ErrCodeInvalidRequest:
		return true
	}
	return e.StatusCode == 401
}

// renewalFailure says why a renewal failed and what became of the stored
// token. It never claims a secret is wrong when none was sent.
func renewalFailure(m *authorizationCodeTokenModel, c grantClient, err error, host string, expiresAt time.Time, remaining, minRemaining time.Duration) string {
	var why string
	var cerr *ciam.Error
	if c.public() && errors.As(err, &cerr) && publicClientRefused(cerr) {
		why = fmt.Sprintf("the CIAM at %s answered HTTP %d %s. This resource's client is a public client (PKCE, no client_secret), so no client secret was sent: "+
			"renewal sends client_id alone, as RFC 6749 section 6 allows, and this directory may require a client secret to refresh. "+
			"If the application has a secret, set client_secret on this block (with client_id); otherwise obtain a new code when the token expires",
			host, cerr.StatusCode, cerr.Code)
	} else {
		summary, detail := explainTokenError(err, tokenRequest{what: "refresh-token", grant: "refresh_token", host: host, clientID: c.creds.ClientID,
			credentialHint: c.origin, singleUse: true})
		why = summary + ": " + detail
	}
	kept := fmt.Sprintf("it expires at %s (in %s)", expiresAt.UTC().Format(time.RFC3339), remaining.Round(time.Second))
	if remaining <= 0 {
		kept = fmt.Sprintf("it expired at %s (%s ago)", expiresAt.UTC().Format(time.RFC3339), (-remaining).Round(time.Second))
	}
	sent := "The refresh token was sent once and not retried, since a directory that rotates refresh tokens may already have spent it."
	var terr *ciam.TransportError
	switch {
	case errors.As(err, &terr) && terr.Unsent():
		sent = "The refresh token was never sent (no connection was made), so it is still good."
	case c.refused(err):
		sent = "The directory refused the client, so the refresh token was not used and is still good."
	}
	return fmt.Sprintf("The access token of %s %s, but renewing it failed: %s\n\n"+
		"The stored token was kept: %s. %s",
		m.describe(c.creds.ClientID), leftPhrase(remaining, minRemaining), trimPeriod(why), kept, sent)
}

// notRenewed says why a read sent no renewal for a due token.
func notRenewed(m *authorizationCodeTokenModel, owner string, remaining, minRemaining time.Duration, why string) string {
	return fmt.Sprintf("The access token of %s %s, but it was not renewed: %s. Nothing was sent; the stored token was kept.",
		m.describe(owner), leftPhrase(remaining, minRemaining), why)
}

// leftPhrase says, after "The access token of ...", how much of its life is
// left against min_remaining.
func leftPhrase(remaining, minRemaining time.Duration) string {
	if remaining <= 0 {
		return fmt.Sprintf("expired %s ago", (-remaining).Round(time.Second))
	}
	// Truncated: rounded, 4m59.6s left would read as the 5m0s it is less than.
	return fmt.Sprintf("has %s left, less than min_remaining (%s)", remaining.Truncate(time.Second), minRemaining)
}

func trimPeriod(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '.' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

// ModifyPlan refuses, at plan time, changes that only a new code can satisfy
// while code stays the same (a replacement would revoke the working grant and
// then fail to exchange the spent code), leaves the renewal to the apply
// when this run's read did not decide it (see readDecided), and warns about
// a min_remaining that makes every run renew.
func (r *authorizationCodeTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	defer r.data.guard(&resp.Diagnostics)
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return // create or destroy
	}
	var plan, state authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !plan.Code.IsUnknown() && !plan.Code.Equal(state.Code) {
		return // a new code replaces the resource
	}
	grant := loadGrantPrivate(ctx, req.Private)
	if !plan.Code.IsUnknown() {
		// With a code not known yet the change may be a new grant; Update
		// checks again when it is known to be the same.
		resp.Diagnostics.Append(r.sameGrant(&plan, &state, grant)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	resp.Diagnostics.Append(minRemainingWarning(&state, plan.MinRemaining)...)
	// A missing auth_domain does not end it here: the apply may have one (a
	// saved plan applied in another environment), and a renewal the apply
	// cannot make fails there with an error that says so.
	if state.RefreshToken.ValueString() == "" || r.data == nil || readDecided(&plan, &state, grant) {
		return // nothing to renew with, or this run's Read decided
	}
	// Otherwise the apply renews if the token is due by then, under the
	// min_remaining it then has. Terraform plans the resource again during
	// the apply, and a value known in the plan must stay the same; but a
	// token fresh now may be due then (a saved plan, a prompt that waits),
	// and min_remaining may not be known yet. So the token attributes are
	// unknown, for Update to decide, whenever the apply updates the resource
	// anyway, and when the token is due now (which it still is then).
	if _, _, _, due := state.renewalDue(plan.MinRemaining, r.data.clock()); !due && req.Plan.Raw.Equal(req.State.Raw) {
		return
	}
	for _, a := range renewedAttributes {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a.name), unknownOf(a))...)
	}
}

func isTrueOrNull(b types.Bool) bool { return b.IsNull() || b.IsUnknown() || b.ValueBool() }

// readDecided reports whether this run's Read decided the renewal, so that
// the apply must not renew: Read sent a refresh (whatever came of it: a
// refresh token is single-use, unless the directory refused the client, and
// the configuration has the same one), or it renews (renew_in_plan was and
// stays true, and the settings were known) under the min_remaining the plan
// keeps.
// It reads the state, its private part and the configuration, never the
// clock: the plan and the plan made again during the apply agree.
func readDecided(plan, state *authorizationCodeTokenModel, grant grantPrivate) bool {
	mark := renewalMark(state.RefreshToken.ValueString())
	switch {
	case grant.ReadRenewal == mark:
		return true
	case grant.ReadRefused == mark:
		// Refused with the block's credentials in state (or the provider's,
		// which the apply has too): only other ones may do better.
		return plan.ClientID.Equal(state.ClientID) && plan.ClientSecret.Equal(state.ClientSecret)
	case grant.ReadDeferred == mark || !isTrueOrNull(state.RenewInPlan):
		return false
	}
	return !plan.RenewInPlan.IsUnknown() && (plan.RenewInPlan.IsNull() || plan.RenewInPlan.ValueBool()) &&
		!plan.MinRemaining.IsUnknown() && plan.MinRemaining.Equal(state.MinRemaining)
}

// renewedAttributes are the attributes a renewal may change: the token
// results and the refresh and ID tokens.
var renewedAttributes = func() []attrSpec {
	return append(slices.Clone(tokenResultSpecs), attrSpec{name: "refresh_token"}, attrSpec{name: "id_token"})
}()

func unknownOf(s attrSpec) any {
	if s.kind == kindInt64 {
		return types.Int64Unknown()
	}
	return types.StringUnknown()
}

// sameGrant fails for a change of redirect_uri, code_verifier or the client
// while code stays the same. Values not known yet are checked again at apply;
// missing credentials are not a change (nothing can be sent without them).
func (r *authorizationCodeTokenResource) sameGrant(plan, state *authorizationCodeTokenModel, grant grantPrivate) diag.Diagnostics {
	var diags diag.Diagnostics
	needsNewCode := func(at *path.Path, attr, change string) {
		detail := fmt.Sprintf("%s, but code did not. The grant was issued for the old value: a replacement would revoke the working refresh token "+
			"and then fail to exchange the spent code (invalid_grant), leaving nothing. Nothing has been changed. "+
			"To change it, obtain a new authorization code from /oauth2/authorize with the new value and set code to it (the resource is then replaced); "+
			"or set %s back. To destroy the resource instead, run terraform destroy -refresh=false: Terraform plans the configuration before a destroy.", change, attr)
		if at != nil {
			diags.AddAttributeError(*at, "New Authorization Code Needed", detail)
		} else {
			diags.AddError("New Authorization Code Needed", detail)
		}
	}
	if !plan.RedirectURI.IsUnknown() && !plan.RedirectURI.Equal(state.RedirectURI) {
		p := path.Root("redirect_uri")
		needsNewCode(&p, "redirect_uri", fmt.Sprintf("redirect_uri changed (%s to %s)", quoted(state.RedirectURI.ValueString()), quoted(plan.RedirectURI.ValueString())))
	}
	if !plan.CodeVerifier.IsUnknown() && !plan.CodeVerifier.Equal(state.CodeVerifier) {
		p := path.Root("code_verifier")
		needsNewCode(&p, "code_verifier", fmt.Sprintf("code_verifier changed (from %s to %s)", describeSecret(state.CodeVerifier), describeSecret(plan.CodeVerifier)))
	}
	if other := r.otherDirectory(grant); other != "" {
		needsNewCode(nil, "the provider's auth_domain (or "+envAuthDomain+")", "The directory changed: "+other)
	}
	if to, ok := r.client(plan); ok && to.creds.ClientID != "" {
		from := r.grantClientID(state, grant)
		if from != "" && to.creds.ClientID != from {
			change := fmt.Sprintf("The client changed: the grant belongs to client_id %s, and %s", quoted(from), clientProblem(to))
			if plan.ClientID.IsNull() {
				needsNewCode(nil, "the provider's client_id", change)
			} else {
				p := path.Root("client_id")
				needsNewCode(&p, "client_id", change)
			}
		}
	}
	return diags
}

// otherDirectory says how the provider's directory differs from the one
// that issued the grant ("" when it does not, or is not known yet).
func (r *authorizationCodeTokenResource) otherDirectory(grant grantPrivate) string {
	if r.data == nil || r.data.client == nil || grant.Directory == "" || grant.Directory == r.data.client.Directory() {
		return ""
	}
	return fmt.Sprintf("the grant was issued by the directory at %s, and the provider's auth_domain is %s", grant.Directory, r.data.client.Directory())
}

// grantClientID is the client the grant was issued to: as recorded at
// create, else (state from before the record) as configured.
func (r *authorizationCodeTokenResource) grantClientID(state *authorizationCodeTokenModel, grant grantPrivate) string {
	if grant.ClientID != "" {
		return grant.ClientID
	}
	c, _ := r.client(state)
	return c.creds.ClientID
}

func describeSecret(v types.String) string {
	if v.IsNull() {
		return "unset"
	}
	return "a value"
}

// minRemainingWarning warns when min_remaining is at least the lifetime the
// directory granted: every plan (or apply) then renews.
func minRemainingWarning(m *authorizationCodeTokenModel, minRemaining types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	d, err := time.ParseDuration(minRemaining.ValueString())
	if err != nil || m.ExpiresIn.IsNull() || m.ExpiresIn.IsUnknown() {
		return diags
	}
	lifetime := time.Duration(m.ExpiresIn.ValueInt64()) * time.Second
	if d >= lifetime {
		diags.AddAttributeWarning(path.Root("min_remaining"), "min_remaining Is Not Below The Token Lifetime",
			fmt.Sprintf("min_remaining (%s) is at least the lifetime the directory grants the access token (%ds), so a token is never fresh enough: every plan renews it "+
				"(with renew_in_plan = false, every apply), which costs a refresh grant per run and, with a directory that rotates refresh tokens, "+
				"spends the refresh token each time. Set min_remaining well below %ds, e.g. a fifth of it.", quoted(minRemaining.ValueString()), m.ExpiresIn.ValueInt64(), m.ExpiresIn.ValueInt64()))
	}
	return diags
}

// Update stores the new arguments and, when the plan left the tokens unknown
// (ModifyPlan left the decision to the apply), renews if the token is due
// now. A failure keeps the prior state.
func (r *authorizationCodeTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer r.data.guard(&resp.Diagnostics)
	var plan authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	state, ok := r.loadState(ctx, req.State, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	resp.Diagnostics.Append(r.sameGrant(&plan, state, grant)...) // values unknown at plan time are known now
	if resp.Diagnostics.HasError() {
		return
	}
	c, _ := r.client(&plan)
	grant.ClientID = r.grantClientID(state, grant)
	renew := false
	if plan.AccessToken.IsUnknown() {
		_, _, _, due := state.renewalDue(plan.MinRemaining, r.data.clock())
		renew = due && state.RefreshToken.ValueString() != "" && !readDecided(&plan, state, grant)
		plan.tokenResultModel, plan.RefreshToken, plan.IDToken = state.tokenResultModel, state.RefreshToken, state.IDToken
	}
	grant.ReadRenewal, grant.ReadDeferred, grant.ReadRefused = "", "", "" // the plan is applied: the marks have served
	if renew {
		switch {
		case r.data.noAuthDomain:
			resp.Diagnostics.Append(missingAuthDomain("Renewing ciam_authorization_code_token"))
			return
		case !c.usableFor(grant.ClientID):
			resp.Diagnostics.AddError("CIAM Token Not Renewed", fmt.Sprintf("The token of %s was not renewed: the grant belongs to client_id %s, and %s. Nothing was sent; the stored token was kept.",
				state.describe(grant.ClientID), quoted(grant.ClientID), clientProblem(c)))
			return
		}
		err := r.renew(ctx, &plan, c, &grant, !plan.RenewInPlan.IsNull() && plan.RenewInPlan.ValueBool(), &resp.Diagnostics)
		if err != nil {
			expiresAt, remaining, minRemaining, _ := state.renewalDue(plan.MinRemaining, r.data.clock())
			detail := renewalFailure(state, c, err, r.data.client.Host(), expiresAt, remaining, minRemaining)
			if ciam.IsOAuthError(err, ciam.ErrCodeInvalidGrant) {
				resp.Diagnostics.AddError("CIAM Refresh Token Rejected", detail+" The directory rejected the refresh token (invalid_grant): it was revoked, expired or spent, "+
					"so no later apply can renew it. Obtain a new authorization code from /oauth2/authorize and set code to it; the next apply replaces the resource.")
				return
			}
			resp.Diagnostics.AddError("CIAM Token Not Renewed", detail+" The apply stopped; the next apply tries again.")
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
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
	c, known := r.client(m)
	owner := r.grantClientID(m, loadGrantPrivate(ctx, req.Private))
	if r.data.noAuthDomain {
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked", fmt.Sprintf(
			"The refresh token of %s was not revoked: the provider has no auth_domain (nor %s). Nothing was sent. "+
				"The resource was removed from state; its refresh token stays valid until it expires or is revoked in the CIAM console.",
			m.describe(owner), envAuthDomain))
		return
	}
	if other := r.otherDirectory(loadGrantPrivate(ctx, req.Private)); other != "" {
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked", fmt.Sprintf(
			"The refresh token of %s was not revoked: %s. Nothing was sent. "+
				"The resource was removed from state; its refresh token stays valid until it expires or is revoked in the CIAM console of the directory at %s.",
			m.describe(owner), other, loadGrantPrivate(ctx, req.Private).Directory))
		return
	}
	if !known || !c.usableFor(owner) || r.data.client == nil {
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked", fmt.Sprintf(
			"The refresh token of %s was not revoked: the grant belongs to client_id %s, and %s. Nothing was sent. "+
				"The resource was removed from state; its refresh token stays valid until it expires or is revoked in the CIAM console.",
			m.describe(owner), quoted(owner), clientProblem(c)))
		return
	}
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	if err := r.data.client.Revoke(ctx, c.creds, token); err != nil {
		if ctx.Err() != nil {
			// Interrupted, not failed: the destroy did not happen, and the
			// state keeps the token that is still valid.
			resp.Diagnostics.AddError("Destroy Interrupted", fmt.Sprintf(
				"The run was interrupted (Ctrl-C) while the refresh token of %s was being revoked: the revocation did not finish, so the token may still be valid, "+
					"and the resource stays in state. Run terraform destroy again to revoke it (revoking twice is harmless).", m.describe(c.creds.ClientID)))
			return
		}
		var why string
		var cerr *ciam.Error
		if c.public() && errors.As(err, &cerr) && publicClientRefused(cerr) {
			why = fmt.Sprintf("The CIAM answered HTTP %d %s: this resource's client is a public client (PKCE, no client_secret), so no client secret was sent "+
				"(RFC 7009 section 2.1 lets a public client revoke with client_id alone), and this directory may require one to revoke.", cerr.StatusCode, cerr.Code)
		} else {
			_, why = explainTokenError(err, tokenRequest{what: "revocation", grant: "revocation", host: r.data.client.Host(), clientID: c.creds.ClientID,
				credentialHint: c.origin, expected: "an empty 200 answer"})
		}
		resp.Diagnostics.AddWarning("CIAM Token Not Revoked",
			fmt.Sprintf("The resource %s was removed from state, but revoking its refresh token failed, so the token stays valid until it expires or is revoked in the CIAM console. %s",
				m.describe(c.creds.ClientID), why))
	}
}

// ImportState explains why a token cannot be imported and what to do.
func (r *authorizationCodeTokenResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Import Not Supported For ciam_authorization_code_token",
		"A ciam_authorization_code_token cannot be imported: the resource is the result of exchanging a single-use authorization code, "+
			"and a refresh token cannot be read back from the CIAM, so there is nothing an import could fetch. Instead:\n"+
			"1. Obtain a new authorization code: send the user to /oauth2/authorize (response_type=code, with your client_id and redirect_uri, and a PKCE code_challenge for a public client).\n"+
			"2. Set code (and redirect_uri, and code_verifier for PKCE) in the resource block to the values of that request.\n"+
			"3. Run terraform apply: it exchanges the code once and stores the tokens.")
}

// describe names the resource for messages that Terraform shows without an
// address (delete warnings, for one): its id (the token's fingerprint) and
// the client ID.
func (m *authorizationCodeTokenModel) describe(clientID string) string {
	s := "ciam_authorization_code_token"
	if id := m.ID.ValueString(); id != "" {
		s += " id " + id
	}
	if clientID != "" {
		s += " (client_id " + quoted(clientID) + ")"
	}
	return s
}

// renewalDue reads the stored expiry against minRemaining (the default when
// unreadable). due is false when the token has enough left or no lifetime.
func (m *authorizationCodeTokenModel) renewalDue(minRemaining types.String, now time.Time) (expiresAt time.Time, remaining, minimum time.Duration, due bool) {
	expiresAt, err := time.Parse(time.RFC3339, m.ExpiresAt.ValueString())
	if err != nil {
		return expiresAt, 0, 0, false // the CIAM gave no lifetime: nothing to renew against
	}
	minimum, err = time.ParseDuration(minRemaining.ValueString())
	if err != nil {
		minimum, _ = time.ParseDuration(defaultMinRemaining)
	}
	remaining = expiresAt.Sub(now)
	return expiresAt, remaining, minimum, remaining < minimum
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
