package soak

import (
	"archive/zip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// checkStateFiles checks invariant 5 for the state file and its backup: no
// secret but in the documented attributes, and no ephemeral value at all.
// The Basic header's encoding (base64) is not looked for: Terraform never
// writes a header to a file, and base64 windows coincide with the JWTs the
// documented attributes hold.
func (r *Run) checkStateFiles(all, never map[string]string, when string) {
	allIndex, neverIndex := leaktest.NewIndex(leaktest.ClientID, all, "basic"), leaktest.NewIndex(leaktest.ClientID, never, "basic")
	for _, name := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
		raw, err := os.ReadFile(filepath.Join(r.ws.Dir(), name))
		if err != nil {
			continue // none yet
		}
		if w, ok := neverIndex.Find(string(raw)); ok {
			r.fail("%s %s holds %s, which belongs in no state file (invariant 5)", name, when, w)
		}
		if w, ok := allIndex.Find(stateWithoutDocumented(raw)); ok {
			r.fail("%s %s holds %s outside the attributes documented to hold it, at %s (invariant 5)", name, when, w, locate(allIndex, stateWithoutDocumented(raw)))
		}
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

// checkPlanFile checks invariant 5 for a saved plan: no ephemeral value
// anywhere in it; its state snapshots as state files; and the plan itself,
// as terraform show -json tells it, with no secret but in the documented
// attributes and in the variables (which Terraform keeps in a saved plan,
// the user's values, not the provider's doing).
func (r *Run) checkPlanFile(path string) {
	all, never := r.secrets()
	allIndex, neverIndex := leaktest.NewIndex(leaktest.ClientID, all, "basic"), leaktest.NewIndex(leaktest.ClientID, never, "basic")
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
	res := r.ws.Run(r.ctx, nil, 0, "show", "-json", filepath.Base(path))
	if res.Err != nil {
		r.fail("terraform show -json of the saved plan failed: %v", res.Err)
		return
	}
	shown := planWithoutDocumented([]byte(res.Out))
	if shown == "" {
		r.fail("terraform show -json of the saved plan printed no JSON")
		return
	}
	if w, ok := allIndex.Find(shown); ok {
		r.fail("the saved plan holds %s outside the attributes documented to hold it and the variables, at %s (invariant 5)", w, locate(allIndex, shown))
	}
}

// planWithoutDocumented returns terraform show -json's account of a plan
// with the variables and, in every resource's values and change, the
// documented secret attributes emptied ("" when it is not JSON).
func planWithoutDocumented(raw []byte) string {
	var plan map[string]any
	if json.Unmarshal(raw, &plan) != nil {
		return ""
	}
	delete(plan, "variables")
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if typ, ok := t["type"].(string); ok {
				blank := func(m any) {
					if attrs, ok := m.(map[string]any); ok {
						for _, name := range documented[typ] {
							if _, ok := attrs[name]; ok {
								attrs[name] = ""
							}
						}
					}
				}
				blank(t["values"])
				if change, ok := t["change"].(map[string]any); ok {
					blank(change["before"])
					blank(change["after"])
				}
			}
			for _, e := range t {
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(plan)
	b, _ := json.Marshal(plan)
	return string(b)
}
