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
# than min_remaining is left; revoked on destroy.
resource "ciam_authorization_code_token" "login" {
  code          = var.authorization_code
  redirect_uri  = "https://app.example.com/callback"
  code_verifier = var.code_verifier
  min_remaining = "2m"
}

output "signed_in_user" {
  value = nonsensitive(provider::ciam::decode_jwt(ciam_authorization_code_token.login.id_token).claims.sub)
}
