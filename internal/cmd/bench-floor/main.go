// Command bench-floor is the floor of `make bench`: a minimal
// plugin-framework provider whose one data source has the same attributes as
// ciam_client_credentials_token but does no I/O. N of its data sources cost
// what Terraform and the framework cost for N data sources, and nothing
// else. It is built by the benchmark only and never linked into the
// provider.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floorProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/bench/floor"})
	if err != nil {
		log.Fatal(err)
	}
}

type floorProvider struct{}

func (floorProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (floorProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{}
}

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (floorProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (floorProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return tokenDataSource{} }}
}

type tokenDataSource struct{}

type tokenModel struct {
	Scopes        types.Set    `tfsdk:"scopes"`
	ClientID      types.String `tfsdk:"client_id"`
	ClientSecret  types.String `tfsdk:"client_secret"`
	ID            types.String `tfsdk:"id"`
	AccessToken   types.String `tfsdk:"access_token"`
	TokenType     types.String `tfsdk:"token_type"`
	ExpiresIn     types.Int64  `tfsdk:"expires_in"`
	ExpiresAt     types.String `tfsdk:"expires_at"`
	Scope         types.String `tfsdk:"scope"`
	GrantedScopes types.Set    `tfsdk:"granted_scopes"`
}

func (tokenDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "floor_token"
}

func (tokenDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"scopes":         schema.SetAttribute{ElementType: types.StringType, Optional: true},
		"client_id":      schema.StringAttribute{Optional: true},
		"client_secret":  schema.StringAttribute{Optional: true, Sensitive: true},
		"id":             schema.StringAttribute{Computed: true},
		"access_token":   schema.StringAttribute{Computed: true, Sensitive: true},
		"token_type":     schema.StringAttribute{Computed: true},
		"expires_in":     schema.Int64Attribute{Computed: true},
		"expires_at":     schema.StringAttribute{Computed: true},
		"scope":          schema.StringAttribute{Computed: true},
		"granted_scopes": schema.SetAttribute{ElementType: types.StringType, Computed: true},
	}}
}

func (tokenDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m tokenModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	m.ID = types.StringValue("0123456789abcdef")
	m.AccessToken = types.StringValue("eyJhbGciOiJub25lIn0.eyJzdWIiOiJmbG9vciJ9.")
	m.TokenType = types.StringValue("Bearer")
	m.ExpiresIn = types.Int64Value(299)
	m.ExpiresAt = types.StringValue("2030-01-01T00:00:00Z")
	m.Scope = types.StringValue("identity_proofing")
	m.GrantedScopes = m.Scopes
	if m.Scopes.IsNull() {
		m.GrantedScopes = types.SetValueMust(types.StringType, nil)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
