package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// providerDir holds the provider binary built once for all tests.
var providerDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := devenv.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "ciam-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := devenv.BuildProvider(ctx, root, dir, "0.0.0-e2e"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	providerDir = dir
	return m.Run()
}

// workspace is a terraform working directory wired to the built provider.
func workspace(t *testing.T, config string, env ...string) *devenv.Terraform {
	t.Helper()
	tfBin, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(dir, "terraform.rc")
	if err := devenv.WriteCLIConfig(rc, providerDir); err != nil {
		t.Fatal(err)
	}
	// Each workspace has its own ledger of sent codes (the provider's
	// default is in the user's cache directory), so tests share nothing.
	env = append([]string{"CIAM_CODE_LEDGER=" + filepath.Join(dir, "sent-codes")}, env...)
	return &devenv.Terraform{Bin: tfBin, Dir: dir, CLIConfig: rc, Env: env}
}

func startCIAM(t *testing.T) *localciam.Server {
	t.Helper()
	return localciam.StartTest(t, localciam.Options{})
}

// scrubbed is text fit for a failure message: without srv's secrets and
// tokens, the extra secrets (codes), nor anything token-shaped.
func scrubbed(text string, srv *localciam.Server, extra ...string) string {
	return leaktest.Scrub(text, append(append(srv.Secrets(), srv.IssuedTokens()...), extra...)...)
}

// assertNoLeak fails when text holds any client secret the server knows or
// any token it issued. It reports what leaked, never the value.
func assertNoLeak(t *testing.T, what, text string, srv *localciam.Server, extra ...string) {
	t.Helper()
	for i, s := range append(srv.Secrets(), extra...) {
		if strings.Contains(text, s) {
			t.Errorf("%s contains secret #%d", what, i)
		}
	}
	for i, tok := range srv.IssuedTokens() {
		if strings.Contains(text, tok) {
			t.Errorf("%s contains issued token #%d", what, i)
		}
	}
}

const header = `terraform {
  required_providers {
    ciam = { source = "ciam-oss/ciam" }
  }
}
`

func TestE2E_traceLogsAndOutputHoldNoSecret(t *testing.T) {
	srv := startCIAM(t)
	// Application credentials in the configuration, data-sync credentials in
	// the environment: both paths must stay out of the logs.
	cfg := header + fmt.Sprintf(`
provider "ciam" {
  auth_domain   = %q
  client_id     = %q
  client_secret = %q
}

data "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing"]
}

data "ciam_scim_token" "sync" {}

output "facts" {
  value = [data.ciam_client_credentials_token.api.expires_in, data.ciam_scim_token.sync.scope]
}
`, srv.URL(), localciam.DemoClientID, localciam.DemoClientSecret)
	tf := workspace(t, cfg,
		"CIAM_SCIM_CLIENT_ID="+localciam.DemoSCIMClientID,
		"CIAM_SCIM_CLIENT_SECRET="+localciam.DemoSCIMClientSecret,
		"TF_LOG=trace",
	)
	ctx := context.Background()
	res, err := tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Stdout, "Apply complete!") {
		t.Fatalf("apply did not complete:\n%s", res.Stdout)
	}
	if !strings.Contains(res.Stderr, "CIAM request done") {
		t.Errorf("the trace log has no provider request log line; the leak check would prove nothing")
	}
	if n := len(srv.IssuedTokens()); n < 2 {
		t.Fatalf("server issued %d tokens, want at least 2", n)
	}
	assertNoLeak(t, "TF_LOG=trace terraform apply output", res.Combined(), srv)

	// terraform show -json marks the token sensitive.
	show, err := tf.Run(ctx, "show", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address         string          `json:"address"`
					SensitiveValues map[string]any  `json:"sensitive_values"`
					Values          json.RawMessage `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(show.Stdout), &state); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range state.Values.RootModule.Resources {
		seen++
		if r.SensitiveValues["access_token"] != true {
			t.Errorf("%s: access_token is not marked sensitive: %v", r.Address, r.SensitiveValues)
		}
	}
	if seen != 2 {
		t.Errorf("state has %d data sources, want 2", seen)
	}
}

func TestE2E_documentedErrorsWithTraceLogs(t *testing.T) {
	srv := startCIAM(t)
	const wrongSecret = "wrong-secret-3f9a1c"
	cases := []struct {
		name, provider, block, want string
	}{
		{"invalid_client", fmt.Sprintf(`client_id = %q
  client_secret = %q`, localciam.DemoClientID, wrongSecret), "", "(invalid_client)"},
		{"invalid_scope", fmt.Sprintf(`client_id = %q
  client_secret = %q`, localciam.DemoClientID, localciam.DemoClientSecret), `scopes = ["not-a-scope"]`, "(invalid_scope)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := header + fmt.Sprintf(`
provider "ciam" {
  auth_domain = %q
  %s
}

data "ciam_client_credentials_token" "t" {
  %s
}
`, srv.URL(), c.provider, c.block)
			tf := workspace(t, cfg, "TF_LOG=trace")
			res, err := tf.Run(context.Background(), "apply", "-auto-approve", "-input=false", "-no-color")
			if err == nil {
				t.Fatal("apply succeeded, want an error")
			}
			if !strings.Contains(res.Stderr, c.want) {
				t.Errorf("diagnostics do not name %s:\n%s", c.want, lastLines(res.Stderr, 30))
			}
			assertNoLeak(t, "failed apply output", res.Combined(), srv, wrongSecret)
		})
	}
}

// The SCIM token URL carries the secret in its query. When the request fails
// in transport, Go's *url.Error would print that URL: the provider must not.
func TestE2E_scimTransportErrorDoesNotPrintTheURL(t *testing.T) {
	srv := startCIAM(t)
	addr := srv.URL()
	_ = srv.Close() // nothing listens there any more
	const secret = "scim-secret-in-query-8e1d"
	cfg := header + fmt.Sprintf(`
provider "ciam" {
  auth_domain        = %q
  scim_client_id     = "sync"
  scim_client_secret = %q
}

data "ciam_scim_token" "t" {}
`, addr, secret)
	tf := workspace(t, cfg, "TF_LOG=trace")
	res, err := tf.Run(context.Background(), "plan", "-input=false", "-no-color")
	if err == nil {
		t.Fatal("plan succeeded against a closed port")
	}
	if !strings.Contains(res.Stderr, "Cannot Reach The CIAM") {
		t.Errorf("unexpected diagnostics:\n%s", lastLines(res.Stderr, 30))
	}
	if strings.Contains(res.Combined(), secret) {
		t.Error("output contains the SCIM client secret")
	}
	if strings.Contains(res.Combined(), "client_secret=") && !strings.Contains(res.Combined(), "client_secret=[REDACTED]") {
		t.Error("output contains a client_secret query parameter")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// A 200 answer that cannot be used is described, never quoted: an opaque
// token in an array member or in an HTML page appears neither in the
// diagnostics nor in the trace log.
func TestE2E_unusableAnswersNeverQuoteAToken(t *testing.T) {
	const opaque = "OAUTH2c615b9f0a7d24e8b9c61d3e5f7a9b1c3"
	for name, tc := range map[string]struct {
		fault localciam.Fault
		want  string
	}{
		"the token in an array": {localciam.Fault{Status: 200, Body: `{"access_token":["` + opaque + `"],"token_type":"Bearer","expires_in":7200}`},
			"access_token is a JSON array, not a string"},
		"the token in an HTML page": {localciam.Fault{Status: 200, ContentType: "text/html", Body: `<html><body><p>Your token: ` + opaque + `</p></body></html>`},
			"it looks like an HTML page"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startCIAM(t)
			srv.InjectFaults(localciam.SCIMTokenPath, tc.fault)
			tf := workspace(t, header+fmt.Sprintf(`
provider "ciam" {
  auth_domain = %q
}

data "ciam_scim_token" "t" {}
`, srv.URL()), "TF_LOG=trace", "CIAM_SCIM_CLIENT_ID="+localciam.DemoSCIMClientID, "CIAM_SCIM_CLIENT_SECRET="+localciam.DemoSCIMClientSecret)
			res, err := tf.Run(context.Background(), "plan", "-input=false", "-no-color")
			if err == nil {
				t.Fatal("plan succeeded, want an error")
			}
			out := strings.Join(strings.Fields(res.Combined()), " ")
			wantIn(t, "plan", out, "Unusable CIAM Token Response", tc.want)
			for i := 0; i+8 <= len(opaque); i++ {
				if strings.Contains(res.Combined(), opaque[i:i+8]) {
					t.Fatalf("the output holds the token's window %q", opaque[i:i+8])
				}
			}
			assertNoLeak(t, "plan", res.Combined(), srv)
		})
	}
}
