package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	ephschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

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
}

// scopeProblem is the error of a scope that is not a scope token (RFC 6749
// section 3.3), for every block that takes scopes.
func scopeProblem(s string) diag.Diagnostics {
	var diags diag.Diagnostics
	if !scopeValuePattern.MatchString(s) {
		diags.AddAttributeError(path.Root("scopes"), "Invalid Attribute Value Match",
			fmt.Sprintf("Scope %s must be a scope token: printable ASCII without spaces, quotes or backslashes.", quoted(s)))
	}
	return diags
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
		{name: "client_id", argument: true,
			description: "Client ID of the " + who + " to use for this token instead of " + fallback + ". Set together with `client_secret`."},
		{name: "client_secret", argument: true, sensitive: true,
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
			out[s.name] = dsschema.SetAttribute{CustomType: newStringSetType(), MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
		default:
			out[s.name] = dsschema.StringAttribute{MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
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
			out[s.name] = ephschema.SetAttribute{CustomType: newStringSetType(), MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
		default:
			out[s.name] = ephschema.StringAttribute{MarkdownDescription: s.description,
				Computed: !s.argument, Optional: s.argument, Sensitive: s.sensitive}
		}
	}
	return out
}

// validateTokenBlockConfig checks a token block's arguments in one pass:
// client_id and client_secret are set together and non-empty, and every
// scope is an RFC 6749 scope-token. It reads the raw configuration object
// once instead of running five attribute validators with path-expression
// lookups: with a thousand blocks that is the difference between 1.2x and
// 1.1x of Terraform's own cost (see BENCHMARKS.md).
func validateTokenBlockConfig(cfg tfsdk.Config) diag.Diagnostics {
	var diags diag.Diagnostics
	var attrs map[string]tftypes.Value
	if err := cfg.Raw.As(&attrs); err != nil {
		return diags // unknown or null block: nothing to check yet
	}
	id, idSet := rawString(attrs["client_id"])
	secret, secretSet := rawString(attrs["client_secret"])
	for _, a := range []struct {
		name, other      string
		value            string
		set, otherAbsent bool
	}{
		{"client_id", "client_secret", id, idSet, attrs["client_secret"].IsNull()},
		{"client_secret", "client_id", secret, secretSet, attrs["client_id"].IsNull()},
	} {
		switch {
		case !a.set:
		case a.value == "":
			diags.AddAttributeError(path.Root(a.name), "Invalid Attribute Value Length", a.name+" must not be empty.")
		case hasSurroundingSpace(a.value):
			diags.Append(surroundingSpaceError(path.Root(a.name), a.value, a.name == "client_secret"))
		case a.otherAbsent:
			diags.AddAttributeError(path.Root(a.name), "Invalid Attribute Combination",
				fmt.Sprintf("%s and %s must be set together: a block brings its own credential pair or uses the provider's.", a.name, a.other))
		}
	}
	var scopes []tftypes.Value
	if v, ok := attrs["scopes"]; !ok || v.As(&scopes) != nil {
		return diags
	}
	for _, e := range scopes {
		if e.IsNull() {
			diags.AddAttributeError(path.Root("scopes"), "Invalid Attribute Value",
				"scopes must not contain null: remove the null element, or give the scope's name.")
			continue
		}
		if s, ok := rawString(e); ok {
			diags.Append(scopeProblem(s)...)
		}
	}
	return diags
}

// rawString returns a known, non-null string value.
func rawString(v tftypes.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() {
		return "", false
	}
	var s string
	if err := v.As(&s); err != nil {
		return "", false
	}
	return s, true
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

// nullIfEmpty is a string value, null for "".
func nullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// stringList is a list value in the given order, null for nil.
func stringList(values []string) types.List {
	if values == nil {
		return types.ListNull(types.StringType)
	}
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

// stringSetType is a set of strings whose handling by the framework takes
// linear time. The framework's set of strings compares each pair of elements
// three times over: to find duplicates when it validates any set attribute
// (basetypes.SetType.Validate), to find each element of a data source's
// state in its configuration after a read (the semantic-equality check,
// fwschemadata.ValueSemanticEqualitySetElements, which runs unless the value
// type decides it), and in SetValue.Equal. 20,000 scopes cost a minute and a
// half. This type and its value (stringSetValue) do each with a map;
// everything else is the framework's set of strings. TestScopesCostGrowsLinearly
// guards it. (Upstream: hashicorp/terraform-plugin-framework issues on set
// performance; drop this type when the framework's own sets are linear.)
type stringSetType struct{ basetypes.SetType }

var _ basetypes.SetTypable = stringSetType{}

func newStringSetType() stringSetType {
	return stringSetType{SetType: basetypes.SetType{ElemType: types.StringType}}
}

func (t stringSetType) TerraformType(ctx context.Context) tftypes.Type {
	return tftypes.Set{ElementType: tftypes.String}
}

func (t stringSetType) Equal(o attr.Type) bool {
	_, ok := o.(stringSetType)
	return ok
}

func (stringSetType) String() string { return "stringSetType" }

func (t stringSetType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := basetypes.SetType{ElemType: types.StringType}.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	set, ok := v.(basetypes.SetValue)
	if !ok {
		return nil, fmt.Errorf("unexpected set value %T", v)
	}
	return stringSetValue{SetValue: set}, nil
}

func (t stringSetType) ValueFromSet(_ context.Context, set basetypes.SetValue) (basetypes.SetValuable, diag.Diagnostics) {
	return stringSetValue{SetValue: set}, nil
}

func (t stringSetType) ValueType(context.Context) attr.Value {
	return stringSetValue{SetValue: basetypes.NewSetNull(types.StringType)}
}

// stringSetValue is a value of stringSetType: the framework's set of
// strings, compared with a map.
type stringSetValue struct{ basetypes.SetValue }

var _ basetypes.SetValuableWithSemanticEquals = stringSetValue{}

func (v stringSetValue) Type(context.Context) attr.Type { return newStringSetType() }

func (v stringSetValue) String() string { return v.SetValue.String() }

// Equal reports whether o is a stringSetValue with the same state and
// elements.
func (v stringSetValue) Equal(o attr.Value) bool {
	other, ok := o.(stringSetValue)
	if !ok || v.IsNull() != other.IsNull() || v.IsUnknown() != other.IsUnknown() {
		return false
	}
	if v.IsNull() || v.IsUnknown() {
		return true
	}
	return sameStrings(v.Elements(), other.Elements())
}

// SetSemanticEquals tells the framework that a set with the same elements
// as the prior one is the prior one, so that it does not compare them in
// pairs.
func (v stringSetValue) SetSemanticEquals(_ context.Context, prior basetypes.SetValuable) (bool, diag.Diagnostics) {
	p, ok := prior.(stringSetValue)
	return ok && v.Equal(p), nil
}

// sameStrings reports whether a and b hold the same string values (known or
// not, each counted), in linear time.
func sameStrings(a, b []attr.Value) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int, len(a))
	key := func(e attr.Value) string {
		s, ok := e.(basetypes.StringValue)
		switch {
		case !ok:
			return "\x00other:" + e.String()
		case s.IsUnknown():
			return "\x00unknown"
		case s.IsNull():
			return "\x00null"
		}
		return "=" + s.ValueString()
	}
	for _, e := range a {
		count[key(e)]++
	}
	for _, e := range b {
		k := key(e)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

// Validate refuses what the framework's Validate refuses (a value that is
// not a set of strings, duplicate elements), in linear time.
func (t stringSetType) Validate(_ context.Context, in tftypes.Value, p path.Path) diag.Diagnostics {
	var diags diag.Diagnostics
	if in.Type() == nil || !in.IsKnown() || in.IsNull() {
		return diags
	}
	var elems []tftypes.Value
	if !in.Type().Is(tftypes.Set{ElementType: tftypes.String}) || in.As(&elems) != nil {
		diags.AddAttributeError(p, "Set Type Validation Error", "This is a provider bug, please report it: expected a set of strings.")
		return diags
	}
	seen := make(map[string]struct{}, len(elems))
	for _, e := range elems {
		s, ok := rawString(e)
		if !ok {
			continue // unknown or null: not compared, as the framework does
		}
		if _, dup := seen[s]; dup {
			diags.AddAttributeError(p, "Duplicate Set Element", "This attribute contains duplicate values of: "+quoted(s))
			continue
		}
		seen[s] = struct{}{}
	}
	return diags
}
