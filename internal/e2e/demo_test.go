package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// make demo runs end to end: the two token data sources, then the
// authorization-code grant (the sign-in URL, the code, the create, one
// renewal, the revocation), within a minute, printing no secret.
func TestDemo(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./internal/cmd/demo")
	cmd.Dir = root
	start := time.Now()
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, leaktest.Scrub(text, localciam.DemoClientSecret, localciam.DemoSCIMClientSecret))
	}
	t.Logf("the demo took %s", time.Since(start).Round(time.Second))
	wantIn(t, "the demo", text, "client_credentials_token", "scim_token", "/oauth2/authorize?", "code_challenge_method=S256",
		"exchanges it, once", "user            "+localciam.DefaultUser, "the directory counts 1 renewal", "revoked: the directory holds no live grant",
		"No secret, code or token appeared")
	leaktest.AssertNone(t, "the demo's output", text, localciam.DemoClientSecret, localciam.DemoSCIMClientSecret)
	if strings.Contains(text, "eyJ") {
		t.Errorf("the demo printed something JWT-shaped:\n%s", leaktest.Scrub(text))
	}
}
