package provider

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const jwksAddr = "data.ciam_jwks.test"

// ciam_jwks returns the served key by kid, whose PEM holds the served
// modulus, whether the set's member is spelled keys or Keys, and with or
// without a discovery document.
func TestAccJWKSDataSource_keyAndPEM(t *testing.T) {
	unsetCIAMEnv(t)
	for _, opts := range []localciam.Options{{}, {JWKSMember: "Keys"}, {NoDiscovery: true}} {
		srv := localciam.StartTest(t, opts)
		kid, modulus := servedKey(t, srv)
		key := tfjsonpath.New("keys").AtSliceIndex(0)
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config: testAccProviderConfig(srv.URL()) + `data "ciam_jwks" "test" {}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(jwksAddr, tfjsonpath.New("jwks_uri"), knownvalue.StringExact(srv.URL()+"/oauth2/jwks")),
					statecheck.ExpectKnownValue(jwksAddr, tfjsonpath.New("keys"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("kid"), knownvalue.StringExact(kid)),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("kty"), knownvalue.StringExact("RSA")),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("use"), knownvalue.StringExact("sig")),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("alg"), knownvalue.Null()),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("n"), knownvalue.StringExact(modulus)),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("e"), knownvalue.StringExact("AQAB")),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("crv"), knownvalue.Null()),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("public_key_pem"), pemWithModulus{modulus}),
					statecheck.ExpectKnownValue(jwksAddr, key.AtMapKey("thumbprint"), knownvalue.StringRegexp(base64URL43)),
					statecheck.ExpectKnownValue(jwksAddr, tfjsonpath.New("json"), jsonWithMember{"keys"}),
				},
			}},
		})
	}
}

// servedKey reads the local CIAM's key set as a client would.
func servedKey(t *testing.T, srv *localciam.Server) (kid, modulus string) {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, N string } `json:"keys"`
	}
	body := httpGet(t, srv.URL()+localciam.JWKSPath)
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %s", err, body)
	}
	return set.Keys[0].Kid, set.Keys[0].N
}

// pemWithModulus checks that a PEM block is a PKIX RSA public key with the
// given modulus (base64url).
type pemWithModulus struct{ modulus string }

func (c pemWithModulus) CheckValue(v any) error {
	s, _ := v.(string)
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return fmt.Errorf("not a PUBLIC KEY PEM block: %q", s)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return err
	}
	rsaKey, ok := pub.(*rsa.PublicKey)
	if !ok || base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes()) != c.modulus {
		return fmt.Errorf("the PEM's modulus is not the served one")
	}
	return nil
}

func (c pemWithModulus) String() string { return "PEM with the served modulus" }

// base64URL43 is a base64url SHA-256 (43 characters, no padding).
var base64URL43 = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec,noctx // a loopback test server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// Two keys of one type that share a kid: ciam_jwks lists both and warns,
// since a gateway that picks a key by kid may take the wrong one
// (verify_jwt tries each).
func TestJWKSDataSource_sharedKIDWarns(t *testing.T) {
	unsetCIAMEnv(t)
	var keys []map[string]string
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, map[string]string{"kty": "RSA", "kid": "r1", "e": "AQAB", "n": base64.RawURLEncoding.EncodeToString(k.N.Bytes())})
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	out := planJWKS(t, body)
	wantIn(t, "plan", out, "Warning: CIAM Signing Keys Share A kid", `2 RSA keys with kid "r1"`, "keys = 2")
}

// An empty key set is listed, with a warning: no token can be verified.
func TestJWKSDataSource_emptySetWarns(t *testing.T) {
	unsetCIAMEnv(t)
	out := planJWKS(t, []byte(`{"keys":[]}`))
	wantIn(t, "plan", out, "Warning: CIAM Key Set Is Empty", "holds no key", "keys = 0")
}

// planJWKS plans a ciam_jwks, and an output of its key count, against a
// directory whose key set is body, and returns the plan's output.
func planJWKS(t *testing.T, body []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != localciam.JWKSPath {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	tf := newInProcessTerraform(t, New("test")())
	tf.write(fmt.Sprintf(`terraform {
  required_providers {
    ciam = { source = "ciam-oss/ciam" }
  }
}
provider "ciam" {
  auth_domain = %q
}
data "ciam_jwks" "k" {}
output "keys" {
  value = length(data.ciam_jwks.k.keys)
}
`, srv.URL))
	if out, err := tf.run(nil, "init"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	out, err := tf.run(nil, "plan")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	return out
}
