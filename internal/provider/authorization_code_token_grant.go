package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file holds what ciam_authorization_code_token knows about its grant
// besides the state: the private-state record, and the client and directory
// the grant belongs to.

// grantPrivate is the resource's private state: bytes Terraform keeps beside
// the state and hands back on the next call, in whichever provider process
// makes it. It is the contract between the calls of one run (Read in the
// plan's process; ModifyPlan there and again in the apply's; Update or
// Delete in the apply's) and between runs. Nothing else crosses processes.
//
//	field         written by                       read by                          cleared by
//	ClientID      Create; Read (state from before  sameGrant, Read, Update, Delete  Update, when a new code is
//	              it was recorded)                 (grantClientID)                  exchanged (so every field)
//	Directory     Create; renew (state from        otherDirectory: Read,            never
//	              before it was recorded)          sameGrant, Update, Delete
//	Rotates       renew, when a renewal returned   renew: the rotation warning is   never
//	              a new refresh token              given once
//	ReadRenewal   Read, when it sent a refresh     readDecided (ModifyPlan and      Read, at the start of every
//	              that may have reached the        Update): the apply sends no      read; Update, once applied
//	              directory                        second one in this run
//	ReadDeferred  Read, when the token was due     readDecided: the apply renews    as ReadRenewal
//	              and the provider's settings
//	              were unknown (or no auth_domain)
//	ReadRefused   Read, when the directory         readDecided: the apply renews    as ReadRenewal
//	              refused the client (nothing      only with other credentials
//	              spent)
//	Lost          Read or Update, when the         ModifyPlan: a plan that keeps    Update, when a new code is
//	              directory rejected the refresh   the code fails, saying a new     exchanged
//	              token (invalid_grant), or a      code is needed; Read and Update
//	              token without one expired;       send nothing; Delete revokes
//	              Create, when its code is spent   nothing
//	              (the exchange failed after it
//	              may have reached the directory,
//	              or the code was refused unsent
//	              as sent before); the state
//	              Terraform then keeps, tainted,
//	              has no tokens
//	SentCodes     Create and Update: every code    ModifyPlan and Update: a code    never (the oldest beyond
//	              they sent that may have reached  in it is refused, not sent       maxSentCodes are dropped)
//	              the directory, whatever came of
//	              it (renewalMark each); Update
//	              hands it on to a new grant
//
// A lost grant stays in state, marked, instead of leaving it: a resource
// that left state would be created again with its spent code on the next
// apply, and a directory that sees a code come back may revoke everything
// issued from it (RFC 6749 section 4.1.2).
//
// The Read* marks speak of the current run only: Read clears them before it
// decides, so a mark is one this run's Read wrote (with -refresh=false there
// is no Read, and a mark from the last run that read may remain; see
// readDecided). Each holds renewalMark of the refresh token it is about, so
// a mark never applies to another token.
type grantPrivate struct {
	ClientID     string   `json:"client_id,omitempty"`
	Directory    string   `json:"directory,omitempty"`
	Rotates      bool     `json:"rotates,omitempty"`
	ReadRenewal  string   `json:"read_renewal,omitempty"`
	ReadDeferred string   `json:"read_deferred,omitempty"`
	ReadRefused  string   `json:"read_refused,omitempty"`
	Lost         string   `json:"lost,omitempty"`
	SentCodes    []string `json:"sent_codes,omitempty"`
}

// maxSentCodes bounds SentCodes. A code lives minutes; the codes a resource
// sent before its last 64 are long expired, and a directory refuses them
// whatever they were.
const maxSentCodes = 64

// sent reports whether code is one this resource sent to the directory.
func (g *grantPrivate) sent(code string) bool {
	return code != "" && slices.Contains(g.SentCodes, renewalMark(code))
}

// inheritSent adds marks of codes sent (by an object this one replaces) to
// SentCodes, as far as maxSentCodes allows.
func (g *grantPrivate) inheritSent(marks []string) {
	for _, m := range marks {
		if len(g.SentCodes) >= maxSentCodes-1 {
			return // room for the object's own code
		}
		if !slices.Contains(g.SentCodes, m) {
			g.SentCodes = append(g.SentCodes, m)
		}
	}
}

// recordSent adds code to SentCodes, dropping the oldest beyond
// maxSentCodes.
func (g *grantPrivate) recordSent(code string) {
	if code == "" || g.sent(code) {
		return
	}
	g.SentCodes = append(g.SentCodes, renewalMark(code))
	if over := len(g.SentCodes) - maxSentCodes; over > 0 {
		g.SentCodes = slices.Delete(g.SentCodes, 0, over)
	}
}

const privateGrantKey = "grant"

// renewalMark is what the private state and the run's memory hold for a
// refresh token (the Read* marks) or a code (SentCodes): a truncated
// SHA-256, never the value.
func renewalMark(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:16])
}

// clearReadMarks drops the marks of an earlier read and reports whether
// there were any.
func (g *grantPrivate) clearReadMarks() bool {
	had := g.ReadRenewal != "" || g.ReadDeferred != "" || g.ReadRefused != ""
	g.ReadRenewal, g.ReadDeferred, g.ReadRefused = "", "", ""
	return had
}

// privateGetter and privateSetter are what the framework's request and
// response private state offer.
type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

func loadGrantPrivate(ctx context.Context, p privateGetter) grantPrivate {
	var g grantPrivate
	if p == nil {
		return g
	}
	if b, diags := p.GetKey(ctx, privateGrantKey); !diags.HasError() && len(b) > 0 {
		_ = json.Unmarshal(b, &g) // unreadable private state: start afresh
	}
	return g
}

func (g grantPrivate) save(ctx context.Context, p privateSetter) diag.Diagnostics {
	b, err := json.Marshal(g)
	if err != nil {
		return nil
	}
	return p.SetKey(ctx, privateGrantKey, b)
}

// grantClient is the client of the grant and where its credentials came
// from. A public client has no secret: its renewals and revocations send the
// client_id alone.
type grantClient struct {
	creds  ciam.Credentials
	origin string
	// missingSecret says the grant is a confidential client's (issued
	// without PKCE) and no secret is configured for it.
	missingSecret bool
	// problem says why the provider's credentials, from the environment,
	// cannot be used (credentialSource.problem): nothing is sent with them.
	problem string
}

// public reports a public client: a PKCE grant without a client secret.
func (c grantClient) public() bool { return c.creds.ClientSecret == "" && !c.missingSecret }

// usableFor reports whether the credentials can be sent for the grant of
// owner: its client ID, with the secret when the grant is confidential.
func (c grantClient) usableFor(owner string) bool {
	return c.creds.ClientID != "" && c.creds.ClientID == owner && !c.missingSecret && c.problem == ""
}

// client resolves the client for the code flow: the block's client_id (with
// its secret, possibly none for PKCE) or the provider's application pair.
// ok is false while the provider's settings are unknown.
func (r *authorizationCodeTokenResource) client(m *authorizationCodeTokenModel) (c grantClient, ok bool) {
	switch {
	case !m.ClientID.IsNull():
		c = grantClient{creds: ciam.Credentials{ClientID: m.ClientID.ValueString(), ClientSecret: m.ClientSecret.ValueString()}, origin: blockOrigin}
		ok = !m.ClientID.IsUnknown() && !m.ClientSecret.IsUnknown()
	case r.data == nil || len(r.data.unknown) > 0 || r.data.noAuthDomain:
		return c, false
	default:
		c = grantClient{creds: ciam.Credentials{ClientID: r.data.app.id, ClientSecret: r.data.app.secret}, origin: r.data.app.origin(), problem: r.data.app.problem}
		ok = true
	}
	switch {
	case c.creds.ClientID == "" || c.creds.ClientSecret != "":
	case m.CodeVerifier.IsNull():
		// A grant issued without PKCE is a confidential client's: without
		// its secret nothing may be sent, and it is not a public client.
		c.missingSecret = true
	default:
		c.origin = "a public client: client_id with no client secret (none is configured), as PKCE allows"
	}
	return c, ok
}

// exchangeClient is client for the code exchange, which needs a client ID
// and, unless the exchange uses PKCE, a secret.
func (r *authorizationCodeTokenResource) exchangeClient(m *authorizationCodeTokenModel) (grantClient, diag.Diagnostics) {
	var diags diag.Diagnostics
	c, _ := r.client(m)
	if c.problem != "" {
		diags.AddError("Leading Or Trailing Whitespace", c.problem)
	} else if c.creds.ClientID == "" {
		diags.Append(missingClientID("ciam_authorization_code_token needs the client ID of the application that obtained the code (and its client_secret, unless code_verifier makes it a public client).", r.data.app.names()))
	} else if c.creds.ClientSecret == "" && m.CodeVerifier.IsNull() {
		diags.Append(missingExchangeSecret(r.data.app.names()))
	}
	return c, diags
}

// otherDirectory says how the provider's directory differs from the one
// that issued the grant ("" when it does not, or is not known yet).
func (r *authorizationCodeTokenResource) otherDirectory(grant grantPrivate) string {
	if r.data == nil || r.data.client == nil || grant.Directory == "" || grant.Directory == r.data.client.Directory() {
		return ""
	}
	return fmt.Sprintf("the grant was issued by the directory at %s, and the provider's auth_domain is %s", grant.Directory, r.data.client.Directory())
}

// grantClientID is the client the grant was issued to: as recorded at
// create, else (state from before the record) as configured.
func (r *authorizationCodeTokenResource) grantClientID(state *authorizationCodeTokenModel, grant grantPrivate) string {
	if grant.ClientID != "" {
		return grant.ClientID
	}
	c, _ := r.client(state)
	return c.creds.ClientID
}

// Why a grant is lost (grantPrivate.Lost), for the messages that say so.

// lostInCreate is why the grant of a create whose exchange failed after it
// may have reached the directory is lost (grantPrivate.Lost).
const lostInCreate = "the exchange of its code failed after the request may have reached the directory, which spends a code whatever it answers, so no grant was stored"

// lostCodeUsedTwice is why the grant of a create whose code another
// resource exchanged in the same run is lost (grantPrivate.Lost).
const lostCodeUsedTwice = "another ciam_authorization_code_token exchanged its code in the same run, so it was not sent and no grant was stored"

// lostCodeInLedger is why the grant of a create whose code this machine's
// ledger records as sent is lost (grantPrivate.Lost).
const lostCodeInLedger = "this provider already sent its code to the directory from this machine, so it was not sent again and no grant was stored"

// lostCodeSentBefore is why the grant of a create whose code was refused
// unsent, as one sent before, is lost (grantPrivate.Lost).
const lostCodeSentBefore = "its code was already sent to the directory (the state of a ciam_authorization_code_token records it), " +
	"so it was not sent again and no grant was stored"

// lostRefreshToken is why a grant whose refresh token the directory
// rejected is lost (grantPrivate.Lost).
const lostRefreshToken = "the directory rejected its refresh token (invalid_grant): it was revoked, expired, or spent (a directory that rotates refresh tokens " +
	"spends one when it renews, and a plan that renewed may have been thrown away)"
