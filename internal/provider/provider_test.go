package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// testAccProtoV6ProviderFactories serves the provider in-process to the real
// terraform binary.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"ciam": providerserver.NewProtocol6WithError(New("test")()),
}

// startCIAM starts a local CIAM on a free loopback port for one test.
func startCIAM(t *testing.T) *localciam.Server {
	t.Helper()
	return localciam.StartTest(t, localciam.Options{})
}

// testAccProviderConfig is a provider block with auth_domain and the given
// attributes (name = value pairs, values already HCL-quoted).
func testAccProviderConfig(authDomain string, attrs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"ciam\" {\n  auth_domain = %q\n", authDomain)
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&b, "  %s = %q\n", attrs[i], attrs[i+1])
	}
	b.WriteString("}\n")
	return b.String()
}

// unsetCIAMEnv clears the provider's environment variables for one test, so
// that a developer's own settings cannot change the result.
func unsetCIAMEnv(t *testing.T) {
	for _, s := range settings {
		t.Setenv(s.env, "")
	}
}

func TestProviderSchemaDescribesEveryAttribute(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	var presp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &presp)
	if presp.Schema.GetMarkdownDescription() == "" && presp.Schema.GetDescription() == "" {
		t.Error("provider schema has no description")
	}
	checkDescribed(t, "provider", presp.Schema.GetMarkdownDescription(), presp.Schema.Attributes, "client_secret", "scim_client_secret")
	for _, f := range p.DataSources(ctx) {
		ds := f()
		var meta datasource.MetadataResponse
		ds.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "ciam"}, &meta)
		var sresp datasource.SchemaResponse
		ds.Schema(ctx, datasource.SchemaRequest{}, &sresp)
		var secrets []string
		if strings.HasSuffix(meta.TypeName, "_token") {
			secrets = []string{"access_token", "client_secret"}
		}
		checkDescribed(t, "data source "+meta.TypeName, sresp.Schema.GetMarkdownDescription(), sresp.Schema.Attributes, secrets...)
	}
	pe, ok := p.(provider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider has no ephemeral resources")
	}
	for _, f := range pe.EphemeralResources(ctx) {
		er := f()
		var meta ephemeral.MetadataResponse
		er.Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: "ciam"}, &meta)
		var sresp ephemeral.SchemaResponse
		er.Schema(ctx, ephemeral.SchemaRequest{}, &sresp)
		checkDescribed(t, "ephemeral resource "+meta.TypeName, sresp.Schema.GetMarkdownDescription(), sresp.Schema.Attributes,
			"access_token", "client_secret")
	}
	for _, f := range p.Resources(ctx) {
		r := f()
		var meta fwresource.MetadataResponse
		r.Metadata(ctx, fwresource.MetadataRequest{ProviderTypeName: "ciam"}, &meta)
		var sresp fwresource.SchemaResponse
		r.Schema(ctx, fwresource.SchemaRequest{}, &sresp)
		checkDescribed(t, "resource "+meta.TypeName, sresp.Schema.GetMarkdownDescription(), sresp.Schema.Attributes,
			"access_token", "refresh_token", "id_token", "code", "code_verifier", "client_secret")
	}
}

// describedAttribute is what every schema package's attributes have.
type describedAttribute interface {
	GetMarkdownDescription() string
	IsSensitive() bool
}

// checkDescribed fails for a type or attribute without a description (the
// registry page would show nothing) and for a secret that is not sensitive.
func checkDescribed[A describedAttribute](t *testing.T, what, description string, attrs map[string]A, secrets ...string) {
	t.Helper()
	if description == "" {
		t.Errorf("%s has no description", what)
	}
	for name, a := range attrs {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("%s: attribute %s has no description", what, name)
		}
	}
	for _, name := range secrets {
		if a, ok := attrs[name]; !ok || !a.IsSensitive() {
			t.Errorf("%s: attribute %s must exist and be sensitive", what, name)
		}
	}
}

func TestAccProvider_authDomainRules(t *testing.T) {
	unsetCIAMEnv(t)
	cases := []struct {
		domain string
		err    string
	}{
		{"http://sample.portal.tencentciam.com", `http is allowed only for loopback hosts`},
		{"http://192.168.1.10:8080", `http is allowed only for loopback hosts`},
		{"https://sample.portal.tencentciam.com/oauth2", `must not contain a path`},
		{"https://sample.portal.tencentciam.com?x=1", `must not contain a query`},
		{"https://sample.portal.tencentciam.com#top", `must not contain a fragment`},
		{"ftp://sample.portal.tencentciam.com", `has scheme "ftp"`},
		{"https:/sample.portal.tencentciam.com", `is not a well-formed URL`},
		{"//sample.portal.tencentciam.com", `is not a well-formed URL`},
		{"https:sample.portal.tencentciam.com", `is not a well-formed URL`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config: testAccProviderConfig(c.domain, "client_id", "a", "client_secret", "b") +
				`data "ciam_client_credentials_token" "t" {}`,
			ExpectError: errorMatching("Invalid CIAM Auth Domain", c.err),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

func TestAccProvider_loopbackHTTPWorksForEveryLoopbackForm(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	port := strings.TrimPrefix(srv.URL(), "http://127.0.0.1:")
	var steps []resource.TestStep
	for _, domain := range []string{"http://127.0.0.1:" + port, "http://localhost:" + port, "http://127.0.0.1:" + port + "/"} {
		steps = append(steps, resource.TestStep{
			Config: testAccProviderConfig(domain, "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) +
				`data "ciam_client_credentials_token" "t" {}`,
			Check: resource.TestCheckResourceAttr("data.ciam_client_credentials_token.t", "token_type", "Bearer"),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

func TestAccProvider_authDomainFromEnvironment(t *testing.T) {
	srv := startCIAM(t)
	unsetCIAMEnv(t)
	t.Setenv(envAuthDomain, srv.URL())
	t.Setenv(envClientID, localciam.DemoClientID)
	t.Setenv(envClientSecret, localciam.DemoClientSecret)
	t.Setenv(envSCIMClientID, localciam.DemoSCIMClientID)
	t.Setenv(envSCIMClientSecret, localciam.DemoSCIMClientSecret)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `provider "ciam" {}
data "ciam_client_credentials_token" "t" {}
data "ciam_scim_token" "s" {}`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.ciam_client_credentials_token.t", "token_type", "Bearer"),
				resource.TestCheckResourceAttr("data.ciam_scim_token.s", "scope", "/scim/"),
			),
		}},
	})
}

func TestAccProvider_invalidAuthDomainFromEnvironment(t *testing.T) {
	unsetCIAMEnv(t)
	t.Setenv(envAuthDomain, "http://sample.portal.tencentciam.com")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `data "ciam_client_credentials_token" "t" {}`,
			ExpectError: errorMatching("Invalid CIAM Auth Domain", "domain, and the CIAM_AUTH_DOMAIN environment variable (used because auth_domain is not set)", "allowed only for loopback hosts"),
		}},
	})
}

// A credential with a leading or trailing newline or space (file() keeps a
// file's final newline; so do many secret stores) fails before any request,
// naming where it came from and never showing it. One from the environment
// fails only the blocks that use it, with advice for a variable (not for
// file()); one in the provider block or a token block fails at validate.
func TestAccProvider_credentialsWithSurroundingWhitespace(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	t.Setenv(envSCIMClientSecret, localciam.DemoSCIMClientSecret+"\n")
	t.Setenv(envSCIMClientID, localciam.DemoSCIMClientID)
	app := testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret+"\n") + `data "ciam_client_credentials_token" "t" {}`,
				ExpectError: errorMatching("Leading Or Trailing Whitespace", "client_secret starts or ends with whitespace", "trimspace(file("),
			},
			{
				// A token block's own credentials follow the same rule.
				Config: app + fmt.Sprintf(`data "ciam_client_credentials_token" "t" {
  client_id     = %q
  client_secret = "%s\n"
}`, localciam.DemoClientID, localciam.DemoClientSecret),
				ExpectError: errorMatching("Leading Or Trailing Whitespace", "client_secret starts or ends with whitespace", "trimspace(file("),
			},
			{
				Config: app + `data "ciam_scim_token" "t" {}`,
				ExpectError: errorMatching("Leading Or Trailing Whitespace",
					"The CIAM_SCIM_CLIENT_SECRET environment variable (used because scim_client_secret is not set) starts or ends with whitespace",
					"Set the variable without it"),
			},
			{
				// The polluted data-sync secret is not used here.
				Config: app + `data "ciam_client_credentials_token" "t" {}`,
				Check:  resource.TestCheckResourceAttrSet("data.ciam_client_credentials_token.t", "expires_at"),
			},
		},
	})
	if n := srv.Requests(localciam.SCIMTokenPath); n != 0 {
		t.Errorf("%d data-sync token requests were sent, want none", n)
	}
	if n := srv.Attempts(localciam.GrantClientCredentials); n != 3 {
		t.Errorf("%d client-credentials requests were sent, want 3 (the three plans of the last step)", n)
	}
}

// auth_domain's surrounding whitespace is refused like a credential's: in
// the provider block at validate, from CIAM_AUTH_DOMAIN only for the blocks
// that need the directory (the functions do not).
func TestAccProvider_authDomainWithSurroundingWhitespace(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []resource.TestStep{
			{
				Config:      fmt.Sprintf("provider \"ciam\" {\n  auth_domain = \"%s\\n\"\n}\n", srv.URL()) + `data "ciam_jwks" "k" {}`,
				ExpectError: errorMatching("auth_domain starts or ends with whitespace", "trimspace(file("),
			},
			{
				PreConfig: func() { t.Setenv(envAuthDomain, " "+srv.URL()) },
				Config: `output "sub" {
  value = provider::ciam::decode_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.").claims.sub
}`,
			},
			{
				Config: `data "ciam_jwks" "k" {}`,
				ExpectError: errorMatching("domain, and the CIAM_AUTH_DOMAIN environment variable (used because auth_domain is not set) starts or ends with whitespace",
					"Set the variable without the spaces or tabs around it"),
			},
		},
	})
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

func TestAccProvider_missingAuthDomain(t *testing.T) {
	unsetCIAMEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `data "ciam_client_credentials_token" "t" {}`,
			ExpectError: errorMatching("Missing CIAM Auth Domain", "Set auth_domain in the provider block or the CIAM_AUTH_DOMAIN environment variable"),
		}},
	})
}

func TestAccProvider_unknownValuesAtConfigure(t *testing.T) {
	unsetCIAMEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `resource "terraform_data" "later" {
  input = "sample.portal.tencentciam.com"
}
provider "ciam" {
  auth_domain   = terraform_data.later.output
  client_id     = "a"
  client_secret = "b"
}
data "ciam_client_credentials_token" "t" {}`,
			ExpectError: errorMatching("Unknown CIAM Provider Setting", "The data source ciam_client_credentials_token needs a request", "auth_domain is not known until apply", "set CIAM_AUTH_DOMAIN in the environment"),
		}, {
			// The settings that are known are checked at plan time all the same.
			Config: `resource "terraform_data" "later" {
  input = "sample.portal.tencentciam.com"
}
provider "ciam" {
  auth_domain = terraform_data.later.output
  ca_cert_pem = "not a certificate"
}
resource "ciam_authorization_code_token" "t" {
  code         = "c"
  redirect_uri = "https://app.example.com/callback"
  client_id    = "a"
  client_secret = "b"
}`,
			PlanOnly:    true,
			ExpectError: errorMatching("Invalid CA Certificates"),
		}},
	})
}

func TestAccProvider_missingCredentialsOnlyWhenNeeded(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// No provider credentials, but the block brings its own.
				Config: testAccProviderConfig(srv.URL()) + fmt.Sprintf(`
data "ciam_client_credentials_token" "t" {
  client_id     = %q
  client_secret = %q
}`, localciam.DemoClientID, localciam.DemoClientSecret),
				Check: resource.TestCheckResourceAttr("data.ciam_client_credentials_token.t", "token_type", "Bearer"),
			},
			{
				Config:      testAccProviderConfig(srv.URL()) + `data "ciam_client_credentials_token" "t" {}`,
				ExpectError: errorMatching("Missing CIAM Credentials", "the provider's client_id and client_secret (or the CIAM_CLIENT_ID and CIAM_CLIENT_SECRET environment variables)"),
			},
			{
				Config:      testAccProviderConfig(srv.URL()) + `data "ciam_scim_token" "t" {}`,
				ExpectError: errorMatching("Missing CIAM Credentials", "data-sync (SCIM) credentials", "scim_client_id and scim_client_secret (or the CIAM_SCIM_CLIENT_ID and CIAM_SCIM_CLIENT_SECRET", "CIAM_CLIENT_ID and CIAM_CLIENT_SECRET"),
			},
			{
				Config:      testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID) + `data "ciam_client_credentials_token" "t" {}`,
				ExpectError: errorMatching("Incomplete CIAM Credentials", "client_secret is missing", "CIAM_CLIENT_SECRET environment variable"),
			},
		},
	})
}

// expiresAround checks that an RFC 3339 UTC timestamp lies lifetime from now
// (within a minute, for slow machines).
type expiresAround struct{ lifetime time.Duration }

var _ knownvalue.Check = expiresAround{}

func (c expiresAround) CheckValue(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %T", v)
	}
	if !strings.HasSuffix(s, "Z") {
		return fmt.Errorf("%q is not in UTC", s)
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	want := time.Now().Add(c.lifetime)
	if d := at.Sub(want); d > time.Minute || d < -time.Minute {
		return fmt.Errorf("expires_at %s is %v away from now + %v", s, d, c.lifetime)
	}
	return nil
}

func (c expiresAround) String() string { return fmt.Sprintf("now + %v", c.lifetime) }

// errorMatching builds an ExpectError pattern from literal parts that must
// appear in order; any run of whitespace in a part matches any whitespace,
// because terraform wraps diagnostics at its terminal width.
func errorMatching(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		quoted[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, `.*`))
}

// terraformState is the state type TestCheckFuncs receive.
type terraformState = terraform.State

// checkCount fails when n is zero or ok is false.
func checkCount(what string, n int32, ok bool) error {
	if n == 0 || !ok {
		return fmt.Errorf("%s: %d (ok=%v)", what, n, ok)
	}
	return nil
}

// With settings unknown at plan time, Configure does not fail; a data source
// or ephemeral resource that needs a request defers where Terraform allows
// it, and otherwise fails naming the unknown setting.
func TestUnknownProviderSettingsDeferOrFail(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	raw := providerRaw(t, schemaResp.Schema, map[string]string{"client_id": "a", "client_secret": "b"})
	typ, _ := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	var attrs map[string]tftypes.Value
	_ = raw.As(&attrs)
	attrs["auth_domain"] = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	var confResp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(typ, attrs)}}, &confResp)
	if confResp.Diagnostics.HasError() {
		t.Fatalf("Configure failed: %v", confResp.Diagnostics)
	}
	for _, f := range []func() datasource.DataSource{newClientCredentialsTokenDataSource, newSCIMTokenDataSource} {
		ds, ok := f().(datasource.DataSourceWithConfigure)
		if !ok {
			t.Fatal("a token data source has no Configure")
		}
		ds.Configure(ctx, datasource.ConfigureRequest{ProviderData: confResp.DataSourceData}, &datasource.ConfigureResponse{})
		var sresp datasource.SchemaResponse
		ds.Schema(ctx, datasource.SchemaRequest{}, &sresp)
		config := tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}
		for _, allowed := range []bool{true, false} {
			resp := datasource.ReadResponse{State: tfsdk.State{Schema: sresp.Schema}}
			ds.Read(ctx, datasource.ReadRequest{Config: config, ClientCapabilities: datasource.ReadClientCapabilities{DeferralAllowed: allowed}}, &resp)
			switch {
			case allowed && (resp.Deferred == nil || resp.Deferred.Reason != datasource.DeferredReasonProviderConfigUnknown || resp.Diagnostics.HasError()):
				t.Errorf("deferral allowed: deferred %v, diags %v", resp.Deferred, resp.Diagnostics)
			case !allowed && (resp.Deferred != nil || !resp.Diagnostics.HasError() || !strings.Contains(resp.Diagnostics[0].Detail(), "auth_domain is not known until apply")):
				t.Errorf("deferral not allowed: deferred %v, diags %v", resp.Deferred, resp.Diagnostics)
			}
		}
	}
	for _, f := range []func() ephemeral.EphemeralResource{newClientCredentialsTokenEphemeralResource, newSCIMTokenEphemeralResource} {
		er, ok := f().(ephemeral.EphemeralResourceWithConfigure)
		if !ok {
			t.Fatal("a token ephemeral resource has no Configure")
		}
		er.Configure(ctx, ephemeral.ConfigureRequest{ProviderData: confResp.EphemeralResourceData}, &ephemeral.ConfigureResponse{})
		var sresp ephemeral.SchemaResponse
		er.Schema(ctx, ephemeral.SchemaRequest{}, &sresp)
		config := tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}
		resp := ephemeral.OpenResponse{Result: tfsdk.EphemeralResultData{Schema: sresp.Schema}}
		er.Open(ctx, ephemeral.OpenRequest{Config: config, ClientCapabilities: ephemeral.OpenClientCapabilities{DeferralAllowed: true}}, &resp)
		if resp.Deferred == nil || resp.Deferred.Reason != ephemeral.DeferredReasonProviderConfigUnknown {
			t.Errorf("ephemeral: deferred %v, diags %v", resp.Deferred, resp.Diagnostics)
		}
	}
}

// A provider without auth_domain configures without error: a configuration
// that only calls functions needs no directory, and some OpenTofu versions
// configure the provider for function calls. What needs a request says so.
func TestConfigureWithoutAuthDomainFailsOnlyWhereARequestIsNeeded(t *testing.T) {
	unsetCIAMEnv(t)
	ctx := context.Background()
	p := New("test")()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	var confResp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: providerRaw(t, schemaResp.Schema, nil)}}, &confResp)
	if confResp.Diagnostics.HasError() {
		t.Fatalf("Configure failed: %v", confResp.Diagnostics)
	}
	pd, _ := confResp.DataSourceData.(*providerData)
	if stop, _, diags := pd.cannotRequest(false, "The data source x"); !stop || !diags.HasError() || diags[0].Summary() != "Missing CIAM Auth Domain" {
		t.Errorf("a data source would not say the auth domain is missing: %v", diags)
	}
}

// A max_retries that is not a whole number from 0 to 10 is the user's error,
// named as such, not a "Configuration Read Error" that blames the provider.
func TestAccProvider_maxRetriesIsAWholeNumberInRange(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	cfg := func(n string) string {
		return fmt.Sprintf("provider \"ciam\" {\n  auth_domain = %q\n  max_retries = %s\n}\n", srv.URL(), n) + `data "ciam_jwks" "k" {}`
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("1.5"), ExpectError: errorMatching("Invalid Attribute Value", "max_retries must be a whole number from 0 to 10, got 1.5")},
			{Config: cfg("11"), ExpectError: errorMatching("max_retries must be a whole number from 0 to 10, got 11")},
			{Config: cfg("-1"), ExpectError: errorMatching("max_retries must be a whole number from 0 to 10, got -1")},
			{Config: cfg("1e30"), ExpectError: errorMatching("max_retries must be a whole number from 0 to 10, got 1e+30")},
			{Config: cfg("3.0000000001"), ExpectError: errorMatching("max_retries must be a whole number from 0 to 10, got 3.0000000001")},
			{Config: cfg("0"), Check: resource.TestCheckResourceAttr("data.ciam_jwks.k", "keys.#", "1")},
		},
	})
	if n := srv.Requests(localciam.JWKSPath); n == 0 {
		t.Error("max_retries = 0 fetched no keys")
	}
}
