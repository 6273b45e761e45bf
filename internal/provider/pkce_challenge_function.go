package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var _ function.Function = &pkceChallengeFunction{}

func newPKCEChallengeFunction() function.Function {
	return &pkceChallengeFunction{}
}

// pkceChallengeFunction is provider::ciam::pkce_challenge.
type pkceChallengeFunction struct{}

func (f *pkceChallengeFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "pkce_challenge"
}

func (f *pkceChallengeFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The PKCE S256 challenge of a code verifier",
		MarkdownDescription: "Returns the RFC 7636 S256 challenge of a code verifier, `BASE64URL(SHA256(verifier))` without padding, for a configuration that builds the " +
			"`/oauth2/authorize` URL itself (`ciam_authorization_url` builds it, challenge included). A verifier that RFC 7636 section 4.1 forbids is an error: " +
			"it must be 43 to 128 of the characters `A-Z`, `a-z`, `0-9`, `-`, `.`, `_` and `~`. The error does not repeat the verifier, but Terraform prints the value of each " +
			"argument of a call that fails unless it is sensitive: pass a sensitive verifier (a `sensitive` variable, or `random_password`'s `result`). " +
			"A sensitive verifier gives a sensitive result; the challenge itself is no secret, so `nonsensitive()` may show it.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "verifier",
				MarkdownDescription: "The code verifier, e.g. the `result` of a `random_password` of 64 characters with `special = false`.",
			},
		},
		Return: function.StringReturn{},
	}
}

func (f *pkceChallengeFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var verifier string
	if resp.Error = req.Arguments.Get(ctx, &verifier); resp.Error != nil {
		return
	}
	problem := verifierProblem(verifier)
	if hasSurroundingSpace(verifier) {
		problem = "; it has leading or trailing whitespace"
	}
	if problem != "" {
		// Terraform prints 'Invalid value for "verifier" parameter: <text>.'
		resp.Error = function.NewArgumentFuncError(0, "Invalid code verifier: it must be "+pkceVerifier{}.Description(ctx)+strings.TrimSuffix(problem, "."))
		return
	}
	resp.Error = resp.Result.Set(ctx, ciam.S256Challenge(verifier))
}
