package provider

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// The rules of ciam_authorization_code_token that must hold over any
// sequence of runs and faults are checked here with seeded random sequences
// of terraform commands, against the local CIAM's own records (what it
// received, what it revoked and why), not against what the provider says:
//
//   - a code reaches the directory at most once, ever, whatever the user
//     sets (any code already sent, also one of a resource they destroyed)
//     and whatever fails (a create too);
//   - within one terraform command, a refresh token reaches it at most once;
//   - a live grant is never lost: the directory never revokes it for reuse,
//     and after every apply that succeeds the refresh token in state works,
//     unless the sequence did something no provider can undo (see
//     lossAllowed);
//   - no command fails but with a documented error, none reports an
//     inconsistent plan, a provider bug or a panic, and none prints a
//     secret;
//   - no apply that succeeds keeps an expired token without a word.
//
// The user of a sequence follows the provider's advice: when a message says
// that a new authorization code is needed, they get one.
//
// Each seed is one sequence; a failure names the seed and the operations
// that led to it, so that it can be replayed.

// grantSequence is one random sequence and what the test knows about it.
type grantSequence struct {
	t        *testing.T
	seed     uint64
	rng      *rand.Rand
	srv      *localciam.Server
	addr     string
	clock    *fakeClock
	tf       *inProcessTerraform
	rotating bool

	code         string
	codes        []string
	minRemaining string
	renewInPlan  bool
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
	history          []string
}

// invariantSeeds are the sequences every test run checks; 211 and 216 found
// codes sent again after a chain of failed creates (fixed), so they stay.
var invariantSeeds = []struct {
	seed     uint64
	rotating bool
}{{1, false}, {2, true}, {3, false}, {4, true}, {100, false}, {103, true}, {211, true}, {216, false}}

func TestAccAuthorizationCodeTokenResource_invariants(t *testing.T) {
	seeds := invariantSeeds
	// CIAM_INVARIANT_SEEDS=n adds n more seeds (200, 201, ...), for a longer
	// search than every run makes.
	if n, err := strconv.Atoi(os.Getenv("CIAM_INVARIANT_SEEDS")); err == nil {
		for i := range n {
			seeds = append(seeds, struct {
				seed     uint64
				rotating bool
			}{uint64(200 + i), i%2 == 1})
		}
	}
	for _, tc := range seeds {
		t.Run(fmt.Sprintf("seed %d rotating %t", tc.seed, tc.rotating), func(t *testing.T) {
			unsetCIAMEnv(t)
			t.Setenv(envClientID, localciam.DemoClientID)
			t.Setenv(envClientSecret, localciam.DemoClientSecret)
			s := newGrantSequence(t, tc.seed, tc.rotating)
			s.run(60)
			t.Logf("%s\n(code exchanges, refreshes, revocations) = (%d, %d, %d)", strings.Join(s.history, " | "),
				s.srv.Attempts(localciam.GrantAuthorizationCode), s.srv.Attempts(localciam.GrantRefreshToken), s.srv.Requests(localciam.RevokePath))
		})
	}
}

func newGrantSequence(t *testing.T, seed uint64, rotating bool) *grantSequence {
	// The sequence's own ledger of sent codes (the provider is served by
	// this process).
	t.Setenv(envCodeLedger, filepath.Join(t.TempDir(), "sent-codes"))
	srv := localciam.StartTest(t, localciam.Options{RotateRefreshTokens: rotating})
	clock := newFakeClock()
	s := &grantSequence{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), srv: srv, addr: strings.TrimPrefix(srv.URL(), "http://"),
		clock: clock, tf: newInProcessTerraform(t, &ciamProvider{version: "test", now: clock.Now}),
		rotating: rotating, minRemaining: "1m", renewInPlan: !rotating, renewed: true,
	}
	s.newCode()
	s.configure()
	if out, err := s.tf.run(nil, "init"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	return s
}

func (s *grantSequence) newCode() {
	code, err := s.srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.code = code
	s.codes = append(s.codes, code)
}

func (s *grantSequence) configure() {
	s.tf.write(fmt.Sprintf(`terraform {
  required_providers {
    ciam = { source = "ciam-oss/ciam" }
  }
}

variable "code" {
  type      = string
  sensitive = true
}

provider "ciam" {
  auth_domain     = %q
  max_retries     = 1
  request_timeout = "2s"
}

resource "ciam_authorization_code_token" "t" {
  code          = var.code
  redirect_uri  = %q
  min_remaining = %q
  renew_in_plan = %t
}
`, s.srv.URL(), localciam.DemoRedirectURI, s.minRemaining, s.renewInPlan))
}

// operation is one step a user (or the world) takes.
type operation struct {
	name   string
	weight int
	do     func(s *grantSequence)
}

func (s *grantSequence) operations() []operation {
	ops := []operation{
		{"plan (thrown away)", 3, func(s *grantSequence) {
			s.command("plan")
			if s.rotating && s.renewInPlan {
				s.mayLose("a plan that may have renewed was thrown away (renew_in_plan = true, a rotating directory)")
			}
		}},
		{"apply", 4, func(s *grantSequence) { s.command("apply", "-auto-approve") }},
		{"apply -refresh=false", 2, func(s *grantSequence) { s.command("apply", "-refresh=false", "-auto-approve") }},
		{"apply -refresh-only", 2, func(s *grantSequence) { s.command("apply", "-refresh-only", "-auto-approve") }},
		{"saved plan applied later", 2, func(s *grantSequence) {
			if s.command("plan", "-out=tfplan") {
				s.advance(time.Duration(s.rng.IntN(300)) * time.Second)
				s.command("apply", "tfplan")
			}
		}},
		{"time passes", 6, func(s *grantSequence) { s.advance(time.Duration(s.rng.IntN(300)) * time.Second) }},
		{"min_remaining changes", 3, func(s *grantSequence) {
			// 5m is above the tokens' 299 s: every read and apply finds
			// the token due.
			s.minRemaining = []string{"30s", "1m", "2m", "4m", "5m"}[s.rng.IntN(5)]
			s.note("min_remaining = " + s.minRemaining)
			s.configure()
		}},
		{"the token endpoint fails once", 3, func(s *grantSequence) {
			names := []string{"503", "429", "reset", "truncated"}
			f := []localciam.Fault{{Status: http.StatusServiceUnavailable}, {Status: http.StatusTooManyRequests}, {Reset: true}, {Truncate: true}}
			i := s.rng.IntN(len(f))
			s.note("next token request: " + names[i])
			s.srv.InjectFaults(localciam.TokenPath, f[i])
			s.faultMayHitAnExchange()
		}},
		{"the directory is down for one command", 2, func(s *grantSequence) {
			if err := s.srv.Close(); err != nil {
				s.t.Fatal(err)
			}
			if s.rng.IntN(2) == 0 {
				s.command("plan")
			} else {
				s.command("apply", "-auto-approve")
			}
			if err := s.srv.Start(s.addr); err != nil {
				s.t.Fatal(err)
			}
		}},
	}
	ops = append(ops,
		operation{"renew_in_plan toggles", 2, func(s *grantSequence) {
			s.renewInPlan = !s.renewInPlan
			s.note(fmt.Sprintf("renew_in_plan = %t", s.renewInPlan))
			s.configure()
		}},
		operation{"the directory's answer is lost once", 2, func(s *grantSequence) {
			names := []string{"processed, then 504", "processed, answered after request_timeout"}
			f := []localciam.Fault{{Swallow: true, Status: http.StatusGatewayTimeout}, {AnswerAfter: 3 * time.Second}}
			i := s.rng.IntN(len(f))
			s.note("next token request: " + names[i])
			s.srv.InjectFaults(localciam.TokenPath, f[i])
			s.faultMayHitAnExchange()
			if s.rotating {
				// The directory may rotate and the new refresh token never
				// arrive: only the spent one is held.
				s.mayLose("an answer holding a rotated refresh token was lost")
			}
		}},
		operation{"the user sets a code already sent", 1, func(s *grantSequence) {
			var sent []string
			for _, c := range s.codes {
				if c != s.code && s.srv.Presented(c) > 0 {
					sent = append(sent, c)
				}
			}
			if len(sent) == 0 {
				return
			}
			s.code = sent[s.rng.IntN(len(sent))]
			s.note("the user sets a code already sent")
			s.refusalAllowed = "the user set a code already sent"
			s.configure()
		}},
		operation{"the user destroys and starts over", 1, func(s *grantSequence) {
			if !s.command("destroy", "-auto-approve") {
				return
			}
			s.checkRevoked()
			s.note("the user starts over with a new code")
			s.newCode()
			s.configure()
			s.renewed, s.lossAllowed, s.refusalAllowed, s.lastRefreshToken = false, "", "", ""
		}},
		operation{"an administrator revokes the grant", 1, func(s *grantSequence) {
			if rt := s.tf.stateAttribute("refresh_token"); rt != "" {
				s.note("revoked by an administrator")
				s.srv.RevokeRefreshToken(rt)
				s.mayLose("an administrator revoked it")
			}
		}},
	)
	return ops
}

// run creates the resource, then takes n random operations, checking the
// invariants after each, then destroys it.
func (s *grantSequence) run(n int) {
	s.command("apply", "-auto-approve")
	ops := s.operations()
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	for range n {
		pick := s.rng.IntN(total)
		for _, op := range ops {
			if pick -= op.weight; pick < 0 {
				op.do(s)
				break
			}
		}
		if s.t.Failed() {
			return
		}
	}
	if s.command("destroy", "-auto-approve") {
		s.checkRevoked()
	}
}

// checkRevoked fails when a destroy that succeeded left the grant's refresh
// token working.
func (s *grantSequence) checkRevoked() {
	if s.lossAllowed == "" && s.renewed {
		if rt := s.lastRefreshToken; rt == "" || s.srv.RefreshTokenWorks(rt) {
			s.fail("the destroy did not revoke the refresh token")
		}
	}
}

// faultMayHitAnExchange allows, while a new code waits for its exchange,
// that a fault spends it: the provider then refuses it as sent.
func (s *grantSequence) faultMayHitAnExchange() {
	if !s.renewed && s.refusalAllowed == "" {
		s.refusalAllowed = "a fault may have hit the exchange of a new code"
	}
}

func (s *grantSequence) note(what string) { s.history = append(s.history, what) }

// mayLose records that the grant may now be lost through no fault of the
// provider.
func (s *grantSequence) mayLose(why string) {
	if s.lossAllowed == "" {
		s.lossAllowed = why
	}
}

// needsNewCode reports output that tells the user to get a new code.
func needsNewCode(out string) bool {
	return containsAny(out, "New Authorization Code Needed", "set code to it", "Set code to a new authorization code")
}

func (s *grantSequence) advance(d time.Duration) {
	s.note(fmt.Sprintf("time +%s", d))
	s.clock.Advance(d)
}

func (s *grantSequence) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("seed %d (rotating %t), after %s:\n%s", s.seed, s.rotating, strings.Join(s.history, " | "), fmt.Sprintf(format, args...))
}

// documentedFailures are the errors a command of these sequences may end
// with: the directory failed or was down when the apply had to renew or
// exchange a code, or (only where loss is allowed) the grant was lost.
var documentedFailures = []string{"Error: CIAM Token Not Renewed", "Error: Cannot Reach The CIAM", "Error: Unexpected CIAM Response",
	"Error: CIAM Token Request Failed", "Error: Unusable CIAM Token Response", "Error: CIAM Rejected The Grant (invalid_grant)"}

// lossFailures are the errors of a lost grant.
var lossFailures = []string{"Error: New Authorization Code Needed", "Error: CIAM Refresh Token Rejected"}

// command runs one terraform command and checks every invariant against it.
// It reports whether the command succeeded.
func (s *grantSequence) command(args ...string) bool {
	s.t.Helper()
	before, refreshes := s.srv.Presentations(), s.srv.Attempts(localciam.GrantRefreshToken)
	env := []string{"TF_VAR_code=" + s.code}
	if slices.Contains(args, "tfplan") {
		// A saved plan holds its variables. Terraform 1.11 warns when the
		// environment sets another value, and that warning quotes both
		// values, sensitive or not: no user sets the variable then.
		env = nil
	}
	out, err := s.tf.run(env, args...)
	s.note(strings.Join(args, " "))
	after := s.srv.Presentations()

	for _, c := range s.codes {
		if n := after[c]; n > 1 {
			s.fail("a code reached the directory %d times:\n%s", n, out)
		}
	}
	for v, n := range after {
		if n-before[v] > 1 {
			s.fail("one command sent a single-use value %d times:\n%s", n-before[v], out)
		}
	}
	if n := s.srv.Attempts(localciam.GrantRefreshToken) - refreshes; n > 1 {
		s.fail("one command sent %d refresh requests; a run renews at most once:\n%s", n, out)
	}
	for _, bad := range []string{"inconsistent", "bug in the provider", "panic", "Provider Internal Error"} {
		if strings.Contains(out, bad) {
			s.fail("terraform %s printed %q:\n%s", args[0], bad, out)
		}
	}
	refusal := s.lossAllowed != "" || s.refusalAllowed != ""
	if err != nil && !containsAny(out, documentedFailures...) && (!refusal || !containsAny(out, lossFailures...)) {
		s.fail("terraform %s failed with an undocumented error: %v\n%s", args[0], err, out)
	}
	if s.rotating && s.renewInPlan && err != nil && args[0] == "apply" {
		// A read that renewed in a run that failed: its state is not saved.
		s.mayLose("an apply whose read may have renewed failed (renew_in_plan = true, a rotating directory)")
	}
	secrets := append(append(s.srv.IssuedTokens(), s.codes...), localciam.DemoClientSecret)
	leaktest.AssertNone(s.t, fmt.Sprintf("seed %d: terraform %s", s.seed, strings.Join(args, " ")), out, secrets...)
	if _, leaked := leaktest.Window(out, secrets...); leaked {
		out = leaktest.Scrub(out, secrets...) // reported above; the messages below must not repeat it
	}

	rt := s.tf.stateAttribute("refresh_token")
	if rt != "" {
		s.lastRefreshToken = rt
	}
	if s.lossAllowed == "" && rt != "" {
		if s.srv.ReuseDetected(rt) {
			s.fail("the directory saw a spent refresh token come back and revoked the grant:\n%s", out)
		}
		if err == nil && args[0] == "apply" && !s.srv.RefreshTokenWorks(rt) {
			s.fail("after a successful apply the refresh token in state no longer works:\n%s", out)
		}
	}
	// The resource may be absent from state while its code was sent (a
	// destroy, a tainted object destroyed before its replacement's create
	// was refused): the ledger of sent codes then refuses the code, which
	// the count of codes the directory received checks.
	// An apply that plans now (not a saved plan, which Terraform applies as
	// planned, and not -refresh-only, which plans no change) either renews
	// an expired token or says why not.
	applyNow := args[0] == "apply" && (args[1] == "-auto-approve" || args[1] == "-refresh=false")
	if at, perr := time.Parse(time.RFC3339, s.tf.stateAttribute("expires_at")); applyNow && err == nil && perr == nil && !at.After(s.clock.Now()) &&
		!containsAny(out, "Warning: CIAM Token Not Renewed", "Warning: CIAM Token Due And Not Renewed") {
		s.fail("terraform %s succeeded and keeps a token that expired %s ago, without a word:\n%s", strings.Join(args, " "), s.clock.Now().Sub(at), out)
	}
	if containsAny(out, "New Authorization Code Needed") && !refusal {
		s.fail("the provider declared the grant lost or the code spent, and nothing that could lose or spend it happened:\n%s", out)
	}
	if containsAny(out, "Authorization Code Used Twice") {
		s.fail("one resource's code was called used twice:\n%s", out)
	}
	if needsNewCode(out) {
		// The user follows the advice.
		s.note("the user sets a new code")
		s.newCode()
		s.configure()
		s.renewed, s.refusalAllowed = false, ""
	}
	if err == nil && args[0] == "apply" && rt != "" && s.srv.Presented(s.code) == 1 && !s.renewed {
		// The new code's grant is in state: from here it must not be lost.
		s.lossAllowed, s.renewed = "", true
	}
	return err == nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// apply -refresh=false with renew_in_plan = true (the default) and an
// expired token: no read renews it, and the plan says so instead of keeping
// it silently; an apply that reads then renews it.
func TestAccAuthorizationCodeTokenResource_refreshFalseSaysTheTokenIsExpired(t *testing.T) {
	s := createdGrant(t)
	s.advance(10 * time.Minute)
	before := s.srv.Requests("")
	out, err := s.tf.run([]string{"TF_VAR_code=" + s.code}, "apply", "-refresh=false", "-auto-approve")
	if err != nil {
		t.Fatalf("apply -refresh=false: %v\n%s", err, out)
	}
	wantIn(t, "apply -refresh=false", out, "Warning: CIAM Token Due And Not Renewed", "expired 5m1s ago", "-refresh=false", "terraform apply -refresh-only")
	if n := s.srv.Requests("") - before; n != 0 {
		t.Errorf("apply -refresh=false sent %d requests", n)
	}
	out, err = s.tf.run([]string{"TF_VAR_code=" + s.code}, "apply", "-auto-approve")
	if err != nil || strings.Contains(out, "Due And Not Renewed") || s.srv.Attempts(localciam.GrantRefreshToken) != 1 {
		t.Errorf("the apply that reads did not renew once (%d refreshes, err %v):\n%s", s.srv.Attempts(localciam.GrantRefreshToken), err, out)
	}
}

// A plan whose read tried to renew a due token and failed (HTTP 503) says
// that once, as the read's warning: it does not also claim that no read saw
// the token.
func TestAccAuthorizationCodeTokenResource_failedReadRenewalWarnsOnce(t *testing.T) {
	s := createdGrant(t)
	s.advance(10 * time.Minute)
	s.srv.InjectFaults(localciam.TokenPath, localciam.Fault{Status: http.StatusServiceUnavailable}, localciam.Fault{Status: http.StatusServiceUnavailable},
		localciam.Fault{Status: http.StatusServiceUnavailable}, localciam.Fault{Status: http.StatusServiceUnavailable})
	out, err := s.tf.run([]string{"TF_VAR_code=" + s.code}, "plan")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	wantIn(t, "the plan", out, "Warning: CIAM Token Not Renewed", "HTTP 503")
	if strings.Contains(out, "Due And Not Renewed") {
		t.Errorf("the plan whose read failed to renew also says no read saw the token:\n%s", out)
	}
}

// A destroy whose CIAM_AUTH_DOMAIN or CIAM_CLIENT_SECRET is set but
// unusable (a final newline, a tab) fails and keeps the live grant in
// state, instead of dropping it with a warning; once the variable is
// right, the destroy revokes it.
func TestAccAuthorizationCodeTokenResource_destroyWithAnUnusableSettingKeepsTheGrant(t *testing.T) {
	for _, tc := range []struct{ env, says string }{
		{envAuthDomain, "Error: Invalid CIAM Auth Domain"},
		{envClientSecret, "Error: Leading Or Trailing Whitespace"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			s := createdGrant(t)
			rt := s.tf.stateAttribute("refresh_token")
			good := localciam.DemoClientSecret
			if tc.env == envAuthDomain {
				main, err := os.ReadFile(filepath.Join(s.tf.dir, "main.tf"))
				if err != nil {
					t.Fatal(err)
				}
				s.tf.write(strings.Replace(string(main), fmt.Sprintf("  auth_domain     = %q\n", s.srv.URL()), "", 1))
				good = s.srv.URL()
			}
			t.Setenv(tc.env, good+"\n\t") // the provider is served by this process
			out, err := s.tf.run([]string{"TF_VAR_code=" + s.code}, "destroy", "-auto-approve")
			if err == nil {
				t.Fatalf("a destroy with an unusable %s succeeded:\n%s", tc.env, out)
			}
			wantIn(t, "the destroy", out, tc.says, tc.env+" environment variable", "stays in state", "terraform state rm")
			if s.tf.stateAttribute("refresh_token") != rt || !s.srv.RefreshTokenWorks(rt) {
				t.Fatal("the grant left state, or stopped working")
			}
			t.Setenv(tc.env, good)
			if out, err := s.tf.run([]string{"TF_VAR_code=" + s.code}, "destroy", "-auto-approve"); err != nil {
				t.Fatalf("the destroy with %s corrected: %v\n%s", tc.env, err, out)
			}
			if s.srv.RefreshTokenWorks(rt) {
				t.Error("the destroy did not revoke the grant")
			}
		})
	}
}

// createdGrant is a sequence (seed 0, a directory that does not rotate)
// whose resource was created, with the provider's credentials from the
// environment.
func createdGrant(t *testing.T) *grantSequence {
	t.Helper()
	unsetCIAMEnv(t)
	t.Setenv(envClientID, localciam.DemoClientID)
	t.Setenv(envClientSecret, localciam.DemoClientSecret)
	s := newGrantSequence(t, 0, false)
	if !s.command("apply", "-auto-approve") {
		t.Fatal("create failed")
	}
	return s
}

func wantIn(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}
