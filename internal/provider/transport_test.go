package provider

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// A CIAM behind a private CA over TLS: refused without ca_cert_pem, trusted
// with it; and client_secret_basic sends the credentials in the header.
func TestAccProvider_caCertPEMAndClientSecretBasic(t *testing.T) {
	unsetCIAMEnv(t)
	local, err := localciam.New(localciam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var basic, post atomic.Int32
	local.SetHook(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == localciam.TokenPath {
			if strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
				basic.Add(1)
			} else {
				post.Add(1)
			}
		}
		return false
	})
	srv := httptest.NewTLSServer(local.Handler())
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	creds := []string{"client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret}
	block := `data "ciam_client_credentials_token" "test" {}`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccProviderConfig(srv.URL, append(creds, "max_retries", "0")...) + block,
				ExpectError: errorMatching("CIAM Certificate Not Trusted", "could not verify the TLS certificate", "unknown authority", "ca_cert_pem"),
			},
			{
				Config:      testAccProviderConfig(srv.URL, append(creds, "ca_cert_pem", "not a certificate")...) + block,
				ExpectError: errorMatching("Invalid CA Certificates", "no PEM-encoded certificate"),
			},
			{
				Config: testAccProviderConfig(srv.URL, append(creds, "ca_cert_pem", caPEM)...) + block,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(ccAddr, "token_type", "Bearer"),
					func(_ *terraformState) error {
						return checkCount("client_secret_post requests", post.Load(), basic.Load() == 0)
					},
				),
			},
			{
				Config: testAccProviderConfig(srv.URL, append(creds, "ca_cert_pem", caPEM, "token_endpoint_auth_method", "client_secret_basic")...) + block,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(ccAddr, "token_type", "Bearer"),
					func(_ *terraformState) error { return checkCount("client_secret_basic requests", basic.Load(), true) },
				),
			},
		},
	})
}

func TestAccProvider_transportSettingsAreValidated(t *testing.T) {
	unsetCIAMEnv(t)
	block := `data "ciam_client_credentials_token" "test" {}`
	cases := []struct{ attr, value, want string }{
		{"token_endpoint_auth_method", "private_key_jwt", "client_secret_post"},
		{"request_timeout", "soon", `request_timeout must be a duration such as 10s, 2m or 1h30m; got "soon"`},
		{"request_timeout", "-1s", `request_timeout must be positive; got "-1s"`},
		{"request_timeout", "0s", `request_timeout must be positive; got "0s"`},
		{"request_timeout", "9999999999h", `request_timeout is too long: a duration is at most 2562047h; got "9999999999h"`},
		{"request_timeout", "-9999999999h", `request_timeout is too long: a duration is at most 2562047h; got "-9999999999h"`},
		{"max_retries", "11", "must be a whole number from 0 to 10, got 11"},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      testAccProviderConfig("https://sample.portal.tencentciam.com", c.attr, c.value) + block,
			ExpectError: errorMatching(c.attr, c.want),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// A bare host implies https; a local server that answers in plain HTTP is
// named as such, with the http:// form to use, instead of "got no answer".
func TestAccProvider_plainHTTPAnswerToAnImpliedHTTPS(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	host := strings.TrimPrefix(srv.URL(), "http://")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccProviderConfig(host, "client_id", localciam.DemoClientID, "client_secret", localciam.DemoClientSecret) +
				`data "ciam_client_credentials_token" "t" {}`,
			ExpectError: errorMatching("CIAM Answered In Plain HTTP", `The URL comes from auth_domain "`+host+`", a bare host, which implies https`, `auth_domain = "http://`+host+`"`),
		}},
	})
	// The TLS handshake never becomes a request the server handles, so the
	// connections are counted: the step fails at its first plan, after one
	// attempt; a retried handshake would open one connection per attempt.
	if n := srv.Connections(); n != 1 {
		t.Errorf("%d connections, want 1: a plain HTTP answer is not retried", n)
	}
}

// The plain-HTTP error says how the URL was given: an explicit https:// in
// the block, a bare host in CIAM_AUTH_DOMAIN (advice for the variable), or
// the jwks_uri that the directory announces (nothing the user can fix).
func TestAccProvider_plainHTTPAnswerSaysWhereTheURLCameFrom(t *testing.T) {
	unsetCIAMEnv(t)
	srv := startCIAM(t)
	host := strings.TrimPrefix(srv.URL(), "http://")
	// A directory whose discovery document announces an https jwks_uri on
	// its own plain-HTTP port.
	var base string
	announcing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, base, strings.Replace(base, "http://", "https://", 1)+"/keys")
	}))
	defer announcing.Close()
	base = announcing.URL
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      fmt.Sprintf("provider \"ciam\" {\n  auth_domain = %q\n}\n", "https://"+host) + `data "ciam_jwks" "k" {}`,
				ExpectError: errorMatching("CIAM Answered In Plain HTTP", `The URL comes from auth_domain "https://`+host+`", which asks for https`, `auth_domain = "http://`+host+`"`),
			},
			{
				PreConfig:   func() { t.Setenv(envAuthDomain, host) },
				Config:      `data "ciam_jwks" "k" {}`,
				ExpectError: errorMatching("CIAM Answered In Plain HTTP", `The URL comes from the CIAM_AUTH_DOMAIN environment variable ("`+host+`"), a bare host`, "CIAM_AUTH_DOMAIN=http://"+host),
			},
			{
				PreConfig:   func() { t.Setenv(envAuthDomain, base) },
				Config:      `data "ciam_jwks" "k" {}`,
				ExpectError: errorMatching("CIAM Answered In Plain HTTP", "jwks_uri that the directory's discovery document announces", "report it to the directory's operator"),
			},
		},
	})
}
