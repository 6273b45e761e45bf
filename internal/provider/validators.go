package provider

import (
	"context"
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
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			"Expected a positive duration such as 90s, 5m or 1h30m, got "+quoteList([]string{req.ConfigValue.ValueString()})+".")
	}
}
