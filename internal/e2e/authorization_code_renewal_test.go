package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// These tests drive ciam_authorization_code_token the way a pipeline does,
// one terraform command at a time, against directories that rotate refresh
// tokens, detect reuse, fail, or are down, and read what each command prints.

// grantWorkspace creates a ciam_authorization_code_token with a fresh code
// (applied) and returns the workspace. block holds extra arguments.
type grantWorkspace struct {
	t    *testing.T
	srv  *localciam.Server
	tf   *devenv.Terraform
	code string
}

// configure rewrites the resource block's extra arguments.
func (w *grantWorkspace) configure(block string) {
	w.t.Helper()
	w.write(grantConfig(w.srv, w.code, block))
}

// write replaces main.tf with cfg.
func (w *grantWorkspace) write(cfg string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func grantConfig(srv *localciam.Server, code, block string) string {
	return header + fmt.Sprintf(`
provider "ciam" {
  auth_domain = %q
}

resource "ciam_authorization_code_token" "login" {
  code         = %q
  redirect_uri = %q
  %s
}
`, srv.URL(), code, localciam.DemoRedirectURI, block)
}

func newGrantWorkspace(t *testing.T, srv *localciam.Server, block string) *grantWorkspace {
	t.Helper()
	code := demoCode(t, srv)
	w := unappliedGrantWorkspace(t, srv, grantConfig(srv, code, block), code)
	w.mustRun("apply", "-auto-approve")
	return w
}

// demoCode is a fresh authorization code of the demo application.
func demoCode(t *testing.T, srv *localciam.Server) string {
	t.Helper()
	code, err := srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// unappliedGrantWorkspace is a workspace with cfg, whose resource has code,
// and the demo application's credentials in the environment; nothing is
// applied yet.
func unappliedGrantWorkspace(t *testing.T, srv *localciam.Server, cfg, code string) *grantWorkspace {
	t.Helper()
	env := []string{"CIAM_CLIENT_ID=" + localciam.DemoClientID, "CIAM_CLIENT_SECRET=" + localciam.DemoClientSecret}
	return &grantWorkspace{t: t, srv: srv, tf: workspace(t, cfg, env...), code: code}
}

// run runs one terraform command (-input=false -no-color added) and returns
// its output with whitespace collapsed, so that wrapped lines match.
func (w *grantWorkspace) run(args ...string) (string, error) {
	w.t.Helper()
	if args[0] == "plan" || args[0] == "apply" || args[0] == "destroy" {
		// Before any plan file: flags after it are not parsed.
		args = append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	}
	res, err := w.tf.Run(context.Background(), args...)
	out := res.Combined()
	assertNoLeak(w.t, "terraform "+args[0], out, w.srv, w.code)
	if _, leaked := leaktest.Window(out, append(append(w.srv.Secrets(), w.srv.IssuedTokens()...), w.code)...); leaked {
		out = scrubbed(out, w.srv, w.code) // the failure above is reported; a message that prints out must not repeat the secret
	}
	return strings.Join(strings.Fields(out), " "), err
}

func (w *grantWorkspace) mustRun(args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
	}
	return out
}

// attr returns an attribute of the resource in state ("" when there is no
// resource).
func (w *grantWorkspace) attr(name string) string {
	w.t.Helper()
	return stateAttr(w.t, w.tf, name)
}

// stateAttr returns a string attribute of the only resource in the state of
// tf ("" when there is none), from terraform show -json.
func stateAttr(t *testing.T, tf *devenv.Terraform, name string) string {
	t.Helper()
	res, err := tf.Run(context.Background(), "show", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Values map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Values.RootModule.Resources) == 0 {
		return ""
	}
	v, _ := state.Values.RootModule.Resources[0].Values[name].(string)
	return v
}

func wantIn(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}

func wantNotIn(t *testing.T, what, out string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(out, u) {
			t.Errorf("%s holds %q:\n%s", what, u, out)
		}
	}
}

// A renewal is single-use: against a rotating directory, a renewal answered
// 5xx sends the refresh token exactly once in that run, the plan succeeds
// with a warning that says why and when the stored token expires, and the
// next plan renews. A 5xx after the directory acted is not retried either.
func TestE2E_authorizationCodeRenewalIsSentOnce(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	refresh := w.attr("refresh_token")

	srv.InjectFaults(localciam.TokenPath, localciam.Fault{Status: 503})
	before := srv.Attempts(localciam.GrantRefreshToken)
	out := w.mustRun("plan")
	if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 {
		t.Errorf("the failing plan sent the refresh token %d times, want 1", n)
	}
	wantIn(t, "plan against a failing directory", out,
		"Warning: CIAM Token Not Renewed", "HTTP 503", "The stored token was kept", "expires at", "sent once and not retried")
	wantNotIn(t, "plan against a failing directory", out, "such answers are retried")
	if n := strings.Count(out, "not retried"); n != 1 {
		t.Errorf("the warning says %d times that the refresh was not retried, want once:\n%s", n, out)
	}

	before = srv.Attempts(localciam.GrantRefreshToken)
	out = w.mustRun("apply", "-refresh-only", "-auto-approve")
	wantNotIn(t, "apply -refresh-only", out, "Warning: CIAM Token Not Renewed")
	if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 || !srv.RefreshTokenWorks(w.attr("refresh_token")) || w.attr("refresh_token") == refresh {
		t.Errorf("the next run did not renew once: %d attempts", n)
	}

	// The directory rotates, then a gateway fails: the refresh token is spent
	// and must not be sent again in this run.
	srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: 504})
	before = srv.Attempts(localciam.GrantRefreshToken)
	out = w.mustRun("plan")
	if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 {
		t.Errorf("a renewal that may have reached the directory was sent %d times, want 1", n)
	}
	wantIn(t, "plan after a processed-then-failed renewal", out, "Warning: CIAM Token Not Renewed", "HTTP 504")
}

// Destroy (and plan) succeed while the directory is unreachable: renewal
// failures are warnings, and so is the revocation; each names the token's id
// and client_id.
func TestE2E_authorizationCodeDestroyWhileTheDirectoryIsDown(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	id := w.attr("id")
	_ = srv.Close()

	out := w.mustRun("plan")
	wantIn(t, "plan while down", out, "Warning: CIAM Token Not Renewed", "Cannot Reach The CIAM", id, localciam.DemoClientID,
		"The refresh token was never sent (the request never went out: no connection to the directory was established), so it is still good")
	wantNotIn(t, "plan while down", out, "sent once")
	out = w.mustRun("destroy", "-auto-approve")
	wantIn(t, "destroy while down", out, "Destroy complete!", "Warning: CIAM Token Not Revoked", "id "+id, `client_id "demo-app"`, "stays valid until it expires")
	if list := w.mustRun("state", "list"); list != "" {
		t.Errorf("state still lists %q", list)
	}
}

// A destroy job without the client's credentials, or with another client's,
// succeeds: nothing is sent, and the warning says whose grant stays live.
func TestE2E_authorizationCodeDestroyWithoutTheGrantsClient(t *testing.T) {
	srv := startCIAM(t)
	srv.SetClient(localciam.Client{ID: "other-app", Secret: "Ot9/h&E+r%1=App2", Grants: []string{localciam.GrantAuthorizationCode, localciam.GrantRefreshToken}})
	for name, env := range map[string][]string{
		"no credentials":   {"CIAM_CLIENT_ID=", "CIAM_CLIENT_SECRET="},
		"another client's": {"CIAM_CLIENT_ID=other-app", "CIAM_CLIENT_SECRET=Ot9/h&E+r%1=App2"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
			before := srv.Revocations()
			w.tf.Env = append(w.tf.Env, env...)
			args := []string{"destroy", "-auto-approve"}
			if name != "no credentials" {
				args = append(args, "-refresh=false") // a changed client is refused at plan time
			}
			out := w.mustRun(args...)
			wantIn(t, "destroy", out, "Destroy complete!", "Warning: CIAM Token Not Revoked", `the grant belongs to client_id "demo-app"`, "Nothing was sent")
			if srv.Revocations() != before {
				t.Error("a revocation was sent with the wrong client")
			}
		})
	}
}

// pkceVerifier is the code verifier of the public-client tests.
const pkceVerifier = "Wq3Xz9LmN0pR5tV7yB2cD4fG6hJ8kA1sE3uI5oP7aZx"

// newPublicGrantWorkspace creates (applied) a ciam_authorization_code_token
// for a public client: PKCE, client_id on the block, no secret anywhere.
func newPublicGrantWorkspace(t *testing.T, srv *localciam.Server) *grantWorkspace {
	t.Helper()
	code, err := srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI,
		Scope: "openid", CodeChallenge: localciam.S256Challenge(pkceVerifier)})
	if err != nil {
		t.Fatal(err)
	}
	w := &grantWorkspace{t: t, srv: srv, code: code, tf: workspace(t, header+fmt.Sprintf(`
provider "ciam" {
  auth_domain = %q
}

resource "ciam_authorization_code_token" "login" {
  code          = %q
  redirect_uri  = %q
  code_verifier = %q
  client_id     = %q
  min_remaining = "10m"
}
`, srv.URL(), code, localciam.DemoRedirectURI, pkceVerifier, localciam.DemoClientID))}
	w.mustRun("apply", "-auto-approve")
	return w
}

// Public clients (PKCE, no secret) renew and revoke with client_id alone
// where the directory allows it; where it does not, the warning says that
// the client is public and never that a secret is wrong.
func TestE2E_authorizationCodePublicClient(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run(fmt.Sprintf("directory allows public refresh: %v", allow), func(t *testing.T) {
			w := newPublicGrantWorkspace(t, localciam.StartTest(t, localciam.Options{PublicClientRefresh: allow}))
			srv := w.srv
			out := w.mustRun("apply", "-refresh-only", "-auto-approve")
			destroy := w.mustRun("destroy", "-auto-approve")
			if allow {
				if srv.Grants(localciam.GrantRefreshToken) < 1 || srv.Revocations() != 1 {
					t.Errorf("refreshes %d, revocations %d; want both with client_id alone", srv.Grants(localciam.GrantRefreshToken), srv.Revocations())
				}
				wantNotIn(t, "refresh and destroy", out+destroy, "Warning: CIAM")
				return
			}
			wantIn(t, "refresh against a directory that refuses public clients", out,
				"Warning: CIAM Token Not Renewed", "public client", "no client secret was sent", "may require a client secret to refresh", "client_secret")
			wantIn(t, "destroy", destroy, "Warning: CIAM Token Not Revoked", "public client", "no client secret was sent")
			wantNotIn(t, "public client warnings", out+destroy, "secret is wrong", "client secret is wrong")
		})
	}
}

// Raising min_remaining while Read renews (renew_in_plan = true) costs one
// renewal in that run, not Read's and then the apply's.
func TestE2E_authorizationCodeOneRenewalPerRun(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	w.configure(`min_remaining = "20m"`)
	before := srv.Attempts(localciam.GrantRefreshToken)
	w.mustRun("apply", "-auto-approve")
	if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 {
		t.Errorf("one apply sent %d refresh requests, want 1", n)
	}
}

// min_remaining at or above the lifetime the directory grants makes every
// plan renew: a warning says so.
func TestE2E_authorizationCodeMinRemainingAboveLifetimeWarns(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "5m"`)
	out := w.mustRun("plan")
	wantIn(t, "plan", out, "Warning: min_remaining Is Not Below The Token Lifetime", `min_remaining ("5m") is at least the lifetime`, "(299s)", "every plan")
}

// The pipeline the issue describes: plan on every pull request, apply on
// merge, against a directory that rotates refresh tokens and revokes the
// grant when a spent one comes back.
func TestE2E_authorizationCodeRotatingDirectoryPipeline(t *testing.T) {
	t.Run("renew_in_plan = false", func(t *testing.T) {
		srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
		w := newGrantWorkspace(t, srv, `min_remaining = "10m"
  renew_in_plan = false`)
		for round := 1; round <= 3; round++ {
			before := srv.Attempts(localciam.GrantRefreshToken)
			plan := w.mustRun("plan") // the pull request
			if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 0 {
				t.Fatalf("round %d: a bare plan sent %d refresh requests", round, n)
			}
			wantIn(t, fmt.Sprintf("round %d: plan", round), plan, "will be updated in-place", "(known after apply)")
			w.mustRun("apply", "-auto-approve") // the merge
			if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 {
				t.Fatalf("round %d: plan and apply sent %d refresh requests, want 1", round, n)
			}
		}
		w.mustRun("plan")
		rt := w.attr("refresh_token")
		if !srv.RefreshTokenWorks(rt) || srv.GrantRevoked(rt) {
			t.Error("the refresh token in state no longer works")
		}
		if srv.Grants(localciam.GrantAuthorizationCode) != 1 || srv.Grants(localciam.GrantRefreshToken) != 3 {
			t.Errorf("codes %d (want 1), renewals %d (want 3)", srv.Grants(localciam.GrantAuthorizationCode), srv.Grants(localciam.GrantRefreshToken))
		}
	})
	t.Run("renew_in_plan = true (default)", func(t *testing.T) {
		srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
		w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
		plan := w.mustRun("plan")
		wantIn(t, "the first renewal that sees rotation", plan, "Warning: CIAM Rotates Refresh Tokens", "renew_in_plan = false")
		// The plan's state was thrown away: the apply sends the spent token,
		// the directory revokes the grant, and the grant is lost. This is
		// what renew_in_plan = false prevents.
		out, _ := w.run("apply", "-auto-approve")
		wantIn(t, "apply after an unapplied plan", out, "invalid_grant")
		if rt := w.attr("refresh_token"); rt != "" && srv.RefreshTokenWorks(rt) {
			t.Error("the grant survived reuse; the test would prove nothing")
		}
	})
}

// A refresh token that Read sent in this run, successfully or not, is never
// sent again by the apply of the same run, whatever the configuration change
// asks for.
func TestE2E_authorizationCodeReadsRenewalIsNotRepeatedByTheApply(t *testing.T) {
	for name, block := range map[string]string{
		"switching to renew_in_plan = false": `min_remaining = "10m"
  renew_in_plan = false`,
		"raising min_remaining": `min_remaining = "20m"`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
			w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
			w.configure(block)
			srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: 504})
			before := srv.Attempts(localciam.GrantRefreshToken)
			out, _ := w.run("apply", "-auto-approve")
			if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 {
				t.Errorf("one apply sent the refresh token %d times, want 1:\n%s", n, out)
			}
		})
	}
}

// Without the grant's credentials (none, or a confidential grant's client
// ID without its secret) nothing is sent; without an auth_domain nothing
// breaks.
func TestE2E_authorizationCodeWithoutUsableCredentials(t *testing.T) {
	t.Run("no credentials, renewal at apply", func(t *testing.T) {
		srv := startCIAM(t)
		w := newGrantWorkspace(t, srv, `min_remaining = "10m"
  renew_in_plan = false`)
		w.tf.Env = append(w.tf.Env, "CIAM_CLIENT_ID=", "CIAM_CLIENT_SECRET=")
		before := srv.Requests(localciam.TokenPath)
		out, err := w.run("apply", "-auto-approve")
		if err == nil || srv.Requests(localciam.TokenPath) != before {
			t.Errorf("apply without credentials: err %v, %d requests sent", err, srv.Requests(localciam.TokenPath)-before)
		}
		wantIn(t, "apply without credentials", out, "CIAM Token Not Renewed", "no client credentials are configured", "Nothing was sent")
		wantNotIn(t, "apply without credentials", out, "public client")
	})
	t.Run("a confidential grant's client_id without its secret", func(t *testing.T) {
		srv := startCIAM(t)
		w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
		w.tf.Env = append(w.tf.Env, "CIAM_CLIENT_SECRET=")
		before := srv.Requests("")
		plan := w.mustRun("plan")
		destroy := w.mustRun("destroy", "-auto-approve")
		if srv.Requests("") != before {
			t.Errorf("%d requests were sent without the client secret", srv.Requests("")-before)
		}
		wantIn(t, "plan and destroy", plan+destroy, "no client secret is configured", "confidential", "Nothing was sent", "Destroy complete!")
		wantNotIn(t, "plan and destroy", plan+destroy, "public client")
	})
	t.Run("no auth_domain", func(t *testing.T) {
		srv := startCIAM(t)
		w := newGrantWorkspace(t, srv, `min_remaining = "10m"
  renew_in_plan = false`)
		cfg := strings.Replace(grantConfig(srv, w.code, `min_remaining = "10m"
  renew_in_plan = false`), fmt.Sprintf("auth_domain = %q", srv.URL()), "", 1)
		if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := w.run("apply", "-auto-approve")
		wantNotIn(t, "apply without auth_domain", out, "Provider Internal Error", "panic")
		destroy := w.mustRun("destroy", "-auto-approve")
		wantIn(t, "destroy without auth_domain", destroy, "Destroy complete!", "the provider has no auth_domain")
	})
}

// laterLifetime is the access token lifetime (seconds) of the directories
// applyLater is used with: time enough to create and plan on a loaded machine.
const laterLifetime = 25

// applyLater plans into a file, waits until the access token (laterLifetime)
// has less than 10 s left, and applies the plan: what a saved plan, or an
// apply whose prompt waits, meets. It fails when the plan itself ran after
// the token became due, since the test would then prove nothing.
func (w *grantWorkspace) applyLater() (plan, apply string, err error) {
	w.t.Helper()
	plan = w.mustRun("plan", "-out=later.tfplan")
	expiresAt, perr := time.Parse(time.RFC3339, w.attr("expires_at"))
	if perr != nil {
		w.t.Fatal(perr)
	}
	if left := time.Until(expiresAt); left < 11*time.Second {
		w.t.Fatalf("the plan finished with %s left, not before the token became due", left)
	}
	time.Sleep(time.Until(expiresAt) - 8*time.Second)
	apply, err = w.run("apply", "later.tfplan")
	return plan, apply, err
}

// An in-place update planned while the token was fresh and applied after it
// became due renews at apply, once, instead of failing with Terraform's
// "Provider produced inconsistent final plan" (the plan is made again during
// the apply, and a token attribute known in the plan must not turn unknown).
func TestE2E_authorizationCodeUpdateAppliedAfterTheTokenBecameDue(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ create, change string }{
		"min_remaining raised": {`min_remaining = "5s"`, `min_remaining = "10s"`},
		"renew_in_plan = false, min_remaining raised": {"min_remaining = \"5s\"\n  renew_in_plan = false",
			"min_remaining = \"10s\"\n  renew_in_plan = false"},
		"renew_in_plan = false, credentials moved into the block": {"min_remaining = \"10s\"\n  renew_in_plan = false",
			fmt.Sprintf("min_remaining = \"10s\"\n  renew_in_plan = false\n  client_id = %q\n  client_secret = %q", localciam.DemoClientID, localciam.DemoClientSecret)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := localciam.StartTest(t, localciam.Options{AccessTokenExpiresIn: laterLifetime})
			w := newGrantWorkspace(t, srv, tc.create)
			w.configure(tc.change)
			at := w.attr("access_token")
			before := srv.Attempts(localciam.GrantRefreshToken)
			plan, out, err := w.applyLater()
			wantIn(t, "plan", plan, "will be updated in-place")
			if err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 || w.attr("access_token") == at {
				t.Errorf("the apply sent %d refresh requests (want 1); token renewed: %v", n, w.attr("access_token") != at)
			}
		})
	}
}

// A plan without changes stays without changes when it is applied after the
// token became due, postcondition and all. ModifyPlan's clock could disagree
// there, and does not have to: Terraform does not plan a resource without
// changes again during the apply (it checks its conditions only). This test
// holds the design to that.
func TestE2E_authorizationCodeNoOpPlanAppliedAfterTheTokenBecameDue(t *testing.T) {
	t.Parallel()
	srv := localciam.StartTest(t, localciam.Options{AccessTokenExpiresIn: laterLifetime})
	block := "min_remaining = \"10s\"\n  renew_in_plan = false\n  lifecycle {\n    postcondition {\n      condition     = self.expires_in > 0\n      error_message = \"no lifetime\"\n    }\n  }"
	w := newGrantWorkspace(t, srv, block)
	before := srv.Attempts(localciam.GrantRefreshToken)
	plan, out, err := w.applyLater()
	wantIn(t, "plan", plan, "No changes.")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 0 {
		t.Errorf("applying a plan without changes sent %d refresh requests", n)
	}
}

// min_remaining that is not known until apply: the apply decides, with the
// value it then has, and renews once or not at all.
func TestE2E_authorizationCodeMinRemainingUnknownAtPlan(t *testing.T) {
	for name, tc := range map[string]struct {
		minRemaining string
		renewals     int64
	}{
		"due under the value at apply":     {"10m", 1},
		"not due under the value at apply": {"1m", 0},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startCIAM(t)
			w := newGrantWorkspace(t, srv, "min_remaining = \"1m\"\n  renew_in_plan = false")
			w.configure(fmt.Sprintf(`min_remaining = terraform_data.m.output
  renew_in_plan = false
}

resource "terraform_data" "m" {
  input            = %q
  triggers_replace = timestamp()`, tc.minRemaining))
			at := w.attr("access_token")
			before := srv.Attempts(localciam.GrantRefreshToken)
			out, err := w.run("apply", "-auto-approve")
			if err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			n := srv.Attempts(localciam.GrantRefreshToken) - before
			if n != tc.renewals || (w.attr("access_token") != at) != (tc.renewals == 1) {
				t.Errorf("the apply sent %d refresh requests, want %d; token changed: %v", n, tc.renewals, w.attr("access_token") != at)
			}
		})
	}
}

// Provider settings not known until apply: the renewal a read could not
// make is planned, and the apply makes it, with the provider's client or
// the block's.
func TestE2E_authorizationCodeRenewsAtApplyWhenSettingsAreUnknownAtPlan(t *testing.T) {
	for name, block := range map[string]string{
		"the provider's client": `min_remaining = "10m"`,
		"the block's client": fmt.Sprintf("min_remaining = \"10m\"\n  client_id = %q\n  client_secret = %q",
			localciam.DemoClientID, localciam.DemoClientSecret),
	} {
		t.Run(name, func(t *testing.T) {
			srv := startCIAM(t)
			w := newGrantWorkspace(t, srv, block)
			cfg := strings.Replace(grantConfig(srv, w.code, block), fmt.Sprintf("auth_domain = %q", srv.URL()), "auth_domain = terraform_data.d.output", 1) +
				fmt.Sprintf(`
resource "terraform_data" "d" {
  input            = %q
  triggers_replace = timestamp()
}
`, srv.URL())
			if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			at := w.attr("access_token")
			before := srv.Attempts(localciam.GrantRefreshToken)
			plan := w.mustRun("plan")
			wantIn(t, "plan", plan, "will be updated in-place", "(known after apply)")
			out, err := w.run("apply", "-auto-approve")
			if err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			if n := srv.Attempts(localciam.GrantRefreshToken) - before; n != 1 || w.attr("access_token") == at {
				t.Errorf("plan and apply sent %d refresh requests (want 1); token renewed: %v", n, w.attr("access_token") != at)
			}
		})
	}
}

// A saved plan applied with another auth_domain setting than it was made
// with (CIAM_AUTH_DOMAIN set in one job and not the other): the apply never
// fails with "inconsistent final plan", and never silently skips a renewal
// that the plan showed.
func TestE2E_authorizationCodeSavedPlanAppliedWithAuthDomainSetOrNot(t *testing.T) {
	for name, tc := range map[string]struct {
		block               string
		planWith, applyWith bool
		wantApply           []string
	}{
		"planned without, applied with": {"min_remaining = \"2m\"\n  renew_in_plan = false", false, true, []string{"Apply complete!"}},
		"planned with, applied without (renewal due)": {"min_remaining = \"10m\"\n  renew_in_plan = false", true, false,
			[]string{"Missing CIAM Auth Domain"}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startCIAM(t)
			w := newGrantWorkspace(t, srv, "min_remaining = \"1m\"\n  renew_in_plan = false")
			cfg := strings.Replace(grantConfig(srv, w.code, tc.block), fmt.Sprintf("auth_domain = %q", srv.URL()), "", 1)
			if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			env := w.tf.Env
			domain := func(set bool) {
				w.tf.Env = env
				if set {
					w.tf.Env = append(slices.Clone(env), "CIAM_AUTH_DOMAIN="+srv.URL())
				}
			}
			domain(tc.planWith)
			w.mustRun("plan", "-out=p.tfplan")
			domain(tc.applyWith)
			out, _ := w.run("apply", "p.tfplan")
			wantNotIn(t, "apply", out, "inconsistent final plan")
			wantIn(t, "apply", out, tc.wantApply...)
		})
	}
}

// The client secret rotated in the directory and changed on the block, with
// the token due: the read, which can only use the secret stored in state, is
// refused; that spends nothing, the warning says the stored secret was used,
// and the apply renews with the new secret.
func TestE2E_authorizationCodeClientSecretChangedOnTheBlock(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	block := func(secret string) string {
		return fmt.Sprintf("min_remaining = \"10m\"\n  client_id = %q\n  client_secret = %q", localciam.DemoClientID, secret)
	}
	w := newGrantWorkspace(t, srv, block(localciam.DemoClientSecret))
	client := localciam.DefaultClients()[0]
	client.Secret = "N3w/s&cret+9=Qa%7"
	srv.SetClient(client)
	w.configure(block(client.Secret))
	renewals := srv.Grants(localciam.GrantRefreshToken)
	out, err := w.run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	assertNoLeak(t, "apply", out, srv, localciam.DemoClientSecret)
	wantIn(t, "apply", out, "Warning: CIAM Token Not Renewed", "invalid_client", "client_secret stored in state", "the apply renews with the new one",
		"the refresh token was not used")
	wantNotIn(t, "apply", out, "may already have spent it")
	if n := srv.Grants(localciam.GrantRefreshToken) - renewals; n != 1 {
		t.Errorf("%d renewals, want 1 (by the apply, with the new secret)", n)
	}
	if rt := w.attr("refresh_token"); !srv.RefreshTokenWorks(rt) {
		t.Error("the refresh token in state does not work")
	}
}

// After a read refused for the client and an apply that renewed with the new
// secret, the read's record is spent: a later run without a read
// (-refresh=false) that asks for renewal at apply renews.
func TestE2E_authorizationCodeRefusedReadIsForgottenByTheApply(t *testing.T) {
	srv := startCIAM(t) // the refresh token stays the same across renewals
	block := func(secret, extra string) string {
		return fmt.Sprintf("min_remaining = \"10m\"\n  client_id = %q\n  client_secret = %q\n  %s", localciam.DemoClientID, secret, extra)
	}
	w := newGrantWorkspace(t, srv, block(localciam.DemoClientSecret, ""))
	client := localciam.DefaultClients()[0]
	client.Secret = "N3w/s&cret+9=Qa%7"
	srv.SetClient(client)
	w.configure(block(client.Secret, ""))
	w.mustRun("apply", "-auto-approve") // the read is refused, the apply renews
	w.configure(block(client.Secret, "renew_in_plan = false"))
	before := srv.Grants(localciam.GrantRefreshToken)
	w.mustRun("apply", "-auto-approve", "-refresh=false")
	if n := srv.Grants(localciam.GrantRefreshToken) - before; n != 1 {
		t.Errorf("%d renewals with the token due and renewal at apply, want 1", n)
	}
}

// A public client authenticates nothing, and a directory may answer a spent
// refresh token with invalid_client: such a refusal is not taken to mean
// that the refresh token is still good.
func TestE2E_authorizationCodePublicClientRefusalMaySpend(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{PublicClientRefresh: true, RotateRefreshTokens: true})
	w := newPublicGrantWorkspace(t, srv)
	srv.InjectFaults(localciam.TokenPath, localciam.Fault{Swallow: true, Status: 401, Body: `{"error":"invalid_client"}`})
	out := w.mustRun("apply", "-refresh-only", "-auto-approve")
	wantIn(t, "refresh", out, "Warning: CIAM Token Not Renewed", "public client", "may already have spent it")
	wantNotIn(t, "refresh", out, "still good")
}

// With renew_in_plan = true and no auth_domain, a due token is not kept
// silently: the read says why it could not renew and leaves the renewal to
// the apply, which fails while there is still no auth_domain and renews
// once there is one (a plan saved without it, applied with it).
func TestE2E_authorizationCodeDueWithoutAuthDomain(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	cfg := strings.Replace(grantConfig(srv, w.code, `min_remaining = "10m"`), fmt.Sprintf("auth_domain = %q", srv.URL()), "", 1)
	if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := w.mustRun("plan", "-out=p.tfplan")
	wantIn(t, "plan", plan, "Warning: CIAM Token Not Renewed", "no auth_domain", "will be updated in-place")
	env := w.tf.Env
	w.tf.Env = append(slices.Clone(env), "CIAM_AUTH_DOMAIN="+srv.URL())
	before := srv.Grants(localciam.GrantRefreshToken)
	w.mustRun("apply", "p.tfplan")
	if n := srv.Grants(localciam.GrantRefreshToken) - before; n != 1 {
		t.Errorf("the saved plan applied with an auth_domain made %d renewals, want 1", n)
	}
	w.tf.Env = env // min_remaining is above the lifetime: due again at once
	out, err := w.run("apply", "-auto-approve")
	if err == nil {
		t.Errorf("an apply that has to renew without auth_domain succeeded:\n%s", out)
	}
	wantIn(t, "apply", out, "Missing CIAM Auth Domain")
}

// The grant belongs to the directory that issued it: with the provider
// pointed at another directory (a wrong CIAM_AUTH_DOMAIN in one job), the
// refresh token and client secret are never sent there. The plan fails and
// names both; destroy (with -refresh=false, as the error says) removes the
// resource with a warning and sends nothing.
func TestE2E_authorizationCodeAnotherDirectory(t *testing.T) {
	srv := startCIAM(t)
	other := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	rt := w.attr("refresh_token")
	cfg := strings.Replace(grantConfig(srv, w.code, `min_remaining = "10m"`), srv.URL(), other.URL(), 1)
	if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, err := w.run("plan")
	if err == nil {
		t.Errorf("a plan against another directory succeeded:\n%s", plan)
	}
	host := strings.TrimPrefix(srv.URL(), "http://")
	otherHost := strings.TrimPrefix(other.URL(), "http://")
	wantIn(t, "plan", plan, "Warning: CIAM Token Not Renewed", "New Authorization Code Needed", host, otherHost)
	wantIn(t, "plan", plan, "terraform destroy -refresh=false")
	destroy := w.mustRun("destroy", "-auto-approve", "-refresh=false")
	wantIn(t, "destroy", destroy, "Warning: CIAM Token Not Revoked", host, "Destroy complete!")
	if n := other.Requests(""); n != 0 {
		t.Errorf("%d requests went to the other directory", n)
	}
	if !srv.RefreshTokenWorks(rt) {
		t.Error("the grant no longer works at its directory")
	}
}

// editGrantPrivate rewrites the resource's private grant record in the
// state file (the framework stores it base64-encoded, twice).
func (w *grantWorkspace) editGrantPrivate(edit func(map[string]any)) {
	w.t.Helper()
	p := filepath.Join(w.tf.Dir, "terraform.tfstate")
	b, err := os.ReadFile(p)
	if err != nil {
		w.t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		w.t.Fatal(err)
	}
	resources, _ := st["resources"].([]any)
	res, _ := resources[0].(map[string]any)
	instances, _ := res["instances"].([]any)
	inst, _ := instances[0].(map[string]any)
	encoded, _ := inst["private"].(string)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		w.t.Fatal(err)
	}
	var priv map[string]string
	if err := json.Unmarshal(raw, &priv); err != nil {
		w.t.Fatal(err)
	}
	gb, err := base64.StdEncoding.DecodeString(priv["grant"])
	if err != nil {
		w.t.Fatal(err)
	}
	var grant map[string]any
	if err := json.Unmarshal(gb, &grant); err != nil {
		w.t.Fatal(err)
	}
	edit(grant)
	gb, _ = json.Marshal(grant)
	priv["grant"] = base64.StdEncoding.EncodeToString(gb)
	raw, _ = json.Marshal(priv)
	inst["private"] = base64.StdEncoding.EncodeToString(raw)
	serial, _ := st["serial"].(float64)
	st["serial"] = serial + 1
	out, _ := json.Marshal(st)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// State from before the directory was recorded: a run against another
// directory does not record that one (nothing proves it issued the grant);
// a renewal at the issuing directory does.
func TestE2E_authorizationCodeLegacyStateLearnsItsDirectoryByRenewing(t *testing.T) {
	srv := startCIAM(t)
	other := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "1m"`)
	w.editGrantPrivate(func(g map[string]any) { delete(g, "directory") })
	at := func(s *localciam.Server, block string) {
		cfg := strings.Replace(grantConfig(srv, w.code, block), srv.URL(), s.URL(), 1)
		if err := os.WriteFile(filepath.Join(w.tf.Dir, "main.tf"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	at(other, `min_remaining = "1m"`)
	w.mustRun("apply", "-auto-approve") // not due: sends nothing
	at(srv, `min_remaining = "10m"`)
	w.mustRun("apply", "-auto-approve") // the read renews at the issuing directory
	at(other, `min_remaining = "10m"`)
	plan, err := w.run("plan")
	if err == nil {
		t.Errorf("a plan against another directory succeeded once the grant had renewed at its own:\n%s", plan)
	}
	wantIn(t, "plan", plan, "New Authorization Code Needed", strings.TrimPrefix(srv.URL(), "http://"))
	if n := other.Requests(""); n != 0 {
		t.Errorf("%d requests went to the other directory", n)
	}
}

// A grant lost through no fault of the provider (a plan that renewed with a
// rotating directory was thrown away; the next run sent the spent refresh
// token, and the directory revoked the grant) never makes a later run send
// the spent code: across the create, the thrown-away plan and three
// applies, the code reaches the directory exactly once, and each apply says,
// naming the resource, that a new code is needed. A new code is then
// exchanged in place, and reaches the directory once too.
func TestE2E_authorizationCodeLostGrantNeverResendsItsCode(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	w.mustRun("plan") // renews (rotation), and is thrown away
	for i := 1; i <= 3; i++ {
		out, err := w.run("apply", "-auto-approve")
		if err == nil {
			t.Fatalf("apply %d succeeded with a lost grant:\n%s", i, out)
		}
		wantIn(t, fmt.Sprintf("apply %d", i), out, "New Authorization Code Needed", "ciam_authorization_code_token.login", "is lost", "never sent again")
		if n := srv.Presented(w.code); n != 1 {
			t.Fatalf("after apply %d the code reached the directory %d times, want 1", i, n)
		}
	}
	if w.attr("refresh_token") == "" {
		t.Error("the lost grant left state; the next apply would create it with the spent code")
	}
	first := w.code
	code := demoCode(t, srv)
	w.code = code
	w.configure(`min_remaining = "10m"`)
	out := w.mustRun("apply", "-auto-approve")
	if srv.Presented(first) != 1 || srv.Presented(code) != 1 || !srv.RefreshTokenWorks(w.attr("refresh_token")) {
		t.Errorf("first code sent %d times, new code %d times (want 1 and 1); new grant works: %v\n%s",
			srv.Presented(first), srv.Presented(code), srv.RefreshTokenWorks(w.attr("refresh_token")), out)
	}
}
