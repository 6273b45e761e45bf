package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// Ctrl-C while a token request hangs ends terraform promptly, not after the
// request timeout, and prints no secret.
func TestE2E_interruptEndsAPendingRequestPromptly(t *testing.T) {
	srv, tf := hangingTokenRequest(t)

	cmd, out := startUntilRequest(t, tf, srv, localciam.TokenPath, "plan")
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("plan succeeded although interrupted:\n%s", out.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("terraform still running 15s after Ctrl-C:\n%s", out.String())
	}
	t.Logf("terraform stopped %v after Ctrl-C", time.Since(start).Round(time.Millisecond))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("terraform took %v to stop after Ctrl-C", d)
	}
	if !strings.Contains(out.String(), "Interrupt received") {
		t.Errorf("terraform did not see the interrupt:\n%s", out.String())
	}
	if strings.Contains(out.String(), localciam.DemoClientSecret) {
		t.Error("output holds the client secret")
	}
	if srv.Requests(localciam.TokenPath) != 1 {
		t.Errorf("requests = %d, want 1 (a cancelled request is not retried)", srv.Requests(localciam.TokenPath))
	}
}

// hangingTokenRequest is a local CIAM whose next token request hangs for a
// minute, and a workspace whose plan sends one (request_timeout 5m).
func hangingTokenRequest(t *testing.T) (*localciam.Server, *devenv.Terraform) {
	t.Helper()
	srv := startCIAM(t)
	srv.InjectFaults(localciam.TokenPath, localciam.Fault{Delay: time.Minute})
	tf := workspace(t, header+fmt.Sprintf(`
provider "ciam" {
  auth_domain     = %q
  request_timeout = "5m"
}

data "ciam_client_credentials_token" "t" {}
`, srv.URL()),
		"CIAM_CLIENT_ID="+localciam.DemoClientID, "CIAM_CLIENT_SECRET="+localciam.DemoClientSecret)
	return srv, tf
}

// startUntilRequest starts terraform with args (-input=false -no-color
// added) and returns once a request from it to path is pending at srv.
func startUntilRequest(t *testing.T, tf *devenv.Terraform, srv *localciam.Server, path string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	before := srv.Requests(path)
	cmd := exec.Command(tf.Bin, append(args, "-input=false", "-no-color")...)
	cmd.Dir = tf.Dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TF_CLI_CONFIG_FILE=" + tf.CLIConfig, "CHECKPOINT_DISABLE=1",
	}, tf.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for srv.Requests(path) == before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if srv.Requests(path) == before {
		_ = cmd.Process.Kill()
		t.Fatalf("the request to %s never arrived:\n%s", path, out.String())
	}
	return cmd, &out
}

// Ctrl-C while the apply's renewal is in flight, against a directory that
// rotates refresh tokens and answers slowly after it did its work: the
// provider waits for the answer instead of abandoning it, so the rotated
// refresh token reaches state and the grant survives.
func TestE2E_interruptDuringARenewalKeepsTheGrant(t *testing.T) {
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: true})
	w := newGrantWorkspace(t, srv, "min_remaining = \"10m\"\n  renew_in_plan = false")
	srv.InjectFaults(localciam.TokenPath, localciam.Fault{AnswerAfter: 3 * time.Second})
	cmd, out := startUntilRequest(t, w.tf, srv, localciam.TokenPath, "apply", "-auto-approve")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	assertNoLeak(t, "interrupted apply", out.String(), srv, w.code)
	if rt := w.attr("refresh_token"); !srv.RefreshTokenWorks(rt) {
		t.Fatalf("the refresh token in state was spent by the interrupted renewal, whose answer was thrown away:\n%s", out.String())
	}
	next, err := w.run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("the next apply: %v\n%s", err, next)
	}
	wantNotIn(t, "the next apply", next, "invalid_grant")
}

// Ctrl-C while a read's renewal waits for its answer: Terraform saves nothing
// of an interrupted refresh, so the provider does not wait for an answer it
// could not keep, and terraform stops promptly.
func TestE2E_interruptDuringAReadsRenewalStopsPromptly(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "10m"`)
	srv.InjectFaults(localciam.TokenPath, localciam.Fault{AnswerAfter: 30 * time.Second})
	cmd, out := startUntilRequest(t, w.tf, srv, localciam.TokenPath, "plan")
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("terraform took %v to stop after Ctrl-C during a read's renewal:\n%s", d.Round(time.Millisecond), out.String())
	}
	assertNoLeak(t, "interrupted plan", out.String(), srv, w.code)
}

// Ctrl-C while the destroy's revocation is pending: the destroy did not
// happen, so the resource stays in state (its refresh token still valid and
// tracked), and the next destroy revokes it.
func TestE2E_interruptDuringTheRevocationKeepsTheResource(t *testing.T) {
	srv := startCIAM(t)
	w := newGrantWorkspace(t, srv, `min_remaining = "1m"`)
	rt := w.attr("refresh_token")
	srv.InjectFaults(localciam.RevokePath, localciam.Fault{Delay: 30 * time.Second})
	cmd, out := startUntilRequest(t, w.tf, srv, localciam.RevokePath, "destroy", "-auto-approve")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	assertNoLeak(t, "interrupted destroy", out.String(), srv, w.code)
	if err == nil || w.attr("refresh_token") != rt {
		t.Fatalf("the interrupted destroy: err %v, resource still in state: %v\n%s", err, w.attr("refresh_token") == rt, out.String())
	}
	wantIn(t, "interrupted destroy", strings.Join(strings.Fields(out.String()), " "), "Destroy Interrupted", "did not finish", "stays in state")
	w.mustRun("destroy", "-auto-approve")
	if !srv.RefreshTokenRevoked(rt) {
		t.Error("the next destroy did not revoke the refresh token")
	}
}

// A terraform run whose context is cancelled (make demo's Ctrl-C) is
// interrupted as Ctrl-C would, so that terraform stops its provider: no
// provider process is left behind in the working directory.
func TestE2E_cancelledRunLeavesNoProviderBehind(t *testing.T) {
	srv, tf := hangingTokenRequest(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tf.Run(ctx, "plan", "-input=false", "-no-color")
		done <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); srv.Requests(localciam.TokenPath) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if len(providersIn(tf.Dir)) == 0 {
		t.Fatal("no provider process runs in the workspace; the test proves nothing")
	}
	// Ctrl-C in a terminal reaches terraform too, as the cancel does.
	bin, _ := filepath.EvalSymlinks(tf.Bin)
	if len(processesIn(tf.Dir, bin)) == 0 {
		t.Fatal("no terraform process runs in the workspace")
	}
	for _, pid := range processesIn(tf.Dir, bin) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Signal(os.Interrupt)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the cancelled run succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("terraform still runs 30 s after the cancel")
	}
	for deadline := time.Now().Add(5 * time.Second); len(providersIn(tf.Dir)) > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if pids := providersIn(tf.Dir); len(pids) > 0 {
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		t.Fatalf("provider processes %v were left running in the workspace", pids)
	}
}

// providersIn returns the processes of the built provider whose working
// directory is dir (Linux only: none elsewhere).
func providersIn(dir string) []int { return processesIn(dir, providerDir) }

// processesIn returns the processes whose executable's path starts with
// exe and whose working directory is dir (Linux only: none elsewhere).
func processesIn(dir, exe string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		path, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if cwd == dir && strings.HasPrefix(path, exe) {
			pids = append(pids, pid)
		}
	}
	return pids
}
