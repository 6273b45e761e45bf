package provider

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// providerData is what Configure hands to every data source, ephemeral
// resource and resource.
type providerData struct {
	// client serves data sources (token reuse pool ciam.PoolStored) and
	// everything else; ephemeral is its view for ephemeral resources
	// (ciam.PoolEphemeral), so that an ephemeral resource never gets a token
	// that a data source stored.
	client, ephemeral *ciam.Client
	secrets           *secretSet
	// app are the application credentials (client_id/client_secret).
	app credentialSource
	// scim are the data-sync credentials (scim_client_id/scim_client_secret).
	scim credentialSource
	// unknown lists the provider settings that are not known yet (they come
	// from a resource that is still planned). The client is nil then.
	unknown []string
	// noAuthDomain says that the provider has no usable directory: neither
	// auth_domain nor CIAM_AUTH_DOMAIN is set, or CIAM_AUTH_DOMAIN is not
	// usable (authDomainProblem says why). The client is nil then.
	noAuthDomain      bool
	authDomainProblem string
	// domain is how auth_domain was given, for messages about it.
	domain domainSpec
	// base is auth_domain's URL, also while other settings are unknown
	// (nil when auth_domain is unknown, unset or unusable): the sign-in
	// URL needs nothing else.
	base *url.URL
	// now is the provider's clock (see ciamProvider.now).
	now func() time.Time
	// reads holds the renewalMark of every refresh token a read of this
	// provider instance (this plan or apply walk) left in state: ModifyPlan
	// tells a run whose read had its say from one without a read
	// (-refresh=false). Memory, not private state: it must not outlive the
	// run.
	reads markSet
	// exchanged holds the renewalMark of every code an exchange of this
	// instance sent or is sending: two resources with one code exchange it
	// once (claimCode).
	exchanged markSet
	// sentRead and sentDestroyed hold the codes (renewalMarks) that the
	// state of a ciam_authorization_code_token this instance read, or
	// destroyed, records as sent (grantPrivate.SentCodes). A create, whose
	// plan sees no prior state (also when it replaces a tainted object),
	// refuses both at apply (exchange); its plan refuses only the ones a
	// read noted. The plan that Terraform makes again during an apply,
	// after the destroy of the tainted object a create replaces, must not
	// fail: the create would not run, and leave nothing in state that
	// remembers the codes (see failedCreate).
	sentRead, sentDestroyed markSet
	// ledger is this machine's record of the codes the provider sent (nil
	// when off): it outlives the run, and is shared by every provider
	// configuration (see codeLedger).
	ledger *codeLedger
}

// claimCode reports whether no exchange of this instance has claimed code
// yet, and claims it.
func (d *providerData) claimCode(code string) bool {
	return d.exchanged.claim(renewalMark(code))
}

// exchangedHere reports whether an exchange of this instance claimed code.
func (d *providerData) exchangedHere(code string) bool {
	return d != nil && d.exchanged.has(renewalMark(code))
}

// noteSent records the codes (renewalMarks) that a state this instance
// read, or destroyed, records as sent.
func (d *providerData) noteSent(marks []string, destroyed bool) {
	switch {
	case d == nil:
	case destroyed:
		d.sentDestroyed.add(marks)
	default:
		d.sentRead.add(marks)
	}
}

// readMarks returns the marks noteSent recorded for reads.
func (d *providerData) readMarks() []string {
	if d == nil {
		return nil
	}
	return d.sentRead.list()
}

// sentMarks returns the marks noteSent recorded.
func (d *providerData) sentMarks() []string {
	if d == nil {
		return nil
	}
	return append(d.sentDestroyed.list(), d.sentRead.list()...) // the replaced object's first
}

// inLedger reports whether this machine's ledger records code as sent. A
// ledger it cannot use is a warning in diags.
func (d *providerData) inLedger(code string, diags *diag.Diagnostics) bool {
	if d == nil {
		return false
	}
	ok, err := d.ledger.has(code)
	if err != nil {
		diags.Append(ledgerNotUsable(err))
	}
	return ok
}

// ledgerNotUsable is the warning of a ledger of sent codes the provider
// cannot use: the codes are checked against the state only.
func ledgerNotUsable(err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("CIAM Code Ledger Not Usable", "The provider could not use its record of the authorization codes it sent on this machine: "+
		err.Error()+". Codes are checked against the state only, which does not remember a destroyed resource's codes nor another provider configuration's. "+
		"Set "+envCodeLedger+" to a writable absolute file path (or to off, to turn the record off and this warning with it).")
}

// sentBeforeHere reports whether a state this instance read (or, unless
// readOnly, destroyed) records code as sent.
func (d *providerData) sentBeforeHere(code string, readOnly bool) bool {
	if d == nil || code == "" {
		return false
	}
	m := renewalMark(code)
	return d.sentRead.has(m) || !readOnly && d.sentDestroyed.has(m)
}

// noteRead records that a read of this instance left refreshToken in state.
func (d *providerData) noteRead(refreshToken string) {
	if d != nil {
		d.reads.add([]string{renewalMark(refreshToken)})
	}
}

// readHere reports whether a read of this instance left refreshToken in
// state.
func (d *providerData) readHere(refreshToken string) bool {
	if d == nil {
		return false
	}
	ok := d.reads.has(renewalMark(refreshToken))
	return ok
}

// clock returns the provider's current time.
func (d *providerData) clock() time.Time {
	if d == nil || d.now == nil {
		return time.Now()
	}
	return d.now()
}

// missingAuthDomain is the error of a type that needs a request when the
// provider has no usable auth_domain.
func (d *providerData) missingAuthDomain(what string) diag.Diagnostic {
	if d != nil && d.authDomainProblem != "" {
		return diag.NewErrorDiagnostic("Invalid CIAM Auth Domain", what+" needs the CIAM user directory's domain, and "+lowerFirst(d.authDomainProblem))
	}
	return diag.NewErrorDiagnostic("Missing CIAM Auth Domain",
		what+" needs the CIAM user directory's domain, e.g. sample.portal.tencentciam.com, and the provider has none. "+
			"Set auth_domain in the provider block or the "+envAuthDomain+" environment variable.")
}

// noDirectory says why the provider has no usable directory, for messages
// that go on after it.
func (d *providerData) noDirectory() string {
	if d != nil && d.authDomainProblem != "" {
		return trimPeriod(lowerFirst(d.authDomainProblem))
	}
	return "the provider has no auth_domain (nor " + envAuthDomain + ")"
}

func lowerFirst(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]-'A'+'a') + s[1:]
	}
	return s
}

// pooled is the client for a token reuse pool.
func (d *providerData) pooled(pool ciam.Pool) *ciam.Client {
	if pool == ciam.PoolEphemeral {
		return d.ephemeral
	}
	return d.client
}

// cannotRequestInRead is cannotRequest for a data source's Read: it defers
// or adds the error, and reports whether Read must stop.
func (d *providerData) cannotRequestInRead(req datasource.ReadRequest, resp *datasource.ReadResponse, what string) bool {
	unknown, deferNow, diags := d.cannotRequest(req.ClientCapabilities.DeferralAllowed, what)
	resp.Diagnostics.Append(diags...)
	if deferNow {
		resp.Deferred = &datasource.Deferred{Reason: datasource.DeferredReasonProviderConfigUnknown}
	}
	return unknown
}

// cannotRequestInOpen is cannotRequest for an ephemeral resource's Open.
func (d *providerData) cannotRequestInOpen(req ephemeral.OpenRequest, resp *ephemeral.OpenResponse, what string) bool {
	unknown, deferNow, diags := d.cannotRequest(req.ClientCapabilities.DeferralAllowed, what)
	resp.Diagnostics.Append(diags...)
	if deferNow {
		resp.Deferred = &ephemeral.Deferred{Reason: ephemeral.DeferredReasonProviderConfigUnknown}
	}
	return unknown
}

// cannotRequest tells a type that needs a request whether the provider
// cannot send one: its settings are still unknown, or it has no auth_domain.
// For unknown settings, when Terraform allows deferral, the caller defers
// (deferNow); otherwise diags holds the error that names what is missing.
func (d *providerData) cannotRequest(deferralAllowed bool, what string) (stop, deferNow bool, diags diag.Diagnostics) {
	if d != nil && d.noAuthDomain {
		diags.Append(d.missingAuthDomain(what))
		return true, false, diags
	}
	if d == nil || len(d.unknown) == 0 {
		return false, false, nil
	}
	if deferralAllowed {
		return true, true, nil
	}
	diags.Append(unknownSettings(what+" needs a request to the CIAM during plan", d.unknown))
	return true, false, diags
}

// unknownSettings is the error of a block that needs (needs says for what)
// provider settings that are not known until apply.
func unknownSettings(needs string, unknown []string) diag.Diagnostic {
	names := strings.Join(unknown, ", ")
	var envs []string
	for _, s := range settings {
		if slices.Contains(unknown, s.attr) {
			envs = append(envs, s.env)
		}
	}
	env := ""
	switch {
	case len(envs) == 1 && len(unknown) == 1:
		env = ", or leave it unset and set " + envs[0] + " in the environment"
	case len(envs) > 0:
		env = ", or leave them unset and set " + strings.Join(envs, ", ") + " in the environment"
	}
	verb := "is"
	if len(unknown) > 1 {
		verb = "are"
	}
	return diag.NewErrorDiagnostic("Unknown CIAM Provider Setting",
		fmt.Sprintf("%s, but the provider's %s %s not known until apply (it comes from a resource that is not created yet). "+
			"Set %s to a value known at plan time%s, or apply the resource it comes from first (terraform apply -target=ADDRESS).",
			needs, names, verb, names, env))
}

// credentialSource is a pair of provider-level credentials together with the
// names that would supply them and where each half came from, for error
// messages.
type credentialSource struct {
	id, secret                           string
	idAttr, secretAttr, idEnv, secretEnv string
	// idFromEnv and secretFromEnv say that the provider block left the
	// attribute unset and the value came from the environment variable.
	idFromEnv, secretFromEnv bool
	// problem says why a value from the environment cannot be used (see
	// envProblem); "" when both halves can. It fails the blocks that use
	// the pair, not the configuration. idProblem is the ID's part of it,
	// for a block that uses the ID alone (ciam_authorization_url).
	problem, idProblem string
}

func (c credentialSource) isSet() bool { return c.id != "" || c.secret != "" }

func (c credentialSource) names() string {
	return fmt.Sprintf("the provider's %s and %s (or the %s and %s environment variables)", c.idAttr, c.secretAttr, c.idEnv, c.secretEnv)
}

// origin says where each half of the pair came from: "client_id and
// client_secret came from the provider block", or, when the halves differ,
// "client_id came from the provider block and client_secret from the
// CIAM_CLIENT_SECRET environment variable".
func (c credentialSource) origin() string {
	from := func(fromEnv bool, env string) string {
		if fromEnv {
			return "the " + env + " environment variable"
		}
		return "the provider block"
	}
	if !c.idFromEnv && !c.secretFromEnv {
		return c.idAttr + " and " + c.secretAttr + " came from the provider block"
	}
	return c.idAttr + " came from " + from(c.idFromEnv, c.idEnv) + " and " + c.secretAttr + " from " + from(c.secretFromEnv, c.secretEnv)
}

// blockOrigin is the origin of a token block's own credentials.
const blockOrigin = "client_id and client_secret came from this block"

// credentialsModel is the pair of optional per-block credential overrides.
type credentialsModel struct {
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
}

// fallbackNote ends the origin of credentials that ciam_scim_token took from
// the application because no data-sync pair is set.
const fallbackNote = ". No scim_client_id and scim_client_secret are set, so the provider fell back to the application's credentials, " +
	"which work only if the CIAM registered them for data sync: set scim_client_id and scim_client_secret (or CIAM_SCIM_CLIENT_ID and " +
	"CIAM_SCIM_CLIENT_SECRET) to the credentials of the data-sync configuration, from the console's data-sync page"

// credentials resolves the credentials for one token block: the block's own
// pair first (the schema requires both or neither), then the provider's
// data-sync pair when forSCIM, then the provider's application pair. Missing
// credentials are an error only here, when a block needs them.
//
// The returned origin says where the credentials came from, for error
// messages (see credentialSource.origin).
func (d *providerData) credentials(block credentialsModel, forSCIM bool) (ciam.Credentials, string, diag.Diagnostics) {
	var diags diag.Diagnostics
	if !block.ClientID.IsNull() && !block.ClientSecret.IsNull() {
		d.secrets.addCredentials(block.ClientID.ValueString(), block.ClientSecret.ValueString())
		return ciam.Credentials{ClientID: block.ClientID.ValueString(), ClientSecret: block.ClientSecret.ValueString()},
			blockOrigin, nil
	}
	sources := []credentialSource{d.app}
	if forSCIM {
		sources = []credentialSource{d.scim, d.app}
	}
	for _, src := range sources {
		switch {
		case src.isSet() && src.problem != "":
			diags.AddError(whitespaceTitle, src.problem)
			return ciam.Credentials{}, "", diags
		case src.id != "" && src.secret != "":
			origin := src.origin()
			if forSCIM && src.idAttr == d.app.idAttr {
				origin += fallbackNote
			}
			return ciam.Credentials{ClientID: src.id, ClientSecret: src.secret}, origin, nil
		case src.isSet():
			missing, missingEnv := src.secretAttr, src.secretEnv
			if src.id == "" {
				missing, missingEnv = src.idAttr, src.idEnv
			}
			diags.AddError("Incomplete CIAM Credentials",
				fmt.Sprintf("The provider has only half of a credential pair: %s is missing. Set %s in the provider block or the %s environment variable, or give the block its own client_id and client_secret.",
					missing, missing, missingEnv))
			return ciam.Credentials{}, "", diags
		}
	}
	detail := "This block needs client credentials and none are configured. Set client_id and client_secret on the block, or " + d.app.names() + "."
	if forSCIM {
		detail = "This block needs data-sync (SCIM) credentials and none are configured. Set client_id and client_secret on the block, or " +
			d.scim.names() + ", or " + d.app.names() + "."
	}
	diags.AddError("Missing CIAM Credentials", detail)
	return ciam.Credentials{}, "", diags
}
