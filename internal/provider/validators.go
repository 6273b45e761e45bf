package provider

import (
	"context"

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
