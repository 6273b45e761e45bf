package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// These tests hold ciam_authorization_code_token to its single-use rule
// across runs: an authorization code that reached the directory, whatever
// came of it, is never sent again, and the user is told to get a new one.

func (w *grantWorkspace) newCode() string {
	w.t.Helper()
	return demoCode(w.t, w.srv)
}

// setCode points the resource at code (and the leak checks at it).
func (w *grantWorkspace) setCode(code string) {
	w.t.Helper()
	w.code = code
	w.configure("")
}

func (w *grantWorkspace) sentOnce(codes ...string) {
	w.t.Helper()
	for i, c := range codes {
		if n := w.srv.Presented(c); n != 1 {
			w.t.Errorf("code #%d reached the directory %d times, want 1", i+1, n)
		}
	}
}

// Every code the resource sent is refused when it comes back: one whose
// exchange succeeded and that a newer code replaced, and each of two codes
// whose exchanges failed after reaching the directory.
func TestE2E_authorizationCodeEveryCodeSentIsRefusedAgain(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	first := w.code
	second := w.newCode()
	w.setCode(second)
	w.mustRun("apply", "-auto-approve") // exchanged in place; the first grant is revoked

	w.setCode(first)
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("an apply with a code exchanged before succeeded:\n%s", out)
	}
	wantIn(t, "apply with the first code again", out, "New Authorization Code Needed", "already sent to the directory", "never sent again")

	third, fourth := w.newCode(), w.newCode()
	for _, c := range []string{third, fourth} {
		srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: http.StatusBadGateway})
		w.setCode(c)
		if out, err := w.run("apply", "-auto-approve"); err == nil {
			t.Fatalf("an exchange answered 502 succeeded:\n%s", out)
		}
	}
	w.setCode(third)
	out, err = w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("an apply with a code whose exchange failed before succeeded:\n%s", out)
	}
	wantIn(t, "apply with the third code again", out, "New Authorization Code Needed", "already sent to the directory")
	w.sentOnce(first, second, third, fourth)

	// The second code's grant was kept through all of it.
	if rt := w.attr("refresh_token"); !srv.RefreshTokenWorks(rt) {
		t.Error("the grant in state no longer works")
	}
}

// A create whose exchange failed after it may have reached the directory
// keeps the resource in state (tainted, marked lost) with its code, so that
// the next apply refuses the code instead of sending it again; a new code
// replaces it.
func TestE2E_authorizationCodeFailedCreateKeepsItsCode(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	code := demoCode(t, srv)
	w := unappliedGrantWorkspace(t, srv, grantConfig(srv, code, ""), code)

	srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: http.StatusGatewayTimeout})
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("a create answered 504 succeeded:\n%s", out)
	}
	wantIn(t, "the failed create", out, "may have reached the directory")
	// The plan already refuses the code (the read of the tainted object
	// finds it), before any apply.
	out, err = w.run("plan")
	if err == nil {
		t.Fatalf("a plan after the failed create succeeded:\n%s", out)
	}
	wantIn(t, "the plan after the failed create", out, "New Authorization Code Needed", "ciam_authorization_code_token.login")
	for i := 1; i <= 2; i++ {
		out, err = w.run("apply", "-auto-approve")
		if err == nil {
			t.Fatalf("apply %d after the failed create succeeded:\n%s", i, out)
		}
		wantIn(t, "the apply after the failed create", out, "New Authorization Code Needed", "ciam_authorization_code_token.login", "may have reached the directory")
	}
	w.sentOnce(code)

	second := w.newCode()
	w.setCode(second)
	out = w.mustRun("apply", "-auto-approve")
	wantIn(t, "the apply with a new code", out, "1 added", "1 destroyed")
	w.sentOnce(code, second)
	rt := w.attr("refresh_token")
	if !srv.RefreshTokenWorks(rt) {
		t.Fatal("the new code's grant does not work")
	}
	w.mustRun("destroy", "-auto-approve")
	if srv.RefreshTokenWorks(rt) {
		t.Error("destroy did not revoke the grant")
	}
}

// Creates that fail one after another each leave a tainted object that
// replaces the one before: the codes of the earlier ones stay recorded, and
// the first code is refused when it comes back.
func TestE2E_authorizationCodeTaintedReplacementsKeepEveryCode(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := unappliedGrantWorkspace(t, srv, grantConfig(srv, "unset", ""), "")
	first, second, third := w.newCode(), w.newCode(), w.newCode()
	for _, c := range []string{first, second, third} {
		srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: http.StatusGatewayTimeout})
		w.setCode(c)
		if out, err := w.run("apply", "-auto-approve"); err == nil {
			t.Fatalf("a create answered 504 succeeded:\n%s", out)
		}
	}
	w.setCode(first)
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("an apply with the first code again succeeded:\n%s", out)
	}
	wantIn(t, "the apply with the first code again", out, "New Authorization Code Needed")
	w.sentOnce(first, second, third)
}

// A lost grant is removed with terraform destroy -refresh=false, which the
// error says, and which sends no token request.
func TestE2E_authorizationCodeLostGrantIsDestroyedWithoutARefresh(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	w.mustRun("plan") // renews (rotation), and is thrown away
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("an apply with a lost grant succeeded:\n%s", out)
	}
	out, err = w.run("destroy", "-auto-approve")
	if err == nil {
		t.Fatalf("a destroy that plans the lost grant first succeeded:\n%s", out)
	}
	wantIn(t, "terraform destroy", out, "New Authorization Code Needed", "terraform destroy -refresh=false")
	before := srv.Requests(localciam.TokenPath)
	out = w.mustRun("destroy", "-refresh=false", "-auto-approve")
	wantIn(t, "terraform destroy -refresh=false", out, "1 destroyed")
	// The loss was never saved (each plan that found it failed), so the
	// destroy revokes the spent refresh token, which is harmless; it sends
	// nothing to the token endpoint.
	if n := srv.Requests(localciam.TokenPath) - before; n != 0 {
		t.Errorf("destroying a lost grant sent %d token requests", n)
	}
	w.sentOnce(w.code)
}

// Two resources with the same code: the first exchange spends it, and the
// second is refused without sending it, with the error that names the
// other resource, whichever way the two are ordered: at once (the second
// exchange finds the code claimed), or one after the other (the plan
// Terraform makes again just before the second create finds the code in
// this machine's ledger, sent by the other resource in this run).
func TestE2E_authorizationCodeSameCodeInTwoResources(t *testing.T) {
	for name, order := range map[string]string{
		"at once":    "",
		"one by one": "\n  depends_on   = [ciam_authorization_code_token.login]",
	} {
		t.Run(name, func(t *testing.T) {
			srv := localciam.StartTest(t, localciam.Options{})
			code := demoCode(t, srv)
			cfg := grantConfig(srv, code, "") + fmt.Sprintf(`
resource "ciam_authorization_code_token" "again" {
  code         = %q
  redirect_uri = %q%s
}
`, code, localciam.DemoRedirectURI, order)
			w := unappliedGrantWorkspace(t, srv, cfg, code)
			out, err := w.run("apply", "-auto-approve")
			if err == nil {
				t.Fatalf("two resources exchanged one code:\n%s", out)
			}
			wantIn(t, "the apply", out, "Authorization Code Used Twice", "another ciam_authorization_code_token")
			w.sentOnce(code)
		})
	}
}

// second is a second ciam_authorization_code_token with code, planned after
// the first (whose read then tells the plan which codes it sent: without an
// order, Terraform may plan it first).
func secondResource(code string) string {
	return fmt.Sprintf(`
resource "ciam_authorization_code_token" "second" {
  code         = %q
  redirect_uri = %q
  depends_on   = [ciam_authorization_code_token.login]
}
`, code, localciam.DemoRedirectURI)
}

// A code that another resource exchanged is refused when a resource is
// given it, as a new code in place or at create: the plan reads the other
// resource first, and nothing is sent.
func TestE2E_authorizationCodeAnotherResourcesCodeIsRefused(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	x, y := w.code, w.newCode()
	w.write(grantConfig(srv, x, "") + secondResource(y))
	w.mustRun("apply", "-auto-approve")
	w.write(grantConfig(srv, x, "") + secondResource(x)) // in place
	out, err := w.run("plan")
	if err == nil {
		t.Fatalf("a plan that gives the second resource the first one's code succeeded:\n%s", out)
	}
	wantIn(t, "the plan", out, "New Authorization Code Needed", "ciam_authorization_code_token.second")
	w.write(grantConfig(srv, x, "")) // the second resource goes
	w.mustRun("apply", "-auto-approve")
	w.write(grantConfig(srv, x, "") + secondResource(x)) // and comes back with the first one's code
	out, err = w.run("plan")
	if err == nil {
		t.Fatalf("a plan that creates a resource with another one's code succeeded:\n%s", out)
	}
	wantIn(t, "the plan", out, "New Authorization Code Needed", "ciam_authorization_code_token.second")
	w.sentOnce(x, y)
}

// A -replace plans a create with the replaced object's private state, which
// its destroy then gets: the grant stays bound to its directory, so a
// replacement at another directory does not send the old refresh token
// there (it warns that it was not revoked).
func TestE2E_authorizationCodeReplaceKeepsTheDirectoryBinding(t *testing.T) {
	srv, other := localciam.StartTest(t, localciam.Options{}), localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	rt := w.attr("refresh_token")
	code := demoCode(t, other)
	w.srv, w.code = other, code
	w.configure("")
	out := w.mustRun("apply", "-auto-approve", "-replace=ciam_authorization_code_token.login")
	wantIn(t, "the apply", out, "CIAM Token Not Revoked", srv.URL()[len("http://"):])
	if n := other.Requests(localciam.RevokePath); n != 0 {
		t.Errorf("the other directory received %d revocations: the old grant's refresh token went there", n)
	}
	if !srv.RefreshTokenWorks(rt) {
		t.Error("the old grant was revoked")
	}
}

// What the state cannot remember, this machine's ledger of sent codes
// does: a code is not sent again after a destroy, by another provider
// configuration (another process), or in a plan without a read.
func TestE2E_authorizationCodeLedgerOutlivesTheState(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	rt := w.attr("refresh_token")

	// -replace with the same code and no read: refused at plan, before the
	// working grant is destroyed.
	out, err := w.run("apply", "-refresh=false", "-auto-approve", "-replace=ciam_authorization_code_token.login")
	if err == nil {
		t.Fatalf("a -replace with the same code succeeded:\n%s", out)
	}
	wantIn(t, "apply -replace", out, "New Authorization Code Needed", "from this machine")
	if !srv.RefreshTokenWorks(rt) {
		t.Fatal("the working grant was destroyed")
	}

	// A destroy, then the same code again.
	w.mustRun("destroy", "-auto-approve")
	out, err = w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("an apply with a code sent before the destroy succeeded:\n%s", out)
	}
	wantIn(t, "apply after destroy", out, "New Authorization Code Needed", "from this machine")
	w.sentOnce(w.code)
}

// Two provider configurations are two processes: the ledger lets only one
// of them send a code they share.
func TestE2E_authorizationCodeLedgerAcrossProviderConfigurations(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	code := demoCode(t, srv)
	cfg := grantConfig(srv, code, "") + aliasResource(srv, code)
	w := unappliedGrantWorkspace(t, srv, cfg, code)
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("two provider configurations exchanged one code:\n%s", out)
	}
	wantIn(t, "the apply", out, "New Authorization Code Needed", "from this machine")
	w.sentOnce(code)
}

// A resource of another provider configuration (another process, which
// read nothing of the first) given the first one's code as a new code is
// refused at plan: the ledger of sent codes holds it.
func TestE2E_authorizationCodeLedgerRefusesANewCodeAtPlan(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	x, y := w.code, w.newCode()
	write := func(codeB string) { w.write(grantConfig(srv, x, "") + aliasResource(srv, codeB)) }
	write(y)
	w.mustRun("apply", "-auto-approve")
	write(x)
	out, err := w.run("plan")
	if err == nil {
		t.Fatalf("a plan that gives the other configuration's resource the first code succeeded:\n%s", out)
	}
	wantIn(t, "the plan", out, "New Authorization Code Needed", "ciam_authorization_code_token.again", "from this machine")
	w.sentOnce(x, y)
}

// aliasResource is a ciam_authorization_code_token "again" with code, of a
// second provider configuration (another process).
func aliasResource(srv *localciam.Server, code string) string {
	return fmt.Sprintf(`
provider "ciam" {
  alias       = "two"
  auth_domain = %q
}

resource "ciam_authorization_code_token" "again" {
  provider     = ciam.two
  code         = %q
  redirect_uri = %q
}
`, srv.URL(), code, localciam.DemoRedirectURI)
}

// A -replace whose new object is given a code another resource exchanged
// in the same run, with no ledger: the plan made again during the apply,
// after the old object's destroy, lets the create run (nothing else
// remembers the old object's code then), the create refuses the code
// unsent and keeps a tainted object with every code, and the old object's
// code, set again, is refused and never sent twice.
func TestE2E_authorizationCodeReplacementRefusedAfterTheDestroyKeepsTheOldCode(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{})
	w := newGrantWorkspace(t, srv, "")
	w.tf.Env = append(w.tf.Env, "CIAM_CODE_LEDGER=off")
	x1, x2 := w.code, w.newCode()
	first := fmt.Sprintf(`
resource "ciam_authorization_code_token" "first" {
  code         = %q
  redirect_uri = %q
}
`, x2, localciam.DemoRedirectURI)
	w.write(grantConfig(srv, x2, "depends_on = [ciam_authorization_code_token.first]") + first)
	out, err := w.run("apply", "-auto-approve", "-replace=ciam_authorization_code_token.login")
	if err == nil {
		t.Fatalf("two resources exchanged one code:\n%s", out)
	}
	wantIn(t, "the apply", out, "Authorization Code Used Twice")
	w.write(grantConfig(srv, x1, "") + first)
	out, err = w.run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("the replaced object's code was accepted again:\n%s", out)
	}
	wantIn(t, "the apply", out, "New Authorization Code Needed")
	w.sentOnce(x1, x2)
}
