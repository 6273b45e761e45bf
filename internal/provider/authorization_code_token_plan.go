package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// This file holds the plan rules of ciam_authorization_code_token: which
// changes need a new code, and whether the apply renews.
//
// Terraform plans each resource again during the apply, in a new provider
// process, and a value known in the first plan must stay as it was; unknown
// may become known. So the decision to renew at apply depends on the state,
// its private part (grantPrivate) and the configuration, and on the clock
// only where a plan made again later must agree (see ModifyPlan).

// ModifyPlan plans the exchange of a new code (in place, by the apply),
// refuses a code this resource sent before and a lost grant's code,
// refuses changes that only a new code can satisfy while code stays the same
// (the grant was issued for the old values), leaves the renewal to the apply
// when this run's read did not decide it (see readDecided), and warns about
// a min_remaining that makes every run renew.
func (r *authorizationCodeTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if req.State.Raw.IsNull() {
		// A create (or the replacement of a tainted object, which Terraform
		// plans as one): it sends its code, unless a state read in this run
		// records the code as sent (only a read: see
		// providerData.sentRead).
		var code types.String
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("code"), &code)...)
		if !code.IsUnknown() && r.refuseSentCode(code.ValueString(), &resp.Diagnostics) {
			return
		}
		// The apply destroys the object a create replaces before it creates,
		// and that Delete gets, as its private state, this plan's planned
		// private state. For a -replace, Terraform plans with the object's
		// own private state, which is kept (its client, directory, codes);
		// a tainted object's is not handed here. Either way the codes that
		// reads of this run noted go with it to that Delete, which notes
		// them for the Create after it (see providerData.sentDestroyed).
		// With -refresh=false no read noted them, and a tainted object
		// carries only its own code on.
		if marks := r.data.readMarks(); len(marks) > 0 {
			g := loadGrantPrivate(ctx, req.Private)
			g.inheritSent(marks)
			resp.Diagnostics.Append(g.save(ctx, resp.Private)...)
		}
		return
	}
	var plan, state authorizationCodeTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	grant := loadGrantPrivate(ctx, req.Private)
	switch {
	case plan.Code.IsUnknown() || !plan.Code.Equal(state.Code):
		// A new code (or one not known yet, which may be new): the apply
		// exchanges it, or, the same after all, renews as Update decides.
		// Either way the token attributes are unknown until then, and the
		// plan made again during the apply agrees.
		if !plan.Code.IsUnknown() && grant.sent(plan.Code.ValueString()) {
			resp.Diagnostics.AddError("New Authorization Code Needed", codeSent(&state, r.grantClientID(&state, grant)))
			return
		}
		if !plan.Code.IsUnknown() && r.refuseSentCode(plan.Code.ValueString(), &resp.Diagnostics) {
			return
		}
		r.leaveTokensToTheApply(ctx, resp)
		return
	case grant.Lost != "":
		resp.Diagnostics.AddError("New Authorization Code Needed", grantLost(&state, r.grantClientID(&state, grant), grant.Lost))
		return
	}
	resp.Diagnostics.Append(r.sameGrant(&plan, &state, grant)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(minRemainingWarning(&state, plan.MinRemaining)...)
	// A missing auth_domain does not end it here: the apply may have one (a
	// saved plan applied in another environment), and a renewal the apply
	// cannot make fails there with an error that says so.
	if state.RefreshToken.ValueString() == "" || r.data == nil {
		return // nothing to renew with
	}
	if readDecided(&plan, &state, grant) {
		// A read renews (renew_in_plan = true), or this run's read decided.
		// A due token that no read of this run saw (-refresh=false, or a
		// saved plan's resource planned again at apply) is not renewed by
		// this run: say so, rather than keep it silently.
		if _, remaining, minRemaining, due := state.renewalDue(plan.MinRemaining, r.data.clock()); due && !r.data.readHere(state.RefreshToken.ValueString()) {
			resp.Diagnostics.AddWarning("CIAM Token Due And Not Renewed", dueAndNotRenewed(&state, r.grantClientID(&state, grant), remaining, minRemaining))
		}
		return
	}
	// Otherwise the apply renews if the token is due by then, under the
	// min_remaining it then has. A token fresh now may be due then (a saved
	// plan, a prompt that waits), and min_remaining may not be known yet. So
	// the token attributes are unknown, for Update to decide, whenever the
	// apply updates the resource anyway, and when the token is due now.
	//
	// The clock is read here, and that is safe: a token due now is due at
	// any later time, so the plan made again during the apply leaves the
	// attributes unknown too; and a plan that changes nothing is not made
	// again during the apply (Terraform applies no-op changes without asking
	// the provider), so a token that became due meanwhile cannot turn a
	// known value unknown.
	if _, _, _, due := state.renewalDue(plan.MinRemaining, r.data.clock()); !due && req.Plan.Raw.Equal(req.State.Raw) {
		return
	}
	r.leaveTokensToTheApply(ctx, resp)
}

// refuseSentCode adds the error of a code that a state read in this run,
// or this machine's ledger, records as sent, and reports whether it did.
// The resource's own codes (grantPrivate.SentCodes) are checked apart. A
// code in the ledger that another resource's exchange in this run sent
// (the plan Terraform makes again just before a create, after the other
// create) is refused naming that resource, not the ledger. Only the
// message depends on it: this run's exchanges never refuse a plan by
// themselves, since the plan made again during an apply, after the
// destroy of an object a create replaces, must not fail while nothing
// else remembers that object's codes (see providerData.sentRead); the
// create's exchange then refuses the code (claimCode) and keeps them.
func (r *authorizationCodeTokenResource) refuseSentCode(code string, diags *diag.Diagnostics) bool {
	switch {
	case r.data.sentBeforeHere(code, true):
		diags.AddError("New Authorization Code Needed", codeSentBefore)
	case r.data.inLedger(code, diags):
		if r.data.exchangedHere(code) {
			diags.AddError("Authorization Code Used Twice", codeUsedTwice)
		} else {
			diags.AddError("New Authorization Code Needed", codeInLedger)
		}
	default:
		return false
	}
	return true
}

// leaveTokensToTheApply marks the attributes a renewal or an exchange
// changes unknown: the apply decides them.
func (r *authorizationCodeTokenResource) leaveTokensToTheApply(ctx context.Context, resp *resource.ModifyPlanResponse) {
	for _, a := range renewedAttributes {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a.name), unknownOf(a))...)
	}
}

func isTrueOrNull(b types.Bool) bool { return b.IsNull() || b.IsUnknown() || b.ValueBool() }

// readDecided reports whether this run's Read decided the renewal, so that
// the apply must not renew: Read sent a refresh (whatever came of it: a
// refresh token is single-use), or the directory refused the client and
// the configuration has the same one, or Read renews (renew_in_plan was and
// stays true, and the settings were known) under the min_remaining the plan
// keeps.
// It reads the state, its private part and the configuration, never the
// clock: the plan and the plan made again during the apply agree.
func readDecided(plan, state *authorizationCodeTokenModel, grant grantPrivate) bool {
	mark := renewalMark(state.RefreshToken.ValueString())
	switch {
	case grant.ReadRenewal == mark:
		return true // one refresh per run
	case grant.ReadRefused == mark:
		// Refused with the block's credentials in state (or the provider's,
		// which the apply has too): only other ones may do better.
		return plan.ClientID.Equal(state.ClientID) && plan.ClientSecret.Equal(state.ClientSecret)
	case grant.ReadDeferred == mark || !isTrueOrNull(state.RenewInPlan):
		return false
	}
	return !plan.RenewInPlan.IsUnknown() && (plan.RenewInPlan.IsNull() || plan.RenewInPlan.ValueBool()) &&
		!plan.MinRemaining.IsUnknown() && plan.MinRemaining.Equal(state.MinRemaining)
}

// renewedAttributes are the attributes a renewal may change: the token
// results and the refresh and ID tokens.
var renewedAttributes = func() []attrSpec {
	return append(slices.Clone(tokenResultSpecs), attrSpec{name: "refresh_token"}, attrSpec{name: "id_token"})
}()

func unknownOf(s attrSpec) any {
	if s.kind == kindInt64 {
		return types.Int64Unknown()
	}
	return types.StringUnknown()
}

// sameGrant fails for a change of redirect_uri, code_verifier or the client
// while code stays the same. Values not known yet are checked again at apply;
// missing credentials are not a change (nothing can be sent without them).
func (r *authorizationCodeTokenResource) sameGrant(plan, state *authorizationCodeTokenModel, grant grantPrivate) diag.Diagnostics {
	var diags diag.Diagnostics
	// The errors are attached to the attribute when it is not a secret:
	// Terraform prints the line of configuration it names.
	needsNewCode := func(at *path.Path, attr, change string) {
		if at != nil {
			diags.AddAttributeError(*at, "New Authorization Code Needed", newCodeNeeded(change, attr))
		} else {
			diags.AddError("New Authorization Code Needed", newCodeNeeded(change, attr))
		}
	}
	if !plan.RedirectURI.IsUnknown() && !plan.RedirectURI.Equal(state.RedirectURI) {
		p := path.Root("redirect_uri")
		needsNewCode(&p, "redirect_uri", fmt.Sprintf("redirect_uri changed (%s to %s)", shownRedirectURI(state.RedirectURI.ValueString()), shownRedirectURI(plan.RedirectURI.ValueString())))
	}
	if !plan.CodeVerifier.IsUnknown() && !plan.CodeVerifier.Equal(state.CodeVerifier) {
		// No attribute path: Terraform would print the line that holds the
		// verifier; the error names it instead.
		needsNewCode(nil, "code_verifier", fmt.Sprintf("code_verifier changed (from %s to %s)", describeSecret(state.CodeVerifier), describeSecret(plan.CodeVerifier)))
	}
	if other := r.otherDirectory(grant); other != "" {
		needsNewCode(nil, "the provider's auth_domain (or "+envAuthDomain+")", "The directory changed: "+other)
	}
	if to, ok := r.client(plan); ok && to.creds.ClientID != "" {
		from := r.grantClientID(state, grant)
		if from != "" && to.creds.ClientID != from {
			change := "The client changed: " + belongsTo(from, to)
			if plan.ClientID.IsNull() {
				needsNewCode(nil, "the provider's client_id", change)
			} else {
				p := path.Root("client_id")
				needsNewCode(&p, "client_id", change)
			}
		}
	}
	return diags
}
