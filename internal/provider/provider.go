// Package provider is the Terraform layer of terraform-provider-ciam: the
// provider block, its data sources, and the mapping between Terraform values
// and the ciam client. It never builds HTTP requests itself.
package provider

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var (
	_ provider.Provider                       = &ciamProvider{}
	_ provider.ProviderWithEphemeralResources = &ciamProvider{}
	_ provider.ProviderWithFunctions          = &ciamProvider{}
)

// New returns a constructor for the provider at the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &ciamProvider{version: version, now: time.Now}
	}
}

type ciamProvider struct {
	version string
	// now is the provider's clock: every decision that depends on the time
	// (is a token due for renewal, when did an answer arrive) reads it.
	// Tests set their own to move time instead of sleeping.
	now func() time.Time
}

type providerModel struct {
	AuthDomain              types.String `tfsdk:"auth_domain"`
	ClientID                types.String `tfsdk:"client_id"`
	ClientSecret            types.String `tfsdk:"client_secret"`
	SCIMClientID            types.String `tfsdk:"scim_client_id"`
	SCIMClientSecret        types.String `tfsdk:"scim_client_secret"`
	TokenEndpointAuthMethod types.String `tfsdk:"token_endpoint_auth_method"`
	MaxRetries              types.Number `tfsdk:"max_retries"`
	RequestTimeout          types.String `tfsdk:"request_timeout"`
	CACertPEM               types.String `tfsdk:"ca_cert_pem"`
	TokenReuse              types.Bool   `tfsdk:"token_reuse"`
}

func (p *ciamProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ciam"
	resp.Version = p.version
}

func (p *ciamProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	nonEmpty := []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{}}
	secret := []validator.String{stringvalidator.LengthAtLeast(1), noSurroundingSpace{secret: true}}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Obtains Tencent CIAM access tokens (OAuth 2.0 client credentials, the SCIM data-sync token, the authorization-code grant) for use in other providers' configuration, " +
			"and the directory's OpenID configuration and signing keys, with offline JWT verification, for the services that accept those tokens.",
		Attributes: map[string]schema.Attribute{
			"auth_domain": schema.StringAttribute{
				MarkdownDescription: "The CIAM user directory's domain: a bare host such as `sample.portal.tencentciam.com` (https is implied) or a base URL with scheme and optional port, such as `https://login.example.com:8443`. " +
					"`http://` is accepted only for loopback hosts (`127.0.0.0/8`, `::1`, `localhost`), for local testing. A path, query or fragment is an error. " +
					"Can also be set with the `CIAM_AUTH_DOMAIN` environment variable.",
				Optional:   true,
				Validators: []validator.String{authDomainValidator{}},
			},
			"client_id": schema.StringAttribute{
				MarkdownDescription: "Client ID of the CIAM application, used by `ciam_client_credentials_token` and, when no `scim_client_id` is set, by `ciam_scim_token`. Can also be set with `CIAM_CLIENT_ID`.",
				Optional:            true,
				Validators:          nonEmpty,
			},
			"client_secret": schema.StringAttribute{
				MarkdownDescription: "Client secret of the CIAM application. Can also be set with `CIAM_CLIENT_SECRET`. Provider settings are never written to state.",
				Optional:            true,
				Sensitive:           true,
				Validators:          secret,
			},
			"scim_client_id": schema.StringAttribute{
				MarkdownDescription: "Client ID of the data-sync (SCIM) configuration, from the console's data-sync page; usually not the application's. `ciam_scim_token` uses it before `client_id`. Can also be set with `CIAM_SCIM_CLIENT_ID`.",
				Optional:            true,
				Validators:          nonEmpty,
			},
			"scim_client_secret": schema.StringAttribute{
				MarkdownDescription: "Client secret of the data-sync (SCIM) configuration. Can also be set with `CIAM_SCIM_CLIENT_SECRET`.",
				Optional:            true,
				Sensitive:           true,
				Validators:          secret,
			},
			"token_endpoint_auth_method": schema.StringAttribute{
				MarkdownDescription: "How the client authenticates at the token and revocation endpoints: `client_secret_post` (default, the id and secret in the form body, as in the CIAM's samples) " +
					"or `client_secret_basic` (HTTP Basic, with id and secret form-url-encoded first as RFC 6749 section 2.3.1 requires). The SCIM token endpoint always takes them in its query.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(ciam.AuthMethodClientSecretPost, ciam.AuthMethodClientSecretBasic)},
			},
			// A number, not an Int64Attribute: the framework cannot read
			// 1.5 into an Int64 and reports that as a provider bug, where
			// wholeNumberBetween names the user's mistake.
			"max_retries": schema.NumberAttribute{
				MarkdownDescription: fmt.Sprintf("How many times a request is retried after a transport error, HTTP 5xx or 429, with exponential backoff and jitter "+
					"(Retry-After is honoured, up to %s). OAuth errors and other 4xx are never retried, nor is an authorization-code exchange or a refresh-token renewal that may have reached the server (both are single-use). "+
					"Default %d; 0 disables retries.", ciam.MaxRetryAfter, ciam.DefaultMaxRetries),
				Optional:   true,
				Validators: []validator.Number{wholeNumberBetween{min: 0, max: 10}},
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("How long each attempt may take (connect, send, read the answer), as a Go duration such as `10s`. Default `%s`. "+
					"Retries and their waits come on top, within Terraform's own deadline; interrupting Terraform ends a pending request at once when Terraform cancels it (a plan does; the refresh that starts apply and destroy is left to finish), except a code exchange or an apply's renewal of `ciam_authorization_code_token` connected to the directory, "+
					"whose answer is awaited (up to this timeout) since it holds the only copy of the tokens issued.", ciam.DefaultAttemptTimeout),
				Optional:   true,
				Validators: []validator.String{durationValidator{}},
			},
			"token_reuse": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Reuse tokens across identical token blocks (default `true`). Within one run, blocks that ask for the same token "+
					"(same grant, credentials, auth method and scope set) share one token request, and concurrent identical requests are sent once. "+
					"Data sources and ephemeral resources have separate pools and never share a token: a data source's token is stored in state and in saved plans, an ephemeral one must be in neither. "+
					"Data sources reuse a token while at least %s and %d%% of its lifetime are left; ephemeral resources, whose consumers cannot renew what they get, only while at least half of it is left. "+
					"`expires_in` of a reused token is the lifetime left. Errors are never reused, and the authorization-code grant never goes through the cache. "+
					"Set `false` to request a new token for every block.", ciam.MinReuseRemaining, 100/ciam.ReuseFraction),
				Optional: true,
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificates to trust in addition to the system's, for a CIAM or proxy behind a private CA, e.g. `file(\"corp-ca.pem\")`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
		},
	}
}

func (p *ciamProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	// The provider's own entry point is guarded like every type's: it
	// handles both client secrets.
	secrets := newSecretSet()
	defer (&providerData{secrets: secrets}).guard(&resp.Diagnostics)
	ledger := openCodeLedger(p.now)
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	values, fromEnv, unknown := resolveSettings(&cfg)
	secrets.addCredentials(values["client_id"], values["client_secret"])
	secrets.addCredentials(values["scim_client_id"], values["scim_client_secret"])
	// A value from the environment that cannot be used fails the blocks that
	// use it (envProblem), not the configuration: the variable may be set
	// for other work. One in the provider block fails at validate already
	// (noSurroundingSpace), or here when it was unknown then.
	envProblems := map[string]string{}
	for _, s := range settings {
		v := values[s.attr]
		switch {
		case fromEnv[s.attr]:
			envProblems[s.attr] = envProblem(s.env, s.attr, v)
		case s.attr != "auth_domain" && hasSurroundingSpace(v): // auth_domain has its own parser
			resp.Diagnostics.Append(surroundingSpaceError(path.Root(s.attr), v, s.secret))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	// A setting that comes from another resource is unknown while that
	// resource is planned. Nothing fails here: a resource plans without the
	// client and gets it at apply, when Terraform configures the provider
	// again; a data source or ephemeral resource that needs a request during
	// plan defers or says which setting is unknown (settingsUnknown).
	unknownTransport := unknownTransportSettings(&cfg)
	if len(unknown) > 0 && len(unknownTransport) == 0 {
		// The known settings are still checked now, not only at apply.
		_, diags := clientConfig(&cfg)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	unknown = append(unknown, unknownTransport...)
	app := credentialSource{
		id: values["client_id"], secret: values["client_secret"],
		idAttr: "client_id", secretAttr: "client_secret", idEnv: envClientID, secretEnv: envClientSecret,
		idFromEnv: fromEnv["client_id"], secretFromEnv: fromEnv["client_secret"],
		problem: joinProblems(envProblems["client_id"], envProblems["client_secret"]), idProblem: envProblems["client_id"],
	}
	if len(unknown) > 0 {
		data := &providerData{secrets: secrets, unknown: unknown, now: p.now, ledger: ledger, app: app}
		if !slices.Contains(unknown, "auth_domain") {
			// What the sign-in URL needs; the apply reports the rest.
			var attrProblem string
			data.base, data.authDomainProblem, attrProblem = authDomain(values, fromEnv, envProblems)
			data.authDomainProblem += attrProblem
		}
		resp.DataSourceData, resp.ResourceData, resp.EphemeralResourceData = data, data, data
		tflog.Debug(ctx, "CIAM provider settings unknown until apply", map[string]any{"unknown": unknown})
		return
	}

	base, problem, attrProblem := authDomain(values, fromEnv, envProblems)
	if attrProblem != "" {
		resp.Diagnostics.AddAttributeError(path.Root("auth_domain"), "Invalid CIAM Auth Domain", attrProblem)
		return
	}
	if base == nil {
		// Nothing fails yet: a configuration may use only the functions,
		// which need no directory (some OpenTofu versions configure the
		// provider for them). Every type that sends a request says so.
		_, diags := clientConfig(&cfg)
		resp.Diagnostics.Append(diags...)
		data := &providerData{secrets: secrets, noAuthDomain: true, authDomainProblem: problem, now: p.now, ledger: ledger}
		resp.DataSourceData, resp.ResourceData, resp.EphemeralResourceData = data, data, data
		return
	}

	clientCfg, diags := clientConfig(&cfg)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	clientCfg.BaseURL = base
	clientCfg.Now = p.now
	clientCfg.Redact = secrets.redact
	clientCfg.UserAgent = "terraform-provider-ciam/" + p.version
	// Masks are applied where the provider logs, so a cache hit (which logs
	// nothing) costs nothing for them.
	clientCfg.OnRequest = func(ctx context.Context, info ciam.RequestInfo) { logRequest(secrets.mask(ctx), info) }
	client, err := ciam.New(clientCfg)
	if err != nil {
		resp.Diagnostics.AddError("Cannot Create CIAM Client", "This is a provider bug, please report it: "+err.Error())
		return
	}

	data := &providerData{
		domain:    domainSpec{value: values["auth_domain"], fromEnv: fromEnv["auth_domain"]},
		base:      base,
		client:    client,
		ephemeral: client.WithPool(ciam.PoolEphemeral),
		secrets:   secrets,
		now:       p.now,
		ledger:    ledger,
		app:       app,
		scim: credentialSource{
			id: values["scim_client_id"], secret: values["scim_client_secret"],
			idAttr: "scim_client_id", secretAttr: "scim_client_secret", idEnv: envSCIMClientID, secretEnv: envSCIMClientSecret,
			idFromEnv: fromEnv["scim_client_id"], secretFromEnv: fromEnv["scim_client_secret"],
			problem: joinProblems(envProblems["scim_client_id"], envProblems["scim_client_secret"]),
		},
	}
	resp.DataSourceData = data
	resp.ResourceData = data
	resp.EphemeralResourceData = data
	tflog.Debug(ctx, "configured CIAM provider", map[string]any{"auth_domain_host": client.Host()})
}

func (p *ciamProvider) Resources(context.Context) []func() resource.Resource {
	return guardResources(
		newAuthorizationCodeTokenResource,
	)
}

func (p *ciamProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return guardEphemeralResources(
		newClientCredentialsTokenEphemeralResource,
		newSCIMTokenEphemeralResource,
	)
}

func (p *ciamProvider) Functions(context.Context) []func() function.Function {
	return guardFunctions(
		newDecodeJWTFunction,
		newVerifyJWTFunction,
		newPKCEChallengeFunction,
	)
}

func (p *ciamProvider) DataSources(context.Context) []func() datasource.DataSource {
	return guardDataSources(
		newClientCredentialsTokenDataSource,
		newSCIMTokenDataSource,
		newOpenIDConfigurationDataSource,
		newJWKSDataSource,
		newAuthorizationURLDataSource,
	)
}

// logRequest logs one finished HTTP exchange. RequestInfo holds no secret by
// construction; the caller masks every known secret as well (secretSet.mask).
func logRequest(ctx context.Context, info ciam.RequestInfo) {
	fields := map[string]any{
		"op":          info.Op,
		"host":        info.Host,
		"attempt":     info.Attempt,
		"status":      info.StatusCode,
		"duration_ms": info.Duration.Round(time.Millisecond).Milliseconds(),
	}
	if info.RetryIn > 0 {
		fields["retry_in_ms"] = info.RetryIn.Milliseconds()
	}
	switch {
	case info.Op == "":
		return
	case info.Err != nil:
		fields["error"] = info.Err.Error()
		tflog.Debug(ctx, "CIAM request failed", fields)
	case info.RetryIn > 0:
		tflog.Debug(ctx, "CIAM request will be retried", fields)
	default:
		tflog.Debug(ctx, "CIAM request done", fields)
	}
}

// authDomain parses the provider's directory: its URL (nil when there is
// none to use), why CIAM_AUTH_DOMAIN cannot be used, or why the provider
// block's auth_domain cannot (an error of the configuration).
func authDomain(values map[string]string, fromEnv map[string]bool, envProblems map[string]string) (base *url.URL, envProblem, attrProblem string) {
	v := values["auth_domain"]
	if v == "" {
		return nil, "", ""
	}
	if p := envProblems["auth_domain"]; p != "" {
		return nil, p, ""
	}
	base, err := ciam.ParseAuthDomain(v)
	switch {
	case err != nil && fromEnv["auth_domain"]:
		return nil, "The " + envAuthDomain + " environment variable (used because auth_domain is not set) " + err.Error() + ".", ""
	case err != nil:
		return nil, "", "auth_domain " + err.Error() + "."
	}
	return base, "", ""
}
