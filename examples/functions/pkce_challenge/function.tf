variable "pkce_verifier" {
  description = "A PKCE code verifier: 43 to 128 of A-Z, a-z, 0-9, - . _ ~."
  type        = string
  sensitive   = true
  default     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" # RFC 7636 Appendix B
}

# The S256 challenge, for a sign-in URL built by hand (ciam_authorization_url
# builds it, challenge included). The challenge is no secret.
output "code_challenge" {
  value = nonsensitive(provider::ciam::pkce_challenge(var.pkce_verifier))
}
