// Command demo is `make demo`: it builds the provider, starts the local CIAM
// on a free loopback port, writes a dev_overrides CLI configuration in a
// temporary directory, and runs examples/demo with terraform: the
// client-credentials and SCIM tokens, then the authorization-code grant end
// to end (the sign-in URL, the code from the redirect, the resource, its
// renewal, and the revocation at destroy). It prints only non-secret facts,
// checks that no secret, code or token appeared in terraform's output,
// stops the server and cleans up.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
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

// tokenLifetime is the local CIAM's access-token lifetime in the demo:
// examples/demo renews with 25 s to spare, so a run a few seconds after the
// create renews.
const tokenLifetime = 30

func run() error {
	// Terraform runs in a process group of its own (devenv): the demo hands
	// it Ctrl-C, and a termination, itself.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
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

	srv, err := localciam.New(localciam.Options{AccessTokenExpiresIn: tokenLifetime})
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
	verifier, state := randomString(48), hex.EncodeToString([]byte(randomString(12)))
	d := &demo{ctx: ctx, srv: srv, secrets: []string{verifier}, tf: &devenv.Terraform{Bin: tfBin, Dir: work, CLIConfig: cliConfig, Env: []string{
		"CIAM_AUTH_DOMAIN=" + srv.URL(),
		"CIAM_CLIENT_ID=" + localciam.DemoClientID,
		"CIAM_CLIENT_SECRET=" + localciam.DemoClientSecret,
		"CIAM_SCIM_CLIENT_ID=" + localciam.DemoSCIMClientID,
		"CIAM_SCIM_CLIENT_SECRET=" + localciam.DemoSCIMClientSecret,
		"CIAM_CODE_LEDGER=" + filepath.Join(tmp, "sent-codes"),
		"TF_VAR_pkce_verifier=" + verifier,
		"TF_VAR_sign_in_state=" + state,
	}}}

	step("terraform apply (examples/demo, dev_overrides in " + cliConfig + ")")
	outputs, err := d.apply("apply")
	if err != nil {
		return err
	}
	for _, name := range []string{"client_credentials_token", "scim_token"} {
		show(name, outputs[name])
	}
	if err := d.authorizationCode(outputs["sign_in_url"], state); err != nil {
		return err
	}
	fmt.Printf("\nThe local CIAM answered %d token requests (%d at /oauth2/token, %d SCIM) and %d revocation.\n",
		srv.Requests(localciam.TokenPath)+srv.Requests(localciam.SCIMTokenPath),
		srv.Requests(localciam.TokenPath), srv.Requests(localciam.SCIMTokenPath), srv.Requests(localciam.RevokePath))
	fmt.Println("No secret, code or token appeared in terraform's output. Demo done; server stopped.")
	return nil
}

// authorizationCode shows the authorization-code grant: it signs in at the
// URL examples/demo printed, hands the code to
// ciam_authorization_code_token, lets the token become due and renews it,
// then destroys the resource, which revokes the grant.
func (d *demo) authorizationCode(signInURL any, state string) error {
	u, _ := signInURL.(string)
	step("signing in at the sign-in URL of ciam_authorization_url (the local CIAM signs demo-user in without a browser):")
	fmt.Println("  " + u)
	code, err := signIn(u, state)
	if err != nil {
		return err
	}
	d.secrets = append(d.secrets, code)
	fmt.Println("  redirected to the redirect URI with a code (not shown) and the state the URL carried")
	d.tf.Env = append(d.tf.Env, "TF_VAR_authorization_code="+code)

	step("terraform apply with the code: ciam_authorization_code_token exchanges it, once")
	outputs, err := d.apply("apply")
	if err != nil {
		return err
	}
	created := show("authorization_code_token", outputs["authorization_code_token"])

	wait := 6 * time.Second
	step(fmt.Sprintf("waiting %s, until the %d s token has less than min_remaining (25s) left", wait, tokenLifetime))
	select {
	case <-time.After(wait):
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
	step("terraform apply: renews the token with the refresh token")
	if outputs, err = d.apply("apply"); err != nil {
		return err
	}
	renewed := show("authorization_code_token", outputs["authorization_code_token"])
	if renewed["id"] == created["id"] || d.srv.Grants(localciam.GrantRefreshToken) != 1 {
		return fmt.Errorf("the token was not renewed once (%d renewals at the directory)", d.srv.Grants(localciam.GrantRefreshToken))
	}
	fmt.Printf("  renewed: a new access token (id %v), expiring at %v; the directory counts 1 renewal\n", renewed["id"], renewed["expires_at"])

	step("terraform destroy: revokes the grant")
	if _, err := d.apply("destroy"); err != nil {
		return err
	}
	if d.srv.Revocations() != 1 || d.srv.LiveGrants() != 0 {
		return fmt.Errorf("the destroy left %d live grants (%d revocations)", d.srv.LiveGrants(), d.srv.Revocations())
	}
	fmt.Println("  revoked: the directory holds no live grant; the refresh token no longer works")
	return nil
}

// demo runs terraform in the demo's working directory.
type demo struct {
	ctx context.Context
	srv *localciam.Server
	tf  *devenv.Terraform
	// secrets are the demo's own secrets (the verifier, the code), checked
	// with the directory's.
	secrets []string
}

// apply runs terraform apply (or destroy), checks its output and the
// outputs for secrets, and returns the outputs' values.
func (d *demo) apply(command string) (map[string]any, error) {
	res, err := d.tf.Run(d.ctx, command, "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		// The error holds terraform's standard error; both are shown only
		// when neither holds a secret.
		if findLeak(err.Error()+res.Stdout, d) != "" {
			return nil, fmt.Errorf("terraform %s failed; its output is withheld: it holds a secret, code or token", command)
		}
		return nil, fmt.Errorf("%w\n%s", err, res.Stdout)
	}
	out, err := d.tf.Run(d.ctx, "output", "-json")
	if err != nil {
		return nil, err
	}
	if leak := findLeak(res.Combined()+out.Combined(), d); leak != "" {
		return nil, fmt.Errorf("terraform output contained a %s; this is a provider bug", leak)
	}
	var outputs map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal([]byte(out.Stdout), &outputs); err != nil {
		return nil, fmt.Errorf("reading terraform output: %w", err)
	}
	values := map[string]any{}
	for k, v := range outputs {
		values[k] = v.Value
	}
	return values, nil
}

// show prints the non-secret facts of one output.
func show(name string, v any) map[string]any {
	m, _ := v.(map[string]any)
	fmt.Printf("%s\n", name)
	for _, k := range []string{"id", "token_type", "expires_in", "expires_at", "scope", "granted_scopes", "user"} {
		if x, ok := m[k]; ok {
			fmt.Printf("  %-15s %v\n", k, x)
		}
	}
	return m
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func step(msg string) { fmt.Println("==> " + msg) }
