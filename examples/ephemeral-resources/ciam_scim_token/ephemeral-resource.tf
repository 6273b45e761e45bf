# A SCIM token that is never written to plan or state (Terraform >= 1.10),
# with the provider's data-sync credentials.
ephemeral "ciam_scim_token" "sync" {}

# Hand it to a provider that manages SCIM users, through its configuration.
provider "restapi" {
  uri = "https://sample.portal.tencentciam.com"
  headers = {
    Authorization = "Bearer ${ephemeral.ciam_scim_token.sync.access_token}"
  }
}
