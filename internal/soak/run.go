package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// Env is what every run needs: the terraform (or tofu) binary, the
// directory that holds the built provider, and a scratch directory.
type Env struct {
	Terraform   string
	ProviderDir string
	Scratch     string
	// NewWorkspace, when set, makes each run's workspace in dir with the
	// provider's environment variables env, instead of a terraform with
	// the built provider: the provider package's tests serve the provider
	// in process, with a clock of their own, which Now and Sleep then give.
	NewWorkspace func(dir string, env []string) (Workspace, error)
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration)
}

// Run is one run in progress: the directory, the workspace, and what the
// campaign knows of the grant (the model the invariants are checked
// against).
type Run struct {
	ctx     context.Context
	seed    uint64
	choices Choices
	srv     *localciam.Server
	// requests is the local CIAM's request log (no token, code or secret).
	requests *devenv.SyncBuffer
	addr     string
	ws       Workspace
	env      Env
	stats    *Stats

	code, verifier   string
	codes, verifiers []string
	minRemaining     string
	renewInPlan      bool
	// lossAllowed says why the grant may be lost ("" while it must not be).
	lossAllowed string
	// refusalAllowed says why the provider may refuse the configured code
	// as one already sent ("" while it must not).
	refusalAllowed string
	// renewed is false from the moment the user sets a new code until an
	// apply stores the grant it was exchanged for.
	renewed bool
	// lastRefreshToken is the last refresh token seen in state.
	lastRefreshToken string
	// excused are refresh tokens that a Ctrl-C may have lost the successor
	// of, with why.
	excused map[string]string
	// rejectionTold are the rotated-away refresh tokens whose rejection
	// reached the provider (and which it reported).
	rejectionTold map[string]bool
	// faulty says the step put faults in the directory's way, or took it
	// down: only then may a command fail with a directory error.
	faulty bool
	// codeIssued is when the directory issued the configured code.
	codeIssued time.Time
	history    []string
	// lastOutput is the last command's output, scrubbed.
	lastOutput string
	// violation is the first invariant broken.
	violation *Violation
}

// Violation is a broken invariant, with what a regular test needs to
// repeat it.
type Violation struct {
	Seed    uint64
	Choices Choices
	Steps   []Step
	// History is every command and event up to the violation.
	History []string
	What    string
	// Records is the local CIAM's record (/dev/records), the record of
	// the grant's last refresh token, and its request log.
	Records string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("seed %d (%s): %s\nhistory: %s\nthe local CIAM's records:\n%s",
		v.Seed, v.Choices, v.What, strings.Join(v.History, " | "), v.Records)
}

// Execute runs steps (all or some of seed's) with the choices of seed, in
// a new local CIAM and workspace under env.Scratch. It returns the first
// violation (nil when none); an error means the campaign itself failed.
func Execute(ctx context.Context, env Env, seed uint64, choices Choices, steps []Step, stats *Stats) (*Violation, error) {
	dir, err := os.MkdirTemp(env.Scratch, fmt.Sprintf("run-%d-", seed))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	requests := &devenv.SyncBuffer{}
	srv, err := localciam.New(localciam.Options{
		RotateRefreshTokens: choices.Rotating, PublicClientRefresh: true,
		AccessTokenExpiresIn: int64(choices.Lifetime / time.Second), RequestLog: requests,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	defer srv.Close()
	defer func() {
		stats.Renewals += srv.Grants(localciam.GrantRefreshToken)
		stats.Exchanges += srv.Grants(localciam.GrantAuthorizationCode)
		stats.LostAnswers += srv.AnswersLost()
	}()
	envVars := []string{"CIAM_CLIENT_ID=" + localciam.DemoClientID}
	if !choices.Public {
		envVars = append(envVars, "CIAM_CLIENT_SECRET="+localciam.DemoClientSecret)
	}
	if strings.HasSuffix(choices.Alongside, "scim") {
		envVars = append(envVars, "CIAM_SCIM_CLIENT_ID="+localciam.DemoSCIMClientID, "CIAM_SCIM_CLIENT_SECRET="+localciam.DemoSCIMClientSecret)
	}
	if env.NewWorkspace == nil {
		env.NewWorkspace = func(dir string, vars []string) (Workspace, error) {
			return newWorkspace(env.Terraform, env.ProviderDir, dir, vars)
		}
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Sleep == nil {
		env.Sleep = func(ctx context.Context, d time.Duration) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	ws, err := env.NewWorkspace(dir, envVars)
	if err != nil {
		return nil, err
	}
	r := &Run{
		ctx: ctx, env: env, seed: seed, choices: choices, srv: srv, requests: requests, addr: strings.TrimPrefix(srv.URL(), "http://"), ws: ws, stats: stats,
		minRemaining: choices.MinRemaining, renewInPlan: choices.RenewInPlan, excused: map[string]string{}, rejectionTold: map[string]bool{},
	}
	stats.Runs++
	stats.choice(choices)
	r.newCode()
	if err := r.configure(); err != nil {
		return nil, err
	}
	if !r.command(0, "apply", "-auto-approve") {
		r.fail("the first apply, with no fault in its way, failed:\n%s", r.lastOutput)
	}
	for i, s := range steps {
		if r.violation != nil || ctx.Err() != nil {
			break
		}
		r.note(fmt.Sprintf("step %d: %s", i, s))
		if err := r.step(s); err != nil {
			return nil, err
		}
		stats.Steps++
	}
	if r.violation == nil && ctx.Err() == nil {
		r.srv.ClearFaults()
		r.faulty = false
		r.command(0, "destroy", "-auto-approve")
	}
	if r.violation != nil {
		r.violation.Steps = steps
	}
	return r.violation, nil
}

func (r *Run) newCode() {
	req := localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid"}
	r.verifier = ""
	if r.choices.Public {
		r.verifier = randomVerifier()
		r.verifiers = append(r.verifiers, r.verifier)
		req.CodeChallenge = localciam.S256Challenge(r.verifier)
	}
	code, err := r.srv.IssueCode(req)
	if err != nil {
		panic(err) // the demo client is registered for this request
	}
	r.code, r.codeIssued = code, time.Now() // the directory's clock, not Env.Now

	r.codes = append(r.codes, code)
}

func (r *Run) configure() error {
	return r.ws.Write(GrantConfiguration(r.srv.URL(), r.minRemaining, r.renewInPlan, r.choices.Alongside))
}

// GrantConfiguration is a run's main.tf: a ciam_authorization_code_token
// whose code (and code verifier) come from the variables code and verifier,
// at authDomain, with one retry and a 2 s request_timeout, and the token
// alongside (Choices.Alongside). The provider's credentials come from the
// environment.
func GrantConfiguration(authDomain, minRemaining string, renewInPlan bool, alongside string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    ciam = { source = "ciam-oss/ciam" }
  }
}

variable "code" {
  type      = string
  sensitive = true
}

variable "verifier" {
  type      = string
  sensitive = true
  default   = null
}

provider "ciam" {
  auth_domain     = %q
  max_retries     = 1
  request_timeout = "2s"
}

resource "ciam_authorization_code_token" "t" {
  code          = var.code
  code_verifier = var.verifier
  redirect_uri  = %q
  min_remaining = %q
  renew_in_plan = %t
}
`, authDomain, localciam.DemoRedirectURI, minRemaining, renewInPlan)
	switch alongside {
	case "data scim":
		b.WriteString("\ndata \"ciam_scim_token\" \"side\" {}\n")
	case "data client_credentials":
		b.WriteString("\ndata \"ciam_client_credentials_token\" \"side\" {}\n")
	case "ephemeral scim":
		// Terraform opens an ephemeral resource in every plan and apply,
		// referenced or not.
		b.WriteString("\nephemeral \"ciam_scim_token\" \"side\" {}\n")
	}
	return b.String()
}

// step carries out one step.
func (r *Run) step(s Step) error {
	r.queueFaults(s)
	defer r.usedFaults(s)
	switch s.Op {
	case OpPlan:
		r.command(0, "plan")
	case OpApply:
		r.command(0, "apply", "-auto-approve")
	case OpSavedPlan:
		if r.command(0, "plan", "-out=tfplan") {
			r.checkPlanFile(filepath.Join(r.ws.Dir(), "tfplan"))
			r.sleep(s.Wait)
			r.command(0, "apply", "tfplan")
		}
	case OpRefreshFalse:
		r.command(0, "apply", "-refresh=false", "-auto-approve")
	case OpRefreshOnly:
		r.command(0, "apply", "-refresh-only", "-auto-approve")
	case OpMinRemaining:
		r.minRemaining = s.MinRemaining
		return r.configure()
	case OpRenewInPlan:
		r.renewInPlan = !r.renewInPlan
		return r.configure()
	case OpInterrupt:
		args := []string{s.Command}
		if s.Command != "plan" {
			args = append(args, "-auto-approve")
		}
		r.stats.Interrupts++
		if r.command(s.Wait, args...) && s.Command == "destroy" {
			return r.startOver()
		}
	case OpRecreate:
		if r.command(0, "destroy", "-auto-approve") {
			return r.startOver()
		}
	case OpDown:
		if err := r.srv.Close(); err != nil {
			return err
		}
		r.stats.Down++
		args := []string{s.Command}
		if s.Command == "apply" {
			args = append(args, "-auto-approve")
		}
		r.command(0, args...)
		if err := r.srv.Start(r.addr); err != nil {
			return fmt.Errorf("restarting the local CIAM on %s: %w", r.addr, err)
		}
	case OpTimePasses:
		r.sleep(s.Wait)
	case OpAdminRevokes:
		if rt := GrantAttribute(r.ws, "refresh_token"); rt != "" {
			r.srv.RevokeRefreshToken(rt)
			r.mayLose("an administrator revoked it")
		}
	case OpSentCode:
		return r.setSentCode(s.Pick)
	}
	return nil
}

// startOver is the user's next move after a destroy: a new code.
func (r *Run) startOver() error {
	r.note("the user starts over with a new code")
	r.newCode()
	r.renewed, r.lossAllowed, r.refusalAllowed, r.lastRefreshToken = false, "", "", ""
	return r.configure()
}

func (r *Run) setSentCode(pick int) error {
	var sent []int
	for i, c := range r.codes {
		if c != r.code && r.srv.Presented(c) > 0 {
			sent = append(sent, i)
		}
	}
	if len(sent) == 0 {
		return nil
	}
	i := sent[pick%len(sent)]
	r.code = r.codes[i]
	if r.choices.Public {
		r.verifier = r.verifiers[i]
	}
	r.note("the user sets a code already sent")
	r.refusalAllowed = "the user set a code already sent"
	return r.configure()
}

func (r *Run) sleep(d time.Duration) { r.env.Sleep(r.ctx, d) }

// faultMayHitAnExchange allows, while a new code waits for its exchange,
// that a fault spends it: the provider then refuses it as sent.
func (r *Run) faultMayHitAnExchange() {
	if !r.renewed && r.refusalAllowed == "" {
		r.refusalAllowed = "a fault may have hit the exchange of a new code"
	}
}

func (r *Run) note(what string) { r.history = append(r.history, what) }

// mayLose records that the grant may now be lost through no fault of the
// provider.
func (r *Run) mayLose(why string) {
	if r.lossAllowed == "" {
		r.lossAllowed = why
		r.note("loss allowed: " + why)
	}
}
