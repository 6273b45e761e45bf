package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// tokenRequest describes a token request for error messages. It holds no
// secret.
type tokenRequest struct {
	// what is the kind of token, e.g. "client-credentials token".
	what string
	// grant is the OAuth grant, for unauthorized_client.
	grant    string
	host     string
	clientID string
	scopes   []string
	// credentialHint says where the credentials came from (see
	// credentialSource.origin).
	credentialHint string
	// singleUse marks a request that is never retried once it may have
	// reached the server (a code exchange, a refresh).
	singleUse bool
	// expected says what a good answer is, for an answer that is not one;
	// empty means a JSON token response.
	expected string
	// hostFrom says where host came from; empty means auth_domain.
	hostFrom string
	// domain is how auth_domain was given (the zero value: unknown).
	domain domainSpec
}

// domainSpec is how auth_domain was given: its value, and whether it came
// from the CIAM_AUTH_DOMAIN environment variable.
type domainSpec struct {
	value   string
	fromEnv bool
}

// setting names the setting and its value: auth_domain "x", or the
// CIAM_AUTH_DOMAIN environment variable ("x").
func (s domainSpec) setting() string {
	switch {
	case s.value == "":
		return "auth_domain"
	case s.fromEnv:
		return fmt.Sprintf("the %s environment variable (%s)", envAuthDomain, quoted(s.value))
	}
	return "auth_domain " + quoted(s.value)
}

// name names the setting: auth_domain, or the CIAM_AUTH_DOMAIN environment
// variable.
func (s domainSpec) name() string {
	if s.fromEnv {
		return "the " + envAuthDomain + " environment variable"
	}
	return "auth_domain"
}

// assignment is how to write value for this setting.
func (s domainSpec) assignment(value string) string {
	if s.fromEnv {
		return envAuthDomain + "=" + value
	}
	return fmt.Sprintf("auth_domain = %q", value)
}

// tokenErrorDiagnostic turns an error from the ciam client into a diagnostic
// whose summary names the failure (the OAuth error code when there is one)
// and whose detail says what it means and what to do. The client's errors
// are already sanitized and redacted; nothing else goes into the text.
func tokenErrorDiagnostic(err error, r tokenRequest) diag.Diagnostic {
	summary, detail := explainTokenError(err, r)
	return diag.NewErrorDiagnostic(summary, detail)
}

func explainTokenError(err error, r tokenRequest) (string, string) {
	var cerr *ciam.Error
	var terr *ciam.TransportError
	switch {
	case errors.As(err, &cerr):
		return explainCIAMError(cerr, r)
	case errors.As(err, &terr):
		if errors.Is(err, context.Canceled) {
			return "CIAM Request Cancelled", fmt.Sprintf("The %s request to %s was cancelled before it finished (%s).", r.what, r.host, terr.Error())
		}
		if terr.PlainHTTPAnswer() {
			return "CIAM Answered In Plain HTTP", plainHTTPAnswer(r, terr) + " Such a failure is not retried."
		}
		if terr.CertificateError() {
			return "CIAM Certificate Not Trusted", fmt.Sprintf(
				"The %s request failed: the provider could not verify the TLS certificate of %s (or of a proxy in between): %s.\n\n"+
					"If the user directory, or a proxy that inspects TLS, uses a certificate from a private CA, set ca_cert_pem to that CA's certificate, "+
					"e.g. ca_cert_pem = file(\"corp-ca.pem\"). If the certificate names another host, check auth_domain. Such a failure is not retried.",
				r.what, r.host, terr.Error())
		}
		return "Cannot Reach The CIAM", fmt.Sprintf(
			"The %s request got no answer: %s.\n\nCheck that %s (%s) is right and reachable from here, and any proxy (HTTPS_PROXY, NO_PROXY) and firewall in between.",
			r.what, terr.Error(), orDefault(r.hostFrom, "auth_domain"), r.host)
	default:
		return "CIAM Token Request Failed", fmt.Sprintf("The %s request failed: %s.", r.what, err.Error())
	}
}

func explainCIAMError(e *ciam.Error, r tokenRequest) (string, string) {
	answered := fmt.Sprintf("The CIAM at %s answered the %s request for client_id %s with HTTP %d", r.host, r.what, quoted(r.clientID), e.StatusCode)
	if r.clientID == "" {
		answered = fmt.Sprintf("The CIAM at %s answered the %s request with HTTP %d", r.host, r.what, e.StatusCode)
	}
	if e.Code != "" {
		answered += " " + e.Code
		if e.Description != "" {
			answered += fmt.Sprintf(" (%s)", e.Description)
		}
		if e.URI != "" {
			answered += " [see " + e.URI + "]"
		}
	}
	answered += attemptsNote(e.Attempts) + "."
	switch e.Code {
	case ciam.ErrCodeInvalidClient:
		return "CIAM Rejected The Client Credentials (invalid_client)", answered +
			"\n\nThe application does not exist, is disabled, or the client secret is wrong. " +
			"Check the credentials against the CIAM console, and that the application is enabled: " + r.credentialHint + "."
	case ciam.ErrCodeUnauthorizedClient:
		return "CIAM Application Not Allowed This Grant (unauthorized_client)", answered +
			fmt.Sprintf("\n\nThe application may not use the %s grant. Enable that grant for the application in the CIAM console, or use an application that has it.", r.grant)
	case ciam.ErrCodeInvalidScope:
		return "Invalid CIAM Scope (invalid_scope)", answered +
			fmt.Sprintf("\n\nThe requested scopes %s include one that is unknown or beyond the application's permissions. "+
				"Remove it from scopes, or grant it to the application in the CIAM console.", quoteList(r.scopes))
	case ciam.ErrCodeInvalidRequest:
		return "Invalid CIAM Token Request (invalid_request)", answered +
			"\n\nThe CIAM found a required parameter missing or malformed" + invalidRequestHint(r) + " Check the credentials: " + r.credentialHint + "."
	case ciam.ErrCodeUnsupportedGrantType:
		return "CIAM Does Not Support This Grant (unsupported_grant_type)", answered +
			fmt.Sprintf("\n\nThe CIAM does not support the %s grant at this endpoint. Check that auth_domain points at a Tencent CIAM user directory.", r.grant)
	case ciam.ErrCodeInvalidGrant:
		return "CIAM Rejected The Grant (invalid_grant)", answered +
			"\n\nThe authorization code or refresh token is wrong, expired, already used or revoked. Obtain a new one."
	case "":
	default:
		return fmt.Sprintf("CIAM Token Request Failed (%s)", e.Code), answered +
			"\n\nThis error code is not one the CIAM documents for this request; its description above is the best guide. " + statusAdvice(e.StatusCode, r.singleUse)
	}

	// Not an OAuth error object.
	switch {
	case e.RedirectHost != "" || (e.StatusCode >= 300 && e.StatusCode <= 399):
		target := "without a usable Location"
		if e.RedirectHost != "" {
			target = "to host " + e.RedirectHost
		}
		return fmt.Sprintf("CIAM Answered With A Redirect (HTTP %d)", e.StatusCode), fmt.Sprintf(
			"The CIAM at %s answered the %s request with HTTP %d, a redirect %s. The provider never follows redirects: "+
				"token requests carry credentials (the SCIM token request even in its URL), which must not be sent elsewhere. "+
				"Set auth_domain to the host that serves the token endpoint directly.",
			r.host, r.what, e.StatusCode, target)
	case e.StatusCode >= 200 && e.StatusCode <= 299:
		return "Unusable CIAM Token Response", fmt.Sprintf(
			"The CIAM at %s answered the %s request with HTTP %d, but %s%s. Expected a JSON object with access_token, token_type Bearer and expires_in. "+
				"Check that auth_domain points at a Tencent CIAM user directory and not at a proxy or web page.",
			r.host, r.what, e.StatusCode, e.Reason, contentTypeAndExcerpt(e))
	default:
		return fmt.Sprintf("Unexpected CIAM Response (HTTP %d)", e.StatusCode), fmt.Sprintf(
			"The CIAM at %s answered the %s request with HTTP %d%s and no OAuth error code: %s%s. Expected %s or an OAuth error object. %s",
			r.host, r.what, e.StatusCode, attemptsNote(e.Attempts), e.Reason, contentTypeAndExcerpt(e), orDefault(r.expected, "a JSON token response"), statusAdvice(e.StatusCode, r.singleUse))
	}
}

// documentErrorDiagnostic explains a failure to fetch one of the directory's
// documents (discovery, JWKS). host is the auth domain's; the host that
// answered (a jwks_uri may name another) is taken from the error.
func documentErrorDiagnostic(err error, what, host string, domain domainSpec) diag.Diagnostic {
	var mismatch *ciam.IssuerMismatchError
	var cerr *ciam.Error
	var terr *ciam.TransportError
	hostFrom := ""
	switch {
	case errors.As(err, &cerr) && cerr.Host != "":
		host, hostFrom = cerr.Host, hostOrigin(cerr.Host, host)
	case errors.As(err, &terr) && terr.Host != "":
		host, hostFrom = terr.Host, hostOrigin(terr.Host, host)
	}
	switch {
	case errors.As(err, &mismatch):
		return diag.NewErrorDiagnostic("CIAM Issuer Mismatch", fmt.Sprintf(
			"The discovery document of %s announces the issuer %s, but %s is %s. OpenID Connect Discovery (section 4.3) requires the two to be identical: "+
				"a different issuer means the document belongs to another directory, or to someone impersonating this one, so neither it nor the keys it points to "+
				"may be trusted, and nothing of it was used. Check it; if the directory's tokens really carry that issuer, set it to that.",
			host, quoted(mismatch.Announced), domain.name(), quoted(mismatch.Expected)))
	case ciam.IsNotFound(err) && strings.HasPrefix(what, "discovery"):
		return diag.NewErrorDiagnostic("CIAM Serves No Discovery Document", fmt.Sprintf(
			"The CIAM at %s answered GET %s with HTTP 404: this directory (or the host in auth_domain) serves no OpenID Connect discovery document. "+
				"Check that auth_domain is the user directory's domain. ciam_jwks falls back to %s when there is none.", host, ciam.DiscoveryPath, ciam.JWKSPath))
	case errors.Is(err, ciam.ErrPrivateKeyMaterial) && errors.As(err, &cerr):
		return diag.NewErrorDiagnostic("Unusable CIAM "+titleWords(what), fmt.Sprintf(
			"The CIAM at %s answered %s with HTTP %d, but %s. A key set is published for anyone to read; private key material in it is a misconfiguration "+
				"of the directory (or of whatever serves its keys), and whoever has read it can sign tokens. Nothing of this key set was used: "+
				"report it to the directory's operator, who must also replace the exposed key.",
			host, cerr.Op, cerr.StatusCode, cerr.Reason))
	case errors.As(err, &cerr) && cerr.StatusCode >= 200 && cerr.StatusCode <= 299:
		return diag.NewErrorDiagnostic("Unusable CIAM "+titleWords(what), fmt.Sprintf(
			"The CIAM at %s answered %s with HTTP %d, but %s. Check that auth_domain points at a Tencent CIAM user directory and not at a proxy or web page.",
			host, cerr.Op, cerr.StatusCode, cerr.Reason))
	case errors.As(err, &cerr) && cerr.Code != "":
		answer := cerr.Code
		if cerr.Description != "" {
			answer += fmt.Sprintf(" (%s)", cerr.Description)
		}
		return diag.NewErrorDiagnostic(fmt.Sprintf("CIAM %s Request Failed (%s)", titleWords(what), cerr.Code), fmt.Sprintf(
			"The CIAM at %s answered %s with HTTP %d %s%s. %s", host, cerr.Op, cerr.StatusCode, answer, attemptsNote(cerr.Attempts), statusAdvice(cerr.StatusCode, false)))
	}
	summary, detail := explainTokenError(err, tokenRequest{what: what, host: host, expected: "the " + what, hostFrom: hostFrom, domain: domain})
	return diag.NewErrorDiagnostic(summary, detail)
}

// hostOrigin says where a document's host came from: auth_domain, or the
// directory's jwks_uri.
func hostOrigin(answered, authDomainHost string) string {
	if answered == authDomainHost {
		return ""
	}
	return "the host of the jwks_uri that the directory's discovery document announces"
}

// titleWords upper-cases the first letter of each word ("key set (JWKS)" to
// "Key Set (JWKS)") for a summary.
func titleWords(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if w != "" && w[0] >= 'a' && w[0] <= 'z' {
			words[i] = string(w[0]-'a'+'A') + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func contentTypeAndExcerpt(e *ciam.Error) string {
	var b strings.Builder
	if e.ContentType != "" {
		fmt.Fprintf(&b, " (Content-Type %s)", e.ContentType)
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; the body starts: %q", e.Excerpt)
	}
	return b.String()
}

// attemptsNote says how many attempts a request took, when it was retried.
func attemptsNote(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (after %d attempts; see max_retries)", n)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// invalidRequestHint says what invalid_request likely means for the request
// at hand: for the grant, and for what in it is unusual (a very long scope
// parameter or client_id), not always the same guess.
func invalidRequestHint(r tokenRequest) string {
	scopeChars := 0
	for _, s := range r.scopes {
		scopeChars += len(s) + 1
	}
	switch {
	case scopeChars > longParameter:
		return fmt.Sprintf(", likely the scope parameter: %d scopes, %d characters, is far longer than a token request's usually is. Request fewer scopes.",
			len(r.scopes), scopeChars-1)
	case len(r.clientID) > maxQuoted:
		return fmt.Sprintf(", likely the client_id of %d characters.", len(r.clientID))
	}
	switch r.grant {
	case "refresh_token":
		return ", typically a missing or malformed refresh_token (the stored one may be damaged) or client_id."
	case "authorization_code":
		return ", typically a missing code or redirect_uri, or a malformed client_id."
	case "revocation":
		return ", typically a missing or malformed token: the token to revoke, or the client_id."
	case "data-sync":
		return ", typically a client_id or client_secret in the query that the endpoint cannot read."
	default:
		return ", typically a malformed client_id or scopes."
	}
}

// longParameter is how long (in characters) a request parameter may be
// before invalidRequestHint calls it the likely cause: no CIAM limit is
// published, and real scope lists are far shorter.
const longParameter = 4096

func statusAdvice(status int, singleUse bool) string {
	if singleUse && (status == 429 || status >= 500) {
		// The caller says what became of the code or refresh token.
		return "The CIAM (or a gateway in front of it) failed or is rate-limiting."
	}
	switch {
	case status == 401 || status == 403:
		return "The request was refused; check the credentials and any gateway in front of the CIAM."
	case status == 404:
		return "The endpoint was not found: check that auth_domain is the user directory's domain."
	case status == 429:
		return "The CIAM is rate-limiting this client; wait and try again, or reduce the number of token requests."
	case status >= 500:
		return fmt.Sprintf("The CIAM or a gateway in front of it failed, also on every retry that max_retries allows (default %d; none with 0): try again later.", ciam.DefaultMaxRetries)
	default:
		return "Check that auth_domain points at a Tencent CIAM user directory."
	}
}

func quoteList(values []string) string {
	if len(values) == 0 {
		return "(none)"
	}
	const maxShown = 10
	q := make([]string, 0, min(len(values), maxShown))
	for _, v := range values[:min(len(values), maxShown)] {
		q = append(q, quoted(v))
	}
	if len(values) > maxShown {
		q = append(q, fmt.Sprintf("... (%d in all)", len(values)))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// maxQuoted bounds every value a diagnostic echoes.
const maxQuoted = 64

// quoted quotes a value for a diagnostic, cut to maxQuoted bytes: a 100 KB
// client_id must not make a 100 KB line.
func quoted(v string) string {
	if len(v) <= maxQuoted {
		return fmt.Sprintf("%q", v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d characters)", v[:cut], len(v))
}

// plainHTTPAnswer explains an https request that the server answered in
// plain HTTP, from where the URL came: the discovery document's jwks_uri,
// or auth_domain as the user gave it (a bare host implies https).
func plainHTTPAnswer(r tokenRequest, terr *ciam.TransportError) string {
	detail := fmt.Sprintf("The %s request got a plain HTTP answer: %s.\n\n", r.what, terr.Error())
	if r.hostFrom != "" || strings.HasPrefix(strings.ToLower(r.domain.value), "http://") {
		// Not auth_domain's URL: an https URL on another host, or on the
		// plain-HTTP auth_domain's own, came from the discovery document.
		return detail + fmt.Sprintf("It went to an https URL on %s, the jwks_uri that the directory's discovery document announces, whose server answers in plain HTTP. "+
			"Nothing in this configuration chose that URL: report it to the directory's operator.", quoted(r.host))
	}
	setting := r.domain.setting()
	if r.domain.value != "" && !strings.Contains(r.domain.value, "://") {
		detail += "The URL comes from " + setting + ", a bare host, which implies https (TLS), and the server there answers in plain HTTP."
	} else {
		detail += "The URL comes from " + setting + ", which asks for https (TLS), and the server there answers in plain HTTP."
	}
	if h, _, err := net.SplitHostPort(r.host); err == nil && ciam.IsLoopbackHost(h) || err != nil && ciam.IsLoopbackHost(r.host) {
		return detail + fmt.Sprintf(" For a local server that speaks plain HTTP, give the scheme: %s (plain http:// is accepted for loopback hosts only).",
			r.domain.assignment("http://"+r.host))
	}
	return detail + " Check the port: it may be the directory's plain-HTTP port, or another service's. Plain http:// is accepted for loopback hosts only."
}
