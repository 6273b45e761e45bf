// Command examples-stub stands in, during the offline examples check, for
// the third-party providers that the examples hand ciam values to:
// Mastercard/restapi (run as terraform-provider-restapi), hashicorp/local
// (run as terraform-provider-local) and hashicorp/random (run as
// terraform-provider-random). It serves a schema with the attributes
// the examples set, with the types the real provider gives them, so that
// `terraform validate` can check the ciam side of those examples (blocks,
// references, ephemeral values flowing into a provider block, values flowing
// into resource arguments) without the registry. It checks nothing about the
// third-party provider beyond those attribute names and types. Never linked
// into the provider.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	stubs := map[string]struct {
		address string
		p       provider.Provider
	}{
		"restapi": {"mastercard/restapi", restapiStub{}},
		"local":   {"hashicorp/local", localStub{}},
		"random":  {"hashicorp/random", randomStub{}},
	}
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "terraform-provider-")
	stub, ok := stubs[name]
	if !ok {
		log.Fatalf("examples-stub: run as terraform-provider-restapi, -local or -random, not %q", name)
	}
	// The address matters only to debug mode; Terraform and OpenTofu start
	// the stub through dev_overrides.
	if err := providerserver.Serve(context.Background(), func() provider.Provider { return stub.p }, providerserver.ServeOpts{Address: "registry.terraform.io/" + stub.address}); err != nil {
		log.Fatal(err)
	}
}

// restapiStub mirrors the Mastercard/restapi provider attributes used in
// examples/.
type restapiStub struct{}

func (restapiStub) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "restapi"
}

func (restapiStub) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"uri":                  schema.StringAttribute{Required: true},
		"headers":              schema.MapAttribute{ElementType: types.StringType, Optional: true},
		"write_returns_object": schema.BoolAttribute{Optional: true},
	}}
}

func (restapiStub) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (restapiStub) Resources(context.Context) []func() resource.Resource { return nil }

func (restapiStub) DataSources(context.Context) []func() datasource.DataSource { return nil }

// localStub mirrors hashicorp/local's local_file attributes used in
// examples/.
type localStub struct{}

func (localStub) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "local"
}

func (localStub) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (localStub) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (localStub) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return localFile{} }}
}

func (localStub) DataSources(context.Context) []func() datasource.DataSource { return nil }

// localFile is local_file as far as the examples use it: it writes
// content to filename on create, forgets a file that is gone on read, and
// removes it on delete; every argument forces a new file, as in the real
// provider. The examples check applies the guide that writes files.
type localFile struct{}

type localFileModel struct {
	Filename            types.String `tfsdk:"filename"`
	Content             types.String `tfsdk:"content"`
	ContentBase64       types.String `tfsdk:"content_base64"`
	FilePermission      types.String `tfsdk:"file_permission"`
	DirectoryPermission types.String `tfsdk:"directory_permission"`
	ID                  types.String `tfsdk:"id"`
}

func (localFile) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "local_file"
}

func (localFile) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = rschema.Schema{Attributes: map[string]rschema.Attribute{
		"filename":             rschema.StringAttribute{Required: true, PlanModifiers: replace},
		"content":              rschema.StringAttribute{Optional: true, PlanModifiers: replace},
		"content_base64":       rschema.StringAttribute{Optional: true, PlanModifiers: replace},
		"file_permission":      rschema.StringAttribute{Optional: true, PlanModifiers: replace},
		"directory_permission": rschema.StringAttribute{Optional: true, PlanModifiers: replace},
		"id":                   rschema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
	}}
}

func (localFile) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m localFileModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	perm := func(v types.String, def os.FileMode) os.FileMode {
		if n, err := strconv.ParseUint(v.ValueString(), 8, 32); err == nil {
			return os.FileMode(n)
		}
		return def
	}
	content := []byte(m.Content.ValueString())
	if !m.ContentBase64.IsNull() {
		decoded, err := base64.StdEncoding.DecodeString(m.ContentBase64.ValueString())
		if err != nil {
			resp.Diagnostics.AddError("Invalid content_base64", err.Error())
			return
		}
		content = decoded
	}
	name := m.Filename.ValueString()
	if err := os.MkdirAll(filepath.Dir(name), perm(m.DirectoryPermission, 0o777)); err != nil {
		resp.Diagnostics.AddError("Cannot Create Directory", err.Error())
		return
	}
	if err := os.WriteFile(name, content, perm(m.FilePermission, 0o777)); err != nil {
		resp.Diagnostics.AddError("Cannot Write File", err.Error())
		return
	}
	sum := sha1.Sum(content) //nolint:gosec // local_file's id is the SHA-1 of the content
	m.ID = types.StringValue(hex.EncodeToString(sum[:]))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (localFile) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m localFileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if _, err := os.Stat(m.Filename.ValueString()); os.IsNotExist(err) {
		resp.State.RemoveResource(ctx)
	}
}

func (localFile) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (localFile) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m localFileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if err := os.Remove(m.Filename.ValueString()); err != nil && !os.IsNotExist(err) {
		resp.Diagnostics.AddError("Cannot Remove File", err.Error())
	}
}
