package provider

import (
	"context"
	"fmt"
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
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid CIAM Auth Domain", "auth_domain "+err.Error()+".")
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
