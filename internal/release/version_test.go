package release

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// changelogTop is CHANGELOG.md's first heading: its version and whether it
// is unreleased.
var changelogTop = regexp.MustCompile(`(?m)^## (\d+\.\d+\.\d+) \(([^)]*)\)$`)

// wantVersion is the version this checkout must carry, worked out here
// independently of .ci/version: the tag's on a tagged commit, else the
// CHANGELOG's top entry with -dev, or the next patch version with -dev
// after a dated (released) top entry.
func wantVersion(t *testing.T, root string) string {
	t.Helper()
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := changelogTop.FindSubmatch(changelog)
	if m == nil {
		t.Fatal("CHANGELOG.md has no \"## X.Y.Z (...)\" heading")
	}
	if tag, err := exec.Command("git", "-C", root, "describe", "--exact-match", "--tags", "--match", "v[0-9]*", "HEAD").Output(); err == nil {
		return strings.TrimPrefix(strings.TrimSpace(string(tag)), "v")
	}
	if string(m[2]) == "Unreleased" {
		return string(m[1]) + "-dev"
	}
	v := strings.Split(string(m[1]), ".")
	patch, err := strconv.Atoi(v[2])
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s.%s.%d-dev", v[0], v[1], patch+1)
}

// makeIn runs make in dir with the given arguments, free of any make that
// runs this test (whose command-line variables MAKEFLAGS would hand on).
func makeIn(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	return makeWith(t, dir, nil, args...)
}

// makeWith is makeIn with extra environment variables.
func makeWith(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "MFLAGS=") && !strings.HasPrefix(kv, "MAKELEVEL=") && !strings.HasPrefix(kv, "VERSION=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stamped finds the version a go build command line stamps.
var stamped = regexp.MustCompile(`-X main\.version=([^"' ]+)`)

// make build and make install stamp the checkout's one version, the one
// the release stamps (TestReleaseInstallsThroughTheRegistryProtocol checks
// that the installed release sends it as its User-Agent).
func TestMakeStampsTheOneVersion(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	want := wantVersion(t, root)
	out, err := makeIn(t, root, "-s", "version")
	if err != nil || strings.TrimSpace(out) != want {
		t.Errorf("make version printed %q (%v), want %s", out, err, want)
	}
	// A VERSION in the environment (set for other tools) changes nothing;
	// only make's command line overrides the version.
	for _, target := range []string{"build", "install"} {
		out, err := makeWith(t, root, []string{"VERSION=9.9.9"}, "-n", target)
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		m := stamped.FindStringSubmatch(out)
		if m == nil || m[1] != want {
			t.Errorf("make %s does not stamp %s:\n%s", target, want, out)
		}
	}
	out, err = makeIn(t, root, "-n", "build", "VERSION=1.2.3-local")
	if m := stamped.FindStringSubmatch(out); err != nil || m == nil || m[1] != "1.2.3-local" {
		t.Errorf("make build VERSION=1.2.3-local does not stamp it (%v):\n%s", err, out)
	}
}

// .ci/version derives the version from the CHANGELOG and the tag, and
// refuses a tag that does not match the CHANGELOG, a tagged release still
// called unreleased, and --check with another version.
func TestVersionScript(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, ".ci", "version"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, heading, tag string
		args               []string
		want, fails        string
	}{
		{name: "untagged", heading: "## 0.3.0 (Unreleased)", want: "0.3.0-dev"},
		{name: "tagged release", heading: "## 0.3.0 (January 2, 2027)", tag: "v0.3.0", want: "0.3.0"},
		{name: "after a release", heading: "## 0.3.9 (January 2, 2027)", want: "0.3.10-dev"},
		{name: "a tag on an unrelated commit", heading: "## 0.3.0 (Unreleased)", tag: "not-a-version", want: "0.3.0-dev"},
		{name: "tag and CHANGELOG differ", heading: "## 0.3.0 (January 2, 2027)", tag: "v0.4.0", fails: "HEAD is tagged v0.4.0, and CHANGELOG.md's top entry is 0.3.0"},
		{name: "tagged but unreleased", heading: "## 0.3.0 (Unreleased)", tag: "v0.3.0", fails: "still calls 0.3.0 unreleased"},
		{name: "no version heading", heading: "## Unreleased", fails: `first heading is "## Unreleased"`},
		{name: "check the same", heading: "## 0.3.0 (Unreleased)", args: []string{"--check", "0.3.0-dev"}, want: "0.3.0-dev"},
		{name: "check another", heading: "## 0.3.0 (Unreleased)", args: []string{"--check", "1.2.3"}, fails: `asked to stamp "1.2.3", and this checkout's version is 0.3.0-dev`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, ".ci"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ".ci", "version"), script, 0o755); err != nil { //nolint:gosec // a script
				t.Fatal(err)
			}
			changelog := tc.heading + "\n\n* a change\n\n## 0.2.0 (December 1, 2026)\n\n* an older one\n"
			if err := os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte(changelog), 0o600); err != nil {
				t.Fatal(err)
			}
			git := func(args ...string) {
				t.Helper()
				cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			git("init", "-q")
			git("add", ".")
			git("commit", "-q", "-m", "x")
			if tc.tag != "" {
				git("tag", tc.tag)
			}
			cmd := exec.Command(filepath.Join(dir, ".ci", "version"), tc.args...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			switch {
			case tc.fails != "" && (err == nil || !strings.Contains(stderr.String(), tc.fails)):
				t.Errorf("got %q, %v, stderr %q; want a failure saying %q", stdout.String(), err, stderr.String(), tc.fails)
			case tc.fails == "" && (err != nil || stdout.String() != tc.want+"\n"):
				t.Errorf("got %q, %v, stderr %q; want %s", stdout.String(), err, stderr.String(), tc.want)
			}
		})
	}
}

// goreleaser, with the project's configuration, refuses to stamp any version
// but the checkout's: a snapshot without the version make passes, or with
// another, fails before it builds.
func TestGoreleaserStampsOnlyTheOneVersion(t *testing.T) {
	root, err := devenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(t.TempDir(), "dist")
	cfgFile := singleTargetConfig(t, root, dist)
	bin := goreleaserBin(t, root)
	for _, env := range []string{"CIAM_VERSION=1.2.3", "CIAM_VERSION unset"} {
		cmd := exec.Command(bin, "release", "--snapshot", "--clean", "--skip=publish,sign", "--config", cfgFile)
		cmd.Dir = root
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CIAM_VERSION=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if strings.Contains(env, "=") {
			cmd.Env = append(cmd.Env, env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "hook failed") || !strings.Contains(string(out), "asked to stamp") {
			t.Errorf("goreleaser with %s: %v, want the before hook to refuse the version:\n%s", env, err, lastLines(string(out), 20))
		}
		if zips, _ := filepath.Glob(filepath.Join(dist, "*.zip")); len(zips) > 0 {
			t.Errorf("goreleaser with %s built %v", env, zips)
		}
	}
}
