package provider

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
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
//   - a code reaches the directory at most once, ever;
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
	// renewed is false from the moment the user sets a new code until an
	// apply stores the grant it was exchanged for.
	renewed bool
	// lastRefreshToken is the last refresh token seen in state.
	lastRefreshToken string
	history          []string
}

// invariantSeeds are the sequences every test run checks.
var invariantSeeds = []struct {
	seed     uint64
	rotating bool
}{{1, false}, {2, true}, {3, false}, {4, true}, {100, false}, {103, true}}

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
			if s.rotating {
				// The directory may rotate and the new refresh token never
				// arrive: only the spent one is held.
				s.mayLose("an answer holding a rotated refresh token was lost")
			}
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
	if s.command("destroy", "-auto-approve") && s.lossAllowed == "" {
		if rt := s.lastRefreshToken; rt == "" || s.srv.RefreshTokenWorks(rt) {
			s.fail("the destroy did not revoke the refresh token")
		}
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
	out, err := s.tf.run([]string{"TF_VAR_code=" + s.code}, args...)
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
	if err != nil && !containsAny(out, documentedFailures...) && (s.lossAllowed == "" || !containsAny(out, lossFailures...)) {
		s.fail("terraform %s failed with an undocumented error: %v\n%s", args[0], err, out)
	}
	if s.rotating && s.renewInPlan && err != nil && args[0] == "apply" {
		// A read that renewed in a run that failed: its state is not saved.
		s.mayLose("an apply whose read may have renewed failed (renew_in_plan = true, a rotating directory)")
	}
	leaktest.AssertNone(s.t, fmt.Sprintf("seed %d: terraform %s", s.seed, strings.Join(args, " ")), out,
		append(append(s.srv.IssuedTokens(), s.codes...), localciam.DemoClientSecret)...)

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
	if rt == "" && args[0] != "destroy" && len(s.history) > 1 {
		s.fail("the resource left state (the next apply would create it with its spent code):\n%s", out)
	}
	// An apply that plans now (not a saved plan, which Terraform applies as
	// planned, and not -refresh-only, which plans no change) either renews
	// an expired token or says why not.
	applyNow := args[0] == "apply" && (args[1] == "-auto-approve" || args[1] == "-refresh=false")
	if at, perr := time.Parse(time.RFC3339, s.tf.stateAttribute("expires_at")); applyNow && err == nil && perr == nil && !at.After(s.clock.Now()) &&
		!containsAny(out, "Warning: CIAM Token Not Renewed", "Warning: CIAM Token Due And Not Renewed") {
		s.fail("terraform %s succeeded and keeps a token that expired %s ago, without a word:\n%s", strings.Join(args, " "), s.clock.Now().Sub(at), out)
	}
	if containsAny(out, "New Authorization Code Needed") && s.lossAllowed == "" {
		s.fail("the provider declared the grant lost, and nothing that could lose it happened:\n%s", out)
	}
	if needsNewCode(out) {
		// The user follows the advice.
		s.note("the user sets a new code")
		s.newCode()
		s.configure()
		s.renewed = false
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
	unsetCIAMEnv(t)
	t.Setenv(envClientID, localciam.DemoClientID)
	t.Setenv(envClientSecret, localciam.DemoClientSecret)
	s := newGrantSequence(t, 0, false)
	if !s.command("apply", "-auto-approve") {
		t.Fatal("create failed")
	}
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

func wantIn(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}
