package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// The fetch paths below are shared by the data source and the ephemeral
// resource of each token: only the Terraform plumbing around them differs.

// clientCredentialsTokenModel is the model of ciam_client_credentials_token.
type clientCredentialsTokenModel struct {
	Scopes types.Set `tfsdk:"scopes"`
	credentialsModel
	tokenResultModel
	GrantedScopes types.Set `tfsdk:"granted_scopes"`
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
	scopes := sortedStrings(m.Scopes)
	req := tokenRequest{what: "client-credentials token", grant: "client_credentials", scopes: scopes}
	tok, diags := d.fetch(m.credentialsModel, false, req, func(creds ciam.Credentials) (*ciam.Token, error) {
		return d.pooled(pool).ClientCredentialsToken(ctx, creds, scopes)
	})
	if tok != nil {
		m.set(tok)
		m.GrantedScopes = stringSet(tok.GrantedScopes())
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
		req.host, req.clientID, req.credentialHint = d.client.Host(), creds.ClientID, hint
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
