package ciam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// jsonMembers reads a JSON object's members by their exact names (JSON
// names are case-sensitive; encoding/json's struct matching is not). A
// member named twice, or anything after the object, is a reason to refuse
// the document: readers could disagree about what it says. The problem is a
// phrase that follows "it": "is not JSON", "is a JSON array, not a JSON
// object", "names the member "x" twice", "has data after its JSON object".
func jsonMembers(body []byte) (map[string]json.RawMessage, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	first, err := dec.Token()
	if err != nil {
		return nil, "is not JSON"
	}
	if first != json.Delim('{') {
		if kind := jsonKind(body); kind != "" {
			return nil, "is a JSON " + kind + ", not a JSON object"
		}
		return nil, "is not JSON"
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return nil, "is not valid JSON"
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "is not valid JSON"
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Sprintf("names the member %q twice", printable(name, 64))
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, "is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "has data after its JSON object"
	}
	return members, ""
}

// jsonKind names the type of a valid JSON value ("object", "array",
// "string", "number", "boolean", "null"), or "" when raw is not one.
func jsonKind(raw []byte) string {
	if !json.Valid(raw) {
		return ""
	}
	switch b := bytes.TrimSpace(raw); b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
