package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// TestExamplesValidate runs `terraform validate` on every directory under
// examples/ against the locally built provider, offline, through
// dev_overrides. Examples that hand a value to a third-party provider get
// that provider's schema stub (internal/cmd/examples-stub).
func TestExamplesValidate(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	// One stub binary, named after each provider it stands in for.
	stubs := map[string]string{"restapi": devenv.RegistryHost() + "/mastercard/restapi", "local": devenv.RegistryHost() + "/hashicorp/local"}
	overrides := fmt.Sprintf("    %q = %q\n", devenv.ProviderAddress(), providerDir)
	for name, address := range stubs {
		dir := t.TempDir()
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-"+name), "./internal/cmd/examples-stub")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the examples stub: %v\n%s", err, out)
		}
		overrides += fmt.Sprintf("    %q = %q\n", address, dir)
	}
	rc := filepath.Join(t.TempDir(), "terraform.rc")
	cli := "provider_installation {\n  dev_overrides {\n" + overrides + "  }\n  direct {}\n}\n"
	if err := os.WriteFile(rc, []byte(cli), 0o600); err != nil {
		t.Fatal(err)
	}

	dirs := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tf") {
			dirs[filepath.Dir(p)] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 8 {
		t.Fatalf("found only %d example directories", len(dirs))
	}
	toolVersion, err := devenv.ToolVersion(tfBin)
	if err != nil {
		t.Fatal(err)
	}
	requiredProviders := regexp.MustCompile(`required_providers\s*{`)
	for dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		t.Run(rel, func(t *testing.T) {
			work := t.TempDir()
			if err := devenv.CopyDir(dir, work); err != nil {
				t.Fatal(err)
			}
			text := readAll(t, work)
			for marker, feature := range map[string]devenv.Feature{`ephemeral "`: devenv.EphemeralResources, "provider::": devenv.Functions} {
				if strings.Contains(text, marker) && toolVersion.LessThan(feature.Minimum()) {
					t.Skipf("the example uses %s, which need version %s or later (found %s)", feature.Name, feature.Minimum(), toolVersion)
				}
			}
			if !requiredProviders.MatchString(text) {
				// The registry's example snippets leave this out; a real
				// configuration has it.
				versions := "terraform {\n  required_providers {\n    ciam = { source = \"ciam-oss/ciam\" }\n"
				if strings.Contains(text, `provider "restapi"`) {
					versions += "    restapi = { source = \"Mastercard/restapi\" }\n"
				}
				if strings.Contains(text, `resource "local_file"`) {
					versions += "    local = { source = \"hashicorp/local\" }\n"
				}
				versions += "  }\n}\n"
				if err := os.WriteFile(filepath.Join(work, "zz_versions.tf"), []byte(versions), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tf := &devenv.Terraform{Bin: tfBin, Dir: work, CLIConfig: rc}
			res, err := tf.Run(context.Background(), "validate", "-no-color")
			if err != nil {
				t.Fatalf("terraform validate: %v\n%s", err, res.Stdout)
			}
			if !strings.Contains(res.Stdout, "The configuration is valid") {
				t.Fatalf("terraform validate said:\n%s", res.Stdout)
			}
		})
	}
}

func readAll(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
