# A token for the SCIM user and user-group APIs, with the data-sync
# credentials of the provider (scim_client_id / scim_client_secret or
# CIAM_SCIM_CLIENT_ID / CIAM_SCIM_CLIENT_SECRET).
data "ciam_scim_token" "sync" {}

output "scim_token_expires_at" {
  value = data.ciam_scim_token.sync.expires_at
}
