terraform {
  required_providers {
    ciam = {
      source = "ciam-oss/ciam"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}

# auth_domain and client_id (and, for a confidential client, client_secret)
# come from the CIAM_* environment variables.
provider "ciam" {}

# Step 1: a PKCE code verifier and a state, drawn once and kept in state
# (the verifier as a sensitive value).
resource "random_password" "pkce_verifier" {
  length  = 64
  special = false # RFC 7636 allows A-Z, a-z, 0-9 and - . _ ~ only
}

resource "random_id" "state" {
  byte_length = 16
}

# Step 2: the sign-in URL. Nothing is sent; the URL carries the verifier's
# S256 challenge, never the verifier.
data "ciam_authorization_url" "login" {
  redirect_uri  = "https://app.example.com/callback"
  scopes        = ["openid"]
  state         = random_id.state.hex
  code_verifier = random_password.pkce_verifier.result
}

output "sign_in_url" {
  value = data.ciam_authorization_url.login.url
}

# The redirect after sign-in must carry this state back.
output "expected_state" {
  value = random_id.state.hex
}

# Step 3: the code from the redirect. Unset on the first apply, which only
# prints the URL; set it in signin.auto.tfvars (never committed) or with
# -var, and keep it set: the resource keeps the code it was created with.
variable "authorization_code" {
  description = "The code the CIAM returned to the redirect URI (single-use, valid for minutes)."
  type        = string
  sensitive   = true
  default     = null
}

resource "ciam_authorization_code_token" "login" {
  # Whether a code is set is no secret; the code is.
  count = nonsensitive(var.authorization_code != null) ? 1 : 0

  code          = var.authorization_code
  redirect_uri  = data.ciam_authorization_url.login.redirect_uri
  code_verifier = random_password.pkce_verifier.result
  renew_in_plan = false
}

output "signed_in_user" {
  value = length(ciam_authorization_code_token.login) == 0 ? null : nonsensitive(provider::ciam::decode_jwt(ciam_authorization_code_token.login[0].id_token).claims.sub)
}
