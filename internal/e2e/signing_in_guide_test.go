package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// The guide "Signing in once" (templates/guides/signing-in-once.md.tmpl),
// step by step against the local CIAM, for a confidential and a public
// client: the first apply prints the sign-in URL; signing in redirects with
// a code and the expected state; a code that expired before the apply
// fails with the guide's message; signing in again and setting the new
// code in signin.auto.tfvars creates the resource; the next apply sends
// nothing; destroy revokes the grant.
func TestGuideSigningInOnce(t *testing.T) {
	for _, public := range []bool{false, true} {
		t.Run(fmt.Sprintf("public %t", public), func(t *testing.T) {
			var skew atomic.Int64 // how far the directory's clock is ahead
			srv := localciam.StartTest(t, localciam.Options{PublicClientRefresh: public,
				Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
			ex := guideWorkspace(t, "examples/guides/signing-in-once")
			ex.tf.Env = append(ex.tf.Env, "CIAM_CODE_LEDGER="+filepath.Join(t.TempDir(), "sent-codes"),
				"CIAM_AUTH_DOMAIN="+srv.URL(), "CIAM_CLIENT_ID="+localciam.DemoClientID)
			if !public {
				ex.tf.Env = append(ex.tf.Env, "CIAM_CLIENT_SECRET="+localciam.DemoClientSecret)
			}
			ctx := context.Background()
			run := func(args ...string) (string, error) {
				res, err := ex.tf.Run(ctx, append(args, "-no-color")...)
				out := res.Combined()
				assertNoLeak(t, strings.Join(args, " "), out, srv)
				return scrubbed(strings.Join(strings.Fields(out), " "), srv), err
			}
			output := func(name string) string {
				res, err := ex.tf.Run(ctx, "output", "-raw", name)
				if err != nil {
					t.Fatalf("terraform output %s: %v", name, err)
				}
				return res.Stdout
			}
			signIn := func() string {
				code, state := browse(t, output("sign_in_url"))
				if state != output("expected_state") {
					t.Fatalf("the redirect's state %q is not the expected one", state)
				}
				return code
			}
			setCode := func(code string) {
				// The guide's line, run as written.
				sh := exec.Command("sh", "-c", `printf 'authorization_code = "%s"\n' "$CODE" > signin.auto.tfvars`)
				sh.Dir, sh.Env = ex.tf.Dir, []string{"CODE=" + code, "PATH=" + os.Getenv("PATH")}
				if out, err := sh.CombinedOutput(); err != nil {
					t.Fatalf("the guide's printf: %v\n%s", err, out)
				}
			}

			// Step 1: the first apply draws the verifier and the state and
			// prints the URL; nothing is sent.
			if out, err := run("apply", "-auto-approve", "-input=false"); err != nil {
				t.Fatalf("first apply: %v\n%s", err, out)
			}
			if n := srv.Requests(""); n != 0 {
				t.Errorf("the first apply sent %d requests", n)
			}
			if u := output("sign_in_url"); !strings.HasPrefix(u, srv.URL()+"/oauth2/authorize?") || !strings.Contains(u, "code_challenge_method=S256") {
				t.Errorf("sign_in_url %q is not the directory's sign-in with a PKCE challenge", u)
			}

			// A code that expires before the apply.
			setCode(signIn())
			skew.Store(int64(6 * time.Minute))
			out, err := run("apply", "-auto-approve", "-input=false")
			if err == nil {
				t.Fatalf("an apply with an expired code succeeded:\n%s", out)
			}
			// Confidential with PKCE and public alike: the exchange sends the
			// verifier, and the CIAM answers a bad code in PKCE mode with
			// invalid_client.
			wantIn(t, "the apply with an expired code", out, "Error: CIAM Rejected The PKCE Exchange (invalid_client)", "expired (codes live minutes)",
				"obtain a new authorization code from /oauth2/authorize and set code to it")

			// The spent code is refused at plan time, and not sent again.
			before := srv.Requests(localciam.TokenPath)
			if out, err := run("plan", "-input=false"); err == nil || !strings.Contains(out, "New Authorization Code Needed") || srv.Requests(localciam.TokenPath) != before {
				t.Fatalf("a plan that keeps the expired code: %v, %d token requests\n%s", err, srv.Requests(localciam.TokenPath)-before, out)
			}

			// Start again: sign in again, set the new code, apply.
			setCode(signIn())
			if out, err := run("apply", "-auto-approve", "-input=false"); err != nil {
				t.Fatalf("apply with a fresh code: %v\n%s", err, out)
			}
			if got := output("signed_in_user"); got != localciam.DefaultUser {
				t.Errorf("signed_in_user = %q, want %q", got, localciam.DefaultUser)
			}
			exchanges := srv.Attempts(localciam.GrantAuthorizationCode)
			if out, err := run("apply", "-auto-approve", "-input=false"); err != nil || srv.Attempts(localciam.GrantAuthorizationCode) != exchanges {
				t.Errorf("the next apply: %v, %d code exchanges more\n%s", err, srv.Attempts(localciam.GrantAuthorizationCode)-exchanges, out)
			}
			if out, err := run("destroy", "-auto-approve", "-input=false"); err != nil {
				t.Fatalf("destroy: %v\n%s", err, out)
			}
			if srv.Revocations() != 1 {
				t.Errorf("revocations = %d, want 1", srv.Revocations())
			}
		})
	}
}

// The guide's shell one-liner prints a verifier RFC 7636 accepts.
func TestGuideNewVerifierScript(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 3 {
		out, err := exec.Command("sh", filepath.Join(root, "examples/guides/signing-in-once/new-verifier.sh")).Output()
		if err != nil {
			t.Fatal(err)
		}
		v := string(out)
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{64}$`).MatchString(v) || seen[v] {
			t.Fatalf("new-verifier.sh printed %d characters, not a fresh 64-character verifier", len(v))
		}
		seen[v] = true
	}
}

// guideWorkspace is the example directory rel, prepared as the examples
// check prepares it.
func guideWorkspace(t *testing.T, rel string) exampleWorkspace {
	t.Helper()
	for _, ex := range exampleWorkspaces(t) {
		if ex.rel == rel {
			ex.prepare(t)
			return ex
		}
	}
	t.Fatalf("no example %s", rel)
	return exampleWorkspace{}
}

// browse opens a sign-in URL as a browser would (the local CIAM signs
// demo-user in at once) and returns the code and state of the redirect.
func browse(t *testing.T, signInURL string) (code, state string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(signInURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("the sign-in answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}
