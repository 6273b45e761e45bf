package localciam

import (
	"bytes"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"
)

// This file holds what the server records of the requests it received, for
// tests to assert on: the directory's own view of what reached it.

// Requests returns how many requests reached path ("" for all paths),
// faults included.
func (s *Server) Requests(path string) int64 {
	if path == "" {
		return s.total.Load()
	}
	if v, ok := s.counts.Load(path); ok {
		return v.(*atomic.Int64).Load() //nolint:forcetypeassert // only *atomic.Int64 is stored
	}
	return 0
}

// WaitIdle waits until no request is being handled, or timeout: a handler
// may still be recording what a client that left did (a lost answer).
// It reports whether the server became idle.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); s.inFlight.Load() > 0; {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Connections returns how many connections clients opened, including ones
// that never made a request the server understood (a TLS handshake sent to
// this plain-HTTP server, say).
func (s *Server) Connections() int64 { return s.connections.Load() }

func (s *Server) countConnection(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.connections.Add(1)
	}
}

// IssuedTokens returns every token the server has issued (access, refresh
// and id tokens), so that tests can assert that none of them leaks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// Secrets returns every client secret the server knows, for leak checks.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.clients {
		out = append(out, c.Secret)
	}
	for _, c := range s.scimClients {
		out = append(out, c.Secret)
	}
	return out
}

func (s *Server) record(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued = append(s.issued, tokens...)
}

// countAttempt counts a token request by its grant_type before anything
// (fault, hook, handler) answers it, so that tests can tell how often a
// single-use value was sent. It returns the request's form (nil for other
// requests) and leaves the body for the handler.
func (s *Server) countAttempt(r *http.Request) url.Values {
	if r.Method != http.MethodPost || r.URL.Path != TokenPath || r.Body == nil {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return nil
	}
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[form.Get("grant_type")]++
	for _, single := range []string{"code", "refresh_token"} {
		if v := form.Get(single); v != "" {
			s.presented[v]++
		}
	}
	return form
}

// Presented returns how many token requests carried value as their code or
// refresh_token, whatever they were answered (faults included): the
// directory's own record of how often a single-use value came back.
func (s *Server) Presented(value string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presented[value]
}

// Presentations returns a copy of every code and refresh token value the
// token endpoint received, with how many requests carried each.
func (s *Server) Presentations() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.presented)
}

// UserAgents returns the distinct User-Agent headers of the requests so far,
// as sent, the first 100 (the provider sends terraform-provider-ciam/<version>).
func (s *Server) UserAgents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.userAgents)
}

// Attempts returns how many token requests arrived with the given
// grant_type, whatever they were answered (faults included).
func (s *Server) Attempts(grant string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[grant]
}

// RefreshTokenRevoked reports whether a refresh token can no longer be used:
// revoked, rotated away, or part of a revoked grant (false for unknown
// tokens).
func (s *Server) RefreshTokenRevoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	return ok && !g.valid()
}

// RefreshTokenWorks reports whether a refresh token would be accepted now.
func (s *Server) RefreshTokenWorks(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	return ok && g.valid()
}

// GrantRevoked reports whether the grant a refresh token belongs to was
// revoked as a whole (by revocation or by detected reuse).
func (s *Server) GrantRevoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	return ok && g.family.revoked
}

// ReuseDetected reports whether the grant a refresh token belongs to was
// revoked because one of its rotated-away refresh tokens came back.
func (s *Server) ReuseDetected(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	return ok && g.family.reused
}

// RevokeRefreshToken revokes a refresh token, as an administrator would.
func (s *Server) RevokeRefreshToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.refresh[token]; ok {
		g.revoked = true
	}
}

// Revocations returns how many refresh tokens /oauth2/revoke has revoked.
func (s *Server) Revocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revocations
}

// Grants returns how many tokens were issued with the given grant type (or
// IssuedSCIM for SCIM tokens).
func (s *Server) Grants(grant string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grant]
}
