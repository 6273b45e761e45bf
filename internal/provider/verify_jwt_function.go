package provider

import (
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var _ function.Function = &verifyJWTFunction{}

func newVerifyJWTFunction() function.Function {
	return &verifyJWTFunction{}
}

// verifyJWTFunction is provider::ciam::verify_jwt.
type verifyJWTFunction struct{}

func (f *verifyJWTFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "verify_jwt"
}

func (f *verifyJWTFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Verify a JWT's signature against a JWKS, offline, and return its header and claims",
		MarkdownDescription: "Verifies a signed JWT (JWS compact form) against a JSON Web Key Set given as a string, such as `data.ciam_jwks.k.json`, " +
			"and returns an object with `header` and `claims`, exactly like `decode_jwt`. The key is selected by the token's `kid` (a token without `kid` needs a set of one key; when several keys of the token's type share its `kid`, each is tried). " +
			"The algorithm must fit the key's type: `RS256`, `RS384`, `RS512` and `PS256`, `PS384`, `PS512` for RSA keys, `ES256`, `ES384`, `ES512` with the matching curve for EC keys, " +
			"`EdDSA` for Ed25519 keys, and the key's own `alg` when it has one. `alg: none` and HMAC (`HS*`) are always refused. " +
			"A tampered signature, an unknown `kid`, a refused algorithm and malformed input are errors that say which.\n\n" +
			"It does **not** check `exp`, `nbf`, `iss` or `aud`: a function returns the same result every time it is called, and whether a token is expired depends on when. " +
			"Check them in a `check` block with `plantimestamp()`, allowing a leeway for clock skew: `plantimestamp()` is when the plan started, " +
			"and a token renewed during the apply, or issued by a directory whose clock runs ahead, is younger than that (see the example).",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "token",
				MarkdownDescription: "The JWT to verify, e.g. the `id_token` of `ciam_authorization_code_token` or an `access_token`.",
			},
			function.StringParameter{
				Name:                "jwks",
				MarkdownDescription: "The key set as JSON (RFC 7517, member `keys` or `Keys`), e.g. `data.ciam_jwks.k.json`.",
			},
		},
		Return: function.DynamicReturn{},
	}
}

func (f *verifyJWTFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var token, jwks string
	if resp.Error = req.Arguments.Get(ctx, &token, &jwks); resp.Error != nil {
		return
	}
	set, err := ciam.ParseJWKS([]byte(jwks))
	if err != nil {
		resp.Error = function.NewArgumentFuncError(1, "Invalid JWKS: "+strings.TrimSuffix(err.Error(), "."))
		return
	}
	header, claims, err := ciam.VerifyJWT(token, set)
	var verr *ciam.VerifyError
	if errors.As(err, &verr) && verr.Kind != ciam.VerifyMalformed {
		resp.Error = function.NewArgumentFuncError(0, "JWT not verified: "+strings.TrimSuffix(err.Error(), "."))
		return
	}
	setJWTResult(ctx, resp, header, claims, err)
}
