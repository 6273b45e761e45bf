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

# The authorization-code grant. make demo draws the verifier and the state,
# follows the sign-in URL (the local CIAM signs its demo user in without a
# browser), and passes the code from the redirect on the next apply.
variable "pkce_verifier" {
  type      = string
  sensitive = true
}

variable "sign_in_state" {
  type = string
}

variable "authorization_code" {
  type      = string
  sensitive = true
  default   = null
}

data "ciam_authorization_url" "login" {
  redirect_uri  = "https://app.example.com/callback"
  state         = var.sign_in_state
  code_verifier = var.pkce_verifier
}

resource "ciam_authorization_code_token" "login" {
  count = nonsensitive(var.authorization_code != null) ? 1 : 0

  code          = var.authorization_code
  redirect_uri  = data.ciam_authorization_url.login.redirect_uri
  code_verifier = var.pkce_verifier
  # The demo's tokens live 30 s: with 25 s to spare, a run a few seconds
  # later renews.
  min_remaining = "25s"
  renew_in_plan = false
}

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

output "sign_in_url" {
  value = data.ciam_authorization_url.login.url
}

output "authorization_code_token" {
  value = length(ciam_authorization_code_token.login) == 0 ? null : {
    id         = ciam_authorization_code_token.login[0].id
    expires_at = ciam_authorization_code_token.login[0].expires_at
    scope      = ciam_authorization_code_token.login[0].scope
    user       = nonsensitive(provider::ciam::decode_jwt(ciam_authorization_code_token.login[0].id_token).claims.sub)
  }
}
