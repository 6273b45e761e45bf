package soak

import (
	"slices"
	"strings"
	"time"
)

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
// command: while the grant of the code in state lives at the directory,
// state holds its working refresh token.
func (r *Run) checkGrant(res Result, started time.Time, args []string, out string, refusal bool) {
	rt := GrantAttribute(r.ws, "refresh_token")
	if rt != "" {
		r.lastRefreshToken = rt
		if rec := r.srv.Refresh(rt); rec.SuccessorLost && r.choices.Rotating {
			r.mayLose("the answer that rotated the refresh token was lost after the directory acted")
		}
	}
	grant := r.srv.CodeGrant(GrantAttribute(r.ws, "code"))
	// After plan -out the renewed token is in the plan, and state gets it
	// when the plan is applied. A grant whose exchange answer was lost no
	// client can hold.
	if r.lossAllowed == "" && grant.Alive && !grant.FirstAnswerLost && rt != grant.Live && !slices.Contains(args, "-out=tfplan") {
		r.fail("the grant of the code in state lives at the directory, and state holds no refresh token it accepts (invariant 3):\n%s", out)
	}
	if r.lossAllowed == "" && rt != "" && r.srv.ReuseDetected(rt) {
		r.fail("the directory saw a spent refresh token come back and revoked the grant (invariant 3):\n%s", out)
	}
	if r.lossAllowed == "" && res.Err == nil && args[0] == "apply" && rt != "" && !r.srv.RefreshTokenWorks(rt) {
		r.fail("after a successful apply the refresh token in state no longer works (invariant 3):\n%s", out)
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
	if res.Err == nil && args[0] == "apply" && rt != "" && r.srv.Presented(r.code) == 1 && !r.renewed && r.srv.RefreshTokenWorks(rt) {
		// The new code's grant is in state: from here it must not be lost.
		// (Not a lost grant that an apply kept: the user may set the code
		// in state again, and -refresh=false then reads nothing; seed
		// 8004.)
		r.lossAllowed, r.renewed = "", true
		r.excused = map[string]string{}
		r.stats.Grants++
	}
}

// checkDestroyed checks invariant 4 after a destroy that succeeded: the
// grant of the code that was in state is revoked at the directory, or the
// output says it was not. A grant the run may have lost (its token rotated
// away) the provider cannot revoke, unless state held its working token.
func (r *Run) checkDestroyed(code, rt, out string) {
	grant := r.srv.CodeGrant(code)
	if !grant.Alive || grant.FirstAnswerLost || strings.Contains(out, "CIAM Token Not Revoked") {
		return
	}
	if r.lossAllowed == "" || rt == grant.Live {
		r.fail("the destroy left the grant live at the directory without a warning (invariant 4):\n%s", out)
	}
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
