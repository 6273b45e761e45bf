package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	ephschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file holds what the token data sources and ephemeral resources share:
// the description of their attributes (one list, turned into each kind's
// schema), the result model and the mapping from a ciam.Token to it.

type attrKind int

const (
	kindString attrKind = iota
	kindInt64
	kindStringSet
)

// attrSpec describes one attribute independently of the schema package of
// the Terraform type that declares it.
type attrSpec struct {
	name        string
	description string
	kind        attrKind
	// argument attributes are Optional; the others are Computed.
	argument  bool
	sensitive bool
	// requiredWith names the attribute this one must be set together with.
	requiredWith string
}

// scopeValuePattern is RFC 6749 section 3.3's scope-token.
var scopeValuePattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

func credentialArgumentSpecs(forSCIM bool) []attrSpec {
	who := "application"
	fallback := "the provider's `client_id`"
	if forSCIM {
		who = "data-sync (SCIM) configuration"
		fallback = "the provider's `scim_client_id`, then its `client_id`"
	}
	return []attrSpec{
		{name: "client_id", argument: true, requiredWith: "client_secret",
			description: "Client ID of the " + who + " to use for this token instead of " + fallback + ". Set together with `client_secret`."},
		{name: "client_secret", argument: true, sensitive: true, requiredWith: "client_id",
			description: "Client secret that goes with `client_id`. Set together with `client_id`."},
	}
}

var scopesArgumentSpec = attrSpec{
	name: "scopes", kind: kindStringSet, argument: true,
	description: "Scopes to request, sent space-separated. Each must be registered for the application, or the CIAM answers `invalid_scope`. Omit to request none.",
}

var tokenResultSpecs = []attrSpec{
	{name: "id", description: "Fingerprint of the access token: the first 16 hexadecimal digits of its SHA-256 hash. Not a secret; it changes whenever the token does."},
	{name: "access_token", sensitive: true, description: "The access token, to be sent as `Authorization: Bearer <token>`."},
	{name: "token_type", description: "Token type as returned by the CIAM. Always `Bearer` (in the case the CIAM used): responses with another type are rejected."},
	{name: "expires_in", kind: kindInt64, description: "Lifetime of the token in seconds, as returned by the CIAM. Null when the response gave no lifetime."},
	{name: "expires_at", description: "When the token expires, as an RFC 3339 UTC timestamp: the time the response was received plus `expires_in`. Null when the response gave no lifetime."},
	{name: "scope", description: "Granted scope as returned by the CIAM: a space-separated string. Null when the response has no scope."},
}

var grantedScopesSpec = attrSpec{
	name: "granted_scopes", kind: kindStringSet,
	description: "The values of `scope`, as a set.",
}

// dataSourceAttributes turns specs into data source schema attributes.
func dataSourceAttributes(specs ...attrSpec) map[string]dsschema.Attribute {
	out := make(map[string]dsschema.Attribute, len(specs))
	for _, s := range specs {
		switch s.kind {
		case kindInt64:
			out[s.name] = dsschema.Int64Attribute{MarkdownDescription: s.description, Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
		case kindStringSet:
			out[s.name] = dsschema.SetAttribute{ElementType: types.StringType, MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive, Validators: s.setValidators()}
		default:
			out[s.name] = dsschema.StringAttribute{MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive, Validators: s.stringValidators()}
		}
	}
	return out
}

// ephemeralAttributes turns specs into ephemeral resource schema attributes.
// It mirrors dataSourceAttributes: the two schema packages have distinct
// types, so one loop cannot build both.
func ephemeralAttributes(specs ...attrSpec) map[string]ephschema.Attribute {
	out := make(map[string]ephschema.Attribute, len(specs))
	for _, s := range specs {
		switch s.kind {
		case kindInt64:
			out[s.name] = ephschema.Int64Attribute{MarkdownDescription: s.description, Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
		case kindStringSet:
			out[s.name] = ephschema.SetAttribute{ElementType: types.StringType, MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive, Validators: s.setValidators()}
		default:
			out[s.name] = ephschema.StringAttribute{MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive, Validators: s.stringValidators()}
		}
	}
	return out
}

func (s attrSpec) stringValidators() []validator.String {
	if !s.argument {
		return nil
	}
	v := []validator.String{stringvalidator.LengthAtLeast(1)}
	if s.requiredWith != "" {
		v = append(v, stringvalidator.AlsoRequires(path.MatchRoot(s.requiredWith)))
	}
	return v
}

func (s attrSpec) setValidators() []validator.Set {
	if !s.argument {
		return nil
	}
	return []validator.Set{setvalidator.ValueStringsAre(
		stringvalidator.RegexMatches(scopeValuePattern, "must be a scope token: printable ASCII without spaces, quotes or backslashes"),
	)}
}

// tokenResultModel holds the result attributes every token type has.
type tokenResultModel struct {
	ID          types.String `tfsdk:"id"`
	AccessToken types.String `tfsdk:"access_token"`
	TokenType   types.String `tfsdk:"token_type"`
	ExpiresIn   types.Int64  `tfsdk:"expires_in"`
	ExpiresAt   types.String `tfsdk:"expires_at"`
	Scope       types.String `tfsdk:"scope"`
}

// set maps a token to the result attributes.
func (m *tokenResultModel) set(tok *ciam.Token) {
	sum := sha256.Sum256([]byte(tok.AccessToken))
	m.ID = types.StringValue(hex.EncodeToString(sum[:8]))
	m.AccessToken = types.StringValue(tok.AccessToken)
	m.TokenType = types.StringValue(tok.TokenType)
	m.ExpiresIn = types.Int64Null()
	m.ExpiresAt = types.StringNull()
	if at, ok := tok.ExpiresAt(); ok {
		m.ExpiresIn = types.Int64Value(tok.ExpiresIn)
		m.ExpiresAt = types.StringValue(at.UTC().Format(time.RFC3339))
	}
	m.Scope = types.StringNull()
	if tok.Scope != "" {
		m.Scope = types.StringValue(tok.Scope)
	}
}

// stringSet converts a Go slice to a set value (an empty, non-null set for
// no values).
func stringSet(ctx context.Context, values []string) (types.Set, diag.Diagnostics) {
	if values == nil {
		values = []string{}
	}
	return types.SetValueFrom(ctx, types.StringType, values)
}

// sortedStrings reads a set of strings into a sorted slice, so that the same
// set always produces the same request.
func sortedStrings(ctx context.Context, set types.Set) ([]string, diag.Diagnostics) {
	if set.IsNull() || set.IsUnknown() {
		return nil, nil
	}
	var out []string
	diags := set.ElementsAs(ctx, &out, false)
	sort.Strings(out)
	return out, diags
}
