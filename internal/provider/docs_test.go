package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// registeredType is one type or function the provider registers, under the
// name a configuration uses, with the language feature it needs.
type registeredType struct {
	kind, name string
	feature    devenv.Feature
}

// protocolV6 is what every type needs: the plugin protocol the provider
// speaks, first in Terraform 1.0 and OpenTofu 1.6 (OpenTofu's first).
var protocolV6 = devenv.Feature{
	Name:      "plugin protocol 6",
	Terraform: version.Must(version.NewVersion("1.0.0")),
	OpenTofu:  version.Must(version.NewVersion("1.6.0")),
}

// registeredTypes asks the provider what it registers, so that a new type
// cannot be left out of a list that checks it.
func registeredTypes(t *testing.T) []registeredType {
	t.Helper()
	ctx := context.Background()
	p := New("test")()
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	var out []registeredType
	for _, ctor := range p.Resources(ctx) {
		var r fwresource.MetadataResponse
		ctor().Metadata(ctx, fwresource.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
		out = append(out, registeredType{"resource", r.TypeName, protocolV6})
	}
	for _, ctor := range p.DataSources(ctx) {
		var r datasource.MetadataResponse
		ctor().Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
		out = append(out, registeredType{"data source", r.TypeName, protocolV6})
	}
	pe, ok := p.(provider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider has no ephemeral resources")
	}
	for _, ctor := range pe.EphemeralResources(ctx) {
		var r ephemeral.MetadataResponse
		ctor().Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
		out = append(out, registeredType{"ephemeral resource", r.TypeName, devenv.EphemeralResources})
	}
	pf, ok := p.(provider.ProviderWithFunctions)
	if !ok {
		t.Fatal("the provider has no functions")
	}
	for _, ctor := range pf.Functions(ctx) {
		var r function.MetadataResponse
		ctor().Metadata(ctx, function.MetadataRequest{}, &r)
		out = append(out, registeredType{"function", "provider::" + meta.TypeName + "::" + r.Name, devenv.Functions})
	}
	if len(out) < 8 {
		t.Fatalf("the provider registers only %d types and functions: %v", len(out), out)
	}
	return out
}

// indexSection returns the text of docs/index.md from the line that starts
// with from up to the next "## " heading.
func indexSection(t *testing.T, index, from string) string {
	t.Helper()
	start := strings.Index(index, "\n"+from)
	if start < 0 {
		t.Fatalf("docs/index.md has no %q", from)
	}
	rest := index[start+1:]
	if end := strings.Index(rest[len(from):], "\n## "); end >= 0 {
		return rest[:len(from)+end]
	}
	return rest
}

var (
	backticked  = regexp.MustCompile("`([^`]+)`")
	versionCell = regexp.MustCompile(`^(\d+\.\d+) or later$`)
)

// docs/index.md names every type and function the provider registers, in
// its introduction and in its compatibility table, and the table gives the
// versions that the feature each needs first appeared in.
func TestTheIndexListsEveryTypeAndFunction(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	index := string(raw)
	intro := indexSection(t, index, "# ")
	compat := indexSection(t, index, "## Compatibility")

	// rows maps a name in the table's first column to the versions of
	// each row that names it.
	type versions struct{ terraform, opentofu string }
	rows := map[string][]versions{}
	for _, line := range strings.Split(compat, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) != 3 {
			continue
		}
		tf, tofu := versionCell.FindStringSubmatch(strings.TrimSpace(cells[1])), versionCell.FindStringSubmatch(strings.TrimSpace(cells[2]))
		if tf == nil || tofu == nil {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			rows[m[1]] = append(rows[m[1]], versions{tf[1], tofu[1]})
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no rows with versions in the compatibility table:\n%s", compat)
	}

	majorMinor := func(v *version.Version) string {
		s := v.Segments()
		return fmt.Sprintf("%d.%d", s[0], s[1])
	}
	for _, ty := range registeredTypes(t) {
		if !strings.Contains(intro, "`"+ty.name+"`") {
			t.Errorf("the introduction of docs/index.md does not name the %s `%s` (templates/index.md.tmpl)", ty.kind, ty.name)
		}
		want := versions{majorMinor(ty.feature.Terraform), majorMinor(ty.feature.OpenTofu)}
		found := false
		for _, got := range rows[ty.name] {
			found = found || got == want
		}
		if !found {
			t.Errorf("the compatibility table of docs/index.md has no row for the %s `%s` with Terraform %s and OpenTofu %s or later (rows naming it: %v)",
				ty.kind, ty.name, want.terraform, want.opentofu, rows[ty.name])
		}
	}
}
