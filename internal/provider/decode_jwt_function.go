package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

var _ function.Function = &decodeJWTFunction{}

func newDecodeJWTFunction() function.Function {
	return &decodeJWTFunction{}
}

// decodeJWTFunction is provider::ciam::decode_jwt.
type decodeJWTFunction struct{}

func (f *decodeJWTFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "decode_jwt"
}

func (f *decodeJWTFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Decode a JWT's header and claims without verifying its signature",
		MarkdownDescription: "Decodes a signed JWT (JWS compact form, `header.claims.signature`) and returns an object with `header` and `claims`. " +
			"**The token is decoded without verifying the signature**: use the result to read what a token says (expiry, scopes, subject), never to decide whether to trust it. " +
			"Claims keep their JSON types: strings, numbers, booleans, objects, and arrays (an array of one type, such as the CIAM's `scope`, is a list; a mixed array is a tuple; an empty array is an empty list of strings). " +
			"A JSON `null` becomes a null string. A sensitive argument gives a sensitive result; wrap it in `nonsensitive()` to show a claim.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "token",
				MarkdownDescription: "The JWT to decode, e.g. the `access_token` of `ciam_client_credentials_token`.",
			},
		},
		Return: function.DynamicReturn{},
	}
}

func (f *decodeJWTFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	defer func() {
		// No panic reaches the user, and the token never appears in the message.
		if r := recover(); r != nil {
			resp.Error = function.NewFuncError("decode_jwt hit an unexpected condition; please report this provider bug.")
		}
	}()
	var token string
	resp.Error = req.Arguments.Get(ctx, &token)
	if resp.Error != nil {
		return
	}
	header, claims, err := ciam.DecodeJWT(token)
	if err != nil {
		resp.Error = invalidJWT(err)
		return
	}
	result, err := jwtValue(header, claims)
	if err != nil {
		resp.Error = invalidJWT(err)
		return
	}
	resp.Error = resp.Result.Set(ctx, types.DynamicValue(result))
}

// invalidJWT is the error of the token argument. Terraform shows it as
// 'Invalid value for "token" parameter: <text>.', so the text has no final
// period of its own.
func invalidJWT(err error) *function.FuncError {
	return function.NewArgumentFuncError(0, "Invalid JWT: "+strings.TrimSuffix(err.Error(), "."))
}

// jwtValue is the {header, claims} object both JWT functions return.
func jwtValue(header, claims map[string]any) (attr.Value, error) {
	h, err := jsonValue(header, "header member ", "")
	if err != nil {
		return nil, err
	}
	c, err := jsonValue(claims, "claim ", "")
	if err != nil {
		return nil, err
	}
	return types.ObjectValueMust(
		map[string]attr.Type{"header": h.Type(context.Background()), "claims": c.Type(context.Background())},
		map[string]attr.Value{"header": h, "claims": c},
	), nil
}

// jsonValue converts a decoded JSON value (numbers as json.Number) into a
// Terraform value of the matching type. what and at name the value in
// errors: what is "claim " or "header member ", at its path within the
// object ("" for the object itself, "exp", "x.y[0]").
func jsonValue(v any, what, at string) (attr.Value, error) {
	switch x := v.(type) {
	case nil:
		return types.StringNull(), nil
	case string:
		return types.StringValue(x), nil
	case bool:
		return types.BoolValue(x), nil
	case json.Number:
		return jsonNumber(x.String(), what, at)
	case []any:
		return jsonArray(x, what, at)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrTypes := make(map[string]attr.Type, len(x))
		attrs := make(map[string]attr.Value, len(x))
		for _, k := range keys {
			p := k
			if at != "" {
				p = at + "." + k
			}
			ev, err := jsonValue(x[k], what, p)
			if err != nil {
				return nil, err
			}
			attrs[k], attrTypes[k] = ev, ev.Type(context.Background())
		}
		obj, diags := types.ObjectValue(attrTypes, attrs)
		if diags.HasError() {
			return nil, fmt.Errorf("an object cannot be represented")
		}
		return obj, nil
	default:
		return nil, fmt.Errorf("unexpected JSON value of type %T", v)
	}
}

// jsonNumber converts a JSON number literal. A number that a Terraform
// number cannot hold is an error naming it: an overflow would become an
// infinity that Terraform cannot serialize (failing far away, when the plan is
// written), an underflow a silent 0.
func jsonNumber(lit, what, at string) (attr.Value, error) {
	f, _, err := big.ParseFloat(lit, 10, 512, big.ToNearestEven)
	shown := lit
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	switch {
	case err != nil || f.IsInf():
		return nil, fmt.Errorf("%s%q is a number too large to represent (%s)", what, at, shown)
	case f.Sign() == 0 && strings.ContainsAny(strings.FieldsFunc(lit, func(r rune) bool { return r == 'e' || r == 'E' })[0], "123456789"):
		return nil, fmt.Errorf("%s%q is a number too small to represent (%s); it is not 0", what, at, shown)
	}
	return types.NumberValue(f), nil
}

// jsonArray makes a list when every element has the same type (and an empty
// list of strings for []), a tuple otherwise.
func jsonArray(items []any, what, at string) (attr.Value, error) {
	if len(items) == 0 {
		return types.ListValueMust(types.StringType, []attr.Value{}), nil
	}
	elems := make([]attr.Value, len(items))
	elemTypes := make([]attr.Type, len(items))
	same := true
	for i, it := range items {
		ev, err := jsonValue(it, what, fmt.Sprintf("%s[%d]", at, i))
		if err != nil {
			return nil, err
		}
		elems[i], elemTypes[i] = ev, ev.Type(context.Background())
		same = same && elemTypes[i].Equal(elemTypes[0])
	}
	if same {
		l, diags := types.ListValue(elemTypes[0], elems)
		if !diags.HasError() {
			return l, nil
		}
	}
	t, diags := types.TupleValue(elemTypes, elems)
	if diags.HasError() {
		return nil, fmt.Errorf("an array cannot be represented")
	}
	return t, nil
}
