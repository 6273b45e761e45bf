package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// randomStub mirrors hashicorp/random's random_password and random_id as
// far as examples/ use them: values drawn from crypto/rand once, at create,
// and kept in state, as the real provider does, so that the guide that
// signs in with them works end to end.
type randomStub struct{}

func (randomStub) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "random"
}

func (randomStub) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (randomStub) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (randomStub) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return randomPassword{} },
		func() resource.Resource { return randomID{} },
	}
}

func (randomStub) DataSources(context.Context) []func() datasource.DataSource { return nil }

var (
	keep    = []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace = []planmodifier.Int64{int64planmodifier.RequiresReplace()}
)

// randomPassword is random_password: length characters of A-Z, a-z and
// 0-9, and with special (the default) of !@#$%&*()-_=+[]{}<>:? too.
type randomPassword struct{}

type randomPasswordModel struct {
	Length  types.Int64  `tfsdk:"length"`
	Special types.Bool   `tfsdk:"special"`
	Result  types.String `tfsdk:"result"`
	ID      types.String `tfsdk:"id"`
}

func (randomPassword) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "random_password"
}

func (randomPassword) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = rschema.Schema{Attributes: map[string]rschema.Attribute{
		"length":  rschema.Int64Attribute{Required: true, PlanModifiers: replace},
		"special": rschema.BoolAttribute{Optional: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
		"result":  rschema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keep},
		"id":      rschema.StringAttribute{Computed: true, PlanModifiers: keep},
	}}
}

func (randomPassword) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m randomPasswordModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	chars := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	if m.Special.IsNull() || m.Special.ValueBool() {
		chars += "!@#$%&*()-_=+[]{}<>:?"
	}
	b := make([]byte, m.Length.ValueInt64())
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			resp.Diagnostics.AddError("No Randomness", err.Error())
			return
		}
		b[i] = chars[n.Int64()]
	}
	m.Result, m.ID = types.StringValue(string(b)), types.StringValue("none")
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (randomPassword) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (randomPassword) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (randomPassword) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// randomID is random_id: byte_length random bytes, as hex and base64url.
type randomID struct{}

type randomIDModel struct {
	ByteLength types.Int64  `tfsdk:"byte_length"`
	Hex        types.String `tfsdk:"hex"`
	B64URL     types.String `tfsdk:"b64_url"`
	ID         types.String `tfsdk:"id"`
}

func (randomID) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "random_id"
}

func (randomID) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = rschema.Schema{Attributes: map[string]rschema.Attribute{
		"byte_length": rschema.Int64Attribute{Required: true, PlanModifiers: replace},
		"hex":         rschema.StringAttribute{Computed: true, PlanModifiers: keep},
		"b64_url":     rschema.StringAttribute{Computed: true, PlanModifiers: keep},
		"id":          rschema.StringAttribute{Computed: true, PlanModifiers: keep},
	}}
}

func (randomID) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m randomIDModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b := make([]byte, m.ByteLength.ValueInt64())
	if _, err := rand.Read(b); err != nil {
		resp.Diagnostics.AddError("No Randomness", err.Error())
		return
	}
	m.Hex = types.StringValue(hex.EncodeToString(b))
	m.B64URL = types.StringValue(base64.RawURLEncoding.EncodeToString(b))
	m.ID = m.B64URL
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (randomID) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (randomID) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (randomID) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
