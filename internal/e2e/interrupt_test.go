package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// Ctrl-C while a token request hangs ends terraform promptly, not after the
// request timeout, and prints no secret.
func TestE2E_interruptEndsAPendingRequestPromptly(t *testing.T) {
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

	cmd := exec.Command(tf.Bin, "plan", "-input=false", "-no-color")
	cmd.Dir = tf.Dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TF_CLI_CONFIG_FILE=" + tf.CLIConfig, "CHECKPOINT_DISABLE=1",
	}, tf.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the request is pending at the server.
	deadline := time.Now().Add(30 * time.Second)
	for srv.Requests(localciam.TokenPath) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if srv.Requests(localciam.TokenPath) == 0 {
		_ = cmd.Process.Kill()
		t.Fatalf("the token request never arrived:\n%s", out.String())
	}
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
