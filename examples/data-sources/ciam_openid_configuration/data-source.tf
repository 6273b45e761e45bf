# The directory's discovery document. No credentials are needed: only the
# provider's auth_domain. Its issuer is checked against auth_domain.
data "ciam_openid_configuration" "directory" {}

output "issuer" {
  value = data.ciam_openid_configuration.directory.issuer
}

output "token_endpoint_auth_methods" {
  value = data.ciam_openid_configuration.directory.token_endpoint_auth_methods_supported
}
