# The configuration `make demo` applies against the local CIAM. The provider
# block is empty: auth_domain and the credentials come from the CIAM_*
# environment variables that `make demo` sets.
terraform {
  required_providers {
    ciam = {
      source = "ciam-oss/ciam"
    }
  }
}

provider "ciam" {}

data "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing", "users.read"]
}

data "ciam_scim_token" "sync" {}

# Only non-secret facts leave the configuration; the tokens stay sensitive.
output "client_credentials_token" {
  value = {
    id             = data.ciam_client_credentials_token.api.id
    token_type     = data.ciam_client_credentials_token.api.token_type
    expires_in     = data.ciam_client_credentials_token.api.expires_in
    expires_at     = data.ciam_client_credentials_token.api.expires_at
    granted_scopes = data.ciam_client_credentials_token.api.granted_scopes
  }
}

output "scim_token" {
  value = {
    id         = data.ciam_scim_token.sync.id
    token_type = data.ciam_scim_token.sync.token_type
    expires_in = data.ciam_scim_token.sync.expires_in
    expires_at = data.ciam_scim_token.sync.expires_at
    scope      = data.ciam_scim_token.sync.scope
  }
}
