package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file holds how ciam_authorization_code_token starts and ends a
// grant: the exchange of a code (at create, and of a new code at update) and
// the revocation of a grant (at destroy, and of the grant a new code
// replaced). A code is exchanged at most once: the exchange itself is
// never retried once it may have reached the directory (internal/ciam/
// singleuse.go); every code that may have reached it, whatever came of it,
// is recorded (grantPrivate.SentCodes) and refused when it comes back: by
// ModifyPlan and Update for the resource's own codes, and, for a create,
// which sees no prior state, by the codes that the states this provider
// instance read or destroyed record (providerData.sentRead and
// sentDestroyed), which covers a create that failed and left a tainted
// object; and two resources of one run never both send one code
// (providerData.claimCode).

// exchange exchanges m's code, once, and stores the tokens in m. It
// returns the client it used, and on failure (ok false, with an error in
// diags) what became of the code: ciam.NeverSent when nothing was sent and
// the code is still good; for a code refused unsent because it was sent
// before, ciam.Rejected and why, for the lost grant (grantPrivate.Lost).
func (r *authorizationCodeTokenResource) exchange(ctx context.Context, m *authorizationCodeTokenModel, diags *diag.Diagnostics) (c grantClient, failed ciam.Outcome, refused string, ok bool) {
	if r.data.noAuthDomain {
		diags.Append(r.data.missingAuthDomain("ciam_authorization_code_token"))
		return c, ciam.NeverSent, "", false
	}
	c, cdiags := r.exchangeClient(m)
	diags.Append(cdiags...)
	if diags.HasError() {
		return c, ciam.NeverSent, "", false
	}
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	r.data.secrets.add(m.Code.ValueString(), m.CodeVerifier.ValueString())
	// A code refused here is not sent, and is as spent as one the
	// directory rejected: it never works again.
	switch {
	case r.data.sentBeforeHere(m.Code.ValueString(), false):
		diags.AddError("New Authorization Code Needed", codeSentBefore)
		return c, ciam.Rejected, lostCodeSentBefore, false
	case !r.data.claimCode(m.Code.ValueString()):
		diags.AddError("Authorization Code Used Twice", codeUsedTwice)
		return c, ciam.Rejected, lostCodeUsedTwice, false
	}
	claimed, err := r.data.ledger.claim(m.Code.ValueString())
	switch {
	case errors.Is(err, errLedgerBusy):
		// Another process may be sending this code right now.
		diags.AddError("CIAM Code Ledger Busy", codeLedgerBusy(err))
		return c, ciam.NeverSent, "", false
	case err != nil:
		diags.Append(ledgerNotUsable(err))
	case !claimed:
		diags.AddError("New Authorization Code Needed", codeInLedger)
		return c, ciam.Rejected, lostCodeInLedger, false
	}
	tok, err := r.data.client.AuthorizationCodeToken(ctx, c.creds, ciam.AuthorizationCodeRequest{
		Code: m.Code.ValueString(), RedirectURI: m.RedirectURI.ValueString(), CodeVerifier: m.CodeVerifier.ValueString(),
	})
	if err != nil {
		diags.Append(codeExchangeDiagnostic(err, tokenRequest{
			what: "authorization-code exchange", grant: "authorization_code", host: r.data.client.Host(), domain: r.data.domain,
			clientID: c.creds.ClientID, credentialHint: c.origin,
		}, m.RedirectURI.ValueString(), !m.CodeVerifier.IsNull()))
		if ciam.OutcomeOf(err).Good() && claimed {
			// Never went out: the code is still good.
			if rerr := r.data.ledger.release(m.Code.ValueString()); rerr != nil {
				diags.Append(ledgerNotUsable(rerr))
			}
		}
		return c, ciam.OutcomeOf(err), "", false
	}
	m.setTokens(tok)
	m.registerSecrets(r.data.secrets)
	return c, ciam.NotSingleUse, "", true
}

// newGrant is the private state of a grant (or, lost, of a create that
// failed) that client c holds for code: it records the codes sent before
// (those of the object it replaces first) and code.
func (r *authorizationCodeTokenResource) newGrant(c grantClient, code string, sentBefore ...[]string) grantPrivate {
	g := grantPrivate{ClientID: c.creds.ClientID}
	if r.data.client != nil {
		g.Directory = r.data.client.Directory()
	}
	for _, marks := range sentBefore {
		g.inheritSent(marks)
	}
	g.recordSent(code)
	return g
}

// exchangeNewCode is Update for a new code: it exchanges the new code first,
// and only when that succeeds replaces the grant in state and revokes the
// old one. A failed exchange keeps the old grant, and records a code it may
// have spent.
func (r *authorizationCodeTokenResource) exchangeNewCode(ctx context.Context, plan, state *authorizationCodeTokenModel, old grantPrivate, resp *resource.UpdateResponse) {
	old.recordSent(state.Code.ValueString()) // state from before SentCodes
	if old.sent(plan.Code.ValueString()) {
		resp.Diagnostics.AddError("New Authorization Code Needed", codeSent(state, r.grantClientID(state, old)))
		return
	}
	c, failed, _, ok := r.exchange(ctx, plan, &resp.Diagnostics)
	if !ok {
		if !failed.Good() {
			old.recordSent(plan.Code.ValueString())
			resp.Diagnostics.Append(old.save(ctx, resp.Private)...)
		}
		return // the state keeps the old grant
	}
	diags, interrupted := r.revokeGrant(ctx, state, old, "The new code was exchanged and its grant replaced this one in state")
	resp.Diagnostics.Append(diags...)
	if interrupted {
		resp.Diagnostics.Append(replacedGrantRevocationInterrupted(state, r.grantClientID(state, old)))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(r.newGrant(c, plan.Code.ValueString(), old.SentCodes).save(ctx, resp.Private)...)
	resp.Diagnostics.Append(minRemainingWarning(plan, plan.MinRemaining)...)
}

// failedCreate is what Create leaves when its code is spent (the exchange
// failed after it may have reached the directory, or the code was refused
// unsent: why says which): a lost grant without tokens, holding its code
// among the codes sent, and the codes this instance saw recorded (those of
// a tainted object it replaces). Terraform keeps it, tainted, beside the
// error, so that the codes stay recorded; the next plan refuses the code
// (the read of the tainted object notes them), and a new code replaces it.
func (r *authorizationCodeTokenResource) failedCreate(ctx context.Context, m *authorizationCodeTokenModel, c grantClient, why string, resp *resource.CreateResponse) {
	m.ID = types.StringValue(renewalMark(m.Code.ValueString())[:16])
	m.AccessToken, m.TokenType, m.ExpiresAt, m.Scope = types.StringNull(), types.StringNull(), types.StringNull(), types.StringNull()
	m.ExpiresIn, m.RefreshToken, m.IDToken = types.Int64Null(), types.StringNull(), types.StringNull()
	grant := r.newGrant(c, m.Code.ValueString(), r.data.sentMarks())
	grant.Lost = why
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	resp.Diagnostics.Append(grant.save(ctx, resp.Private)...)
}

// revokeGrant revokes the refresh token of the grant in m. A revocation it
// cannot send, or that the directory refuses, is a warning whose first
// words, after, say what became of the resource. interrupted reports that
// the caller's context ended during the revocation (Ctrl-C).
func (r *authorizationCodeTokenResource) revokeGrant(ctx context.Context, m *authorizationCodeTokenModel, grant grantPrivate, after string) (diags diag.Diagnostics, interrupted bool) {
	if grant.Lost != "" {
		return nil, false // nothing of a lost grant is valid: nothing to revoke
	}
	token := m.RefreshToken.ValueString()
	if token == "" {
		token = m.AccessToken.ValueString()
	}
	if token == "" {
		return nil, false
	}
	c, known := r.client(m)
	owner := r.grantClientID(m, grant)
	notSent := fmt.Sprintf("The refresh token of %s was not revoked: ", m.describe(owner))
	switch other := r.otherDirectory(grant); {
	case r.data.noAuthDomain:
		diags.Append(notRevoked(notSent+r.data.noDirectory()+". Nothing was sent.", after, "the CIAM console"))
		return diags, false
	case other != "":
		diags.Append(notRevoked(notSent+other+". Nothing was sent.", after, "the CIAM console of the directory at "+grant.Directory))
		return diags, false
	case !known || !c.usableFor(owner) || r.data.client == nil:
		diags.Append(notRevoked(notSent+belongsTo(owner, c)+". Nothing was sent.", after, "the CIAM console"))
		return diags, false
	}
	r.data.secrets.addCredentials(c.creds.ClientID, c.creds.ClientSecret)
	if err := r.data.client.Revoke(ctx, c.creds, token); err != nil {
		if ctx.Err() != nil {
			return diags, true
		}
		diags.Append(revocationFailed(m, c, err, r.data.client.Host(), r.data.domain, after))
	}
	return diags, false
}
