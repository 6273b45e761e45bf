package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
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
