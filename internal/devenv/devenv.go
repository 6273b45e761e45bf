// Package devenv runs the real terraform binary against a locally built
// provider through a dev_overrides CLI configuration. `make demo`, the
// end-to-end tests and the examples check use it; the provider never links it.
package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
)

// OpenTofu reports whether the tests drive OpenTofu rather than Terraform
// (TF_ACC_PROVIDER_HOST is OpenTofu's registry, as the suite's make target
// sets it). OpenTofu reports its own version, so version gates differ.
func OpenTofu() bool { return RegistryHost() == "registry.opentofu.org" }

// Feature is a language feature with the first Terraform and OpenTofu
// versions that have it.
type Feature struct {
	Name                string
	Terraform, OpenTofu *version.Version
}

// Features the provider's types and examples use.
var (
	Functions          = Feature{"provider functions", version.Must(version.NewVersion("1.8.0")), version.Must(version.NewVersion("1.7.0"))}
	EphemeralResources = Feature{"ephemeral resources", version.Must(version.NewVersion("1.10.0")), version.Must(version.NewVersion("1.11.0"))}
)

// Minimum is the first version of the tool under test with the feature.
func (f Feature) Minimum() *version.Version {
	if OpenTofu() {
		return f.OpenTofu
	}
	return f.Terraform
}

// ToolVersion runs the tool's version command and returns its version.
func ToolVersion(bin string) (*version.Version, error) {
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		return nil, fmt.Errorf("devenv: %s version: %v", bin, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("devenv: %s version -json: %v", bin, err)
	}
	return version.NewVersion(v.Version)
}

// RegistryHost is the registry that source addresses without a host resolve
// to: registry.terraform.io, or TF_ACC_PROVIDER_HOST (registry.opentofu.org
// for OpenTofu), as terraform-plugin-testing reads it.
func RegistryHost() string {
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		return h
	}
	return "registry.terraform.io"
}

// ProviderAddress returns the provider's registry address under
// RegistryHost.
func ProviderAddress() string { return RegistryHost() + "/ciam-oss/ciam" }

// ModuleRoot returns the directory holding the project's go.mod, searching
// upwards from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("devenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Version is the version builds of the checkout at root stamp (.ci/version:
// the tag's, or CHANGELOG.md's top entry with -dev).
func Version(ctx context.Context, root string) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(root, ".ci", "version")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return "", fmt.Errorf("devenv: .ci/version: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildProvider builds the provider from root into dir and returns the
// binary's path.
func BuildProvider(ctx context.Context, root, dir, version string) (string, error) {
	bin := filepath.Join(dir, "terraform-provider-ciam")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-X main.version="+version, "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("devenv: go build: %v\n%s", err, out)
	}
	return bin, nil
}

// WriteCLIConfig writes a Terraform CLI configuration to path that serves the
// provider from providerDir (dev_overrides) and installs nothing else from
// the network.
func WriteCLIConfig(path, providerDir string) error {
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
  }
  direct {}
}
`, ProviderAddress(), providerDir)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// TerraformPath returns the terraform binary to use: TF_ACC_TERRAFORM_PATH
// when set, otherwise terraform on PATH.
func TerraformPath() (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		return "", errors.New("terraform is not on PATH; install Terraform (>= 1.10) and try again")
	}
	return p, nil
}

// Terraform runs terraform in Dir with a dev_overrides CLI configuration.
type Terraform struct {
	Bin       string
	Dir       string
	CLIConfig string
	// Env is added to a minimal environment (PATH, HOME, TMPDIR).
	Env []string
}

// Result is the output of one terraform run.
type Result struct {
	Stdout, Stderr string
}

// Combined returns stdout and stderr together.
func (r Result) Combined() string { return r.Stdout + r.Stderr }

// Run runs terraform with args. The error includes stderr. When ctx ends
// first, terraform gets Ctrl-C, as from a terminal, so that it stops its
// providers; whatever of its process group is left 20 s later is killed
// (a provider included, which a killed terraform would leave running).
func (tf *Terraform) Run(ctx context.Context, args ...string) (Result, error) {
	cmd := exec.Command(tf.Bin, args...)
	cmd.Dir = tf.Dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"TF_CLI_CONFIG_FILE=" + tf.CLIConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
	}, tf.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	OwnProcessGroup(cmd)
	err := cmd.Start()
	if err == nil {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			_ = InterruptGroup(cmd)
			select {
			case err = <-done:
				_ = KillGroup(cmd)
			case <-time.After(20 * time.Second):
				_ = KillGroup(cmd)
				err = <-done
			}
			if err == nil {
				err = ctx.Err()
			}
		}
	}
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		return res, fmt.Errorf("terraform %s: %v\n%s", strings.Join(args, " "), err, res.Stderr)
	}
	return res, nil
}

// CopyDir copies the regular files of src (not recursive) into dst.
func CopyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Env is what every driver of the real terraform needs: the terraform
// binary, the project's root and a scratch directory.
type Env struct {
	Terraform string
	Root      string
	Dir       string
}

// NewEnv resolves terraform and the module root and makes a scratch
// directory named with prefix. Close removes it.
func NewEnv(prefix string) (*Env, error) {
	tf, err := TerraformPath()
	if err != nil {
		return nil, err
	}
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	return &Env{Terraform: tf, Root: root, Dir: dir}, nil
}

// Close removes the scratch directory.
func (e *Env) Close() error { return os.RemoveAll(e.Dir) }
