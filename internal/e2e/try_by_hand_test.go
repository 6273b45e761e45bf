package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// readmeBlocks returns the sh blocks of README.md's "Try it by hand"
// section, in order.
func readmeBlocks(t *testing.T, root string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Try it by hand\n")
	if !ok {
		t.Fatal(`README.md has no "## Try it by hand" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) < 5 || !strings.HasPrefix(blocks[0], "go run ./internal/cmd/local-ciam ") {
		t.Fatalf("the section has %d sh blocks, the first not starting the local CIAM:\n%s", len(blocks), section)
	}
	return blocks
}

// freshClone copies what a clone of the checkout holds (tracked files and
// new ones not ignored, as they are in the working tree) into a new
// directory.
func freshClone(t *testing.T, root string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "clone")
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// handEnv is the environment of a person at a shell: none of the test
// harness's Terraform, CIAM or make settings, and `terraform` on PATH is the
// tool under test.
func handEnv(t *testing.T) []string {
	t.Helper()
	tool, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	shim := t.TempDir()
	script := "#!/bin/sh\nexec " + shellQuote(tool) + ` "$@"` + "\n"
	if err := os.WriteFile(filepath.Join(shim, "terraform"), []byte(script), 0o755); err != nil { //nolint:gosec // a script
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH":
			env = append(env, "PATH="+shim+string(os.PathListSeparator)+strings.TrimPrefix(kv, "PATH="))
		case strings.HasPrefix(name, "TF_") && name != "TF_IN_AUTOMATION", strings.HasPrefix(name, "CIAM_"),
			strings.HasPrefix(name, "MAKE"), name == "MFLAGS", name == "VERSION":
		default:
			env = append(env, kv)
		}
	}
	// The session's own record of sent codes, not the user's.
	return append(env, "CIAM_CODE_LEDGER="+filepath.Join(t.TempDir(), "sent-codes"))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// README.md's "Try it by hand" works as written, on a fresh clone: its
// first block (the local CIAM) runs in one shell, the others in a second
// one, in order. Only the port differs (a free one instead of 8943), and
// `terraform` is the tool under test (OpenTofu under make test-tofu). The
// getting-started guide's dev_overrides block is the README's, so it is
// tested here too.
func TestTryItByHand(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, root)
	guide, err := os.ReadFile(filepath.Join(root, "docs", "guides", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	devOverrides := regexp.MustCompile(`(?s)cat > bin/dev\.tfrc <<EOF\n.*?\nEOF\nexport TF_CLI_CONFIG_FILE=\S+\n`).FindString(blocks[1])
	if devOverrides == "" || !strings.Contains(string(guide), devOverrides) {
		t.Errorf("the getting-started guide does not give the README's dev_overrides block:\n%s", devOverrides)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port //nolint:forcetypeassert // a TCP listener
	_ = ln.Close()
	local := func(block string) string {
		return strings.ReplaceAll(block, "127.0.0.1:8943", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	clone, env := freshClone(t, root), handEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// The first terminal.
	server := exec.CommandContext(ctx, "bash", "-c", local(blocks[0]))
	server.Dir, server.Env = clone, env
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run's child too
	var serverOut devenv.SyncBuffer
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			_ = server.Wait()
		}
	}()
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(serverOut.String(), "Ctrl-C stops it"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the local CIAM did not start:\n%s", scrub(serverOut.String()))
		}
	}

	// The second terminal.
	session := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+local(strings.Join(blocks[1:], "\n")))
	session.Dir, session.Env = clone, env
	out, err := session.CombinedOutput()
	text := ansi.ReplaceAllString(string(out), "")
	if err != nil {
		t.Fatalf("the second terminal's commands failed: %v\n%s\n--- the local CIAM:\n%s", err, scrub(text), scrub(serverOut.String()))
	}

	// Ctrl-C in the first terminal.
	_ = syscall.Kill(-server.Process.Pid, syscall.SIGINT)
	_ = server.Wait()
	stopped = true
	log := serverOut.String()

	for _, want := range []string{
		"Warning: Provider development overrides are in effect",
		"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
		`user = "demo-user"`,
		"Warning: CIAM Token Not Renewed",
		"Destroy complete! Resources: 1 destroyed.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the session's output has no %q:\n%s", want, scrub(text))
		}
	}
	if n := strings.Count(log, "grant_type=authorization_code"); n != 1 {
		t.Errorf("the local CIAM logged %d code exchanges, want 1:\n%s", n, scrub(log))
	}
	if n := strings.Count(log, `grant_type=refresh_token client_id="demo-app" -> 200`); n != 2 {
		t.Errorf("the local CIAM logged %d renewals, want 2 (the second apply's, the destroy's):\n%s", n, scrub(log))
	}
	if n := strings.Count(log, `grant_type=refresh_token client_id="demo-app" -> 503`); n != 1 {
		t.Errorf("the local CIAM logged %d renewals answered by the queued 503, want 1:\n%s", n, scrub(log))
	}
	if !strings.Contains(log, "POST /oauth2/revoke") || !strings.Contains(log, "served ") {
		t.Errorf("the local CIAM logged no revocation, or did not stop on Ctrl-C:\n%s", scrub(log))
	}

	// The records the last block printed.
	i := strings.LastIndex(text, "{\n  \"issued\"")
	var rec struct {
		Issued        map[string]int `json:"issued"`
		Revocations   int            `json:"revocations"`
		RefreshTokens map[string]int `json:"refresh_tokens"`
	}
	if i < 0 || json.NewDecoder(strings.NewReader(text[i:])).Decode(&rec) != nil {
		t.Fatalf("the session did not print the records:\n%s", scrub(text))
	}
	if rec.Issued["authorization_code"] != 1 || rec.Issued["refresh_token"] != 2 || rec.Revocations != 1 ||
		rec.RefreshTokens["live"] != 0 || rec.RefreshTokens["reuse_detected"] != 0 {
		t.Errorf("records %+v, want what the README says: one code exchange, two renewals, one revocation, nothing live, no reuse", rec)
	}
}

// scrub makes the session's output, or the local CIAM's (whose banner shows
// the demo secret), fit for a failure message.
func scrub(text string) string {
	return leaktest.Scrub(text, localciam.DemoClientSecret, localciam.DemoSCIMClientSecret)
}
