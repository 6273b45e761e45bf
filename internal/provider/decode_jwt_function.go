package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
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
	var token string
	if resp.Error = req.Arguments.Get(ctx, &token); resp.Error == nil {
		header, claims, err := ciam.DecodeJWT(token)
		setJWTResult(ctx, resp, header, claims, err)
	}
}

// setJWTResult sets the {header, claims} result of a JWT function, or the
// error of its token argument.
func setJWTResult(ctx context.Context, resp *function.RunResponse, header, claims map[string]any, err error) {
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

// jsonNumber converts a JSON number literal. A number outside the range of a
// float64 (beyond about 1.8e308, or closer to 0 than about 4.9e-324 without
// being 0) is an error naming it: a huge exponent takes big.Float, and then
// Terraform, minutes to handle (1e30000000), an overflow would become an
// infinity that Terraform cannot serialize, and an underflow a silent 0. JWT
// claims are times and counts, far inside that range.
func jsonNumber(lit, what, at string) (attr.Value, error) {
	shown := lit
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	tooLarge := fmt.Errorf("%s%q is a number too large to represent (%s)", what, at, shown)
	tooSmall := fmt.Errorf("%s%q is a number too small to represent (%s); it is not 0", what, at, shown)
	order, zero, ok := decimalOrder(lit)
	switch {
	case zero:
		return types.NumberValue(new(big.Float)), nil
	case !ok && order > 0 || ok && order > 309:
		return nil, tooLarge
	case !ok || order < -325:
		return nil, tooSmall
	}
	f, _, err := big.ParseFloat(lit, 10, 512, big.ToNearestEven)
	if err != nil {
		return nil, tooLarge
	}
	abs := new(big.Float).Abs(f)
	switch {
	case abs.Cmp(big.NewFloat(math.MaxFloat64)) > 0:
		return nil, tooLarge
	case abs.Cmp(big.NewFloat(math.SmallestNonzeroFloat64)) < 0:
		return nil, tooSmall
	}
	return types.NumberValue(f), nil
}

// decimalOrder returns the decimal order of magnitude of a JSON number
// literal (2 for 123, -3 for 0.00123, 12 for 1.5e12) without computing the
// number, and whether it is zero. ok is false when the exponent is too long
// to read; order then has its sign.
func decimalOrder(lit string) (order int, zero, ok bool) {
	mant, exp, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(lit, "-")), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if i := strings.IndexFunc(intPart, func(r rune) bool { return r >= '1' && r <= '9' }); i >= 0 {
		order = len(intPart) - i - 1
	} else if j := strings.IndexFunc(frac, func(r rune) bool { return r >= '1' && r <= '9' }); j >= 0 {
		order = -(j + 1)
	} else {
		return 0, true, true
	}
	if exp == "" {
		return order, false, true
	}
	e, err := strconv.Atoi(exp)
	if err != nil || e > 1<<20 || e < -(1<<20) {
		if strings.HasPrefix(exp, "-") {
			return -1, false, false
		}
		return 1, false, false
	}
	return order + e, false, true
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
