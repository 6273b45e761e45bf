package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file holds the renewal of ciam_authorization_code_token: when the
// token is due, what a read does about it (renew_in_plan = true), what an
// apply does (renew_in_plan = false, or whenever the plan left the decision
// to it), and the refresh itself. Whether a failed refresh spent the token
// is ciam.OutcomeOf's to say; the single-use rule itself is
// internal/ciam/singleuse.go.

// renewalDue reads the stored expiry against minRemaining (the default when
// unreadable) at now. due is false when the token has enough left or no
// lifetime.
func (m *authorizationCodeTokenModel) renewalDue(minRemaining types.String, now time.Time) (expiresAt time.Time, remaining, minimum time.Duration, due bool) {
	expiresAt, err := time.Parse(time.RFC3339, m.ExpiresAt.ValueString())
	if err != nil {
		return expiresAt, 0, 0, false // the CIAM gave no lifetime: nothing to renew against
	}
	minimum, err = time.ParseDuration(minRemaining.ValueString())
	if err != nil {
		minimum, _ = time.ParseDuration(defaultMinRemaining)
	}
	remaining = expiresAt.Sub(now)
	return expiresAt, remaining, minimum, remaining < minimum
}

// readRenewal is what Read does with the token in m: when it is due and
// renew_in_plan is true, it sends one refresh, and records in grant what
// came of it for the rest of the run (see grantPrivate). Nothing else in a
// read sends a request.
func (r *authorizationCodeTokenResource) readRenewal(ctx context.Context, m *authorizationCodeTokenModel, grant *grantPrivate, resp *resource.ReadResponse) {
	expiresAt, remaining, minRemaining, due := m.renewalDue(m.MinRemaining, r.data.clock())
	if !due {
		return
	}
	if grant.Lost != "" {
		return // nothing can renew it; ModifyPlan says what is needed
	}
	if m.RefreshToken.ValueString() == "" {
		if remaining <= 0 {
			grant.Lost = fmt.Sprintf("its access token expired at %s and the CIAM gave no refresh token to renew it", expiresAt.UTC().Format(time.RFC3339))
			resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
			resp.Diagnostics.AddWarning("CIAM Access Token Expired", expiredWithoutRefreshToken(m, grant.ClientID, expiresAt))
		}
		return
	}
	if !m.RenewInPlan.IsNull() && !m.RenewInPlan.ValueBool() {
		return // renew_in_plan = false: ModifyPlan plans the renewal, Update makes it
	}
	c, known := r.client(m)
	if r.data == nil {
		return
	}
	if r.data.noAuthDomain || !known || r.data.client == nil {
		// The provider's settings are known at apply (or the apply has an
		// auth_domain where this read had none): the stored token stays,
		// and the plan renews at apply.
		grant.ReadDeferred = renewalMark(m.RefreshToken.ValueString())
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
		if r.data.noAuthDomain {
			resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewedWithoutAuthDomain(m, r.grantClientID(m, *grant), remaining, minRemaining, r.data.noDirectory()))
		}
		return
	}
	owner := r.grantClientID(m, *grant)
	if other := r.otherDirectory(*grant); other != "" {
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewed(m, owner, remaining, minRemaining, other))
		return
	}
	if !c.usableFor(owner) {
		// No credentials, or another client's: a refresh would be refused
		// (and reported as a lost grant). ModifyPlan says what changed.
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", notRenewed(m, owner, remaining, minRemaining, belongsTo(owner, c)))
		return
	}
	sent := m.RefreshToken.ValueString()
	// Terraform saves nothing of an interrupted refresh: waiting for the
	// answer after a Ctrl-C would only delay the stop.
	err := r.renew(ciam.AbandonOnCancel(ctx), m, c, grant, true, &resp.Diagnostics)
	switch outcome := ciam.OutcomeOf(err); {
	case outcome == ciam.RefusedClient:
		grant.ReadRefused = renewalMark(sent)
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
	case outcome != ciam.NeverSent:
		// Sent, whatever came of it: this run sends no second one.
		grant.ReadRenewal = renewalMark(m.RefreshToken.ValueString())
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
	}
	switch {
	case err == nil:
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	case ciam.OutcomeOf(err) == ciam.Rejected:
		grant.Lost = lostRefreshToken
		resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
		resp.Diagnostics.AddWarning("CIAM Refresh Token Rejected", refreshRejected(m, c.creds.ClientID, remaining, minRemaining))
	default:
		resp.Diagnostics.AddWarning("CIAM Token Not Renewed", readRenewalFailure(m, c, err, r.data.client.Host(), r.data.domain, expiresAt, remaining, minRemaining))
	}
}

// applyRenewal is what Update does when the plan left the token to the
// apply: it renews with c, into plan, if the token in state is due now and
// this run's read did not decide (readDecided). It reports false, with an
// error in diags, when the apply must stop.
func (r *authorizationCodeTokenResource) applyRenewal(ctx context.Context, plan, state *authorizationCodeTokenModel, c grantClient, grant *grantPrivate, diags *diag.Diagnostics) bool {
	expiresAt, remaining, minRemaining, due := state.renewalDue(plan.MinRemaining, r.data.clock())
	if !due || state.RefreshToken.ValueString() == "" || readDecided(plan, state, *grant) {
		return true
	}
	switch {
	case r.data.noAuthDomain:
		diags.Append(r.data.missingAuthDomain("Renewing ciam_authorization_code_token"))
		return false
	case !c.usableFor(grant.ClientID):
		diags.AddError("CIAM Token Not Renewed", notRenewed(state, grant.ClientID, remaining, minRemaining, belongsTo(grant.ClientID, c)))
		return false
	}
	err := r.renew(ctx, plan, c, grant, !plan.RenewInPlan.IsNull() && plan.RenewInPlan.ValueBool(), diags)
	if err == nil {
		return true
	}
	if ciam.OutcomeOf(err) == ciam.Rejected {
		grant.Lost = lostRefreshToken
		diags.AddError("CIAM Refresh Token Rejected", applyRenewalRejected(state, c, err, r.data.client.Host(), r.data.domain, expiresAt, remaining, minRemaining))
		return false
	}
	diags.AddError("CIAM Token Not Renewed", applyRenewalFailure(state, c, err, r.data.client.Host(), r.data.domain, expiresAt, remaining, minRemaining))
	return false
}

// renew sends one refresh request for m (never retried once it may have
// reached the directory) and, on success, stores the new tokens in m and
// notes rotation in grant. warnRotation asks for the warning about rotation
// (renew_in_plan = true), given once per grant.
func (r *authorizationCodeTokenResource) renew(ctx context.Context, m *authorizationCodeTokenModel, c grantClient, grant *grantPrivate, warnRotation bool, diags *diag.Diagnostics) error {
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	sent := m.RefreshToken.ValueString()
	tok, err := r.data.client.RefreshToken(ctx, c.creds, sent)
	if err != nil {
		return err
	}
	m.setTokens(tok)
	m.registerSecrets(r.data.secrets)
	if grant.Directory == "" {
		grant.Directory = r.data.client.Directory()
	}
	if tok.RefreshToken != "" && tok.RefreshToken != sent && !grant.Rotates {
		grant.Rotates = true
		if warnRotation {
			diags.Append(rotationWarning(r.data.client.Host(), m.describe(c.creds.ClientID)))
		}
	}
	return nil
}
