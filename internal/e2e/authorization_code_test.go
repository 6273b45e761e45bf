package e2e

import (
	"context"
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

	// An administrator revokes the refresh token: the next refresh removes
	// the resource with a warning that says why and what to do.
	refresh := stateAttr(t, tf, "refresh_token")
	if refresh == "" {
		t.Fatal("no refresh token in state")
	}
	srv.RevokeRefreshToken(refresh)
	res, err := tf.Run(ctx, "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	out := res.Combined()
	for _, want := range []string{"Warning: CIAM Refresh Token Rejected", "invalid_grant", "removed from state", "needs a new authorization code"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("refresh output lacks %q", want)
		}
	}
	assertNoLeak(t, "refresh after revocation", out, srv, code1)
	if list := run("state", "list"); strings.TrimSpace(list) != "" {
		t.Errorf("state still lists %q", list)
	}

	// A new code creates it again; destroy revokes the refresh token.
	code2 := issue()
	tf2 := workspace(t, config(code2), "CIAM_CLIENT_ID="+localciam.DemoClientID, "CIAM_CLIENT_SECRET="+localciam.DemoClientSecret)
	for _, args := range [][]string{{"apply", "-auto-approve", "-input=false", "-no-color"}, {"destroy", "-auto-approve", "-input=false", "-no-color"}} {
		res, err := tf2.Run(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		assertNoLeak(t, "terraform "+args[0], res.Combined(), srv, code1, code2)
	}
	if srv.Revocations() != 1 {
		t.Errorf("revocations after destroy = %d, want 1", srv.Revocations())
	}
	if srv.Grants(localciam.GrantAuthorizationCode) != 2 {
		t.Errorf("codes exchanged = %d, want 2", srv.Grants(localciam.GrantAuthorizationCode))
	}
}
