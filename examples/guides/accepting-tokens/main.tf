# Everything a service needs to accept the directory's tokens, from the
# directory itself: no copying issuers and keys by hand.

data "ciam_openid_configuration" "directory" {}

data "ciam_jwks" "signing" {}

# Envoy (jwt_authn) and nginx (auth_jwt_key_file) read a local JWKS file:
# the canonical RFC 7517 set, with the member "keys" whatever the directory
# serves.
resource "local_file" "jwks" {
  filename        = "${path.module}/out/ciam-jwks.json"
  content         = data.ciam_jwks.signing.json
  file_permission = "0644"
}

# Gateways that take a PEM public key (Kong's jwt plugin, Tencent Cloud API
# Gateway's RS256 verification) get one file per key. Keys are keyed by their
# RFC 7638 thumbprint: a kid may be absent, or shared by two keys.
resource "local_file" "public_key" {
  for_each        = { for k in data.ciam_jwks.signing.keys : k.thumbprint => k.public_key_pem }
  filename        = "${path.module}/out/ciam-${each.key}.pem"
  content         = each.value
  file_permission = "0644"
}

# An Envoy jwt_authn provider: issuer checked against auth_domain, keys
# inline.
resource "local_file" "envoy_jwt_authn" {
  filename = "${path.module}/out/envoy-jwt-authn.yaml"
  content = yamlencode({
    providers = {
      ciam = {
        issuer    = data.ciam_openid_configuration.directory.issuer
        audiences = ["my-api-client-id"]
        local_jwks = {
          inline_string = data.ciam_jwks.signing.json
        }
        forward = true
      }
    }
    rules = [{ match = { prefix = "/" }, requires = { provider_name = "ciam" } }]
  })
}
