package ciam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Reuse rule: a cached token is handed out again only while at least
// max(MinReuseRemaining, lifetime/ReuseFraction) of its lifetime is left,
// measured from the moment the CIAM's answer arrived (PoolStored). For the
// CIAM's 300 s access tokens that is 30 s; for 7200 s SCIM tokens, 720 s.
// PoolEphemeral tokens are reused only while at least half their lifetime
// is left.
const (
	MinReuseRemaining = 30 * time.Second
	ReuseFraction     = 10
)

// Pool separates tokens that must never be handed to each other's callers.
// Tokens are reused within a pool only.
type Pool uint8

const (
	// PoolStored is for callers that store the token (Terraform data
	// sources write it to state and plans): the default.
	PoolStored Pool = iota
	// PoolEphemeral is for callers that must never hold a token that is
	// stored anywhere, and that can never renew it (Terraform ephemeral
	// resources). A token is reused here only while at least half of its
	// lifetime is left, so that a consumer always gets a useful one.
	PoolEphemeral
)

// minRemaining is the lifetime a token of the pool must have left to be
// reused.
func (p Pool) minRemaining(lifetime time.Duration) time.Duration {
	if p == PoolEphemeral {
		return max(MinReuseRemaining, lifetime/2)
	}
	return max(MinReuseRemaining, lifetime/ReuseFraction)
}

// WithPool returns a view of c whose cached tokens come from, and go to, the
// given pool. It shares c's connections, cache and settings.
func (c *Client) WithPool(p Pool) *Client {
	cp := *c
	cp.pool = p
	return &cp
}

// tokenCache holds reusable tokens of one Client (so one configured provider
// instance) and collapses concurrent identical requests into one.
//
// Only the client-credentials grant and the SCIM token go through it; the
// single-use grants (authorization code, refresh token) never do. Errors are
// never cached: a failed request is tried afresh by the next caller. Tokens
// without an expires_in are not cached, since the rule above cannot be
// applied to them.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]*Token
	flight  singleflight.Group
	now     func() time.Time
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{entries: map[string]*Token{}, now: now}
}

// cacheKey identifies identical token requests: pool, endpoint, grant,
// client_id, a hash of the secret (never the secret), auth method and the
// normalised (sorted, deduplicated) scope set.
func (c *Client) cacheKey(path, grant string, creds Credentials, scopes []string) string {
	sum := sha256.Sum256([]byte(creds.ClientSecret))
	norm := scopes
	if !slices.IsSorted(norm) {
		norm = slices.Clone(scopes)
		slices.Sort(norm)
	}
	var b strings.Builder
	b.Grow(len(c.baseURL) + len(path) + len(grant) + len(creds.ClientID) + 2*len(sum) + len(c.authMethod) + 64)
	b.WriteByte('0' + byte(c.pool))
	for _, part := range []string{c.baseURL, path, grant, creds.ClientID} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	b.Write(hexSum[:])
	b.WriteByte(0)
	b.WriteString(c.authMethod)
	for i, s := range norm {
		if i > 0 && s == norm[i-1] {
			continue // duplicates do not change the request
		}
		b.WriteByte(0)
		b.WriteString(s)
	}
	return b.String()
}

// reusable returns a copy of the cached token for key whose expires_in is
// the lifetime it has left, or nil.
func (tc *tokenCache) reusable(key string, pool Pool) *Token {
	tc.mu.Lock()
	t, ok := tc.entries[key]
	tc.mu.Unlock()
	if !ok {
		return nil
	}
	expiry, _ := t.ExpiresAt()
	remaining := expiry.Sub(tc.now())
	lifetime := time.Duration(t.ExpiresIn) * time.Second
	if remaining < pool.minRemaining(lifetime) {
		tc.mu.Lock()
		if tc.entries[key] == t {
			delete(tc.entries, key)
		}
		tc.mu.Unlock()
		return nil
	}
	// Tell the truth about the remaining lifetime: expires_in counts down,
	// expires_at stays the moment the CIAM set.
	out := *t
	out.ExpiresIn = int64(remaining / time.Second)
	out.ReceivedAt = expiry.Add(-time.Duration(out.ExpiresIn) * time.Second)
	out.Reused = true
	return &out
}

// store keeps its own copy of t.
func (tc *tokenCache) store(key string, t *Token) {
	if !t.HasExpiresIn || t.ExpiresIn <= 0 {
		return
	}
	cp := *t
	tc.mu.Lock()
	tc.entries[key] = &cp
	tc.mu.Unlock()
}

// get returns a reusable token for key, or fetches one (see flight). Every
// caller gets its own copy of the token.
func (tc *tokenCache) get(ctx context.Context, key string, pool Pool, fetch func(context.Context) (*Token, error)) (*Token, error) {
	if t := tc.reusable(key, pool); t != nil {
		return t, nil
	}
	t, err := flight(ctx, &tc.flight, key, func(ctx context.Context) (*Token, error) {
		t, err := fetch(ctx)
		if err == nil {
			tc.store(key, t)
		}
		return t, err
	})
	if err != nil {
		return nil, err
	}
	cp := *t
	return &cp, nil
}

// flown is what a shared fetch hands to every caller that joined it.
type flown[T any] struct {
	v T
	// initiatorGone says the fetch failed because the context of the caller
	// that started it ended (cancelled or past its deadline).
	initiatorGone bool
}

// flight runs fetch once for concurrent callers with the same key. A caller
// whose own context is still alive when the shared fetch failed because its
// initiator's context ended fetches again; a caller whose own context ends
// stops waiting at once.
func flight[T any](ctx context.Context, g *singleflight.Group, key string, fetch func(context.Context) (T, error)) (T, error) {
	for {
		ch := g.DoChan(key, func() (any, error) {
			v, err := fetch(ctx)
			return flown[T]{v: v, initiatorGone: err != nil && ctx.Err() != nil}, err
		})
		select {
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		case res := <-ch:
			f, _ := res.Val.(flown[T])
			if res.Err != nil && f.initiatorGone && ctx.Err() == nil {
				continue // the initiator's context ended, not ours
			}
			return f.v, res.Err
		}
	}
}
