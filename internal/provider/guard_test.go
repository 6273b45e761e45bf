package provider

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// optionalInterfaces are the framework's optional interfaces (entry points
// beyond the required methods) of each kind of type, and whether a wrapper
// may claim one its type lacks without changing what Terraform sees (a
// no-op ValidateConfig, say). TestTheFrameworkHasNoOtherEntryPoints keeps the
// list complete.
var optionalInterfaces = map[string]map[string]struct {
	iface    reflect.Type
	harmless bool
}{
	"resource": {
		"ResourceWithConfigure":        {reflect.TypeFor[resource.ResourceWithConfigure](), true},
		"ResourceWithConfigValidators": {reflect.TypeFor[resource.ResourceWithConfigValidators](), false},
		"ResourceWithImportState":      {reflect.TypeFor[resource.ResourceWithImportState](), false},
		"ResourceWithModifyPlan":       {reflect.TypeFor[resource.ResourceWithModifyPlan](), true},
		"ResourceWithMoveState":        {reflect.TypeFor[resource.ResourceWithMoveState](), false},
		"ResourceWithUpgradeState":     {reflect.TypeFor[resource.ResourceWithUpgradeState](), false},
		"ResourceWithValidateConfig":   {reflect.TypeFor[resource.ResourceWithValidateConfig](), true},
		"ResourceWithIdentity":         {reflect.TypeFor[resource.ResourceWithIdentity](), false},
		"ResourceWithUpgradeIdentity":  {reflect.TypeFor[resource.ResourceWithUpgradeIdentity](), false},
	},
	"datasource": {
		"DataSourceWithConfigure":        {reflect.TypeFor[datasource.DataSourceWithConfigure](), true},
		"DataSourceWithConfigValidators": {reflect.TypeFor[datasource.DataSourceWithConfigValidators](), false},
		"DataSourceWithValidateConfig":   {reflect.TypeFor[datasource.DataSourceWithValidateConfig](), true},
	},
	"ephemeral": {
		"EphemeralResourceWithConfigure":        {reflect.TypeFor[ephemeral.EphemeralResourceWithConfigure](), true},
		"EphemeralResourceWithConfigValidators": {reflect.TypeFor[ephemeral.EphemeralResourceWithConfigValidators](), false},
		"EphemeralResourceWithValidateConfig":   {reflect.TypeFor[ephemeral.EphemeralResourceWithValidateConfig](), true},
		"EphemeralResourceWithRenew":            {reflect.TypeFor[ephemeral.EphemeralResourceWithRenew](), false},
		"EphemeralResourceWithClose":            {reflect.TypeFor[ephemeral.EphemeralResourceWithClose](), false},
	},
}

// checkWrapped fails when wrapper does not hand on an entry point inner
// has, or claims one inner lacks that would change what Terraform sees.
func checkWrapped(t *testing.T, kind, name string, wrapper, inner any) {
	t.Helper()
	for iname, oi := range optionalInterfaces[kind] {
		innerHas, wrapperHas := reflect.TypeOf(inner).Implements(oi.iface), reflect.TypeOf(wrapper).Implements(oi.iface)
		switch {
		case innerHas && !wrapperHas:
			t.Errorf("%s implements %s, and its guard does not hand it on: add it to the wrapper in guard.go", name, iname)
		case wrapperHas && !innerHas && !oi.harmless:
			t.Errorf("%s does not implement %s, and its guard claims it: Terraform would see an entry point the type lacks", name, iname)
		}
	}
}

// Every type the provider registers is wrapped by the guard, and every
// entry point it implements is handed on through it.
func TestEveryEntryPointIsGuarded(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	for _, ctor := range p.Resources(ctx) {
		g, ok := ctor().(*guardedResource)
		if !ok {
			t.Fatalf("a resource is registered without the guard: %T", ctor())
		}
		checkWrapped(t, "resource", reflect.TypeOf(g.inner).String(), g, g.inner)
	}
	for _, ctor := range p.DataSources(ctx) {
		g, ok := ctor().(*guardedDataSource)
		if !ok {
			t.Fatalf("a data source is registered without the guard: %T", ctor())
		}
		checkWrapped(t, "datasource", reflect.TypeOf(g.inner).String(), g, g.inner)
	}
	pe, ok := p.(provider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider has no ephemeral resources")
	}
	for _, ctor := range pe.EphemeralResources(ctx) {
		g, ok := ctor().(*guardedEphemeralResource)
		if !ok {
			t.Fatalf("an ephemeral resource is registered without the guard: %T", ctor())
		}
		checkWrapped(t, "ephemeral", reflect.TypeOf(g.inner).String(), g, g.inner)
	}
	pf, ok := p.(provider.ProviderWithFunctions)
	if !ok {
		t.Fatal("the provider has no functions")
	}
	for _, ctor := range pf.Functions(ctx) {
		if _, ok := ctor().(*guardedFunction); !ok {
			t.Fatalf("a function is registered without the guard: %T", ctor())
		}
	}
}

// registrations are the framework's interfaces through which a provider
// registers types, and whether this provider's types of that kind go
// through the guard. A provider that implements another (list resources,
// actions, state stores) fails TestEveryEntryPointIsGuarded until its types
// are guarded and listed here.
var registrations = map[string]bool{
	"ProviderWithEphemeralResources": true,
	"ProviderWithFunctions":          true,
}

// settingsOnly are the provider's optional interfaces that register no
// type.
var settingsOnly = map[string]bool{
	"ProviderWithConfigValidators": true,
	"ProviderWithValidateConfig":   true,
	"ProviderWithMetaSchema":       true,
}

// The provider registers its types only through interfaces whose types the
// guard wraps.
func TestTheProviderRegistersNothingUnguarded(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/terraform-plugin-framework").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "provider", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in the framework's provider package (%v)", err)
	}
	p := reflect.TypeOf(New("test")())
	for _, file := range files {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok || !strings.HasPrefix(ts.Name.Name, "ProviderWith") {
					continue
				}
				iface, isInterface := ts.Type.(*ast.InterfaceType)
				if !isInterface {
					continue
				}
				// Does the provider have every method the interface lists
				// (its embedded Provider aside)?
				has := true
				for _, m := range iface.Methods.List {
					for _, name := range m.Names {
						if _, ok := p.MethodByName(name.Name); !ok {
							has = false
						}
					}
				}
				if has && !registrations[ts.Name.Name] && !settingsOnly[ts.Name.Name] {
					t.Errorf("the provider implements %s, which registers types the guard does not wrap: wrap them in guard.go and list it in registrations", ts.Name.Name)
				}
			}
		}
	}
}

// The framework's optional interfaces are all in optionalInterfaces: an
// upgrade that adds an entry point fails here until the guard knows it.
func TestTheFrameworkHasNoOtherEntryPoints(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/terraform-plugin-framework").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root := strings.TrimSpace(string(out))
	for kind, prefix := range map[string]string{"resource": "ResourceWith", "datasource": "DataSourceWith", "ephemeral": "EphemeralResourceWith"} {
		files, err := filepath.Glob(filepath.Join(root, kind, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in the framework's %s package (%v)", kind, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gen, ok := decl.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, spec := range gen.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !strings.HasPrefix(ts.Name.Name, prefix) {
						continue
					}
					if _, isInterface := ts.Type.(*ast.InterfaceType); !isInterface {
						continue
					}
					if _, known := optionalInterfaces[kind][ts.Name.Name]; !known {
						t.Errorf("the framework's %s.%s is an entry point the guard does not know: add it to optionalInterfaces and, if a type implements it, to the wrapper", kind, ts.Name.Name)
					}
				}
			}
		}
	}
}

const guardSecret = "gUaRd-s3cr3t-0123456789"

// leaky is a type whose every entry point says the secret, or panics with
// it.
type leaky struct{ panics bool }

func (l leaky) leak(diags *diag.Diagnostics) {
	if l.panics {
		panic("boom: " + guardSecret)
	}
	diags.AddError("Leak", "the secret is "+guardSecret)
}

func (l leaky) Configure(_ context.Context, _ resource.ConfigureRequest, r *resource.ConfigureResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) Metadata(context.Context, resource.MetadataRequest, *resource.MetadataResponse) {}
func (l leaky) Schema(context.Context, resource.SchemaRequest, *resource.SchemaResponse)       {}
func (l leaky) Create(_ context.Context, _ resource.CreateRequest, r *resource.CreateResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) Read(_ context.Context, _ resource.ReadRequest, r *resource.ReadResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) Update(_ context.Context, _ resource.UpdateRequest, r *resource.UpdateResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) Delete(_ context.Context, _ resource.DeleteRequest, r *resource.DeleteResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) ModifyPlan(_ context.Context, _ resource.ModifyPlanRequest, r *resource.ModifyPlanResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) ValidateConfig(_ context.Context, _ resource.ValidateConfigRequest, r *resource.ValidateConfigResponse) {
	l.leak(&r.Diagnostics)
}
func (l leaky) ImportState(_ context.Context, _ resource.ImportStateRequest, r *resource.ImportStateResponse) {
	l.leak(&r.Diagnostics)
}

type leakyDataSource struct{ leaky }

func (l leakyDataSource) Configure(_ context.Context, _ datasource.ConfigureRequest, r *datasource.ConfigureResponse) {
	l.leak(&r.Diagnostics)
}
func (l leakyDataSource) Metadata(context.Context, datasource.MetadataRequest, *datasource.MetadataResponse) {
}
func (l leakyDataSource) Schema(context.Context, datasource.SchemaRequest, *datasource.SchemaResponse) {
}
func (l leakyDataSource) Read(_ context.Context, _ datasource.ReadRequest, r *datasource.ReadResponse) {
	l.leak(&r.Diagnostics)
}
func (l leakyDataSource) ValidateConfig(_ context.Context, _ datasource.ValidateConfigRequest, r *datasource.ValidateConfigResponse) {
	l.leak(&r.Diagnostics)
}

type leakyEphemeral struct{ leaky }

func (l leakyEphemeral) Configure(_ context.Context, _ ephemeral.ConfigureRequest, r *ephemeral.ConfigureResponse) {
	l.leak(&r.Diagnostics)
}
func (l leakyEphemeral) Metadata(context.Context, ephemeral.MetadataRequest, *ephemeral.MetadataResponse) {
}
func (l leakyEphemeral) Schema(context.Context, ephemeral.SchemaRequest, *ephemeral.SchemaResponse) {
}
func (l leakyEphemeral) Open(_ context.Context, _ ephemeral.OpenRequest, r *ephemeral.OpenResponse) {
	l.leak(&r.Diagnostics)
}
func (l leakyEphemeral) ValidateConfig(_ context.Context, _ ephemeral.ValidateConfigRequest, r *ephemeral.ValidateConfigResponse) {
	l.leak(&r.Diagnostics)
}

type leakyFunction struct{ panics bool }

func (l leakyFunction) Metadata(_ context.Context, _ function.MetadataRequest, r *function.MetadataResponse) {
	r.Name = "leaky"
}
func (l leakyFunction) Definition(context.Context, function.DefinitionRequest, *function.DefinitionResponse) {
}
func (l leakyFunction) Run(_ context.Context, _ function.RunRequest, r *function.RunResponse) {
	if l.panics {
		panic("boom")
	}
	r.Error = function.NewArgumentFuncError(0, "the token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl is bad")
}

// Every entry point of every wrapper redacts what the type says and turns a
// panic into a diagnostic.
func TestTheGuardRedactsAndRecoversEveryEntryPoint(t *testing.T) {
	ctx := context.Background()
	data := &providerData{secrets: newSecretSet(guardSecret)}
	check := func(what string, panics bool, diags diag.Diagnostics) {
		t.Helper()
		text := ""
		for _, d := range diags {
			text += d.Summary() + ": " + d.Detail() + "\n"
		}
		if strings.Contains(text, guardSecret[:8]) || !diags.HasError() {
			t.Errorf("%s (panics %t): %q", what, panics, text)
		}
		if panics && !strings.Contains(text, "Provider Internal Error") {
			t.Errorf("%s: a panic did not become a Provider Internal Error: %q", what, text)
		}
	}
	for _, panics := range []bool{false, true} {
		r := &guardedResource{inner: leaky{panics}}
		var rc resource.ConfigureResponse
		r.Configure(ctx, resource.ConfigureRequest{ProviderData: data}, &rc)
		check("resource Configure", panics, rc.Diagnostics)
		var cr resource.CreateResponse
		r.Create(ctx, resource.CreateRequest{}, &cr)
		check("resource Create", panics, cr.Diagnostics)
		var rr resource.ReadResponse
		r.Read(ctx, resource.ReadRequest{}, &rr)
		check("resource Read", panics, rr.Diagnostics)
		var ur resource.UpdateResponse
		r.Update(ctx, resource.UpdateRequest{}, &ur)
		check("resource Update", panics, ur.Diagnostics)
		var dr resource.DeleteResponse
		r.Delete(ctx, resource.DeleteRequest{}, &dr)
		check("resource Delete", panics, dr.Diagnostics)
		var mr resource.ModifyPlanResponse
		r.ModifyPlan(ctx, resource.ModifyPlanRequest{}, &mr)
		check("resource ModifyPlan", panics, mr.Diagnostics)
		var vr resource.ValidateConfigResponse
		r.ValidateConfig(ctx, resource.ValidateConfigRequest{}, &vr)
		check("resource ValidateConfig", panics, vr.Diagnostics)
		var ir resource.ImportStateResponse
		r.ImportState(ctx, resource.ImportStateRequest{}, &ir)
		check("resource ImportState", panics, ir.Diagnostics)

		d := &guardedDataSource{inner: leakyDataSource{leaky{panics}}}
		var dc datasource.ConfigureResponse
		d.Configure(ctx, datasource.ConfigureRequest{ProviderData: data}, &dc)
		check("data source Configure", panics, dc.Diagnostics)
		var dsr datasource.ReadResponse
		d.Read(ctx, datasource.ReadRequest{}, &dsr)
		check("data source Read", panics, dsr.Diagnostics)
		var dvr datasource.ValidateConfigResponse
		d.ValidateConfig(ctx, datasource.ValidateConfigRequest{}, &dvr)
		check("data source ValidateConfig", panics, dvr.Diagnostics)

		e := &guardedEphemeralResource{inner: leakyEphemeral{leaky{panics}}}
		var ec ephemeral.ConfigureResponse
		e.Configure(ctx, ephemeral.ConfigureRequest{ProviderData: data}, &ec)
		check("ephemeral resource Configure", panics, ec.Diagnostics)
		var eor ephemeral.OpenResponse
		e.Open(ctx, ephemeral.OpenRequest{}, &eor)
		check("ephemeral resource Open", panics, eor.Diagnostics)
		var evr ephemeral.ValidateConfigResponse
		e.ValidateConfig(ctx, ephemeral.ValidateConfigRequest{}, &evr)
		check("ephemeral resource ValidateConfig", panics, evr.Diagnostics)

		f := &guardedFunction{inner: leakyFunction{panics}}
		var fr function.RunResponse
		f.Run(ctx, function.RunRequest{}, &fr)
		if fr.Error == nil || strings.Contains(fr.Error.Text, "eyJzdWIi") || panics && !strings.Contains(fr.Error.Text, "leaky hit an unexpected condition") {
			t.Errorf("function Run (panics %t): %v", panics, fr.Error)
		}
	}
}
