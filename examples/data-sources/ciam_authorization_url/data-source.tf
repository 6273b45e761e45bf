variable "pkce_verifier" {
  description = "A PKCE code verifier: 43 to 128 of A-Z, a-z, 0-9, - . _ ~ (kept for the code exchange)."
  type        = string
  sensitive   = true
  default     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" # RFC 7636 Appendix B; draw your own
}

# The URL that starts the authorization-code grant: open it, sign in, and the
# directory redirects to redirect_uri with ?code=...&state=... . Nothing is
# sent to the directory to build it.
data "ciam_authorization_url" "login" {
  redirect_uri  = "https://app.example.com/callback"
  scopes        = ["openid"]
  state         = "af0ifjsldkj" # draw an unguessable one, e.g. with random_id
  code_verifier = var.pkce_verifier
}

output "sign_in_url" {
  value = data.ciam_authorization_url.login.url
}
