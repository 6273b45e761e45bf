package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// authDomainValidator checks auth_domain with the same parser the client
// uses, so that plan-time validation and runtime behaviour cannot disagree.
type authDomainValidator struct{}

var _ validator.String = authDomainValidator{}

func (authDomainValidator) Description(context.Context) string {
	return "a bare host or a base URL with scheme and optional port; http only for loopback hosts"
}

func (v authDomainValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (authDomainValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := ciam.ParseAuthDomain(req.ConfigValue.ValueString()); err != nil {
		detail := "auth_domain " + err.Error() + "."
		if v := req.ConfigValue.ValueString(); strings.HasSuffix(v, "\n") {
			detail += " A value read with file() keeps the file's final newline: use trimspace(file(...))."
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid CIAM Auth Domain", detail)
	}
}

// durationValidator checks that a string is a positive Go duration ("90s",
// "5m", "1h30m").
type durationValidator struct{}

var _ validator.String = durationValidator{}

func (durationValidator) Description(context.Context) string {
	return "a positive duration such as 90s, 5m or 1h30m"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parsePositiveDuration(req.Path.String(), req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration", err.Error())
	}
}

// durationShaped matches what time.ParseDuration refuses only when it
// overflows.
var durationShaped = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$`)

// parsePositiveDuration parses a Go duration and says what is wrong with a
// value that is not one, or not positive, naming the attribute.
func parsePositiveDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil && durationShaped.MatchString(v):
		return 0, fmt.Errorf("%s is too long: a duration is at most 2562047h; got %s", name, quoted(v))
	case err != nil:
		return 0, fmt.Errorf("%s must be a duration such as 10s, 2m or 1h30m; got %s", name, quoted(v))
	case d <= 0:
		return 0, fmt.Errorf("%s must be positive; got %s", name, quoted(v))
	}
	return d, nil
}

// noSurroundingSpace refuses a value that starts or ends with whitespace: a
// code, URI, client ID or secret never does, and file() keeps a file's final
// newline. The message never shows the value. For a secret the error has no
// attribute path: Terraform would print the line of configuration that
// holds it.
type noSurroundingSpace struct{ secret bool }

var _ validator.String = noSurroundingSpace{}

func (noSurroundingSpace) Description(context.Context) string {
	return "no leading or trailing whitespace"
}

func (v noSurroundingSpace) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (n noSurroundingSpace) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if hasSurroundingSpace(req.ConfigValue.ValueString()) {
		resp.Diagnostics.Append(surroundingSpaceError(req.Path, req.ConfigValue.ValueString(), n.secret))
	}
}

// The whitespace rule: a configured value (a credential, code, URI or
// auth_domain) that starts or ends with whitespace is refused, never
// trimmed. Values in the configuration meet surroundingSpaceError (from
// noSurroundingSpace, the provider's Configure for values unknown at
// validate, and a token block's ValidateConfig); values from an environment
// variable meet envProblem, in the blocks that use them only (Configure
// records it, providerData.credentials reports it).

// whitespaceTitle is the summary of every whitespace error.
const whitespaceTitle = "Leading Or Trailing Whitespace"

// hasSurroundingSpace reports whether v starts or ends with whitespace or
// an invisible character.
func hasSurroundingSpace(v string) bool { return strings.TrimFunc(v, isSpaceOrInvisible) != v }

// isSpaceOrInvisible reports whether c is whitespace, or a format
// character, which shows as nothing and which trimspace() keeps: a
// byte-order mark (a file saved "with BOM"), a zero-width space or joiner,
// a soft hyphen.
func isSpaceOrInvisible(c rune) bool {
	return unicode.IsSpace(c) || unicode.Is(unicode.Cf, c)
}

// invisibleAtEnds reports whether v starts or ends with an invisible
// character that is not whitespace.
func invisibleAtEnds(v string) bool {
	t := strings.TrimFunc(v, unicode.IsSpace)
	return strings.TrimFunc(t, isSpaceOrInvisible) != t
}

// invisibleProblem says what is wrong with a value that has an invisible
// character at its ends, after its name.
const invisibleProblem = " starts or ends with an invisible character (a byte-order mark, a zero-width space, a soft hyphen), which the CIAM would not accept " +
	"and trimspace() does not remove: save the file without it (as UTF-8 without BOM), or remove it from the value."

// surroundingSpaceError is the error of a configured value with leading or
// trailing whitespace, with advice for a file's final newline or for spaces.
// It never shows the value; for a secret it has no
// attribute path, since Terraform would print the line of configuration
// that holds it.
func surroundingSpaceError(p path.Path, value string, secret bool) diag.Diagnostic {
	detail := p.String() + " starts or ends with whitespace, which the CIAM would not accept. "
	switch {
	case invisibleAtEnds(value):
		detail = p.String() + invisibleProblem
	case strings.HasSuffix(value, "\n"):
		detail += "A value read with file() keeps the file's final newline: use trimspace(file(...))."
	default:
		detail += "Remove the spaces or tabs around it (trimspace() does it for a value from elsewhere)."
	}
	if secret {
		return diag.NewErrorDiagnostic(whitespaceTitle, detail)
	}
	return diag.NewAttributeErrorDiagnostic(p, whitespaceTitle, detail)
}

// envProblem says why the value of an environment variable cannot be used,
// or "". A value with surrounding whitespace (a file's final newline, say)
// is refused, as in the provider block, but only where it is used, and with
// advice for a variable.
func envProblem(env, attr, value string) string {
	if !hasSurroundingSpace(value) {
		return ""
	}
	name := fmt.Sprintf("The %s environment variable (used because %s is not set)", env, attr)
	advice := "Set the variable without the spaces or tabs around it."
	switch {
	case invisibleAtEnds(value):
		return name + invisibleProblem
	case strings.HasSuffix(value, "\n"):
		advice = "Set the variable without it (a value taken from a file keeps the file's final newline: strip it, e.g. with tr -d '\\n')."
	}
	return name + " starts or ends with whitespace, which the CIAM would not accept. " + advice
}

// wholeNumberBetween checks that a number is a whole number in [min, max].
type wholeNumberBetween struct{ min, max int64 }

var _ validator.Number = wholeNumberBetween{}

func (v wholeNumberBetween) Description(context.Context) string {
	return fmt.Sprintf("a whole number from %d to %d", v.min, v.max)
}

func (v wholeNumberBetween) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v wholeNumberBetween) ValidateNumber(ctx context.Context, req validator.NumberRequest, resp *validator.NumberResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	f := req.ConfigValue.ValueBigFloat()
	n, acc := f.Int64()
	if !f.IsInt() || acc != big.Exact || n < v.min || n > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("%s must be %s, got %s.", req.Path, v.Description(ctx), f.Text('g', -1)))
	}
}

// redirectURIValidator checks that redirect_uri is an absolute URI without
// a fragment (RFC 6749 section 3.1.2): https://app.example.com/callback,
// or a private-use scheme such as com.example.app:/callback (RFC 8252).
type redirectURIValidator struct{}

var _ validator.String = redirectURIValidator{}

func (redirectURIValidator) Description(context.Context) string {
	return "an absolute URI without a fragment"
}

func (v redirectURIValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (redirectURIValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || hasSurroundingSpace(req.ConfigValue.ValueString()) {
		return // noSurroundingSpace says what is wrong
	}
	if problem := redirectURIProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Redirect URI", problem)
	}
}

// redirectURIProblem says why a redirect URI cannot be one the directory
// registered and issued a code for ("" when it can).
func redirectURIProblem(v string) string {
	if strings.ContainsFunc(v, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) || isSpaceOrInvisible(c) }) {
		return "redirect_uri holds whitespace or an invisible character: a registered redirect URI has none, and the directory matches it exactly."
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		var ue *url.Error
		reason := err.Error()
		if errors.As(err, &ue) {
			reason = ue.Err.Error() // without the value
		}
		return "redirect_uri is not a valid URI (" + reason + "): it must be the absolute URI the code was issued for at /oauth2/authorize, such as https://app.example.com/callback."
	case u.Scheme == "":
		return "redirect_uri must be the absolute URI the code was issued for at /oauth2/authorize, with its scheme, such as https://app.example.com/callback."
	case u.Fragment != "" || strings.HasSuffix(v, "#"):
		return "redirect_uri must not have a fragment (the part after #): OAuth 2.0 forbids it (RFC 6749 section 3.1.2), so no code was issued for it."
	case (u.Scheme == "https" || u.Scheme == "http") && u.Hostname() == "":
		return "redirect_uri is an " + u.Scheme + " URI without a host: an " + u.Scheme + " URI needs a host, such as https://app.example.com/callback."
	case slices.Contains([]string{"javascript", "data", "vbscript", "file"}, strings.ToLower(u.Scheme)):
		return "redirect_uri has the scheme " + strings.ToLower(u.Scheme) + ", which no directory redirects to with a code (RFC 6749 section 3.1.2); use the https URI, or the private-use scheme of an app (RFC 8252), that is registered."
	}
	return ""
}

// shownRedirectURI is redirect_uri as a message shows it: scheme, host and
// path, which locate a mismatch; a query, which may carry anything, only by
// its length.
func shownRedirectURI(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return "(not an absolute URI, " + strconv.Itoa(len(v)) + " characters)"
	}
	shown := u.Scheme + ":" + u.EscapedPath() // a private-use scheme (RFC 8252), such as com.example.app:/callback
	if u.Host != "" {
		shown = u.Scheme + "://" + u.Host + u.EscapedPath()
	}
	shown = quoted(shown)
	if u.RawQuery != "" {
		shown += fmt.Sprintf(" with a query of %d characters", len(u.RawQuery))
	}
	return shown
}

// pkceVerifier checks a PKCE code verifier (RFC 7636 section 4.1): 43 to
// 128 of the characters A-Z, a-z, 0-9, "-", ".", "_", "~". The error has no
// attribute path (Terraform would print the configuration line) and never
// shows the value: the verifier is secret.
type pkceVerifier struct{}

var _ validator.String = pkceVerifier{}

func (pkceVerifier) Description(context.Context) string {
	return "43 to 128 of the characters A-Z, a-z, 0-9, -, ., _ and ~ (RFC 7636)"
}

func (v pkceVerifier) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v pkceVerifier) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || hasSurroundingSpace(req.ConfigValue.ValueString()) {
		return
	}
	if problem := verifierProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddError("Invalid Code Verifier", fmt.Sprintf("%s must be %s%s.", req.Path, v.Description(ctx), problem))
	}
}

// verifierProblem says what RFC 7636 section 4.1 forbids in a code verifier,
// as the end of a sentence that states the rule ("" when nothing): never
// the value. provider::ciam::pkce_challenge refuses the same.
func verifierProblem(value string) string {
	if n := utf8.RuneCountInString(value); n < 43 || n > 128 {
		return fmt.Sprintf("; it has %d characters", n)
	}
	for _, c := range value {
		if !pkceUnreserved(c) {
			return ", so that its S256 challenge matches the one the directory computes; it holds another character"
		}
	}
	return ""
}

// pkceUnreserved reports whether c may appear in a code verifier.
func pkceUnreserved(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)
}
