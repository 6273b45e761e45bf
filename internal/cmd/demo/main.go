// Command demo is `make demo`: it builds the provider, starts the local CIAM
// on a free loopback port, writes a dev_overrides CLI configuration in a
// temporary directory, runs `terraform apply` on examples/demo and prints the
// non-secret facts of the tokens it got. It checks that no secret or token
// appeared in terraform's output, stops the server and cleans up.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	env, err := devenv.NewEnv("ciam-demo-")
	if err != nil {
		return err
	}
	defer env.Close()
	tfBin, root, tmp := env.Terraform, env.Root, env.Dir

	version, err := devenv.Version(ctx, root)
	if err != nil {
		return err
	}
	step("building the provider " + version)
	binDir := filepath.Join(tmp, "bin")
	if _, err := devenv.BuildProvider(ctx, root, binDir, version); err != nil {
		return err
	}

	srv, err := localciam.New(localciam.Options{})
	if err != nil {
		return err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	step("local CIAM listening on " + srv.URL())

	cliConfig := filepath.Join(tmp, "terraform.rc")
	if err := devenv.WriteCLIConfig(cliConfig, binDir); err != nil {
		return err
	}
	work := filepath.Join(tmp, "work")
	if err := devenv.CopyDir(filepath.Join(root, "examples", "demo"), work); err != nil {
		return err
	}
	tf := &devenv.Terraform{Bin: tfBin, Dir: work, CLIConfig: cliConfig, Env: []string{
		"CIAM_AUTH_DOMAIN=" + srv.URL(),
		"CIAM_CLIENT_ID=" + localciam.DemoClientID,
		"CIAM_CLIENT_SECRET=" + localciam.DemoClientSecret,
		"CIAM_SCIM_CLIENT_ID=" + localciam.DemoSCIMClientID,
		"CIAM_SCIM_CLIENT_SECRET=" + localciam.DemoSCIMClientSecret,
	}}

	step("terraform apply (examples/demo, dev_overrides in " + cliConfig + ")")
	apply, err := tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		return err
	}
	out, err := tf.Run(ctx, "output", "-json")
	if err != nil {
		return err
	}
	if leak := findLeak(apply.Combined()+out.Combined(), srv); leak != "" {
		return fmt.Errorf("terraform output contained a %s; this is a provider bug", leak)
	}

	var outputs map[string]struct {
		Value map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(out.Stdout), &outputs); err != nil {
		return fmt.Errorf("reading terraform output: %w", err)
	}
	fmt.Println()
	for _, name := range []string{"client_credentials_token", "scim_token"} {
		v := outputs[name].Value
		fmt.Printf("%s\n", name)
		for _, k := range []string{"id", "token_type", "expires_in", "expires_at", "scope", "granted_scopes"} {
			if x, ok := v[k]; ok {
				fmt.Printf("  %-15s %v\n", k, x)
			}
		}
	}
	fmt.Printf("\nThe local CIAM answered %d token requests (%d client-credentials, %d SCIM).\n",
		srv.Requests(localciam.TokenPath)+srv.Requests(localciam.SCIMTokenPath),
		srv.Requests(localciam.TokenPath), srv.Requests(localciam.SCIMTokenPath))
	fmt.Println("No secret or token appeared in terraform's output. Demo done; server stopped.")
	return nil
}

// findLeak names the first secret or issued token found in text.
func findLeak(text string, srv *localciam.Server) string {
	for _, s := range srv.Secrets() {
		if strings.Contains(text, s) {
			return "client secret"
		}
	}
	for _, t := range srv.IssuedTokens() {
		if strings.Contains(text, t) {
			return "token"
		}
	}
	return ""
}

func step(msg string) { fmt.Println("==> " + msg) }
