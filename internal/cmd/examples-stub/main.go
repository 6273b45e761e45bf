// Command examples-stub stands in, during the offline examples check, for
// the third-party providers that the examples hand ciam values to:
// Mastercard/restapi (run as terraform-provider-restapi) and hashicorp/local
// (run as terraform-provider-local). It serves a schema with the attributes
// the examples set, with the types the real provider gives them, so that
// `terraform validate` can check the ciam side of those examples (blocks,
// references, ephemeral values flowing into a provider block, values flowing
// into resource arguments) without the registry. It checks nothing about the
// third-party provider beyond those attribute names and types. Never linked
// into the provider.
package main

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	stubs := map[string]struct {
		address string
		p       provider.Provider
	}{
		"restapi": {"mastercard/restapi", restapiStub{}},
		"local":   {"hashicorp/local", localStub{}},
	}
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "terraform-provider-")
	stub, ok := stubs[name]
	if !ok {
		log.Fatalf("examples-stub: run as terraform-provider-restapi or terraform-provider-local, not %q", name)
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

// localFile is local_file's schema; validate never calls its operations.
type localFile struct{}

func (localFile) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "local_file"
}

func (localFile) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = rschema.Schema{Attributes: map[string]rschema.Attribute{
		"filename":             rschema.StringAttribute{Required: true},
		"content":              rschema.StringAttribute{Optional: true},
		"content_base64":       rschema.StringAttribute{Optional: true},
		"file_permission":      rschema.StringAttribute{Optional: true},
		"directory_permission": rschema.StringAttribute{Optional: true},
		"id":                   rschema.StringAttribute{Computed: true},
	}}
}

func (localFile) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {}

func (localFile) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (localFile) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (localFile) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
