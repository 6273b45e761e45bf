package soak

import (
	"archive/zip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// documented are the attributes documented to hold a secret, by resource
// or data source type: their values may be in state and in plans.
var documented = map[string][]string{
	"ciam_authorization_code_token": {"code", "code_verifier", "client_secret", "refresh_token", "id_token", "access_token"},
	"ciam_client_credentials_token": {"access_token"},
	"ciam_scim_token":               {"access_token"},
}

// stateWithoutDocumented returns a state file's text with the documented
// secret attributes emptied and each instance's private data decoded (it
// is base64 in the file, where no window would show), or the raw text
// when it is not a state file.
func stateWithoutDocumented(raw []byte) string {
	var st map[string]any
	if json.Unmarshal(raw, &st) != nil {
		return string(raw)
	}
	resources, _ := st["resources"].([]any)
	for _, res := range resources {
		r, _ := res.(map[string]any)
		typ, _ := r["type"].(string)
		instances, _ := r["instances"].([]any)
		for _, in := range instances {
			i, _ := in.(map[string]any)
			if attrs, ok := i["attributes"].(map[string]any); ok {
				for _, name := range documented[typ] {
					if _, ok := attrs[name]; ok {
						attrs[name] = ""
					}
				}
			}
			if p, ok := i["private"].(string); ok {
				i["private"] = decodeNested(p)
			}
		}
	}
	b, _ := json.Marshal(st)
	return string(b)
}

// decodeNested decodes a string that is base64 of JSON, and the strings in
// that JSON that are too, as the provider's private state nests them: in
// base64 a window may be of non-secret bytes that a token also encodes (a
// JWT's "aud":"demo-app", say), while decoded a secret shows as itself.
func decodeNested(v any) any {
	switch t := v.(type) {
	case string:
		b, err := base64.StdEncoding.DecodeString(t)
		var inner any
		if err != nil || json.Unmarshal(b, &inner) != nil {
			return t
		}
		return decodeNested(inner)
	case map[string]any:
		for k, e := range t {
			t[k] = decodeNested(e)
		}
	case []any:
		for i, e := range t {
			t[i] = decodeNested(e)
		}
	}
	return v
}

// checkStateFile checks invariant 5 for the state file: no secret but in
// the documented attributes, and no ephemeral value at all.
func (r *Run) checkStateFile(all, never *leaktest.Index, what string) {
	raw, err := r.ws.StateFile()
	if err != nil || raw == nil {
		return
	}
	if w, ok := never.Find(string(raw)); ok {
		r.fail("%s holds %s, which belongs in no state file (invariant 5)", what, w)
	}
	if w, ok := all.Find(stateWithoutDocumented(raw)); ok {
		r.fail("%s holds %s outside the attributes documented to hold it, at %s (invariant 5)", what, w, locate(all, stateWithoutDocumented(raw)))
	}
}

// locate returns the JSON path of the first string in text that holds an
// indexed secret, for a failure message.
func locate(x *leaktest.Index, text string) string {
	var v any
	if json.Unmarshal([]byte(text), &v) != nil {
		return "(not JSON)"
	}
	var walk func(v any, path string) string
	walk = func(v any, path string) string {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if p := walk(e, path+"."+k); p != "" {
					return p
				}
			}
		case []any:
			for i, e := range t {
				if p := walk(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		case string:
			if _, ok := x.Find(t); ok {
				return path
			}
		}
		return ""
	}
	return walk(v, "")
}

// checkPlanFile checks invariant 5 for a saved plan: its state snapshots
// as state files; everything else (the planned values and the variables,
// which hold documented values, and the configuration) may hold no secret
// that belongs in no plan.
func (r *Run) checkPlanFile(path string) {
	all, never := r.secrets()
	allIndex, neverIndex := leaktest.NewIndex(leaktest.ClientID, all), leaktest.NewIndex(leaktest.ClientID, never)
	zr, err := zip.OpenReader(path)
	if err != nil {
		r.fail("the saved plan is not readable: %v", err)
		return
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			r.fail("the saved plan's %s is not readable: %v", f.Name, err)
			return
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			r.fail("the saved plan's %s is not readable: %v", f.Name, err)
			return
		}
		if w, ok := neverIndex.Find(string(b)); ok {
			r.fail("the saved plan's %s holds %s, which belongs in no plan (invariant 5)", f.Name, w)
		}
		switch {
		case f.Name == "tfstate" || f.Name == "tfstate-prev":
			if w, ok := allIndex.Find(stateWithoutDocumented(b)); ok {
				r.fail("the saved plan's %s holds %s outside the attributes documented to hold it (invariant 5)", f.Name, w)
			}
		case strings.HasPrefix(f.Name, "tfconfig/"):
			if w, ok := allIndex.Find(string(b)); ok {
				r.fail("the saved plan's configuration %s holds %s (invariant 5)", f.Name, w)
			}
		}
	}
}
