# The directory's signing keys, from the discovered jwks_uri.
data "ciam_jwks" "signing" {}

# A canonical RFC 7517 JWKS, ready for a gateway's local JWKS setting or for
# provider::ciam::verify_jwt.
output "jwks_json" {
  value = data.ciam_jwks.signing.json
}

# The keys as PEM, for gateways that take a public key file, by thumbprint
# (a kid may be absent, or shared by two keys of different types).
output "public_keys_pem" {
  value = { for k in data.ciam_jwks.signing.keys : k.thumbprint => k.public_key_pem }
}
