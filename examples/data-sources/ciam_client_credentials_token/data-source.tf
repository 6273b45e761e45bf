# A token for a machine-to-machine application, with two scopes.
data "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing", "users.read"]
}

# Use the token in another provider's configuration, e.g. the http provider:
#
# data "http" "profile" {
#   url             = "https://api.example.com/profile"
#   request_headers = { Authorization = "Bearer ${data.ciam_client_credentials_token.api.access_token}" }
# }

output "api_token_expires_at" {
  value = data.ciam_client_credentials_token.api.expires_at
}
