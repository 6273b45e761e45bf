package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// The provider binary must not link the local CIAM, the dev-environment
// helpers or the test framework.
func TestProviderBinaryDoesNotLinkLocalCIAM(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list returned only %d packages; the check would prove nothing", len(deps))
	}
	for _, pkg := range deps {
		for _, banned := range []string{"/internal/localciam", "/internal/devenv", "/internal/e2e", "/internal/leaktest", "/internal/cmd/", "terraform-plugin-testing", "terraform-plugin-sdk"} {
			if strings.Contains(pkg, banned) {
				t.Errorf("the provider binary links %s", pkg)
			}
		}
	}
}
