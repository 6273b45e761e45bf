package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// secretSet is the one redaction layer of a configured provider. Every
// secret the provider meets (client secrets from the provider block, the
// environment or a token block; codes and verifiers; every token received or
// read from state) is added to it, and everything the provider emits passes
// through it:
//   - every diagnostic, by guard (guard.go), which wraps every entry point
//     of every type the provider registers;
//   - every tflog line, by the masks of ctx;
//   - every panic, which guard turns into a redacted diagnostic.
//
// The ciam client redacts its own errors too (it knows the secrets of each
// request); this layer also covers text that did not come from the client.
type secretSet struct {
	mu     sync.RWMutex
	values map[string]struct{}
	// red redacts values; rebuilt on first use after a new value is added.
	red *ciam.Redactor
}

func newSecretSet(secrets ...string) *secretSet {
	s := &secretSet{values: map[string]struct{}{}}
	s.add(secrets...)
	return s
}

// add registers secrets; empty values are ignored.
func (s *secretSet) add(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range secrets {
		if _, ok := s.values[v]; !ok && v != "" {
			s.values[v] = struct{}{}
			s.red = nil
		}
	}
}

// addCredentials registers a client secret together with the HTTP Basic
// header value that carries it.
func (s *secretSet) addCredentials(clientID, secret string) {
	if secret != "" {
		s.add(secret, ciam.BasicAuthValue(clientID, secret))
	}
}

func (s *secretSet) list() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.listLocked()
}

func (s *secretSet) listLocked() []string {
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	return out
}

// redactor returns the redactor of the current values.
func (s *secretSet) redactor() *ciam.Redactor {
	s.mu.RLock()
	red := s.red
	s.mu.RUnlock()
	if red != nil {
		return red
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.red == nil {
		s.red = ciam.NewRedactor(s.listLocked()...)
	}
	return s.red
}

// redact removes every known secret, in any encoding and any fragment of 8
// characters or more, and credential-shaped text from text.
func (s *secretSet) redact(text string) string {
	return s.redactor().Redact(text)
}

// mask returns a context whose tflog output masks every known secret and
// the values of fields named like credentials.
func (s *secretSet) mask(ctx context.Context) context.Context {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, "client_secret", "access_token", "refresh_token", "id_token", "code", "code_verifier", "authorization")
	if secrets := s.list(); len(secrets) > 0 {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
		ctx = tflog.MaskMessageStrings(ctx, secrets...)
	}
	return ctx
}

// sanitize returns diags with every summary and detail redacted.
func (s *secretSet) sanitize(diags diag.Diagnostics) diag.Diagnostics {
	if len(diags) == 0 {
		return diags
	}
	red := s.redactor()
	out := make(diag.Diagnostics, 0, len(diags))
	for _, d := range diags {
		summary, detail := red.Redact(d.Summary()), red.Redact(d.Detail())
		if summary == d.Summary() && detail == d.Detail() {
			out = append(out, d)
			continue
		}
		var nd diag.Diagnostic
		if d.Severity() == diag.SeverityWarning {
			nd = diag.NewWarningDiagnostic(summary, detail)
		} else {
			nd = diag.NewErrorDiagnostic(summary, detail)
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			nd = diag.WithPath(wp.Path(), nd)
		}
		out = append(out, nd)
	}
	return out
}
