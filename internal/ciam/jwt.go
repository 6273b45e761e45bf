package ciam

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DecodeJWT splits a compact JWS into its header and claims WITHOUT verifying
// the signature: it is for reading what a token says (expiry, scopes,
// subject), never for deciding whether to trust it.
//
// JSON numbers are returned as json.Number so that large integers stay exact.
// Errors never quote the token, and do not end in a period (Terraform adds
// one after a function argument's error).
//
// A library such as go-jose is not used here on purpose: it parses only the
// header members it knows and insists on an algorithm allow-list, while this
// function must return the header exactly as sent, whatever the algorithm.
func DecodeJWT(token string) (header, claims map[string]any, err error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, nil, errors.New("the token is empty")
	}
	if i := strings.IndexFunc(token, func(r rune) bool { return !isBase64URL(r) && r != '.' && r != '=' }); i >= 0 {
		return nil, nil, errors.New("the token holds a character a JWT cannot hold (only base64url characters and dots), such as whitespace inside it")
	}
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 3:
	case 1:
		return nil, nil, errors.New("the token is not a JWT: it has no dots. It looks like an opaque token; SCIM tokens (ciam_scim_token) are opaque and cannot be decoded")
	case 5:
		return nil, nil, errors.New("the token is an encrypted JWT (JWE, five parts); only signed JWTs (three parts) can be decoded")
	default:
		return nil, nil, fmt.Errorf("the token is not a JWT: it has %d dot-separated parts, a signed JWT has three (header.claims.signature)", len(parts))
	}
	if header, err = decodeSegment(parts[0], "header"); err != nil {
		return nil, nil, err
	}
	if claims, err = decodeSegment(parts[1], "claims"); err != nil {
		return nil, nil, err
	}
	return header, claims, nil
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// maxJSONDepth bounds how deeply a JWT's header and claims may nest: real
// ones nest two or three levels, and converting a deeply nested value to
// Terraform's types costs time that grows fast with the depth.
const maxJSONDepth = 32

func decodeSegment(seg, name string) (map[string]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, fmt.Errorf("the %s segment is not base64url", name)
	}
	return decodeJSONObject(raw, name)
}

// decodeJSONObject decodes a JWT segment's JSON object, numbers as
// json.Number.
func decodeJSONObject(raw []byte, name string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the %s segment is not JSON", name)
	}
	if dec.More() {
		return nil, fmt.Errorf("the %s segment has data after its JSON object", name)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the %s segment is not a JSON object", name)
	}
	if depth(obj) > maxJSONDepth {
		return nil, fmt.Errorf("the %s segment nests values deeper than %d levels", name, maxJSONDepth)
	}
	return obj, nil
}

// depth is how deeply a decoded JSON value nests objects and arrays.
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
