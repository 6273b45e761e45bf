package provider

import (
	"crypto/x509"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// This file turns the provider block and its environment variables into
// settings: which value each attribute has and where it came from, and the
// client's transport configuration.

// Environment variables read when the provider block leaves an attribute unset.
const (
	envAuthDomain       = "CIAM_AUTH_DOMAIN"
	envClientID         = "CIAM_CLIENT_ID"
	envClientSecret     = "CIAM_CLIENT_SECRET"
	envSCIMClientID     = "CIAM_SCIM_CLIENT_ID"
	envSCIMClientSecret = "CIAM_SCIM_CLIENT_SECRET"
)

// settings lists the provider attributes with the environment variable that
// backs each, in schema order.
var settings = []struct {
	attr, env string
	secret    bool
	get       func(*providerModel) types.String
}{
	{"auth_domain", envAuthDomain, false, func(m *providerModel) types.String { return m.AuthDomain }},
	{"client_id", envClientID, false, func(m *providerModel) types.String { return m.ClientID }},
	{"client_secret", envClientSecret, true, func(m *providerModel) types.String { return m.ClientSecret }},
	{"scim_client_id", envSCIMClientID, false, func(m *providerModel) types.String { return m.SCIMClientID }},
	{"scim_client_secret", envSCIMClientSecret, true, func(m *providerModel) types.String { return m.SCIMClientSecret }},
}

// resolveSettings returns the value of each setting (the provider block
// overrides the environment), whether it came from the environment, and the
// settings not known yet.
func resolveSettings(cfg *providerModel) (values map[string]string, fromEnv map[string]bool, unknown []string) {
	values, fromEnv = map[string]string{}, map[string]bool{}
	for _, s := range settings {
		v := s.get(cfg)
		if v.IsUnknown() {
			unknown = append(unknown, s.attr)
			continue
		}
		values[s.attr] = os.Getenv(s.env)
		fromEnv[s.attr] = v.IsNull() && values[s.attr] != ""
		if !v.IsNull() {
			values[s.attr] = v.ValueString()
		}
	}
	return values, fromEnv, unknown
}

// joinProblems joins the problems of a credential pair's two halves.
func joinProblems(problems ...string) string {
	var out []string
	for _, p := range problems {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// unknownTransportSettings lists the transport settings not known yet, in
// schema order.
func unknownTransportSettings(cfg *providerModel) []string {
	var out []string
	for _, s := range []struct {
		name string
		v    attr.Value
	}{
		{"token_endpoint_auth_method", cfg.TokenEndpointAuthMethod}, {"max_retries", cfg.MaxRetries},
		{"request_timeout", cfg.RequestTimeout}, {"token_reuse", cfg.TokenReuse}, {"ca_cert_pem", cfg.CACertPEM},
	} {
		if s.v.IsUnknown() {
			out = append(out, s.name)
		}
	}
	return out
}

// clientConfig turns the (known) transport settings into the client's
// configuration.
func clientConfig(cfg *providerModel) (ciam.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := ciam.Config{
		AuthMethod:  cfg.TokenEndpointAuthMethod.ValueString(),
		Retry:       ciam.RetryPolicy{MaxRetries: ciam.DefaultMaxRetries},
		ReuseTokens: cfg.TokenReuse.IsNull() || cfg.TokenReuse.ValueBool(),
	}
	if !cfg.MaxRetries.IsNull() {
		n, _ := cfg.MaxRetries.ValueBigFloat().Int64() // a whole number from 0 to 10 (wholeNumberBetween)
		out.Retry.MaxRetries = int(n)
	}
	if !cfg.RequestTimeout.IsNull() {
		d, err := parsePositiveDuration("request_timeout", cfg.RequestTimeout.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("request_timeout"), "Invalid Duration", err.Error())
			return out, diags
		}
		out.Retry.AttemptTimeout = d
	}
	if !cfg.CACertPEM.IsNull() {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM.ValueString())) {
			diags.AddAttributeError(path.Root("ca_cert_pem"), "Invalid CA Certificates",
				"ca_cert_pem holds no PEM-encoded certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).")
			return out, diags
		}
		out.RootCAs = pool
	}
	return out, diags
}
