package soak

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// DocumentedFailures are the errors a command may end with when the step
// put a fault in the directory's way (or the directory was down) while the
// run had to renew or exchange a code; docs/guides/troubleshooting.md lists
// them.
var DocumentedFailures = []string{"Error: CIAM Token Not Renewed", "Error: Cannot Reach The CIAM", "Error: Unexpected CIAM Response",
	"Error: CIAM Token Request Failed", "Error: Unusable CIAM Token Response"}

// LossFailures are the errors of a lost grant or a spent code: allowed only
// where the model allows a loss or a refusal.
var LossFailures = []string{"Error: New Authorization Code Needed", "Error: CIAM Refresh Token Rejected",
	"Error: CIAM Rejected The PKCE Exchange (invalid_client)", "Error: CIAM Rejected The Grant (invalid_grant)"}

// interruptedFailures are the endings of a command interrupted by Ctrl-C.
// The last is Terraform's word for a provider that the Ctrl-C reached
// while its process was still being loaded, before it ignores SIGINT
// (internal/ctrlc): nothing was sent (docs/guides/troubleshooting.md;
// seed 13001).
var interruptedFailures = []string{"Interrupt received", "execution halted", "Destroy Interrupted", "context canceled", "operation canceled",
	startingProviderStopped}

const startingProviderStopped = "Failed to read any lines from plugin's stdout"

// errorTitle finds the summary of each error terraform printed.
var errorTitle = regexp.MustCompile(`(?m)^[\s│╷]*Error: (.+?)\s*$`)

// bugs are what no command may print.
var bugs = []string{"inconsistent", "bug in the provider", "panic:", "goroutine ", "Provider Internal Error", "Plugin did not respond"}

// NeedsNewCode reports output that tells the user to get a new code.
func NeedsNewCode(out string) bool {
	return ContainsAny(out, "New Authorization Code Needed", "set code to it", "Set code to a new authorization code")
}

// titled reports whether an error's title is one of titles, which may
// leave out a final part such as " (HTTP 503)".
func titled(title string, titles []string) bool {
	return slices.ContainsFunc(titles, func(t string) bool { return title == t || strings.HasPrefix(title, t+" (") })
}

// ContainsAny reports whether s contains any of subs.
func ContainsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// fail records the first violation. Nothing is one once the campaign is
// being stopped: its commands are killed.
func (r *Run) fail(format string, args ...any) {
	if r.violation != nil || r.ctx.Err() != nil {
		return
	}
	rec := string(r.srv.Records())
	if rt := r.lastRefreshToken; rt != "" {
		rec += fmt.Sprintf("\nthe last refresh token in state: %+v", r.srv.Refresh(rt))
	}
	rec += "\nthe local CIAM's request log:\n" + r.requests.String()
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
	reuseBefore := map[string]localciam.RefreshRecord{}
	for v := range before {
		reuseBefore[v] = r.srv.Refresh(v)
	}
	stateCode, stateRT := GrantAttribute(r.ws, "code"), GrantAttribute(r.ws, "refresh_token")
	var aliveBefore bool // for unfinishedDestroy
	var revokesBefore int64
	if args[0] == "destroy" {
		aliveBefore, revokesBefore = r.srv.CodeGrant(stateCode).Alive, r.srv.Requests(localciam.RevokePath)
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
	// A read renews with the setting in state (a plan that changes it
	// still reads with the old one), and only a read renews in a plan.
	renewsInPlan := r.choices.Rotating && GrantAttribute(r.ws, "renew_in_plan") == "true"
	if time.Since(r.codeIssued) > 4*time.Minute && !r.renewed && r.refusalAllowed == "" {
		r.refusalAllowed = "the code may have expired (codes live 5 minutes)"
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
	// A handler may still be recording what a client that gave up did.
	r.srv.WaitIdle(10 * time.Second)
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
	r.checkStateFiles(all, never, "after terraform "+what)
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
		rec, was := r.srv.Refresh(v), reuseBefore[v]
		if rec.ReusePresentations > was.ReusePresentations {
			r.stats.Reuses++
			if excuse := r.excused[v]; !rec.SuccessorLost && excuse == "" {
				r.fail("a refresh token reached the directory after it rotated it away, and the answer that rotated it was not lost (invariant 2):\n%s", out)
			}
			// The first rejection that reaches the provider must be told;
			// a later read of the same state may try the token again (and
			// hear the same). A fault may lose the rejection (the
			// directory's records say). A destroy needs no new code:
			// invariant 4 checks it.
			reached := rec.ReusePresentations-was.ReusePresentations > rec.ReuseAnswersLost-was.ReuseAnswersLost
			if !r.rejectionTold[v] && reached && !res.Interrupted && args[0] != "destroy" {
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
	r.checkErrors(res, what, out, refusal)
	if args[0] == "destroy" && res.Err != nil && res.Interrupted {
		r.unfinishedDestroy(stateCode, aliveBefore, revokesBefore)
	}
	switch {
	case res.Interrupted:
		r.excuseRotations(before, after, "Ctrl-C while the directory rotated it")
		r.faultMayHitAnExchange()
	case renewsInPlan && (res.Err != nil || args[0] == "plan" && !slices.Contains(args, "-out=tfplan")):
		r.excuseRotations(before, after, "a run that renewed in plan (renew_in_plan = true, a rotating directory) saved no state, as documented")
	}
	r.checkGrant(res, started, args, out, refusal)
	if args[0] == "destroy" && res.Err == nil {
		r.checkDestroyed(stateCode, stateRT, out)
	}
	return res.Err == nil
}

// checkErrors checks invariant 6 for each error a command printed: a
// documented one, where the step's faults (or the directory down) or a loss
// or refusal the model allows explains it. An interrupted command may end
// in anything but a bug.
func (r *Run) checkErrors(res Result, what, out string, refusal bool) {
	if res.Err == nil || res.Interrupted {
		if res.Err != nil && !diedOfTheSignal(res.Err, res.Out) && !ContainsAny(out, append(append(interruptedFailures, DocumentedFailures...), LossFailures...)...) {
			r.fail("terraform %s, interrupted, failed without saying why: %v\n%s", what, res.Err, out)
		}
		return
	}
	titles := errorTitle.FindAllStringSubmatch(res.Out, -1)
	if len(titles) == 0 {
		r.fail("terraform %s failed without an error: %v (invariant 6)\n%s", what, res.Err, out)
	}
	for _, m := range titles {
		title := "Error: " + m[1]
		documentedFault, loss := titled(title, DocumentedFailures), titled(title, LossFailures)
		switch {
		case documentedFault && r.faulty:
		case loss && refusal:
		case documentedFault || loss:
			r.fail("terraform %s failed with %q, and no fault, loss or refusal of this run explains it (invariant 6):\n%s", what, title, out)
		default:
			r.fail("terraform %s failed with an undocumented error %q (invariant 6):\n%s", what, title, out)
		}
	}
}

// unfinishedDestroy allows the loss of the grant of code when a destroy
// that Ctrl-C cut off left it in state, and yet its revocation reached the
// directory, which ended the grant: the user asked for that, and a client
// that gave up on the answer cannot tell (a directory acts on a request
// whose client has left). The provider then says a new code is needed, or
// fails with a loss error, when it next renews: invariant 6 allows only
// those (seed 4006). A provider that got the revocation's answer and still
// called the destroy interrupted would pass this: the local CIAM does not
// record whether a revocation's answer reached the client.
func (r *Run) unfinishedDestroy(code string, aliveBefore bool, revokesBefore int64) {
	if aliveBefore && code != "" && GrantAttribute(r.ws, "code") == code &&
		r.srv.Requests(localciam.RevokePath) > revokesBefore && !r.srv.CodeGrant(code).Alive {
		r.mayLose("a destroy that did not finish revoked the grant at the directory")
	}
}

// diedOfTheSignal reports whether a command that printed out ended with
// err as a process that Ctrl-C (SIGINT) ended before it could handle it:
// terraform still starting, with nothing printed and nothing to say (seed
// 6005). Any other signal, or any output, is not that.
func diedOfTheSignal(err error, out string) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) || strings.TrimSpace(out) != "" {
		return false
	}
	status, ok := exit.Sys().(interface {
		Signaled() bool
		Signal() syscall.Signal
	})
	return ok && status.Signaled() && status.Signal() == syscall.SIGINT
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
