package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func TestE2E_authorizationCodeLifecycle(t *testing.T) {
	srv := startCIAM(t)
	issue := func() string {
		code, err := srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid"})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	config := func(code string) string { return grantConfig(srv, code, `min_remaining = "10m"`) }
	code1 := issue()
	tf := workspace(t, config(code1),
		"CIAM_CLIENT_ID="+localciam.DemoClientID,
		"CIAM_CLIENT_SECRET="+localciam.DemoClientSecret,
		"TF_LOG=trace",
	)
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		res, err := tf.Run(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		if args[0] != "show" { // show -json prints the state, sensitive values included
			assertNoLeak(t, "terraform "+args[0], res.Combined(), srv, code1)
		}
		return res.Stdout
	}

	run("apply", "-auto-approve", "-input=false", "-no-color")
	// Plans and refreshes renew through the refresh token (10m wanted, 299s
	// held) and never resend the code.
	run("plan", "-input=false", "-no-color")
	run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	if c, r := srv.Grants(localciam.GrantAuthorizationCode), srv.Grants(localciam.GrantRefreshToken); c != 1 || r < 2 {
		t.Fatalf("codes exchanged = %d (want 1), refreshes = %d (want >= 2)", c, r)
	}

	// An administrator revokes the refresh token: the next refresh keeps the
	// resource, marked lost, with a warning that says why and what to do.
	refresh := stateAttr(t, tf, "refresh_token")
	if refresh == "" {
		t.Fatal("no refresh token in state")
	}
	srv.RevokeRefreshToken(refresh)
	res, err := tf.Run(ctx, "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join(strings.Fields(res.Combined()), " ")
	wantIn(t, "refresh after revocation", out, "Warning: CIAM Refresh Token Rejected", "invalid_grant", "The grant is lost", "stays in state", "never sent again", "Set code to a new authorization code")
	assertNoLeak(t, "refresh after revocation", res.Combined(), srv, code1)
	if list := run("state", "list"); strings.TrimSpace(list) != "ciam_authorization_code_token.login" {
		t.Errorf("state lists %q, want the lost grant", list)
	}

	// The loss is recorded: a plan that keeps the code fails, sending
	// nothing at all (neither the code nor the rejected refresh token).
	before := srv.Requests("")
	res, err = tf.Run(ctx, "plan", "-input=false", "-no-color")
	if err == nil {
		t.Fatal("a plan with a lost grant succeeded")
	}
	wantIn(t, "plan with a lost grant", strings.Join(strings.Fields(res.Combined()), " "), "Error: New Authorization Code Needed", "ciam_authorization_code_token.login", "is lost")
	if n := srv.Requests("") - before; n != 0 {
		t.Errorf("the plan sent %d requests", n)
	}

	// A new code replaces it; destroy revokes the new refresh token.
	code2 := issue()
	if err := os.WriteFile(filepath.Join(tf.Dir, "main.tf"), []byte(config(code2)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"apply", "-auto-approve", "-input=false", "-no-color"}, {"destroy", "-auto-approve", "-input=false", "-no-color"}} {
		res, err := tf.Run(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		assertNoLeak(t, "terraform "+args[0], res.Combined(), srv, code1, code2)
	}
	if srv.Revocations() != 1 {
		t.Errorf("revocations after destroy = %d, want 1", srv.Revocations())
	}
	if srv.Presented(code1) != 1 || srv.Presented(code2) != 1 {
		t.Errorf("codes sent %d and %d times, want once each", srv.Presented(code1), srv.Presented(code2))
	}
}
