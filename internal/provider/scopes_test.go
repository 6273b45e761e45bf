package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// scopesHarness is the provider behind the plugin protocol, as Terraform
// drives it, configured against a stub token endpoint that answers at once:
// everything the framework and the provider do for a token block with many
// scopes, without Terraform's own share.
type scopesHarness struct {
	server tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
	// lastState is the state the last data source read returned.
	lastState tftypes.Value
}

func newScopesHarness(tb testing.TB) *scopesHarness {
	tb.Helper()
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"a.b.c","token_type":"Bearer","expires_in":299,"scope":"openid"}`)
	}))
	tb.Cleanup(stub.Close)
	ctx := context.Background()
	h := &scopesHarness{server: providerserver.NewProtocol6(New("test")())()}
	var err error
	if h.schema, err = h.server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil || len(h.schema.Diagnostics) > 0 {
		tb.Fatalf("GetProviderSchema: %v %v", err, h.schema.Diagnostics)
	}
	cfg := h.value(tb, h.schema.Provider, map[string]tftypes.Value{
		"auth_domain":   tftypes.NewValue(tftypes.String, stub.URL),
		"client_id":     tftypes.NewValue(tftypes.String, "app"),
		"client_secret": tftypes.NewValue(tftypes.String, "s3cret-value"),
	})
	resp, err := h.server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: cfg})
	if err != nil || len(resp.Diagnostics) > 0 {
		tb.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
	}
	return h
}

// value is a configuration of schema with the given attributes, all others
// null.
func (h *scopesHarness) value(tb testing.TB, schema *tfprotov6.Schema, set map[string]tftypes.Value) *tfprotov6.DynamicValue {
	tb.Helper()
	typ, ok := schema.ValueType().(tftypes.Object)
	if !ok {
		tb.Fatal("the schema is not an object")
	}
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		attrs[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range set {
		attrs[name] = v
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
	if err != nil {
		tb.Fatal(err)
	}
	return &dv
}

func scopesValue(n int) tftypes.Value {
	elems := make([]tftypes.Value, n)
	for i := range elems {
		elems[i] = tftypes.NewValue(tftypes.String, fmt.Sprintf("scope-%d", i))
	}
	return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, elems)
}

// dataSource validates and reads a ciam_client_credentials_token data
// source with n scopes, as a plan does.
func (h *scopesHarness) dataSource(tb testing.TB, n int) func() {
	cfg := h.value(tb, h.schema.DataSourceSchemas["ciam_client_credentials_token"], map[string]tftypes.Value{"scopes": scopesValue(n)})
	return func() {
		ctx := context.Background()
		v, err := h.server.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: "ciam_client_credentials_token", Config: cfg})
		if err != nil || len(v.Diagnostics) > 0 {
			tb.Fatalf("ValidateDataResourceConfig: %v %v", err, v.Diagnostics)
		}
		r, err := h.server.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "ciam_client_credentials_token", Config: cfg})
		if err != nil || len(r.Diagnostics) > 0 || r.State == nil {
			tb.Fatalf("ReadDataSource: %v %v", err, r.Diagnostics)
		}
		if h.lastState, err = r.State.Unmarshal(h.schema.DataSourceSchemas["ciam_client_credentials_token"].ValueType()); err != nil {
			tb.Fatal(err)
		}
	}
}

// ephemeralResource validates and opens a ciam_client_credentials_token
// ephemeral resource with n scopes (token_reuse is off: every open requests
// a token).
func (h *scopesHarness) ephemeralResource(tb testing.TB, n int) func() {
	cfg := h.value(tb, h.schema.EphemeralResourceSchemas["ciam_client_credentials_token"], map[string]tftypes.Value{"scopes": scopesValue(n)})
	return func() {
		ctx := context.Background()
		v, err := h.server.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{TypeName: "ciam_client_credentials_token", Config: cfg})
		if err != nil || len(v.Diagnostics) > 0 {
			tb.Fatalf("ValidateEphemeralResourceConfig: %v %v", err, v.Diagnostics)
		}
		r, err := h.server.OpenEphemeralResource(ctx, &tfprotov6.OpenEphemeralResourceRequest{TypeName: "ciam_client_credentials_token", Config: cfg})
		if err != nil || len(r.Diagnostics) > 0 || r.Result == nil {
			tb.Fatalf("OpenEphemeralResource: %v %v", err, r.Diagnostics)
		}
	}
}

// A token block's cost grows linearly with its scopes, through the whole
// protocol path Terraform drives. The framework's own set handling compares
// every pair of elements: in its validation (which stringSetType.Validate
// replaces) and in the semantic-equality check after a data source's read
// (which stringSetValue.SetSemanticEquals decides at once). One pairwise
// pass is left that the provider cannot avoid: after a data source's read
// the framework compares the new state with itself through
// tftypes.Value.Equal, which finds each set element by a linear search
// (hashicorp/terraform-plugin-framework#1322). The data source's share is
// therefore measured without that pass. Allocations, not time, measure
// growth: they are the same on any machine. Four times the scopes must cost
// less than six times the allocations; pairwise work costs sixteen.
func TestScopesCostGrowsLinearly(t *testing.T) {
	h := newScopesHarness(t)
	read := func(n int) float64 {
		run := h.dataSource(t, n)
		all := testing.AllocsPerRun(2, run)
		state := h.lastState
		upstream := testing.AllocsPerRun(2, func() { state.Equal(state.Copy()) })
		return all - upstream
	}
	open := func(n int) float64 { return testing.AllocsPerRun(2, h.ephemeralResource(t, n)) }
	for name, cost := range map[string]func(int) float64{"data source": read, "ephemeral resource": open} {
		small, large := cost(500), cost(2000)
		if ratio := large / small; ratio > 6 {
			t.Errorf("the %s with 2,000 scopes allocates %.1f times as much as with 500 (%.0f, %.0f): the cost grows faster than the scopes", name, ratio, large, small)
		}
	}
}

// BenchmarkClientCredentialsScopes is the provider's share of a
// ciam_client_credentials_token block with many scopes, through the plugin
// protocol: validation, the read (or open), the request to a stub that
// answers at once, and everything the framework does around them.
func BenchmarkClientCredentialsScopes(b *testing.B) {
	h := newScopesHarness(b)
	for _, kind := range []struct {
		name  string
		block func(testing.TB, int) func()
	}{{"data source", h.dataSource}, {"ephemeral", h.ephemeralResource}} {
		for _, n := range []int{1000, 5000, 20000} {
			b.Run(fmt.Sprintf("%s %d scopes", kind.name, n), func(b *testing.B) {
				run := kind.block(b, n)
				for b.Loop() {
					run()
				}
			})
		}
	}
}
