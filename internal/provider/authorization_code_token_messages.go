package provider

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file holds every message of ciam_authorization_code_token. Whether a
// code or refresh token was spent is never decided here: the messages say
// what ciam.OutcomeOf decided.

// codeExchangeDiagnostic explains a failed exchange, adding what only this
// grant needs: whether the code is still good, that a redirect_uri that is
// not exactly the authorize request's is rejected like a bad code, and that
// the CIAM's PKCE mode answers a wrong code or verifier with invalid_client.
func codeExchangeDiagnostic(err error, req tokenRequest, redirectURI string, pkce bool) diag.Diagnostic {
	req.singleUse = true
	summary, detail := explainTokenError(err, req)
	redirect := fmt.Sprintf("the redirect_uri sent, %s, is not exactly the one the code was issued for at /oauth2/authorize "+
		"(the same string: scheme, host, path and trailing slash alike)", shownRedirectURI(redirectURI))
	var cerr *ciam.Error
	switch {
	case ciam.OutcomeOf(err) == ciam.Rejected && errors.As(err, &cerr):
		causes, check := redirect, "redirect_uri"
		if !pkce {
			causes += ", or the code was requested with a code_challenge (PKCE) and code_verifier is not set"
			check = "redirect_uri and code_verifier"
		}
		detail = fmt.Sprintf("%s\n\nThe CIAM rejected the code: it is wrong, expired or already used, or %s. "+
			"An authorization code is single-use and short-lived, and this attempt may have spent it: check %s, "+
			"then get a new code from /oauth2/authorize and set code to it.", strings.SplitN(detail, "\n\n", 2)[0], causes, check)
	case pkce && errors.As(err, &cerr) && cerr.Code == ciam.ErrCodeInvalidClient:
		// No secret was sent: the generic text about a wrong secret does not apply.
		summary = "CIAM Rejected The PKCE Exchange (invalid_client)"
		detail = fmt.Sprintf("The CIAM at %s answered the PKCE code exchange for client_id %s with HTTP %d invalid_client. No client secret was sent (PKCE). "+
			"In PKCE mode the CIAM answers invalid_client when the code is wrong, expired (codes live minutes) or already used, when the code_verifier is wrong, when %s, or when the application does not exist or is disabled: "+
			"check that code_verifier matches the code_challenge sent to /oauth2/authorize and redirect_uri, and get a new code.", req.host, quoted(req.clientID), cerr.StatusCode, redirect)
	}
	switch ciam.OutcomeOf(err) {
	case ciam.MaybeSpent:
		if !pkce && errors.As(err, &cerr) && cerr.Code == ciam.ErrCodeInvalidClient {
			detail += " The CIAM also answers invalid_client for a code issued to another client_id, after it has looked at the code, so this code may be spent, " +
				"and it is not sent again: fix the credentials (a code is exchanged by the client_id it was issued to), then obtain a new authorization code from " +
				"/oauth2/authorize and set code to it."
			break
		}
		detail += " The exchange was not retried: a code must never be sent twice, and this one may have reached the directory, which spends it: " +
			"obtain a new authorization code from /oauth2/authorize and set code to it."
	case ciam.NeverSent:
		detail += " The code was never sent (the request never went out: no connection to the directory was established), so it is still good if it has not expired: the next apply tries again."
	case ciam.RefusedClient:
		detail += " The CIAM refused the client before it looked at the code, so the code is still good if it has not expired: fix the credentials and apply again."
	case ciam.Rejected:
		detail += " The exchange was not retried: a code must never be sent twice."
	}
	return diag.NewErrorDiagnostic(summary, detail)
}

// clientProblem says what is wrong with the configured client for a grant
// that belongs to another (or to one whose credentials are missing).
func clientProblem(c grantClient) string {
	switch {
	case c.problem != "":
		return lowerFirst(trimPeriod(c.problem))
	case c.creds.ClientID == "":
		return "no client credentials are configured for it (set client_id and client_secret on the block, or the provider's, or CIAM_CLIENT_ID and CIAM_CLIENT_SECRET)"
	case c.missingSecret:
		return "no client secret is configured for it, and the grant is a confidential client's (it was issued without PKCE), so nothing may be sent without one " +
			"(set client_secret on the block, or the provider's, or CIAM_CLIENT_SECRET)"
	}
	return fmt.Sprintf("the configured credentials are for client_id %s (%s)", quoted(c.creds.ClientID), c.origin)
}

// belongsTo says that the grant belongs to owner and what is wrong with
// the configured client.
func belongsTo(owner string, c grantClient) string {
	return fmt.Sprintf("the grant belongs to client_id %s, and %s", quoted(owner), clientProblem(c))
}

// rotationWarning says, once per grant, that the directory rotates refresh
// tokens and what that means for renew_in_plan.
func rotationWarning(host, resource string) diag.Diagnostic {
	return diag.NewWarningDiagnostic("CIAM Rotates Refresh Tokens",
		fmt.Sprintf("The CIAM at %s returned a new refresh token when %s was renewed: this directory rotates refresh tokens. "+
			"With renew_in_plan = true (the default) the token is renewed whenever Terraform reads the resource, also during a terraform plan whose state is thrown away: "+
			"the refresh token that plan spent is gone, the next run sends the old one, and a directory that detects reuse revokes the whole grant. "+
			"Set renew_in_plan = false so that only applies renew (plans then show the renewal as an in-place update), and apply that change directly "+
			"(terraform apply, or a plan made with -refresh=false): the plan that proposes it still reads, and renews, with the stored setting. This warning is given once.",
			host, resource))
}

// publicClientRefused reports an answer that refuses a request sent without
// a client secret: the client authentication errors, and an invalid_request
// (some servers answer a missing secret so). It chooses words only.
func publicClientRefused(e *ciam.Error) bool {
	switch e.Code {
	case ciam.ErrCodeInvalidClient, ciam.ErrCodeUnauthorizedClient, ciam.ErrCodeInvalidRequest:
		return true
	}
	return e.StatusCode == 401
}

// renewalFailure says why a renewal failed and what became of the stored
// token. It never claims a secret is wrong when none was sent.
func renewalFailure(m *authorizationCodeTokenModel, c grantClient, err error, host string, domain domainSpec, expiresAt time.Time, remaining, minRemaining time.Duration) string {
	var why string
	var cerr *ciam.Error
	if c.public() && errors.As(err, &cerr) && publicClientRefused(cerr) {
		why = fmt.Sprintf("the CIAM at %s answered HTTP %d %s. This resource's client is a public client (PKCE, no client_secret), so no client secret was sent: "+
			"renewal sends client_id alone, as RFC 6749 section 6 allows, and this directory may require a client secret to refresh. "+
			"If the application has a secret, set client_secret on this block (with client_id); otherwise obtain a new code when the token expires",
			host, cerr.StatusCode, cerr.Code)
	} else {
		summary, detail := explainTokenError(err, tokenRequest{what: "refresh-token", grant: "refresh_token", host: host, domain: domain, clientID: c.creds.ClientID,
			credentialHint: c.origin, singleUse: true})
		why = summary + ": " + detail
	}
	kept := fmt.Sprintf("it expires at %s (in %s)", expiresAt.UTC().Format(time.RFC3339), remaining.Truncate(time.Second))
	if remaining <= 0 {
		kept = fmt.Sprintf("it expired at %s (%s ago)", expiresAt.UTC().Format(time.RFC3339), (-remaining).Round(time.Second))
	}
	sent := "The refresh token was sent once and not retried, since a directory that rotates refresh tokens may already have spent it."
	switch ciam.OutcomeOf(err) {
	case ciam.NeverSent:
		sent = "The refresh token was never sent (the request never went out: no connection to the directory was established), so it is still good."
	case ciam.RefusedClient:
		sent = "The directory refused the client, so the refresh token was not used and is still good."
	}
	return fmt.Sprintf("The access token of %s %s, but renewing it failed: %s.\n\n"+
		"The stored token was kept: %s. %s",
		m.describe(c.creds.ClientID), leftPhrase(remaining, minRemaining), trimPeriod(why), kept, sent)
}

// notRenewed says why a due token was not renewed though nothing failed.
func notRenewed(m *authorizationCodeTokenModel, owner string, remaining, minRemaining time.Duration, why string) string {
	return fmt.Sprintf("The access token of %s %s, but it was not renewed: %s. Nothing was sent; the stored token was kept.",
		m.describe(owner), leftPhrase(remaining, minRemaining), why)
}

// lostGrantStays is what becomes of a lost grant, for the messages that
// report the loss.
const lostGrantStays = "The grant is lost: the resource stays in state, marked as lost, so that its authorization code is never sent again " +
	"(a directory that sees a code come back may revoke everything issued from it). Set code to a new authorization code; the next apply exchanges it."

// refreshRejected says, for a read, that the directory rejected the refresh
// token.
func refreshRejected(m *authorizationCodeTokenModel, clientID string, remaining, minRemaining time.Duration) string {
	return fmt.Sprintf("The access token of %s %s, and the CIAM rejected the refresh token "+
		"with invalid_grant: it was revoked, expired, or replaced by a newer one (refresh token rotation, see renew_in_plan). %s",
		m.describe(clientID), leftPhrase(remaining, minRemaining), lostGrantStays+
			" Until a plan is applied, each read tries the rejected refresh token again: terraform apply -refresh-only records the loss, and later reads send nothing.")
}

// expiredWithoutRefreshToken says that a token the CIAM gave no refresh
// token for expired.
func expiredWithoutRefreshToken(m *authorizationCodeTokenModel, clientID string, expiresAt time.Time) string {
	return fmt.Sprintf("The access token of %s expired at %s and the CIAM gave no refresh token to renew it. %s",
		m.describe(clientID), expiresAt.UTC().Format(time.RFC3339), lostGrantStays)
}

// grantLost explains, at plan time, that a lost grant needs a new code.
func grantLost(m *authorizationCodeTokenModel, clientID, why string) string {
	return fmt.Sprintf("The grant of %s is lost: %s. Its authorization code reached the directory once and is never sent again, so nothing can renew "+
		"or recreate the grant with it, and nothing was sent. Obtain a new authorization code from /oauth2/authorize and set code to it: "+
		"the next apply exchanges it. To remove the resource instead, run terraform destroy -refresh=false (a plain terraform destroy plans the "+
		"configuration first, and meets this error), or remove the resource block and apply; a lost grant has nothing to revoke.",
		m.describe(clientID), why)
}

// leftPhrase says, after "The access token of ...", how much of its life is
// left against min_remaining.
func leftPhrase(remaining, minRemaining time.Duration) string {
	if remaining <= 0 {
		return fmt.Sprintf("expired %s ago", (-remaining).Round(time.Second))
	}
	// Truncated: rounded, 4m59.6s left would read as the 5m0s it is less than.
	return fmt.Sprintf("has %s left, less than min_remaining (%s)", remaining.Truncate(time.Second), minRemaining)
}

func trimPeriod(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '.' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

// newCodeNeeded explains a change that only a new code can satisfy while
// code stays the same; attr names what to set back.
func newCodeNeeded(change, attr string) string {
	return fmt.Sprintf("%s, but code did not. The grant was issued for the old value, and only a new code can be issued for the new one: "+
		"the spent code cannot be exchanged again (invalid_grant). Nothing has been changed. "+
		"To change it, obtain a new authorization code from /oauth2/authorize with the new value and set code to it (the apply exchanges it, then revokes the old grant); "+
		"or set %s back. To destroy the resource instead, run terraform destroy -refresh=false: Terraform plans the configuration before a destroy.", change, attr)
}

func describeSecret(v types.String) string {
	if v.IsNull() {
		return "unset"
	}
	return "a value"
}

// minRemainingWarning warns when min_remaining is at least the lifetime the
// directory granted: every plan (or apply) then renews.
func minRemainingWarning(m *authorizationCodeTokenModel, minRemaining types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	d, err := time.ParseDuration(minRemaining.ValueString())
	if err != nil || m.ExpiresIn.IsNull() || m.ExpiresIn.IsUnknown() {
		return diags
	}
	lifetime := time.Duration(m.ExpiresIn.ValueInt64()) * time.Second
	if d >= lifetime {
		diags.AddAttributeWarning(path.Root("min_remaining"), "min_remaining Is Not Below The Token Lifetime",
			fmt.Sprintf("min_remaining (%s) is at least the lifetime the directory grants the access token (%ds), so a token is never fresh enough: every plan renews it "+
				"(with renew_in_plan = false, every apply), which costs a refresh grant per run and, with a directory that rotates refresh tokens, "+
				"spends the refresh token each time. Set min_remaining well below %ds, e.g. a fifth of it.", quoted(minRemaining.ValueString()), m.ExpiresIn.ValueInt64(), m.ExpiresIn.ValueInt64()))
	}
	return diags
}

// notRevoked is the warning of a revocation that was not sent: what
// happened, what became of the resource (after), and where the refresh
// token can still be revoked.
func notRevoked(what, after, console string) diag.Diagnostic {
	return diag.NewWarningDiagnostic("CIAM Token Not Revoked",
		what+" "+after+"; its refresh token stays valid until it expires or is revoked in "+console+".")
}

// revocationFailed is the warning of a revocation the directory did not
// accept; after says what became of the resource.
func revocationFailed(m *authorizationCodeTokenModel, c grantClient, err error, host string, domain domainSpec, after string) diag.Diagnostic {
	var why string
	var cerr *ciam.Error
	if c.public() && errors.As(err, &cerr) && publicClientRefused(cerr) {
		why = fmt.Sprintf("The CIAM answered HTTP %d %s: this resource's client is a public client (PKCE, no client_secret), so no client secret was sent "+
			"(RFC 7009 section 2.1 lets a public client revoke with client_id alone), and this directory may require one to revoke.", cerr.StatusCode, cerr.Code)
	} else {
		_, why = explainTokenError(err, tokenRequest{what: "revocation", grant: "revocation", host: host, domain: domain, clientID: c.creds.ClientID,
			credentialHint: c.origin, expected: "an empty 200 answer"})
	}
	return diag.NewWarningDiagnostic("CIAM Token Not Revoked",
		fmt.Sprintf("%s, but revoking the refresh token of %s failed, so the token stays valid until it expires or is revoked in the CIAM console. %s",
			after, m.describe(c.creds.ClientID), why))
}

// codeSent explains that a code this resource sent before is not sent
// again.
func codeSent(m *authorizationCodeTokenModel, clientID string) string {
	return fmt.Sprintf("code is one that this resource already sent to the directory (exchanged, or in an exchange that failed after the request may have reached it), "+
		"and a code is never sent again: a directory that sees a code come back may revoke everything issued from it. "+
		"Obtain a new authorization code from /oauth2/authorize and set code to it. "+
		"The grant of %s in state is kept until a new code is exchanged.", m.describe(clientID))
}

// codeSentBefore is the error of a create whose code the state of a
// ciam_authorization_code_token records as sent.
const codeSentBefore = "code is one that was already sent to the directory: the state of a ciam_authorization_code_token records it " +
	"(it was exchanged, or its exchange failed after the request may have reached the directory, as in a create that failed and left the resource tainted), " +
	"and a code is never sent again: a directory that sees a code come back may revoke everything issued from it. Nothing was sent. " +
	"Obtain a new authorization code from /oauth2/authorize and set code to it. To remove a tainted resource instead, run terraform destroy -refresh=false " +
	"(a plain terraform destroy plans the configuration first, and meets this error)."

// codeInLedger is the error of a code that this machine's ledger records as
// sent (see codeLedger).
const codeInLedger = "code is one that this provider already sent to the directory from this machine (its record of the codes it sent, kept for a week, holds it; " +
	"see " + envCodeLedger + "), and a code is never sent again: a directory that sees a code come back may revoke everything issued from it. Nothing was sent. " +
	"Obtain a new authorization code from /oauth2/authorize and set code to it."

// codeLedgerBusy is the error of an exchange that could not take the
// ledger's lock: nothing was sent.
func codeLedgerBusy(err error) string {
	return "The provider could not record the code in its record of the codes it sent on this machine before sending it (" + err.Error() + "), " +
		"and another process holding that record may be exchanging the same code, so nothing was sent: the code is still good. Apply again."
}

// codeUsedTwice is the error of an exchange whose code another resource of
// this run already sent.
const codeUsedTwice = "another ciam_authorization_code_token in this configuration exchanged the same code in this run, and a code can be exchanged only once: " +
	"this one was not sent. Give each resource its own authorization code."

// destroyInterrupted is the error of a destroy whose revocation Ctrl-C
// ended: the resource stays in state.
func destroyInterrupted(m *authorizationCodeTokenModel, clientID string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Destroy Interrupted", fmt.Sprintf(
		"The run was interrupted (Ctrl-C) while the refresh token of %s was being revoked: the revocation did not finish, so the token may still be valid, "+
			"and the resource stays in state. Run terraform destroy again to revoke it (revoking twice is harmless).", m.describe(clientID)))
}

// destroyBlocked is the error of a destroy that a setting the user can
// correct keeps from revoking (an auth_domain set but unusable, credentials
// from the environment with whitespace): the resource stays in state.
func destroyBlocked(summary string, m *authorizationCodeTokenModel, clientID, problem string) diag.Diagnostic {
	return diag.NewErrorDiagnostic(summary, fmt.Sprintf(
		"The refresh token of %s cannot be revoked: %s. Nothing was sent, and the resource stays in state, since its grant is still valid. "+
			"Correct it and run terraform destroy again; or, to leave the grant to the CIAM console, remove the resource from state (terraform state rm).",
		m.describe(clientID), problem))
}

// importNotSupported explains why a token cannot be imported and what to do.
const importNotSupported = "A ciam_authorization_code_token cannot be imported: the resource is the result of exchanging a single-use authorization code, " +
	"and a refresh token cannot be read back from the CIAM, so there is nothing an import could fetch. Instead:\n" +
	"1. Obtain a new authorization code: send the user to /oauth2/authorize (response_type=code, with your client_id and redirect_uri, and a PKCE code_challenge for a public client).\n" +
	"2. Set code (and redirect_uri, and code_verifier for PKCE) in the resource block to the values of that request.\n" +
	"3. Run terraform apply: it exchanges the code once and stores the tokens."

// describe names the resource for messages that Terraform shows without an
// address (delete warnings, for one): its id (the token's fingerprint) and
// the client ID.
func (m *authorizationCodeTokenModel) describe(clientID string) string {
	s := "ciam_authorization_code_token"
	if id := m.ID.ValueString(); id != "" {
		s += " id " + id
	}
	if clientID != "" {
		s += " (client_id " + quoted(clientID) + ")"
	}
	return s
}

// notRenewedWithoutAuthDomain is the warning of a read that found the token
// due and the provider without a directory.
func notRenewedWithoutAuthDomain(m *authorizationCodeTokenModel, owner string, remaining, minRemaining time.Duration, noDirectory string) string {
	return notRenewed(m, owner, remaining, minRemaining, noDirectory) +
		" The plan leaves the renewal to the apply, which fails unless the provider has an auth_domain by then."
}

// readRenewalFailure is the warning of a read whose renewal failed, other
// than with invalid_grant.
func readRenewalFailure(m *authorizationCodeTokenModel, c grantClient, err error, host string, domain domainSpec, expiresAt time.Time, remaining, minRemaining time.Duration) string {
	stored := ""
	if ciam.OutcomeOf(err) == ciam.RefusedClient && c.origin == blockOrigin {
		stored = " A read uses the client_id and client_secret stored in state by the last apply, as it cannot see the configuration: " +
			"if client_secret has changed since, the apply renews with the new one."
	}
	return renewalFailure(m, c, err, host, domain, expiresAt, remaining, minRemaining) + stored + " The next plan or apply tries again."
}

// applyRenewalRejected is the error of an apply whose renewal the directory
// rejected with invalid_grant.
func applyRenewalRejected(m *authorizationCodeTokenModel, c grantClient, err error, host string, domain domainSpec, expiresAt time.Time, remaining, minRemaining time.Duration) string {
	return renewalFailure(m, c, err, host, domain, expiresAt, remaining, minRemaining) + " The directory rejected the refresh token (invalid_grant): it was revoked, expired or spent, " +
		"so no later apply can renew it. The grant is lost: the resource stays in state, marked as lost, so that its code is never sent again. " +
		"Obtain a new authorization code from /oauth2/authorize and set code to it; the next apply exchanges it."
}

// applyRenewalFailure is the error of an apply whose renewal failed, other
// than with invalid_grant.
func applyRenewalFailure(m *authorizationCodeTokenModel, c grantClient, err error, host string, domain domainSpec, expiresAt time.Time, remaining, minRemaining time.Duration) string {
	return renewalFailure(m, c, err, host, domain, expiresAt, remaining, minRemaining) + " The apply stopped; the next apply tries again."
}

// missingClientID and missingExchangeSecret are the errors of a block of the
// authorization-code flow without the credentials it needs: needs says
// what needs the client ID, names where to set it.
func missingClientID(needs, names string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Missing CIAM Credentials", needs+" Set client_id on the block, or "+names+".")
}

func missingExchangeSecret(names string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Missing CIAM Client Secret", "Without code_verifier (PKCE) the code exchange needs the application's client secret. "+
		"Set client_secret on the block, or "+names+", or use PKCE with code_verifier.")
}

// missingBlockSecret is the validation error of a block client_id without
// the block's secret in a flow that needs one.
func missingBlockSecret() diag.Diagnostic {
	return diag.WithPath(path.Root("client_id"), diag.NewErrorDiagnostic("Missing Client Secret For This Block's client_id",
		"this block's client_id needs this block's client_secret: the provider's client_secret belongs to the provider's client_id and is never sent with another. "+
			"Set client_secret on this block, remove client_id to use the provider's pair, or, for a public client, use PKCE (code_verifier)."))
}

// replacedGrantRevocationInterrupted is the warning of an apply whose
// revocation of the grant a new code replaced was interrupted.
func replacedGrantRevocationInterrupted(m *authorizationCodeTokenModel, clientID string) diag.Diagnostic {
	return diag.NewWarningDiagnostic("CIAM Token Not Revoked", fmt.Sprintf("The run was interrupted (Ctrl-C) while the refresh token of %s, "+
		"which the new code's grant replaced, was being revoked: it may still be valid until it expires or is revoked in the CIAM console.", m.describe(clientID)))
}

// dueAndNotRenewed is the warning of a plan that keeps a due token because
// no read of this run renewed it.
func dueAndNotRenewed(m *authorizationCodeTokenModel, owner string, remaining, minRemaining time.Duration) string {
	return fmt.Sprintf("The access token of %s %s, and this run does not renew it: with renew_in_plan = true only a read renews, "+
		"and no read of this run renewed it (the plan was made with -refresh=false, or the token became due after the plan read it, or the read's renewal failed, as its warning says). "+
		"Nothing was sent; the stored token is kept as it is. To renew it, run terraform apply -refresh-only, or plan and apply without -refresh=false; "+
		"with renew_in_plan = false an apply renews a due token itself.", m.describe(owner), leftPhrase(remaining, minRemaining))
}
