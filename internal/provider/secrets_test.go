package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func TestSecretSetSanitizesDiagnostics(t *testing.T) {
	s := newSecretSet("provider-secret-1234", "")
	s.add("OAUTH2-token-5678")
	in := diag.Diagnostics{
		diag.NewErrorDiagnostic("Failed with provider-secret-1234", "token OAUTH2-token-5678 and client_secret=abcdef"),
		diag.NewAttributeWarningDiagnostic(path.Root("client_secret"), "Warn", "was provider-secret-1234"),
		diag.NewErrorDiagnostic("Clean", "nothing secret"),
	}
	out := s.sanitize(in)
	if len(out) != 3 {
		t.Fatalf("got %d diagnostics", len(out))
	}
	for _, d := range out {
		for _, secret := range []string{"provider-secret-1234", "OAUTH2-token-5678", "abcdef"} {
			if strings.Contains(d.Summary()+d.Detail(), secret) {
				t.Errorf("diagnostic %q/%q still holds %q", d.Summary(), d.Detail(), secret)
			}
		}
	}
	if wp, ok := out[1].(diag.DiagnosticWithPath); !ok || !wp.Path().Equal(path.Root("client_secret")) || out[1].Severity() != diag.SeverityWarning {
		t.Errorf("the attribute path or severity was lost: %#v", out[1])
	}
	if out[2] != in[2] {
		t.Error("a clean diagnostic was rebuilt")
	}
}

func TestGuardTurnsPanicsIntoRedactedDiagnostics(t *testing.T) {
	d := &providerData{secrets: newSecretSet("provider-secret-1234")}
	var diags diag.Diagnostics
	func() {
		defer d.guard(&diags)
		panic("boom with provider-secret-1234")
	}()
	if !diags.HasError() || diags[0].Summary() != "Provider Internal Error" {
		t.Fatalf("diags = %v", diags)
	}
	if strings.Contains(diags[0].Detail(), "provider-secret-1234") || !strings.Contains(diags[0].Detail(), "boom with [REDACTED]") {
		t.Errorf("detail = %q", diags[0].Detail())
	}
	// A nil providerData (provider not configured) still recovers.
	var none *providerData
	diags = nil
	func() {
		defer none.guard(&diags)
		panic("x")
	}()
	if !diags.HasError() {
		t.Error("panic not recovered")
	}
}

// The redaction layer catches a secret that another layer cut (any fragment
// of 8 characters or more) and every form a server may echo it in.
func TestSecretSetRedactsFragmentsAndEveryEncoding(t *testing.T) {
	s := newSecretSet()
	s.addCredentials(leaktest.ClientID, leaktest.Secret)
	var texts []string
	for _, frag := range []string{leaktest.Secret[:12], leaktest.Secret[3:14], leaktest.Secret[len(leaktest.Secret)-8:]} {
		texts = append(texts, "body starts: \"echo: "+frag+"\"")
	}
	for _, enc := range leaktest.Encodings(leaktest.ClientID, leaktest.Secret) {
		texts = append(texts, "echo: "+enc+"; "+enc[:len(enc)/2])
	}
	for _, text := range texts {
		out := s.sanitize(diag.Diagnostics{diag.NewWarningDiagnostic("Summary "+text, "Detail "+text)})
		leaktest.AssertNone(t, "summary", out[0].Summary(), leaktest.Secret)
		leaktest.AssertNone(t, "detail", out[0].Detail(), leaktest.Secret)
	}
}

// A secret with surrounding whitespace is refused without ever being shown:
// its error has no attribute path, since Terraform prints the configuration
// line an attribute error points at, and that line holds the secret. Checked
// over terraform's whole output, for every secret a configuration can hold.
func TestWhitespaceInASecretIsNeverShown(t *testing.T) {
	srv := startCIAM(t)
	tf := newInProcessTerraform(t, &ciamProvider{version: "test", now: time.Now})
	// Secrets of this test only (an error must not show them either).
	const secret, code, verifier = "Wh1teSpace-Secret-Kq7Zp", "Wh1teSpace-Code-Lm3Xr", "Wh1teSpace-Verifier-0123456789-abcdefghijklmnopqrstuv"
	provider := func(secretValue string) string {
		return "terraform {\n  required_providers {\n    ciam = { source = \"ciam-oss/ciam\" }\n  }\n}\n" + fmt.Sprintf("provider \"ciam\" {\n  auth_domain   = %q\n  client_id     = %q\n  client_secret = %q\n}\n", srv.URL(), localciam.DemoClientID, secretValue)
	}
	block := fmt.Sprintf("  client_id     = %q\n  client_secret = %q\n", localciam.DemoClientID, secret+"\n")
	for _, c := range []struct{ name, config, wants string }{
		{"provider client_secret", provider(secret+"\n") + `data "ciam_jwks" "k" {}`, "client_secret starts or ends with whitespace"},
		{"data source client_secret", provider(secret) + "data \"ciam_client_credentials_token\" \"t\" {\n" + block + "}\n", "client_secret starts or ends with whitespace"},
		{"ephemeral client_secret", provider(secret) + "ephemeral \"ciam_scim_token\" \"t\" {\n" + block + "}\n", "client_secret starts or ends with whitespace"},
		{"resource code", provider(secret) + fmt.Sprintf("resource \"ciam_authorization_code_token\" \"t\" {\n  code         = %q\n  redirect_uri = %q\n}\n", " "+code, localciam.DemoRedirectURI),
			"code starts or ends with whitespace"},
		{"resource code_verifier", provider(secret) + fmt.Sprintf("resource \"ciam_authorization_code_token\" \"t\" {\n  code          = %q\n  redirect_uri  = %q\n  code_verifier = %q\n}\n", code, localciam.DemoRedirectURI, verifier+"\t"),
			"code_verifier starts or ends with whitespace"},
		{"resource client_secret", provider(secret) + fmt.Sprintf("resource \"ciam_authorization_code_token\" \"t\" {\n  code         = %q\n  redirect_uri = %q\n%s}\n", code, localciam.DemoRedirectURI, block),
			"client_secret starts or ends with whitespace"},
		// A file saved with a byte-order mark: trimspace() keeps it.
		{"provider client_secret with a BOM", provider("\uFEFF"+secret) + `data "ciam_jwks" "k" {}`, "client_secret starts or ends with an invisible character (a byte-order mark"},
		{"provider client_secret with a soft hyphen", provider(secret+"\u00AD") + `data "ciam_jwks" "k" {}`, "client_secret starts or ends with an invisible character"},
	} {
		tf.write(c.config)
		if c.name == "provider client_secret" {
			if out, err := tf.run(nil, "init"); err != nil {
				t.Fatalf("terraform init: %v\n%s", err, out)
			}
		}
		out, err := tf.run(nil, "plan")
		if err == nil {
			t.Errorf("%s: a plan with whitespace in a secret succeeded", c.name)
		}
		if !strings.Contains(out, "Leading Or Trailing Whitespace") || !strings.Contains(out, c.wants) {
			t.Errorf("%s: the plan does not say %q", c.name, c.wants)
		}
		leaktest.AssertNone(t, c.name+": terraform plan", out, secret, code, verifier)
	}
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}
