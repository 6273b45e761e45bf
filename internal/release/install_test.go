// Package release holds the test that a release of this checkout installs
// through Terraform's (and OpenTofu's) own provider installer: a signed
// goreleaser snapshot, served by a provider-registry-protocol server on a
// loopback port, with the signature and checksums verified by the installer.
// It runs offline; only tests build this package.
package release

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// release is a signed snapshot build of the checkout.
type release struct {
	// version is the checkout's one version (make version), which the
	// snapshot stamps: what the registry offers, the zips' names say, and
	// the installed binary reports in its User-Agent.
	version string
	dist    string // goreleaser's output directory
	keyID   string // the signing key's long ID (16 hex digits)
	armor   string // the public key, ASCII-armoured
	sums    []byte // the SHA256SUMS file
	zip     string // the platform zip's file name
	gnupg   string // GNUPGHOME
	signer  string // the key's fingerprint
	// protocols are the plugin protocol versions the registry manifest
	// declares, which the registry serves.
	protocols []string
	manifest  []byte // terraform-registry-manifest.json
}

func TestReleaseInstallsThroughTheRegistryProtocol(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	rel := buildRelease(t, root)

	// The signature verifies, and the signed file lists the zips and the
	// manifest, and nothing made after signing.
	runIn(t, "", []string{"GNUPGHOME=" + rel.gnupg}, "gpg", "--batch", "--verify", sumsPath(rel)+".sig", sumsPath(rel))
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(rel.sums)), "\n") {
		fields := strings.Fields(line)
		listed = append(listed, fields[len(fields)-1])
	}
	want := []string{rel.zip, "terraform-provider-ciam_" + rel.version + "_manifest.json"}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("SHA256SUMS lists %v, want %v", listed, want)
	}

	// The manifest the SHA256SUMS lists is the repository's (goreleaser
	// uploads it beside the zips); its protocols are what the registry serves.
	manifest, err := os.ReadFile(filepath.Join(root, "terraform-registry-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	manifestSum := sha256.Sum256(manifest)
	if !bytes.Contains(rel.sums, []byte(hex.EncodeToString(manifestSum[:])+"  terraform-provider-ciam_"+rel.version+"_manifest.json")) {
		t.Errorf("SHA256SUMS does not hold the manifest's hash:\n%s", rel.sums)
	}
	var m struct {
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || len(m.Metadata.ProtocolVersions) == 0 {
		t.Fatalf("terraform-registry-manifest.json: %v %+v", err, m)
	}
	rel.protocols, rel.manifest = m.Metadata.ProtocolVersions, manifest

	tools := []struct{ name, bin, host string }{{"terraform", terraformBin(t), "registry.terraform.io"}}
	if tofu := tofuBin(root); tofu != "" {
		tools = append(tools, struct{ name, bin, host string }{"tofu", tofu, "registry.opentofu.org"})
	} else {
		t.Log("OpenTofu is not installed (make tofu builds it): the install is tested with Terraform only")
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) { testInstall(t, rel, tool.bin, tool.host) })
	}
}

func testInstall(t *testing.T, rel *release, bin, host string) {
	srv := localciam.StartTest(t, localciam.Options{})
	files := map[string][]byte{}
	for _, name := range []string{rel.zip, rel.sumsName(), rel.sumsName() + ".sig"} {
		b, err := os.ReadFile(filepath.Join(rel.dist, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}

	// A clean install: verified, self-signed, locked by hash.
	zipSum := sha256.Sum256(files[rel.zip])
	w := newWorkspace(t, bin, host, serveRegistry(t, rel, files, hex.EncodeToString(zipSum[:])), rel.version, srv)
	out := w.run(t, true, "init", "-input=false", "-no-color")
	signed := "self-signed" // Terraform's word for a key that is not a partner's
	if host == "registry.opentofu.org" {
		signed = "signed" // OpenTofu's
	}
	if !strings.Contains(out, fmt.Sprintf("Installed ciam-oss/ciam v%s (%s, key ID %s)", rel.version, signed, rel.keyID)) {
		t.Errorf("init did not report an install %s with key ID %s:\n%s", signed, rel.keyID, out)
	}
	lock, err := os.ReadFile(filepath.Join(w.dir, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var h1, zh []string
	for _, m := range regexp.MustCompile(`"(h1|zh):([^"]+)"`).FindAllStringSubmatch(string(lock), -1) {
		if m[1] == "h1" {
			h1 = append(h1, m[2])
		} else {
			zh = append(zh, m[2])
		}
	}
	var sums []string
	for _, line := range strings.Split(strings.TrimSpace(string(rel.sums)), "\n") {
		sums = append(sums, strings.Fields(line)[0])
	}
	slices.Sort(sums)
	slices.Sort(zh)
	if len(h1) == 0 || !slices.Equal(zh, sums) || !slices.Contains(zh, hex.EncodeToString(zipSum[:])) {
		t.Errorf("lock file hashes h1 %v, zh %v; want h1 hashes, and zh hashes equal to the SHA256SUMS lines %v:\n%s", h1, zh, sums, lock)
	}
	installed := filepath.Join(w.dir, ".terraform", "providers", host, "ciam-oss", "ciam", rel.version, runtime.GOOS+"_"+runtime.GOARCH)
	if _, err := os.Stat(installed); err != nil {
		t.Errorf("the provider is not installed from the registry: %v", err)
	}

	// The installed binary, not a development override, fetches a token and
	// reports the release's version.
	out = w.run(t, true, "apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(out, `token_type = "Bearer"`) || strings.Contains(out, "overrides") {
		t.Errorf("apply with the installed provider:\n%s", out)
	}
	if uas := srv.UserAgents(); !slices.Contains(uas, "terraform-provider-ciam/"+rel.version) {
		t.Errorf("the CIAM saw User-Agents %v, want terraform-provider-ciam/%s", uas, rel.version)
	}

	manifestSum := sha256.Sum256(rel.manifest)
	// Tampering is caught: a changed zip (behind honest download metadata),
	// a changed signature, a changed checksum list, a signature by another
	// key. Each fails init, for its own reason.
	otherSig := signWithOtherKey(t, files[rel.sumsName()])
	for name, c := range map[string]struct {
		file string
		bad  func([]byte) []byte
		want string
	}{
		"a tampered zip":       {rel.zip, flipByte, `(?i)checksum|doesn't match|does not match`},
		"a tampered signature": {rel.sumsName() + ".sig", flipByte, `(?i)signature`},
		// The manifest's line: the zip's line still matches, so only the
		// signature can tell.
		"a tampered SHA256SUMS": {rel.sumsName(), func(b []byte) []byte {
			return bytes.Replace(b, []byte(hex.EncodeToString(manifestSum[:])), []byte(strings.Repeat("0", 64)), 1)
		}, `(?i)signature`},
		"a signature by another key": {rel.sumsName() + ".sig", func([]byte) []byte { return otherSig }, `(?i)signature|key`},
	} {
		t.Run(name, func(t *testing.T) {
			bad := map[string][]byte{}
			for k, v := range files {
				bad[k] = slices.Clone(v)
			}
			bad[c.file] = c.bad(bad[c.file])
			// The download document keeps the honest zip's hash: only the
			// downloaded file, or the signed list, lies.
			w := newWorkspace(t, bin, host, serveRegistry(t, rel, bad, hex.EncodeToString(zipSum[:])), rel.version, srv)
			out := w.run(t, false, "init", "-input=false", "-no-color")
			if !regexp.MustCompile(c.want).MatchString(out) || strings.Contains(out, "Installed ciam-oss/ciam") {
				t.Errorf("init with %s:\n%s", name, out)
			}
		})
	}
}

func flipByte(b []byte) []byte {
	b[len(b)/2] ^= 0x5a
	return b
}

// signWithOtherKey signs data with a second throwaway key, one the registry
// does not announce.
func signWithOtherKey(t *testing.T, data []byte) []byte {
	t.Helper()
	home := shortTempDir(t)
	env := []string{"GNUPGHOME=" + home}
	runIn(t, "", env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "other key <other@ciam.invalid>", "rsa3072", "sign", "never")
	in := filepath.Join(t.TempDir(), "sums")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	runIn(t, "", env, "gpg", "--batch", "--detach-sign", "--output", in+".sig", in)
	sig, err := os.ReadFile(in + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// buildRelease makes a signed single-target snapshot of the checkout with the
// pinned goreleaser and .goreleaser.yml (only the target list and the output
// directory differ), signed with a throwaway RSA key, at the version `make`
// stamps, as make release-snapshot does.
func buildRelease(t *testing.T, root string) *release {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatal("gpg is not installed: install the Debian package gnupg (.ci/run does)")
	}
	rel := &release{gnupg: shortTempDir(t), dist: filepath.Join(t.TempDir(), "dist")}
	out, err := makeIn(t, root, "-s", "version")
	if err != nil {
		t.Fatalf("make version: %v\n%s", err, out)
	}
	rel.version = strings.TrimSpace(out)
	params := "%no-protection\nKey-Type: RSA\nKey-Length: 3072\nKey-Usage: sign\nName-Real: ciam release test\nName-Email: release-test@ciam.invalid\nExpire-Date: 0\n%commit\n"
	paramsFile := filepath.Join(t.TempDir(), "key-params")
	if err := os.WriteFile(paramsFile, []byte(params), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + rel.gnupg}
	runIn(t, "", env, "gpg", "--batch", "--gen-key", paramsFile)
	colons := runIn(t, "", env, "gpg", "--batch", "--with-colons", "--list-secret-keys")
	for _, line := range strings.Split(colons, "\n") {
		f := strings.Split(line, ":")
		switch {
		case f[0] == "sec" && len(f) > 4:
			rel.keyID = strings.ToUpper(f[4])
			if f[3] != "1" {
				t.Fatalf("the key is not RSA (algorithm %s): the Terraform registry refuses other keys", f[3])
			}
		case f[0] == "fpr" && rel.signer == "" && len(f) > 9:
			rel.signer = f[9]
		}
	}
	rel.armor = runIn(t, "", env, "gpg", "--batch", "--armor", "--export", rel.signer)

	cfgFile := singleTargetConfig(t, root, rel.dist)
	start := time.Now()
	runIn(t, root, append(env, "GPG_FINGERPRINT="+rel.signer, "CIAM_VERSION="+rel.version), goreleaserBin(t, root), "release", "--snapshot", "--clean", "--skip=publish", "--config", cfgFile)
	t.Logf("signed single-target snapshot built in %s", time.Since(start).Round(time.Second))
	rel.zip = fmt.Sprintf("terraform-provider-ciam_%s_%s_%s.zip", rel.version, runtime.GOOS, runtime.GOARCH)
	if rel.sums, err = os.ReadFile(sumsPath(rel)); err != nil {
		t.Fatal(err)
	}
	return rel
}

// singleTargetConfig writes .goreleaser.yml with only this machine's target
// and dist as its output directory, and returns the file's path.
func singleTargetConfig(t *testing.T, root, dist string) string {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	single := string(cfg)
	for old, repl := range map[string]string{
		"    goos: [freebsd, windows, linux, darwin]": "    goos: [" + runtime.GOOS + "]",
		`    goarch: [amd64, "386", arm, arm64]`:      "    goarch: [" + runtime.GOARCH + "]",
	} {
		if !strings.Contains(single, old) {
			t.Fatalf(".goreleaser.yml no longer has %q; update this test's single-target derivation", old)
		}
		single = strings.Replace(single, old, repl, 1)
	}
	single += fmt.Sprintf("\ndist: %s\n", dist)
	cfgFile := filepath.Join(t.TempDir(), "goreleaser.yml")
	if err := os.WriteFile(cfgFile, []byte(single), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

func (rel *release) sumsName() string {
	return "terraform-provider-ciam_" + rel.version + "_SHA256SUMS"
}
func sumsPath(rel *release) string { return filepath.Join(rel.dist, rel.sumsName()) }

// serveRegistry serves the release through the provider registry protocol:
// the versions list, the download document (with the zip's shasum as the
// release's metadata states it, and the signing key), and the files.
func serveRegistry(t *testing.T, rel *release, files map[string][]byte, shasum string) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "/v1/providers/ciam-oss/ciam/"
		switch {
		case r.URL.Path == base+"versions":
			writeJSON(w, map[string]any{"versions": []any{map[string]any{
				"version": rel.version, "protocols": rel.protocols,
				"platforms": []any{map[string]string{"os": runtime.GOOS, "arch": runtime.GOARCH}},
			}}})
		case r.URL.Path == base+rel.version+"/download/"+runtime.GOOS+"/"+runtime.GOARCH:
			writeJSON(w, map[string]any{
				"protocols": rel.protocols, "os": runtime.GOOS, "arch": runtime.GOARCH,
				"filename": rel.zip, "download_url": srv.URL + "/files/" + rel.zip, "shasum": shasum,
				"shasums_url": srv.URL + "/files/" + rel.sumsName(), "shasums_signature_url": srv.URL + "/files/" + rel.sumsName() + ".sig",
				"signing_keys": map[string]any{"gpg_public_keys": []any{map[string]string{"key_id": rel.keyID, "ascii_armor": rel.armor}}},
			})
		case strings.HasPrefix(r.URL.Path, "/files/"):
			b, ok := files[strings.TrimPrefix(r.URL.Path, "/files/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// workspace is a working directory whose CLI configuration sends the
// registry host's provider requests to the local registry server.
type workspace struct {
	bin, dir string
	env      []string
}

func newWorkspace(t *testing.T, bin, host, registry, version string, srv *localciam.Server) *workspace {
	t.Helper()
	dir := t.TempDir()
	cli := fmt.Sprintf("disable_checkpoint = true\nhost %q {\n  services = {\n    \"providers.v1\" = %q\n  }\n}\n", host, registry+"/v1/providers/")
	cfg := fmt.Sprintf(`terraform {
  required_providers {
    ciam = {
      source  = "ciam-oss/ciam"
      version = %q
    }
  }
}

provider "ciam" {
  auth_domain = %q
}

data "ciam_client_credentials_token" "t" {}

output "token_type" {
  value = data.ciam_client_credentials_token.t.token_type
}
`, version, srv.URL())
	for name, content := range map[string]string{"cli.tfrc": cli, "main.tf": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &workspace{bin: bin, dir: dir, env: []string{
		"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc"), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TF_PLUGIN_CACHE_DIR=", "CIAM_CLIENT_ID=" + localciam.DemoClientID, "CIAM_CLIENT_SECRET=" + localciam.DemoClientSecret,
	}}
}

// run runs the tool in the workspace; ok says whether it must succeed.
func (w *workspace) run(t *testing.T, ok bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = append(minimalEnv(), w.env...)
	out, err := cmd.CombinedOutput()
	if ok && err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(w.bin), args[0], err, out)
	}
	if !ok && err == nil {
		t.Fatalf("%s %s succeeded, want a failure:\n%s", filepath.Base(w.bin), args[0], out)
	}
	return string(out)
}

func minimalEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
}

// runIn runs a command and returns its standard output; a failure ends the
// test with everything it printed.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), lastLines(stderr.String(), 40))
	}
	return stdout.String()
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shortTempDir is a temporary directory with a short path: gpg-agent's
// socket path must fit in a Unix socket address.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "gpg") //nolint:usetesting // t.TempDir's path is too long for gpg-agent's socket

	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = append(os.Environ(), "GNUPGHOME="+dir)
		_ = kill.Run()
		_ = os.RemoveAll(dir)
	})
	return dir
}

// terraformBin is Terraform: the terraform under test, or, when the suite
// drives OpenTofu (TF_ACC_TERRAFORM_PATH is tofu), terraform on PATH.
func terraformBin(t *testing.T) string {
	t.Helper()
	if devenv.OpenTofu() {
		bin, err := exec.LookPath("terraform")
		if err != nil {
			t.Fatal("terraform is not on PATH")
		}
		return bin
	}
	bin, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// goreleaserBin is the pinned goreleaser: CIAM_GORELEASER, the one make tools
// built, or one built now from tools/go.mod.
func goreleaserBin(t *testing.T, root string) string {
	t.Helper()
	if p := os.Getenv("CIAM_GORELEASER"); p != "" {
		return p
	}
	if p := filepath.Join(root, "bin", "tools", "goreleaser"); fileExists(p) {
		return p
	}
	p := filepath.Join(t.TempDir(), "goreleaser")
	runIn(t, filepath.Join(root, "tools"), nil, "go", "build", "-o", p, "github.com/goreleaser/goreleaser/v2")
	return p
}

// tofuBin is OpenTofu when available: CIAM_TOFU, the one make tofu built
// (bin/tools/tofu-VERSION/tofu), or tofu on PATH.
func tofuBin(root string) string {
	if p := os.Getenv("CIAM_TOFU"); p != "" {
		return p
	}
	if built, _ := filepath.Glob(filepath.Join(root, "bin", "tools", "tofu-*", "tofu")); len(built) > 0 {
		slices.Sort(built)
		return built[len(built)-1]
	}
	p, _ := exec.LookPath("tofu")
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
