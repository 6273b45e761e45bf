variable "authorization_code" {
  description = "The code the CIAM returned to the redirect URI (single-use)."
  type        = string
  sensitive   = true
}

variable "client_id" {
  description = "The application's client ID: the audience of its ID tokens."
  type        = string
}

data "ciam_openid_configuration" "directory" {}

data "ciam_jwks" "signing" {}

resource "ciam_authorization_code_token" "login" {
  code          = var.authorization_code
  redirect_uri  = "https://app.example.com/callback"
  client_id     = var.client_id
  code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
  renew_in_plan = false
}

locals {
  # Verified offline against the directory's keys: a tampered token, an
  # unknown kid, alg "none" or HMAC are errors.
  id_token = provider::ciam::verify_jwt(ciam_authorization_code_token.login.id_token, data.ciam_jwks.signing.json)
  claims   = local.id_token.claims

  # JWT times are seconds since 1970; timeadd turns them into timestamps.
  expires_at = timeadd("1970-01-01T00:00:00Z", "${nonsensitive(local.claims.exp)}s")
  not_before = timeadd("1970-01-01T00:00:00Z", "${nonsensitive(try(local.claims.nbf, local.claims.iat))}s")

  # plantimestamp() is when the plan started, to the second, and a token may
  # be issued after it (by a renewal during the apply) or by a directory
  # whose clock runs ahead of this one: allow a minute either way.
  leeway = "60s"
}

# verify_jwt checks the signature only: whether a token is current, and for
# whom, depends on when and where it is used. A check block tests that on
# every plan and apply, and warns without failing the run.
check "id_token_is_ours_and_current" {
  assert {
    condition     = nonsensitive(local.claims.iss) == data.ciam_openid_configuration.directory.issuer
    error_message = "The ID token was issued by another directory."
  }
  assert {
    condition     = nonsensitive(local.claims.aud) == var.client_id
    error_message = "The ID token is for another application."
  }
  assert {
    condition = (
      timecmp(timeadd(local.expires_at, local.leeway), plantimestamp()) > 0 &&
      timecmp(local.not_before, timeadd(plantimestamp(), local.leeway)) <= 0
    )
    error_message = "The ID token is not valid now (expired, or not yet valid), even allowing a minute for clock skew."
  }
}
