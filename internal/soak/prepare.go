package soak

import (
	"context"
	"os"
	"path/filepath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// Prepare builds the provider into a new scratch directory and returns the
// campaign's environment for terraform (tofu when tofu is not ""). Close
// the returned function's directory when done.
func Prepare(ctx context.Context, tofu string) (Env, func(), error) {
	tf := tofu
	if tf == "" {
		var err error
		if tf, err = devenv.TerraformPath(); err != nil {
			return Env{}, nil, err
		}
	} else {
		// The provider's address in the CLI configuration and the
		// configuration's source resolve against OpenTofu's registry.
		if err := os.Setenv("TF_ACC_PROVIDER_HOST", "registry.opentofu.org"); err != nil {
			return Env{}, nil, err
		}
	}
	root, err := devenv.ModuleRoot()
	if err != nil {
		return Env{}, nil, err
	}
	dir, err := os.MkdirTemp("", "ciam-soak-")
	if err != nil {
		return Env{}, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		cleanup()
		return Env{}, nil, err
	}
	if _, err := devenv.BuildProvider(ctx, root, bin, "0.0.0-soak"); err != nil {
		cleanup()
		return Env{}, nil, err
	}
	return Env{Terraform: tf, ProviderDir: bin, Scratch: dir}, cleanup, nil
}
