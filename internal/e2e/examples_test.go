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
	"time"

	"github.com/hashicorp/go-version"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// TestExamplesValidate runs `terraform validate` on every directory under
// examples/ against the locally built provider, offline, through
// dev_overrides. Examples that hand a value to a third-party provider get
// that provider's stub (internal/cmd/examples-stub).
func TestExamplesValidate(t *testing.T) {
	for _, ex := range exampleWorkspaces(t) {
		t.Run(ex.rel, func(t *testing.T) {
			ex.prepare(t)
			res, err := ex.tf.Run(context.Background(), "validate", "-no-color")
			if err != nil {
				t.Fatalf("terraform validate: %v\n%s", err, res.Stdout)
			}
			if !strings.Contains(res.Stdout, "The configuration is valid") {
				t.Fatalf("terraform validate said:\n%s", res.Stdout)
			}
		})
	}
}

// TestExamplesApply applies every example against the local CIAM and
// destroys it: the outputs are what the example says, its check blocks pass
// (with the directory's clock two seconds ahead of the runner's, as real
// clocks drift), and nothing it writes leaks a secret. The provider block of
// examples/provider names the vendor's sample domain, so that example plans
// nothing that needs it.
func TestExamplesApply(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{Now: func() time.Time { return time.Now().Add(2 * time.Second) }})
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // the examples' code_verifier
	code := func() string {
		c, err := srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI,
			Scope: "openid", CodeChallenge: localciam.S256Challenge(verifier)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// What each example needs besides the provider's CIAM_* settings, and
	// what its outputs must say.
	vars := map[string]func() []string{
		"examples/demo": func() []string {
			return []string{"TF_VAR_pkce_verifier=" + verifier, "TF_VAR_sign_in_state=demo"}
		},
		"examples/functions/verify_jwt": func() []string {
			return []string{"TF_VAR_authorization_code=" + code(), "TF_VAR_client_id=" + localciam.DemoClientID}
		},
		"examples/resources/ciam_authorization_code_token": func() []string {
			return []string{"TF_VAR_authorization_code=" + code(), "TF_VAR_code_verifier=" + verifier}
		},
	}
	outputs := map[string]map[string]string{
		"examples/data-sources/ciam_openid_configuration":  {"issuer": srv.URL()},
		"examples/functions/decode_jwt":                    {"token_scopes": `["identity_proofing"]`, "token_issuer": srv.URL()},
		"examples/functions/pkce_challenge":                {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"examples/resources/ciam_authorization_code_token": {"signed_in_user": localciam.DefaultUser},
	}
	for _, ex := range exampleWorkspaces(t) {
		t.Run(ex.rel, func(t *testing.T) {
			ex.prepare(t)
			ex.tf.Env = append(ex.tf.Env, "CIAM_CODE_LEDGER="+filepath.Join(t.TempDir(), "sent-codes"), "CIAM_AUTH_DOMAIN="+srv.URL(),
				"CIAM_CLIENT_ID="+localciam.DemoClientID, "CIAM_CLIENT_SECRET="+localciam.DemoClientSecret,
				"CIAM_SCIM_CLIENT_ID="+localciam.DemoSCIMClientID, "CIAM_SCIM_CLIENT_SECRET="+localciam.DemoSCIMClientSecret)
			if extra, ok := vars[ex.rel]; ok {
				ex.tf.Env = append(ex.tf.Env, extra()...)
			}
			ctx := context.Background()
			res, err := ex.tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-no-color")
			out := strings.Join(strings.Fields(res.Combined()), " ")
			assertNoLeak(t, "apply", res.Combined(), srv)
			if err != nil {
				t.Fatalf("terraform apply: %v\n%s", err, scrubbed(out, srv))
			}
			wantNotIn(t, "apply", out, "Check block assertion failed")
			if n := strings.Count(out, "Warning:") - strings.Count(out, "Warning: Provider development overrides"); n > 0 {
				t.Errorf("apply gave %d warnings:\n%s", n, scrubbed(out, srv))
			}
			for name, want := range outputs[ex.rel] {
				got, err := ex.tf.Run(ctx, "output", "-raw", name)
				if err != nil && strings.HasPrefix(want, "[") {
					got, err = ex.tf.Run(ctx, "output", "-json", name)
				}
				if err != nil || strings.Join(strings.Fields(got.Stdout), "") != strings.Join(strings.Fields(want), "") {
					t.Errorf("output %s = %q (%v), want %q", name, got.Stdout, err, want)
				}
			}
			if ex.rel == "examples/guides/accepting-tokens" {
				checkAcceptingTokensFiles(t, ex.tf.Dir, srv)
			}
			if res, err := ex.tf.Run(ctx, "destroy", "-auto-approve", "-input=false", "-no-color"); err != nil {
				t.Fatalf("terraform destroy: %v\n%s", err, scrubbed(res.Combined(), srv))
			}
		})
	}
}

// checkAcceptingTokensFiles checks what the accepting-tokens guide writes:
// the directory's key set, a PEM per key, and an Envoy configuration with
// the directory's issuer.
func checkAcceptingTokensFiles(t *testing.T, dir string, srv *localciam.Server) {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if jwks := read("ciam-jwks.json"); !strings.Contains(jwks, `"keys"`) || !strings.Contains(jwks, `"kty":"RSA"`) {
		t.Errorf("ciam-jwks.json: %s", jwks)
	}
	pems, err := filepath.Glob(filepath.Join(dir, "out", "ciam-*.pem"))
	if err != nil || len(pems) != 1 || !strings.Contains(read(filepath.Base(pems[0])), "BEGIN PUBLIC KEY") {
		t.Errorf("PEM files %v (%v)", pems, err)
	}
	if envoy := read("envoy-jwt-authn.yaml"); !strings.Contains(envoy, `"issuer": "`+srv.URL()+`"`) {
		t.Errorf("envoy-jwt-authn.yaml has not the directory's issuer:\n%s", envoy)
	}
}

// exampleWorkspace is one example directory, to be copied into a scratch
// directory that reaches the locally built provider and the stubs of the
// third-party providers the examples use.
type exampleWorkspace struct {
	rel, dir string
	tf       *devenv.Terraform
	version  *version.Version
}

// exampleWorkspaces lists every directory under examples/ that holds a .tf
// file.
func exampleWorkspaces(t *testing.T) []exampleWorkspace {
	t.Helper()
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	rc := stubCLIConfig(t, root)
	toolVersion, err := devenv.ToolVersion(tfBin)
	if err != nil {
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
	var out []exampleWorkspace
	for dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		out = append(out, exampleWorkspace{rel: rel, dir: dir, version: toolVersion,
			tf: &devenv.Terraform{Bin: tfBin, CLIConfig: rc}})
	}
	return out
}

var requiredProviders = regexp.MustCompile(`required_providers\s*{`)

// prepare copies the example into a scratch directory (skipping it when the
// tool lacks a feature it uses), and adds the required_providers block that
// the registry's snippets leave out.
func (ex *exampleWorkspace) prepare(t *testing.T) {
	t.Helper()
	ex.tf.Dir = t.TempDir()
	if err := devenv.CopyDir(ex.dir, ex.tf.Dir); err != nil {
		t.Fatal(err)
	}
	text := readAll(t, ex.tf.Dir)
	for marker, feature := range map[string]devenv.Feature{`ephemeral "`: devenv.EphemeralResources, "provider::": devenv.Functions} {
		if strings.Contains(text, marker) && ex.version.LessThan(feature.Minimum()) {
			t.Skipf("the example uses %s, which need version %s or later (found %s)", feature.Name, feature.Minimum(), ex.version)
		}
	}
	if requiredProviders.MatchString(text) {
		return
	}
	versions := "terraform {\n  required_providers {\n    ciam = { source = \"ciam-oss/ciam\" }\n"
	if strings.Contains(text, `provider "restapi"`) {
		versions += "    restapi = { source = \"Mastercard/restapi\" }\n"
	}
	if strings.Contains(text, `resource "local_file"`) {
		versions += "    local = { source = \"hashicorp/local\" }\n"
	}
	if strings.Contains(text, `resource "random_`) {
		versions += "    random = { source = \"hashicorp/random\" }\n"
	}
	versions += "  }\n}\n"
	if err := os.WriteFile(filepath.Join(ex.tf.Dir, "zz_versions.tf"), []byte(versions), 0o600); err != nil {
		t.Fatal(err)
	}
}

// stubCLIConfig builds the stub of the third-party providers (one binary,
// named after each provider it stands in for) and returns a CLI
// configuration whose dev_overrides serve them and the built provider.
func stubCLIConfig(t *testing.T, root string) string {
	t.Helper()
	stubs := map[string]string{"restapi": devenv.RegistryHost() + "/mastercard/restapi", "local": devenv.RegistryHost() + "/hashicorp/local",
		"random": devenv.RegistryHost() + "/hashicorp/random"}
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
	return rc
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
