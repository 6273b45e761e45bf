package soak

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// DocumentedFailures are the errors a command of a campaign may end with:
// the directory failed or was down when the run had to renew or exchange a
// code (docs/resources/authorization_code_token.md lists them).
var DocumentedFailures = []string{"Error: CIAM Token Not Renewed", "Error: Cannot Reach The CIAM", "Error: Unexpected CIAM Response",
	"Error: CIAM Token Request Failed", "Error: Unusable CIAM Token Response", "Error: CIAM Rejected The Grant (invalid_grant)"}

// LossFailures are the errors of a lost grant or a spent code: allowed only
// where the model allows a loss or a refusal.
var LossFailures = []string{"Error: New Authorization Code Needed", "Error: CIAM Refresh Token Rejected", "Error: CIAM Rejected The PKCE Exchange (invalid_client)"}

// interruptedFailures are the endings of a command interrupted by Ctrl-C.
var interruptedFailures = []string{"Interrupt received", "execution halted", "Destroy Interrupted", "context canceled", "operation canceled"}

// bugs are what no command may print.
var bugs = []string{"inconsistent", "bug in the provider", "panic:", "goroutine ", "Provider Internal Error", "Plugin did not respond"}

// NeedsNewCode reports output that tells the user to get a new code.
func NeedsNewCode(out string) bool {
	return ContainsAny(out, "New Authorization Code Needed", "set code to it", "Set code to a new authorization code")
}

// ContainsAny reports whether s contains any of subs.
func ContainsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// fail records the first violation.
func (r *Run) fail(format string, args ...any) {
	if r.violation != nil {
		return
	}
	rec := string(r.srv.Records())
	if rt := r.lastRefreshToken; rt != "" {
		rec += fmt.Sprintf("\nthe last refresh token in state: %+v", r.srv.Refresh(rt))
	}
	r.violation = &Violation{Seed: r.seed, Choices: r.choices, History: slices.Clone(r.history), What: fmt.Sprintf(format, args...), Records: rec}
}

// secrets returns every secret of the run, named, and the ones that may
// be in no state or plan file at all.
func (r *Run) secrets() (all, never map[string]string) {
	all, never = map[string]string{}, map[string]string{
		"the client secret": localciam.DemoClientSecret, "the SCIM client secret": localciam.DemoSCIMClientSecret,
	}
	for i, tok := range r.srv.IssuedTokens() {
		name := fmt.Sprintf("issued token #%d", i)
		all[name] = tok
		if r.choices.Alongside == "ephemeral scim" && strings.HasPrefix(tok, "OAUTH2") {
			never["ephemeral SCIM token #"+fmt.Sprint(i)] = tok
		}
	}
	for i, c := range r.codes {
		all[fmt.Sprintf("code #%d", i)] = c
	}
	for i, v := range r.verifiers {
		all[fmt.Sprintf("code verifier #%d", i)] = v
	}
	for k, v := range never {
		all[k] = v
	}
	return all, never
}

// command runs one terraform command, Ctrl-C'd interruptAfter after its
// start when that is not zero, and checks every invariant against it. It
// reports whether the command succeeded.
func (r *Run) command(interruptAfter time.Duration, args ...string) bool {
	if r.violation != nil || r.ctx.Err() != nil {
		return false
	}
	before := r.srv.Presentations()
	reuseBefore := map[string]int64{}
	for v := range before {
		reuseBefore[v] = r.srv.Refresh(v).ReusePresentations
	}
	refreshes := r.srv.Attempts(localciam.GrantRefreshToken)
	env := []string{"TF_VAR_code=" + r.code}
	if r.verifier != "" {
		env = append(env, "TF_VAR_verifier="+r.verifier)
	}
	saved := slices.Contains(args, "tfplan")
	if saved {
		// A saved plan holds its variables; Terraform warns, quoting both
		// values, when the environment sets others: no user sets them then.
		env = nil
	}
	renewsInPlan := r.choices.Rotating && r.renewInPlan
	if renewsInPlan && args[0] == "plan" && !slices.Contains(args, "-out=tfplan") {
		r.mayLose("a plan that may have renewed is thrown away (renew_in_plan = true, a rotating directory)")
	}
	started := r.env.Now()
	res := r.ws.Run(r.ctx, env, interruptAfter, args...)
	what := strings.Join(args, " ")
	if res.Interrupted {
		what += fmt.Sprintf(" (Ctrl-C after %s)", interruptAfter)
	}
	r.note(what + r.outcome(res))
	if r.ctx.Err() != nil {
		return false
	}
	out := strings.Join(strings.Fields(res.Out), " ")
	after := r.srv.Presentations()

	all, never := r.secrets()
	index := leaktest.NewIndex(leaktest.ClientID, all)
	if w, ok := index.Find(res.Out); ok {
		r.fail("terraform %s printed a secret: %s", what, w)
	}
	if w, ok := index.Find(res.Log); ok {
		r.fail("the TF_LOG=trace log of terraform %s holds a secret: %s", what, w)
	}
	r.checkStateFile(index, leaktest.NewIndex(leaktest.ClientID, never), "the state file after terraform "+what)
	out = leaktest.Scrub(out, values(all)...) // for the messages below
	r.lastOutput = out

	if res.Stuck {
		r.fail("terraform %s did not end within a minute of Ctrl-C:\n%s", what, out)
	}
	for _, c := range r.codes {
		if n := after[c]; n > 1 {
			r.fail("a code reached the directory %d times (invariant 1):\n%s", n, out)
		}
	}
	for v, n := range after {
		if n-before[v] > 1 {
			r.fail("one command sent a single-use value %d times:\n%s", n-before[v], out)
		}
		if n == before[v] {
			continue
		}
		rec := r.srv.Refresh(v)
		if rec.ReusePresentations > reuseBefore[v] {
			r.stats.Reuses++
			if excuse := r.excused[v]; !rec.SuccessorLost && excuse == "" {
				r.fail("a refresh token reached the directory after it rotated it away, and the answer that rotated it was not lost (invariant 2):\n%s", out)
			}
			// The first rejection that reaches the provider must be told;
			// a later read of the same state may try the token again (and
			// hear the same). A fault may lose the rejection too. A
			// destroy needs no new code: invariant 4 checks it.
			if !r.rejectionTold[v] && !r.answersMayBeLost && !res.Interrupted && args[0] != "destroy" {
				if !NeedsNewCode(out) && !ContainsAny(out, LossFailures...) && !ContainsAny(out, "Refresh Token Rejected") {
					r.fail("a refresh token came back after its rotation was lost, and the provider did not say that a new code is needed (invariant 2):\n%s", out)
				}
				r.rejectionTold[v] = true
			}
		}
	}
	if n := r.srv.Attempts(localciam.GrantRefreshToken) - refreshes; n > 1 {
		r.fail("one command sent %d refresh requests; a run renews at most once:\n%s", n, out)
	}
	for _, bad := range bugs {
		if strings.Contains(res.Out, bad) {
			r.fail("terraform %s printed %q (invariant 6):\n%s", what, bad, out)
		}
	}
	refusal := r.lossAllowed != "" || r.refusalAllowed != ""
	if res.Err != nil && !res.Interrupted && !ContainsAny(out, DocumentedFailures...) && (!refusal || !ContainsAny(out, LossFailures...)) {
		r.fail("terraform %s failed with an undocumented error: %v (invariant 6)\n%s", what, res.Err, out)
	}
	if res.Err != nil && res.Interrupted && !ContainsAny(out, append(append(interruptedFailures, DocumentedFailures...), LossFailures...)...) {
		r.fail("terraform %s, interrupted, failed without saying why: %v\n%s", what, res.Err, out)
	}
	if renewsInPlan && res.Err != nil && (args[0] == "apply" || args[0] == "plan") {
		// A read that renewed in a run that failed: its state is not saved.
		r.mayLose("a run whose read may have renewed failed (renew_in_plan = true, a rotating directory)")
	}
	switch {
	case res.Interrupted:
		r.excuseRotations(before, after, "Ctrl-C while the directory rotated it")
		r.faultMayHitAnExchange()
	case renewsInPlan && (res.Err != nil || args[0] == "plan" && !slices.Contains(args, "-out=tfplan")):
		r.excuseRotations(before, after, "a run that renewed in plan (renew_in_plan = true, a rotating directory) saved no state, as documented")
	}
	r.checkGrant(res, started, args, out, refusal)
	return res.Err == nil
}

// outcome is how a command ended, for the history.
func (r *Run) outcome(res Result) string {
	switch {
	case res.Err == nil:
		return ": ok"
	case res.Stuck:
		return ": stuck"
	default:
		return ": failed"
	}
}

// excuseRotations excuses the refresh tokens that a command presented and
// the directory rotated away, where the command may have lost the answer
// with their successor: a Ctrl-C (whether the answer arrived, only the
// client can tell), or a run with renew_in_plan = true on a rotating
// directory whose state was not saved (the documented cost of that
// setting). Where that leaves state with a rotated-away token, the grant
// may be lost.
func (r *Run) excuseRotations(before, after map[string]int64, why string) {
	for v, n := range after {
		if n > before[v] {
			if rec := r.srv.Refresh(v); rec.Rotated {
				r.excused[v] = why
			}
		}
	}
	if rt := GrantAttribute(r.ws, "refresh_token"); rt != "" && r.excused[rt] != "" {
		r.mayLose(r.excused[rt])
	}
}

// checkGrant checks invariant 3 and the model's bookkeeping after a
// command.
func (r *Run) checkGrant(res Result, started time.Time, args []string, out string, refusal bool) {
	rt := GrantAttribute(r.ws, "refresh_token")
	if rt != "" {
		r.lastRefreshToken = rt
		rec := r.srv.Refresh(rt)
		if rec.SuccessorLost && r.choices.Rotating {
			r.mayLose("the answer that rotated the refresh token was lost after the directory acted")
		}
		if r.lossAllowed == "" {
			if r.srv.ReuseDetected(rt) {
				r.fail("the directory saw a spent refresh token come back and revoked the grant (invariant 3):\n%s", out)
			}
			// After plan -out the renewed token is in the plan, and state
			// gets it when the plan is applied.
			if rec.GrantAlive && !rec.Works && !slices.Contains(args, "-out=tfplan") {
				r.fail("the grant lives at the directory, and state holds a refresh token it no longer accepts (invariant 3):\n%s", out)
			}
			if res.Err == nil && args[0] == "apply" && !rec.Works {
				r.fail("after a successful apply the refresh token in state no longer works (invariant 3):\n%s", out)
			}
		}
	}
	// An apply that plans now (not a saved plan, which Terraform applies as
	// planned, and not -refresh-only, which plans no change) either renews
	// a token that had expired before it started, or says why not.
	applyNow := args[0] == "apply" && (args[1] == "-auto-approve" || args[1] == "-refresh=false")
	if at, err := time.Parse(time.RFC3339, GrantAttribute(r.ws, "expires_at")); applyNow && res.Err == nil && err == nil && !at.After(started) &&
		!ContainsAny(out, "Warning: CIAM Token Not Renewed", "Warning: CIAM Token Due And Not Renewed") {
		r.fail("terraform %s succeeded and keeps a token that had expired %s before it started, without a word:\n%s", strings.Join(args, " "), started.Sub(at), out)
	}
	if ContainsAny(out, "New Authorization Code Needed") && !refusal && !res.Interrupted {
		r.fail("the provider declared the grant lost or the code spent, and nothing that could lose or spend it happened:\n%s", out)
	}
	if ContainsAny(out, "Authorization Code Used Twice") {
		r.fail("one resource's code was called used twice:\n%s", out)
	}
	if NeedsNewCode(out) || (refusal && ContainsAny(out, LossFailures...)) {
		// The user follows the advice.
		r.note("the user sets a new code")
		r.newCode()
		_ = r.configure()
		r.renewed, r.refusalAllowed = false, ""
	}
	if res.Err == nil && args[0] == "apply" && rt != "" && r.srv.Presented(r.code) == 1 && !r.renewed {
		// The new code's grant is in state: from here it must not be lost.
		r.lossAllowed, r.renewed = "", true
		r.excused = map[string]string{}
		r.stats.Grants++
	}
}

// checkDestroyed checks invariant 4 after a destroy that succeeded: the
// grant's refresh token is revoked, or the output says it was not.
func (r *Run) checkDestroyed() {
	rt := r.lastRefreshToken
	if rt == "" || !r.srv.RefreshTokenWorks(rt) {
		return
	}
	last := ""
	if len(r.history) > 0 {
		last = r.history[len(r.history)-1]
	}
	if !strings.Contains(r.lastOutput, "CIAM Token Not Revoked") {
		r.fail("the destroy left the grant's refresh token working without a warning (invariant 4), after %s:\n%s", last, r.lastOutput)
	}
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
