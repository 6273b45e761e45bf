terraform {
  required_providers {
    ciam = {
      source  = "ciam-oss/ciam"
      version = "~> 0.2"
    }
  }
}

# Credentials are best kept out of configuration: leave them unset here and
# export CIAM_CLIENT_ID / CIAM_CLIENT_SECRET (and CIAM_SCIM_CLIENT_ID /
# CIAM_SCIM_CLIENT_SECRET for data sync) instead.
provider "ciam" {
  auth_domain = "sample.portal.tencentciam.com"
}
