package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// Every Terraform entry point of every type the provider registers goes
// through one guard: it turns a panic into a diagnostic (no panic reaches the
// user) and redacts every diagnostic against every secret the provider has
// seen (secretSet), whatever the entry point put in it. The types do not do
// it themselves: provider.go registers them through guardResources,
// guardDataSources, guardEphemeralResources and guardFunctions, whose
// wrappers guard each call and hand it on. TestEveryEntryPointIsGuarded fails
// for a registered type that is not wrapped, and for an entry point (an
// optional interface of the framework) that a type implements and its
// wrapper does not hand on.

// guard is deferred by every wrapper: it turns a panic into a diagnostic and
// redacts every diagnostic.
func (d *providerData) guard(diags *diag.Diagnostics) {
	var secrets *secretSet
	if d != nil {
		secrets = d.secrets
	}
	if secrets == nil {
		secrets = newSecretSet()
	}
	if r := recover(); r != nil {
		diags.AddError("Provider Internal Error",
			"terraform-provider-ciam hit an unexpected condition and stopped this operation; nothing was lost. Please report this: "+
				secrets.redact(fmt.Sprint(r)))
	}
	*diags = secrets.sanitize(*diags)
}

func guardResources(ctors ...func() resource.Resource) []func() resource.Resource {
	out := make([]func() resource.Resource, len(ctors))
	for i, ctor := range ctors {
		out[i] = func() resource.Resource { return &guardedResource{inner: ctor()} }
	}
	return out
}

func guardDataSources(ctors ...func() datasource.DataSource) []func() datasource.DataSource {
	out := make([]func() datasource.DataSource, len(ctors))
	for i, ctor := range ctors {
		out[i] = func() datasource.DataSource { return &guardedDataSource{inner: ctor()} }
	}
	return out
}

func guardEphemeralResources(ctors ...func() ephemeral.EphemeralResource) []func() ephemeral.EphemeralResource {
	out := make([]func() ephemeral.EphemeralResource, len(ctors))
	for i, ctor := range ctors {
		out[i] = func() ephemeral.EphemeralResource { return &guardedEphemeralResource{inner: ctor()} }
	}
	return out
}

func guardFunctions(ctors ...func() function.Function) []func() function.Function {
	out := make([]func() function.Function, len(ctors))
	for i, ctor := range ctors {
		out[i] = func() function.Function { return &guardedFunction{inner: ctor()} }
	}
	return out
}

// guardedResource guards a resource. It claims ModifyPlan and ValidateConfig
// whether or not the resource has them (a no-op then), and ImportState,
// which every resource of this provider has (the guard test checks it).
type guardedResource struct {
	inner resource.Resource
	data  *providerData
}

var (
	_ resource.ResourceWithConfigure      = &guardedResource{}
	_ resource.ResourceWithValidateConfig = &guardedResource{}
	_ resource.ResourceWithModifyPlan     = &guardedResource{}
	_ resource.ResourceWithImportState    = &guardedResource{}
)

func (g *guardedResource) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	g.inner.Metadata(ctx, req, resp)
}

func (g *guardedResource) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	g.inner.Schema(ctx, req, resp)
}

func (g *guardedResource) Configure(ctx context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	g.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
	defer g.data.guard(&resp.Diagnostics)
	if c, ok := g.inner.(resource.ResourceWithConfigure); ok {
		c.Configure(ctx, req, resp)
	}
}

func (g *guardedResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	defer g.data.guard(&resp.Diagnostics)
	if v, ok := g.inner.(resource.ResourceWithValidateConfig); ok {
		v.ValidateConfig(ctx, req, resp)
	}
}

func (g *guardedResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	defer g.data.guard(&resp.Diagnostics)
	if m, ok := g.inner.(resource.ResourceWithModifyPlan); ok {
		m.ModifyPlan(ctx, req, resp)
	}
}

func (g *guardedResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Create(ctx, req, resp)
}

func (g *guardedResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Read(ctx, req, resp)
}

func (g *guardedResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Update(ctx, req, resp)
}

func (g *guardedResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Delete(ctx, req, resp)
}

func (g *guardedResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	defer g.data.guard(&resp.Diagnostics)
	if i, ok := g.inner.(resource.ResourceWithImportState); ok {
		i.ImportState(ctx, req, resp)
	}
}

// guardedDataSource guards a data source; it claims ValidateConfig whether
// or not the data source has it (a no-op then).
type guardedDataSource struct {
	inner datasource.DataSource
	data  *providerData
}

var (
	_ datasource.DataSourceWithConfigure      = &guardedDataSource{}
	_ datasource.DataSourceWithValidateConfig = &guardedDataSource{}
)

func (g *guardedDataSource) Metadata(ctx context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	g.inner.Metadata(ctx, req, resp)
}

func (g *guardedDataSource) Schema(ctx context.Context, req datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	g.inner.Schema(ctx, req, resp)
}

func (g *guardedDataSource) Configure(ctx context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	g.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
	defer g.data.guard(&resp.Diagnostics)
	if c, ok := g.inner.(datasource.DataSourceWithConfigure); ok {
		c.Configure(ctx, req, resp)
	}
}

func (g *guardedDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	defer g.data.guard(&resp.Diagnostics)
	if v, ok := g.inner.(datasource.DataSourceWithValidateConfig); ok {
		v.ValidateConfig(ctx, req, resp)
	}
}

func (g *guardedDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Read(ctx, req, resp)
}

// guardedEphemeralResource guards an ephemeral resource; it claims
// ValidateConfig whether or not the resource has it (a no-op then).
type guardedEphemeralResource struct {
	inner ephemeral.EphemeralResource
	data  *providerData
}

var (
	_ ephemeral.EphemeralResourceWithConfigure      = &guardedEphemeralResource{}
	_ ephemeral.EphemeralResourceWithValidateConfig = &guardedEphemeralResource{}
)

func (g *guardedEphemeralResource) Metadata(ctx context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	g.inner.Metadata(ctx, req, resp)
}

func (g *guardedEphemeralResource) Schema(ctx context.Context, req ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	g.inner.Schema(ctx, req, resp)
}

func (g *guardedEphemeralResource) Configure(ctx context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	g.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
	defer g.data.guard(&resp.Diagnostics)
	if c, ok := g.inner.(ephemeral.EphemeralResourceWithConfigure); ok {
		c.Configure(ctx, req, resp)
	}
}

func (g *guardedEphemeralResource) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	defer g.data.guard(&resp.Diagnostics)
	if v, ok := g.inner.(ephemeral.EphemeralResourceWithValidateConfig); ok {
		v.ValidateConfig(ctx, req, resp)
	}
}

func (g *guardedEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	defer g.data.guard(&resp.Diagnostics)
	g.inner.Open(ctx, req, resp)
}

// guardedFunction guards a function. Functions have no provider data, so
// their errors are redacted of anything shaped like a credential (a JWT, a
// credential parameter), as diagnostics of unconfigured calls are.
type guardedFunction struct {
	inner function.Function
}

var _ function.Function = &guardedFunction{}

func (g *guardedFunction) Metadata(ctx context.Context, req function.MetadataRequest, resp *function.MetadataResponse) {
	g.inner.Metadata(ctx, req, resp)
}

func (g *guardedFunction) Definition(ctx context.Context, req function.DefinitionRequest, resp *function.DefinitionResponse) {
	g.inner.Definition(ctx, req, resp)
}

func (g *guardedFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	defer func() {
		if r := recover(); r != nil {
			var meta function.MetadataResponse
			g.inner.Metadata(ctx, function.MetadataRequest{}, &meta)
			resp.Error = function.NewFuncError(meta.Name + " hit an unexpected condition; please report this provider bug.")
		}
		if resp.Error != nil {
			redacted := *resp.Error
			redacted.Text = (*ciam.Redactor)(nil).Redact(resp.Error.Text)
			resp.Error = &redacted
		}
	}()
	g.inner.Run(ctx, req, resp)
}
