variable "authorization_code" {
  description = "The code the CIAM returned to the redirect URI (single-use)."
  type        = string
  sensitive   = true
}

variable "code_verifier" {
  description = "The PKCE code verifier whose S256 challenge was sent to /oauth2/authorize."
  type        = string
  sensitive   = true
}

# Exchanged once, on create; renewed through the refresh token whenever less
# than min_remaining is left; revoked on destroy. A new code is exchanged in
# place by the apply, before the old grant is revoked: a new code that fails
# leaves the working grant.
resource "ciam_authorization_code_token" "login" {
  code          = var.authorization_code
  redirect_uri  = "https://app.example.com/callback"
  code_verifier = var.code_verifier
  min_remaining = "1m"

  # Renew only at apply: plans that are never applied (one per pull request,
  # say) then spend nothing, which matters when the directory rotates
  # refresh tokens.
  renew_in_plan = false
}

output "signed_in_user" {
  value = nonsensitive(provider::ciam::decode_jwt(ciam_authorization_code_token.login.id_token).claims.sub)
}
