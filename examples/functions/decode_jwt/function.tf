data "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing"]
}

locals {
  # Decoded without verifying the signature: for reading, not for trusting.
  jwt = provider::ciam::decode_jwt(data.ciam_client_credentials_token.api.access_token)
}

output "token_scopes" {
  value = nonsensitive(local.jwt.claims.scope) # ["identity_proofing"]
}

output "token_issuer" {
  value = nonsensitive(local.jwt.claims.iss)
}
