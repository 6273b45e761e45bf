package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

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
		if v := req.ConfigValue.ValueString(); strings.TrimSpace(v) != v {
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

// parsePositiveDuration parses a Go duration and says what is wrong with a
// value that is not one, or not positive, naming the attribute.
func parsePositiveDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
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
	if v := req.ConfigValue.ValueString(); strings.TrimSpace(v) != v {
		if n.secret {
			resp.Diagnostics.AddError("Leading Or Trailing Whitespace", surroundingSpace(req.Path.String()))
			return
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Leading Or Trailing Whitespace", surroundingSpace(req.Path.String()))
	}
}

// surroundingSpace is the error of a value with leading or trailing
// whitespace in the configuration.
func surroundingSpace(name string) string {
	return name + " starts or ends with whitespace, which the CIAM would not accept. A value read with file() keeps the file's final newline: use trimspace(file(...))."
}
