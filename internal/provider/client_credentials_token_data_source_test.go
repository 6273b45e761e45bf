package provider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const ccAddr = "data.ciam_client_credentials_token.test"

func testAccClientCredentialsTokenConfig(srv *localciam.Server, block string) string {
	return testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) +
		"data \"ciam_client_credentials_token\" \"test\" {\n" + block + "\n}\n"
}

func TestAccClientCredentialsTokenDataSource_allAttributes(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccClientCredentialsTokenConfig(srv, `scopes = ["users.read", "identity_proofing"]`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{16}$`))),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$`))),
				statecheck.ExpectSensitiveValue(ccAddr, tfjsonpath.New("access_token")),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("expires_in"), knownvalue.Int64Exact(299)),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("expires_at"), expiresAround{299 * time.Second}),
				// Scopes are sent sorted, and the CIAM echoes them as sent.
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scope"), knownvalue.StringExact("identity_proofing users.read")),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("granted_scopes"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("identity_proofing"), knownvalue.StringExact("users.read"),
				})),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scopes"), knownvalue.SetSizeExact(2)),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("client_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("client_secret"), knownvalue.Null()),
			},
		}},
	})
}

func TestAccClientCredentialsTokenDataSource_noScopes(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccClientCredentialsTokenConfig(srv, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scope"), knownvalue.Null()),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("granted_scopes"), knownvalue.SetSizeExact(0)),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scopes"), knownvalue.Null()),
			},
		}},
	})
}

// A directory that repeats a value in scope grants it once; the set of
// granted scopes holds it once.
func TestAccClientCredentialsTokenDataSource_repeatedScope(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	body := `{"access_token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer","expires_in":299,"scope":"openid openid users.read openid"}`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { srv.InjectFaults(localciam.TokenPath, repeat(4, localciam.Fault{Status: 200, Body: body})...) },
			Config:    testAccClientCredentialsTokenConfig(srv, `scopes = ["openid", "users.read"]`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scope"), knownvalue.StringExact("openid openid users.read openid")),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("granted_scopes"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("openid"), knownvalue.StringExact("users.read"),
				})),
			},
		}},
	})
}

func TestAccClientCredentialsTokenDataSource_documentedErrors(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	srv.SetClient(localciam.Client{ID: "code-only", Secret: "code-only-secret", Grants: []string{localciam.GrantAuthorizationCode}})
	provider := testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", "wrong-secret-value")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      provider + `data "ciam_client_credentials_token" "test" {}`,
				ExpectError: errorMatching("CIAM Rejected The Client Credentials (invalid_client)", `client_id "demo-app" with HTTP 401 invalid_client`, "does not exist, is disabled, or the client secret is wrong", "client_id and client_secret came from the provider block"),
			},
			{
				Config:      testAccClientCredentialsTokenConfig(srv, `scopes = ["identity_proofing", "admin"]`),
				ExpectError: errorMatching("Invalid CIAM Scope (invalid_scope)", "HTTP 400 invalid_scope", `["admin", "identity_proofing"]`, "unknown or beyond the application's permissions"),
			},
			{
				Config: testAccClientCredentialsTokenConfig(srv, `
  client_id     = "code-only"
  client_secret = "code-only-secret"`),
				ExpectError: errorMatching("CIAM Application Not Allowed This Grant (unauthorized_client)", "HTTP 400 unauthorized_client", "may not use the client_credentials grant"),
			},
			{
				Config:      testAccClientCredentialsTokenConfig(srv, `scopes = ["has space"]`),
				ExpectError: regexp.MustCompile(`must be a scope token`),
			},
			{
				Config:      testAccClientCredentialsTokenConfig(srv, `client_id = "only-id"`),
				ExpectError: errorMatching("Invalid Attribute Combination", "client_secret"),
			},
			{
				Config:      testAccClientCredentialsTokenConfig(srv, `scopes = [null, "openid"]`),
				ExpectError: errorMatching("Invalid Attribute Value", "scopes must not contain null"),
			},
		},
	})
}

// Every value a diagnostic echoes is bounded: a 100 KB client_id does not
// make a 100 KB line.
func TestEchoedValuesAreBounded(t *testing.T) {
	srv := startCIAM(t)
	pd := configuredProviderData(t, map[string]string{"auth_domain": srv.URL()})
	long := strings.Repeat("a", 100_000)
	m := clientCredentialsTokenModel{credentialsModel: credentialsModel{ClientID: types.StringValue(long), ClientSecret: types.StringValue("x-secret")}}
	diags := pd.fetchClientCredentialsToken(context.Background(), ciam.PoolStored, &m)
	if !diags.HasError() {
		t.Fatal("no error")
	}
	for _, d := range diags {
		if n := len(d.Summary() + d.Detail()); n > 2000 || !strings.Contains(d.Detail(), "100000 characters") {
			t.Errorf("a diagnostic of %d characters: %.300s", n, d.Detail())
		}
	}
}

func TestAccClientCredentialsTokenDataSource_overridePrecedence(t *testing.T) {
	srv := startCIAM(t)
	srv.SetClient(localciam.Client{ID: "block-app", Secret: "block-app-secret", Scopes: []string{"block.scope"}})
	unsetCIAMEnv(t)
	// The environment holds wrong credentials; the provider block overrides
	// them, and a token block overrides the provider block.
	t.Setenv(envClientID, localciam.DemoClientID)
	t.Setenv(envClientSecret, "wrong-env-secret")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccProviderConfig(srv.URL()) + `data "ciam_client_credentials_token" "test" {}`,
				ExpectError: errorMatching("invalid_client", "client_id came from the CIAM_CLIENT_ID environment variable and client_secret from the CIAM_CLIENT_SECRET environment variable"),
			},
			{
				// Half in the block, half from the environment: each half says
				// where it came from.
				Config:      testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID) + `data "ciam_client_credentials_token" "test" {}`,
				ExpectError: errorMatching("invalid_client", "client_id came from the provider block and client_secret from the CIAM_CLIENT_SECRET environment variable"),
			},
			{
				Config: testAccProviderConfig(srv.URL(), "client_secret", localciam.DemoClientSecret) +
					`data "ciam_client_credentials_token" "test" {}`,
				Check: resource.TestCheckResourceAttr(ccAddr, "token_type", "Bearer"),
			},
			{
				Config: testAccProviderConfig(srv.URL(), "client_secret", localciam.DemoClientSecret) + `
data "ciam_client_credentials_token" "test" {
  client_id     = "block-app"
  client_secret = "block-app-secret"
  scopes        = ["block.scope"]
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scope"), knownvalue.StringExact("block.scope")),
					statecheck.ExpectSensitiveValue(ccAddr, tfjsonpath.New("client_secret")),
				},
			},
			{
				Config: testAccProviderConfig(srv.URL(), "client_secret", localciam.DemoClientSecret) + `
data "ciam_client_credentials_token" "test" {
  client_id     = "block-app"
  client_secret = "wrong-block-secret"
}`,
				ExpectError: errorMatching(`client_id "block-app" with HTTP 401 invalid_client`, "client_id and client_secret came from this block"),
			},
		},
	})
}

// A configuration pointed at any server that speaks the vendor's protocol
// gets tokens, not only the project's local CIAM: this one answers with the
// vendor's sample response byte for byte.
func TestAccClientCredentialsTokenDataSource_vendorSampleServer(t *testing.T) {
	unsetCIAMEnv(t)
	const sample = `{
  "access_token" : "eyJraWQiOiJmOTY5NGQ5My1kNTQxLTQ5ODUtODhkYy00MjIyOTg3MzAwOGUiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURU5BTlRfQ0xJRU5UX0lEIiwiYXVkIjoiVEVOQU5UX0NMSUVOVF9JRCIsIm5iZiI6MTY0MDU4ODgyOCwic2NvcGUiOlsiaWRlbnRpdHlfcHJvb2ZpbmciXSwiaXNzIjoiaHR0cHM6XC9cL3NhbXBsZS5wb3J0YWwudGVuY2VudGNpYW0uY29tIiwiZXhwIjoxNjQwNTg5MTI4LCJpYXQiOjE2NDA1ODg4MjgsImp0aSI6Ijk5MzliYzNmLTVlZGYtNDZjMy04ZjVjLTJiMWRjMWFjZmE5MCJ9.D8khbU3BkWTHD6sRTY9M_bbRq7AF4MGina2S1ycFA2HOUo",
  "scope" : "identity_proofing",
  "token_type" : "Bearer",
  "expires_in" : 299
}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Method != http.MethodPost || r.URL.Path != "/oauth2/token" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != "TENANT_CLIENT_ID" || r.PostForm.Get("client_secret") != "TENANT_CLIENT_SECRET" ||
			r.PostForm.Get("scope") != "identity_proofing" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error" : "invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, sample)
	}))
	defer srv.Close()
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(srv.URL, "client_id", "TENANT_CLIENT_ID", "client_secret", "TENANT_CLIENT_SECRET") + `
data "ciam_client_credentials_token" "test" {
  scopes = ["identity_proofing"]
}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^eyJraWQiOiJmOTY5NGQ5My1k`))),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("token_type"), knownvalue.StringExact("Bearer")),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("expires_in"), knownvalue.Int64Exact(299)),
				statecheck.ExpectKnownValue(ccAddr, tfjsonpath.New("scope"), knownvalue.StringExact("identity_proofing")),
			},
		}},
	})
}

func TestAccClientCredentialsTokenDataSource_unexpectedResponses(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	// Retries off: each fault is the final answer (the fault suite covers retries).
	cfg := testAccProviderConfig(srv.URL(), "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret, "max_retries", "0") +
		`data "ciam_client_credentials_token" "test" {}`
	html := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	steps := []struct {
		fault localciam.Fault
		want  string
	}{
		{localciam.Fault{Status: 502, ContentType: "text/html", Body: html}, `(?s)Unexpected CIAM Response \(HTTP 502\).*Content-Type text/html.*502 Bad Gateway`},
		{localciam.Fault{Status: 200, ContentType: "text/html", Body: html}, `(?s)Unusable CIAM Token Response.*response body is not JSON: it looks like an HTML page`},
		{localciam.Fault{Status: 200, Body: `{"token_type":"Bearer","expires_in":299}`}, `(?s)Unusable CIAM Token Response.*no access_token`},
		{localciam.Fault{Status: 200, Body: `{"access_token":"x","token_type":"MAC"}`}, `(?s)Unusable CIAM Token Response.*token_type "MAC"`},
		{localciam.Fault{RedirectTo: "https://elsewhere.example.com/oauth2/token"}, `(?s)Redirect \(HTTP 302\).*elsewhere.example.com`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{
			PreConfig:   func() { srv.InjectFaults(localciam.TokenPath, s.fault) },
			Config:      cfg,
			ExpectError: regexp.MustCompile(s.want),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: ts})
	if n := srv.PendingFaults(localciam.TokenPath); n != 0 {
		t.Errorf("%d faults were never reached", n)
	}
}
