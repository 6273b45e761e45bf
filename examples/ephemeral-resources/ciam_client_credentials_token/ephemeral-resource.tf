# A token that is never written to plan or state (Terraform >= 1.10).
ephemeral "ciam_client_credentials_token" "api" {
  scopes = ["identity_proofing"]
}

# Feed it into another provider's configuration, where ephemeral values are
# allowed: here a generic REST provider that calls an API the token opens.
provider "restapi" {
  uri                  = "https://api.example.com"
  write_returns_object = true
  headers = {
    Authorization = "Bearer ${ephemeral.ciam_client_credentials_token.api.access_token}"
  }
}
