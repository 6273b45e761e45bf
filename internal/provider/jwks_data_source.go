package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var _ datasource.DataSourceWithConfigure = &jwksDataSource{}

func newJWKSDataSource() datasource.DataSource {
	return &jwksDataSource{}
}

// jwksDataSource is ciam_jwks.
type jwksDataSource struct {
	data *providerData
}

type jwksModel struct {
	JWKSURI types.String `tfsdk:"jwks_uri"`
	Keys    types.List   `tfsdk:"keys"`
	JSON    types.String `tfsdk:"json"`
}

// jwkAttributes are the members of each key, all strings, with their
// descriptions.
var jwkAttributes = []struct{ name, description string }{
	{"kid", "The key ID, which a token's header names (`kid`); null when the key has none."},
	{"kty", "The key type: `RSA`, `EC` or `OKP`."},
	{"use", "The intended use (`sig`); null when absent."},
	{"alg", "The algorithm the key is for; null when absent (the CIAM's keys carry none: its tokens are RS256)."},
	{"n", "RSA modulus, base64url; null for other key types."},
	{"e", "RSA public exponent, base64url; null for other key types."},
	{"x", "EC or OKP x coordinate (public key), base64url; null for RSA."},
	{"y", "EC y coordinate, base64url; null for other key types."},
	{"crv", "The curve of an EC or OKP key (`P-256`, `P-384`, `P-521`, `Ed25519`); null for RSA."},
	{"public_key_pem", "The public key as a PKIX `PUBLIC KEY` PEM block, for gateways that take PEM."},
	{"thumbprint", "The RFC 7638 SHA-256 thumbprint of the key, base64url."},
}

var jwkObjectType = func() types.ObjectType {
	t := map[string]attr.Type{}
	for _, a := range jwkAttributes {
		t[a.name] = types.StringType
	}
	return types.ObjectType{AttrTypes: t}
}()

func (d *jwksDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_jwks"
}

func (d *jwksDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	keyAttrs := map[string]schema.Attribute{}
	for _, a := range jwkAttributes {
		keyAttrs[a.name] = schema.StringAttribute{MarkdownDescription: a.description, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The user directory's signing keys (JWKS), from the `jwks_uri` of its discovery document (whose issuer is checked, as in " +
			"`ciam_openid_configuration`; the `jwks_uri` must be https), or from `/oauth2/jwks` when the directory serves no discovery document. Either the standard " +
			"member `keys` or the `Keys` of one vendor sample is read (a set with both is refused). A key that carries private or symmetric material " +
			"(`d`, `p`, `q`, `k`, ...) makes the whole set an error. A key that cannot verify signatures is left out with a warning that names its `kid`: " +
			"a type other than RSA, EC and OKP Ed25519, a key for encryption (`use` other than `sig`, or `key_ops` without `verify`), or an RSA key of fewer " +
			"than 2048 bits. Keys are parsed and written by go-jose. A `kid` may be absent or shared by keys of different types: key maps by `thumbprint`. Keys of one type that share a `kid` are all listed, with a warning. " +
			"The document holds no secret; identical blocks share one request per run.",
		Attributes: map[string]schema.Attribute{
			"jwks_uri": schema.StringAttribute{MarkdownDescription: "Where the key set was fetched from.", Computed: true},
			"keys": schema.ListNestedAttribute{
				MarkdownDescription: "The usable public keys, in the order served.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: keyAttrs},
			},
			"json": schema.StringAttribute{
				MarkdownDescription: "The usable keys as a canonical RFC 7517 JWKS (member `keys`), ready for a gateway's local JWKS setting or for `provider::ciam::verify_jwt`.",
				Computed:            true,
			},
		},
	}
}

func (d *jwksDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *jwksDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data.cannotRequestInRead(req, resp, "The data source ciam_jwks") {
		return
	}
	set, err := d.data.client.JWKS(ctx)
	if err != nil {
		resp.Diagnostics.Append(documentErrorDiagnostic(err, "key set (JWKS)", d.data.client.Host(), d.data.domain))
		return
	}
	for _, s := range set.Skipped {
		resp.Diagnostics.AddWarning("CIAM Signing Key Skipped", fmt.Sprintf(
			"The key set at %s holds a key with kid %s (kty %s) that was left out: %s. The other keys are listed.", set.URI, quoted(s.KID), quoted(s.KTY), s.Reason))
	}
	resp.Diagnostics.Append(sharedKIDWarnings(set)...)
	if len(set.Keys) == 0 && len(set.Skipped) == 0 {
		resp.Diagnostics.AddWarning("CIAM Key Set Is Empty", fmt.Sprintf(
			"The key set at %s holds no key, so no token can be verified with it (verify_jwt refuses every token). "+
				"A directory publishes its signing keys before it signs with them: check that auth_domain is the user directory that issues the tokens, "+
				"or report the empty key set to the directory's operator.", set.URI))
	}
	keys := make([]attr.Value, 0, len(set.Keys))
	for _, k := range set.Keys {
		obj, diags := types.ObjectValue(jwkObjectType.AttrTypes, jwkValues(k))
		resp.Diagnostics.Append(diags...)
		keys = append(keys, obj)
	}
	list, diags := types.ListValue(jwkObjectType, keys)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m := jwksModel{JWKSURI: types.StringValue(set.URI), Keys: list, JSON: types.StringValue(string(set.Canonical))}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func jwkValues(k ciam.JWK) map[string]attr.Value {
	return map[string]attr.Value{
		"kid": nullIfEmpty(k.KID), "kty": nullIfEmpty(k.KTY), "use": nullIfEmpty(k.Use), "alg": nullIfEmpty(k.Alg),
		"n": nullIfEmpty(k.N), "e": nullIfEmpty(k.E), "x": nullIfEmpty(k.X), "y": nullIfEmpty(k.Y), "crv": nullIfEmpty(k.Crv),
		"public_key_pem": nullIfEmpty(k.PublicKeyPEM), "thumbprint": nullIfEmpty(k.Thumbprint),
	}
}

// sharedKIDWarnings warns about keys of one type (and curve) that share a
// kid: a token's kid cannot tell them apart. verify_jwt tries each; a
// gateway that picks one key by kid may pick the wrong one. Keys of
// different types may share a kid (RFC 7517): a token's alg tells them
// apart.
func sharedKIDWarnings(set *ciam.JWKS) diag.Diagnostics {
	var diags diag.Diagnostics
	count := map[[3]string]int{}
	var order [][3]string
	for _, k := range set.Keys {
		if k.KID == "" {
			continue
		}
		key := [3]string{k.KID, k.KTY, k.Crv}
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	for _, key := range order {
		if n := count[key]; n > 1 {
			kind := key[1]
			if key[2] != "" {
				kind += " " + key[2]
			}
			diags.AddWarning("CIAM Signing Keys Share A kid", fmt.Sprintf(
				"The key set at %s holds %d %s keys with kid %s: a token's kid cannot tell them apart. provider::ciam::verify_jwt tries each of them, "+
					"but a gateway that picks one key by kid may pick the wrong one and refuse valid tokens. All are listed; tell the directory's operator, "+
					"since a kid should name one key (a directory that rotates keys gives the new key a new kid).", set.URI, n, kind, quoted(key[0])))
		}
	}
	return diags
}
