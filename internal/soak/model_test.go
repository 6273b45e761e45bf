package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// scriptedWorkspace stands in for terraform: each command is answered by
// script, which may act at the directory as the provider would; the state
// file is what the test wrote.
type scriptedWorkspace struct {
	dir    string
	script func(args []string) Result
}

func (w *scriptedWorkspace) Write(string) error { return nil }
func (w *scriptedWorkspace) Dir() string        { return w.dir }
func (w *scriptedWorkspace) StateFile() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
func (w *scriptedWorkspace) Run(_ context.Context, _ []string, _ time.Duration, args ...string) Result {
	return w.script(args)
}

// modelRun is a Run of a confidential client whose grant for a new code
// is in the state of a scripted workspace, as after the first apply.
func modelRun(t *testing.T, script func(r *Run, args []string) Result) (*Run, string) {
	t.Helper()
	srv := localciam.StartTest(t, localciam.Options{})
	ws := &scriptedWorkspace{dir: t.TempDir()}
	r := &Run{
		ctx: context.Background(), srv: srv, requests: &devenv.SyncBuffer{}, ws: ws, stats: NewStats(),
		env: Env{Now: time.Now}, excused: map[string]string{}, rejectionTold: map[string]bool{},
	}
	ws.script = func(args []string) Result { return script(r, args) }
	r.newCode()
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {localciam.DemoClientID}, "client_secret": {localciam.DemoClientSecret},
		"code": {r.code}, "redirect_uri": {localciam.DemoRedirectURI}}
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	post(t, srv.URL()+localciam.TokenPath, form, &tok)
	if tok.RefreshToken == "" {
		t.Fatal("the exchange issued no refresh token")
	}
	st := fmt.Sprintf(`{"resources":[{"mode":"managed","type":"ciam_authorization_code_token","instances":[{"attributes":{"code":%q,"refresh_token":%q}}]}]}`,
		r.code, tok.RefreshToken)
	if err := os.WriteFile(filepath.Join(ws.dir, "terraform.tfstate"), []byte(st), 0o600); err != nil {
		t.Fatal(err)
	}
	r.renewed = true
	return r, tok.RefreshToken
}

func post(t *testing.T, u string, form url.Values, into any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
}

// exitError is the error of a shell that ran script and failed ("exit 1",
// or "kill -INT $$": a process that SIGINT ended before it could handle it).
func exitError(t *testing.T, script string) error {
	t.Helper()
	err := exec.Command("sh", "-c", script).Run()
	if err == nil {
		t.Fatal("sh succeeded")
	}
	return err
}

// Seed 4006: Ctrl-C during a destroy, after its revocation reached the
// directory (slow, past request_timeout): the destroy fails and the
// resource stays in state, and the grant is gone, as the user asked. The
// next apply's "CIAM Refresh Token Rejected" (a new code is needed) is
// explained; the same error with no destroy before it is not.
func TestModel_unfinishedDestroyThatRevokedExplainsTheRejection(t *testing.T) {
	for _, revoked := range []bool{true, false} {
		t.Run(fmt.Sprintf("revoked=%t", revoked), func(t *testing.T) {
			r, rt := modelRun(t, func(r *Run, args []string) Result {
				switch args[0] {
				case "destroy":
					if revoked {
						post(t, r.srv.URL()+localciam.RevokePath, url.Values{"client_id": {localciam.DemoClientID},
							"client_secret": {localciam.DemoClientSecret}, "token": {GrantAttribute(r.ws, "refresh_token")}}, nil)
					}
					return Result{Err: exitError(t, "exit 1"), Interrupted: true, Out: "Interrupt received.\nError: Destroy Interrupted\n"}
				default:
					return Result{Err: exitError(t, "exit 1"), Out: "Error: CIAM Refresh Token Rejected\n\nThe grant is lost. Obtain a new authorization code from /oauth2/authorize and set code to it.\n"}
				}
			})
			r.command(time.Second, "destroy", "-auto-approve")
			if r.violation != nil {
				t.Fatalf("the interrupted destroy: %s", r.violation.What)
			}
			if r.srv.RefreshTokenWorks(rt) == revoked {
				t.Fatalf("the refresh token works: %t", !revoked)
			}
			r.command(0, "apply", "-auto-approve")
			switch {
			case revoked && r.violation != nil:
				t.Fatalf("a rejection after a destroy that revoked the grant is a violation: %s", r.violation.What)
			case !revoked && (r.violation == nil || !strings.Contains(r.violation.What, "invariant 6")):
				t.Fatalf("a rejection of a live grant is not a violation of invariant 6: %+v", r.violation)
			}
		})
	}
}

// The same, but a destroy that nobody interrupted and that failed after
// revoking (a provider that made a failed revocation an error and kept the
// resource): the next apply's rejection is a violation.
func TestModel_uninterruptedDestroyThatRevokedExplainsNothing(t *testing.T) {
	r, _ := modelRun(t, func(r *Run, args []string) Result {
		if args[0] == "destroy" {
			post(t, r.srv.URL()+localciam.RevokePath, url.Values{"client_id": {localciam.DemoClientID},
				"client_secret": {localciam.DemoClientSecret}, "token": {GrantAttribute(r.ws, "refresh_token")}}, nil)
			return Result{Err: exitError(t, "exit 1"), Out: "Error: CIAM Token Request Failed\n"}
		}
		return Result{Err: exitError(t, "exit 1"), Out: "Error: CIAM Refresh Token Rejected\n\nset code to it.\n"}
	})
	r.faulty = true
	r.command(0, "destroy", "-auto-approve")
	r.faulty = false
	r.command(0, "apply", "-auto-approve")
	if r.violation == nil || !strings.Contains(r.violation.What, "invariant 6") {
		t.Fatalf("no violation of invariant 6 (loss allowed: %q): %+v", r.lossAllowed, r.violation)
	}
}

// Seed 6005: Ctrl-C 0.2 s into a plan, before terraform handled signals:
// it died of SIGINT and printed nothing, which is no violation. A command
// that exits 1 after Ctrl-C without a word, dies of another signal, or
// dies of SIGINT after printing, is.
func TestModel_interruptedCommandMustSayWhyUnlessItDiedOfTheSignal(t *testing.T) {
	for _, c := range []struct {
		script, out string
		excused     bool
	}{
		{"kill -INT $$", "", true},
		{"exit 1", "", false},
		{"kill -KILL $$", "", false},
		{"kill -TERM $$", "", false},
		{"kill -SEGV $$", "", false},
		{"kill -INT $$", "ciam_authorization_code_token.t: Refreshing state...\n", false},
	} {
		t.Run(fmt.Sprintf("%s %q", c.script, c.out), func(t *testing.T) {
			r, _ := modelRun(t, func(*Run, []string) Result {
				return Result{Err: exitError(t, c.script), Interrupted: true, Out: c.out}
			})
			r.command(200*time.Millisecond, "plan")
			if got := r.violation == nil; got != c.excused {
				t.Fatalf("excused: %t, want %t (%+v)", got, c.excused, r.violation)
			}
		})
	}
}

// Seed 8004: a grant lost to a thrown-away plan that renewed (renew_in_plan
// on a rotating directory, documented), then the user sets the code in
// state again and applies with -refresh=false, which reads nothing and
// succeeds: the lost grant stays lost, and what comes of it is still
// allowed. The same apply with a working token in state is a new grant
// that must not be lost.
func TestModel_anApplyThatKeepsALostGrantDoesNotRevive(t *testing.T) {
	for _, lost := range []bool{true, false} {
		t.Run(fmt.Sprintf("lost=%t", lost), func(t *testing.T) {
			r, rt := modelRun(t, func(*Run, []string) Result { return Result{} })
			if lost {
				r.srv.RevokeRefreshToken(rt)
			}
			r.renewed, r.lossAllowed = false, "a run that renewed in plan saved no state"
			r.command(0, "apply", "-refresh=false", "-auto-approve")
			if got := r.lossAllowed != ""; got != lost {
				t.Fatalf("loss allowed after the apply: %t, want %t (%q)", got, lost, r.lossAllowed)
			}
		})
	}
}

// Seed 13001: Ctrl-C 0.7 s into a plan reached the provider while it was
// still starting, and Terraform said so in go-plugin's words; nothing was
// sent, and the troubleshooting guide explains it. Without a Ctrl-C the
// same error is a violation.
func TestModel_aProviderThatCtrlCStoppedWhileStarting(t *testing.T) {
	const out = "Planning failed.\nError: Unrecognized remote plugin message: Failed to read any lines from plugin's stdout\n"
	for _, interrupted := range []bool{true, false} {
		t.Run(fmt.Sprintf("interrupted=%t", interrupted), func(t *testing.T) {
			r, _ := modelRun(t, func(*Run, []string) Result {
				return Result{Err: exitError(t, "exit 1"), Interrupted: interrupted, Out: out}
			})
			r.command(0, "plan")
			if got := r.violation == nil; got != interrupted {
				t.Fatalf("excused: %t, want %t (%+v)", got, interrupted, r.violation)
			}
		})
	}
}
