package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// The fetch paths below are shared by the data source and the ephemeral
// resource of each token: only the Terraform plumbing around them differs.

// clientCredentialsTokenModel is the model of ciam_client_credentials_token.
//
// It is read from and written to Terraform without the framework's
// reflection (readClientCredentialsBlock, raw): converting a set value
// compares every pair of its elements (basetypes.SetType.Validate), which
// made 20,000 scopes cost a minute and a half. Scopes are kept as the raw
// value configured, and written back as they are.
type clientCredentialsTokenModel struct {
	credentialsModel
	tokenResultModel
	// scopes are the configured scopes, sorted; rawScopes the value as
	// configured; grantedScopes the granted ones.
	scopes        []string
	rawScopes     tftypes.Value
	grantedScopes []string
}

// readClientCredentialsBlock reads a ciam_client_credentials_token block
// from the configuration in linear time.
func readClientCredentialsBlock(cfg tftypes.Value) (clientCredentialsTokenModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	var attrs map[string]tftypes.Value
	if err := cfg.As(&attrs); err != nil {
		diags.AddError("Unreadable Configuration", "This is a provider bug, please report it: the configuration of ciam_client_credentials_token is not an object.")
		return clientCredentialsTokenModel{}, diags
	}
	m := clientCredentialsTokenModel{rawScopes: attrs["scopes"]}
	m.ClientID, m.ClientSecret = rawStringValue(attrs["client_id"]), rawStringValue(attrs["client_secret"])
	var elems []tftypes.Value
	if m.rawScopes.IsKnown() && !m.rawScopes.IsNull() && m.rawScopes.As(&elems) == nil {
		for _, e := range elems {
			if s, ok := rawString(e); ok {
				m.scopes = append(m.scopes, s)
			}
		}
		sort.Strings(m.scopes)
	}
	return m, diags
}

// raw is m as the value of the block's type typ, for its state or result.
func (m *clientCredentialsTokenModel) raw(ctx context.Context, typ tftypes.Type) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	obj, ok := typ.(tftypes.Object)
	if !ok {
		diags.AddError("Unwritable State", "This is a provider bug, please report it: the type of ciam_client_credentials_token is not an object.")
		return tftypes.Value{}, diags
	}
	granted := make([]tftypes.Value, len(m.grantedScopes))
	for i, s := range m.grantedScopes {
		granted[i] = tftypes.NewValue(tftypes.String, s)
	}
	attrs := map[string]tftypes.Value{
		"scopes":         m.rawScopes,
		"granted_scopes": tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, granted),
	}
	for name, v := range map[string]attr.Value{
		"client_id": m.ClientID, "client_secret": m.ClientSecret,
		"id": m.ID, "access_token": m.AccessToken, "token_type": m.TokenType, "expires_in": m.ExpiresIn, "expires_at": m.ExpiresAt, "scope": m.Scope,
	} {
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			diags.AddError("Unwritable State", "This is a provider bug, please report it: "+name+" cannot be written.")
			return tftypes.Value{}, diags
		}
		attrs[name] = tv
	}
	for name, at := range obj.AttributeTypes {
		if _, set := attrs[name]; !set || attrs[name].Type() == nil {
			attrs[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(obj, attrs), diags
}

// rawStringValue is a raw string as a types.String (null when null).
func rawStringValue(v tftypes.Value) types.String {
	if s, ok := rawString(v); ok {
		return types.StringValue(s)
	}
	return types.StringNull()
}

func clientCredentialsTokenSpecs() []attrSpec {
	return append(append([]attrSpec{scopesArgumentSpec}, credentialArgumentSpecs(false)...),
		append(tokenResultSpecs, grantedScopesSpec)...)
}

const clientCredentialsTokenDescription = "Obtains an access token with the OAuth 2.0 client-credentials grant " +
	"(`POST /oauth2/token`) for a CIAM application."

// fetchClientCredentialsToken resolves the credentials, requests a token
// from the reuse pool of the calling type and fills the result attributes of
// m.
func (d *providerData) fetchClientCredentialsToken(ctx context.Context, pool ciam.Pool, m *clientCredentialsTokenModel) diag.Diagnostics {
	req := tokenRequest{what: "client-credentials token", grant: "client_credentials", scopes: m.scopes}
	tok, diags := d.fetch(m.credentialsModel, false, req, func(creds ciam.Credentials) (*ciam.Token, error) {
		return d.pooled(pool).ClientCredentialsToken(ctx, creds, m.scopes)
	})
	if tok != nil {
		m.set(tok)
		m.grantedScopes = tok.GrantedScopes()
	}
	return diags
}

// scimTokenModel is the model of ciam_scim_token.
type scimTokenModel struct {
	credentialsModel
	tokenResultModel
}

func scimTokenSpecs() []attrSpec {
	return append(credentialArgumentSpecs(true), tokenResultSpecs...)
}

const scimTokenDescription = "Obtains a data-sync (SCIM) access token (`GET /scim/api/token`) for the CIAM's SCIM user and user-group APIs. " +
	"The CIAM requires the credentials in the URL query; the provider never logs or prints that URL."

// fetchSCIMToken resolves the data-sync credentials, requests a token from
// the reuse pool of the calling type and fills the result attributes of m.
func (d *providerData) fetchSCIMToken(ctx context.Context, pool ciam.Pool, m *scimTokenModel) diag.Diagnostics {
	req := tokenRequest{what: "SCIM token", grant: "data-sync"}
	tok, diags := d.fetch(m.credentialsModel, true, req, func(creds ciam.Credentials) (*ciam.Token, error) {
		return d.pooled(pool).SCIMToken(ctx, creds)
	})
	if tok != nil {
		m.set(tok)
	}
	return diags
}

// fetch is the part every token fetch shares: resolve the credentials, send
// the request, explain a failure, and register the token with the redaction
// layer. It returns nil and error diagnostics on failure.
func (d *providerData) fetch(block credentialsModel, forSCIM bool, req tokenRequest, send func(ciam.Credentials) (*ciam.Token, error)) (*ciam.Token, diag.Diagnostics) {
	creds, hint, diags := d.credentials(block, forSCIM)
	if diags.HasError() {
		return nil, diags
	}
	tok, err := send(creds)
	if err != nil {
		req.host, req.domain, req.clientID, req.credentialHint = d.client.Host(), d.domain, creds.ClientID, hint
		diags.Append(tokenErrorDiagnostic(err, req))
		return nil, diags
	}
	d.secrets.add(tok.AccessToken)
	return tok, diags
}

// providerDataFrom is the Configure step every Terraform type shares.
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data", "This is a provider bug, please report it: expected *providerData.")
		return nil
	}
	return pd
}
