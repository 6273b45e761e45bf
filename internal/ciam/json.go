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
// the document: readers could disagree about what it says.
func jsonMembers(body []byte) (map[string]json.RawMessage, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "it is not a JSON object"
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return nil, "it is not valid JSON"
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "it is not valid JSON"
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Sprintf("it names the member %q twice", printable(name, 64))
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, "it is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "it has data after its JSON object"
	}
	return members, ""
}
