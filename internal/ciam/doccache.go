package ciam

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// documentMaxAge bounds how long a fetched document (discovery, JWKS) is
// reused. A provider instance lives for one Terraform walk, so in practice
// every identical block of a walk shares one request.
const documentMaxAge = 5 * time.Minute

// docCache holds fetched documents (discovery, JWKS) by URL and collapses
// concurrent fetches of one into a request. Documents hold no secret.
type docCache struct {
	mu      sync.Mutex
	entries map[string]docEntry
	flight  singleflight.Group
}

type docEntry struct {
	body []byte
	err  error // a definitive answer that is not a document (404)
	at   time.Time
}

// document GETs a document under the transport rules of every request
// (bounded body, no redirects, retries, redaction), shared between
// concurrent and repeated callers for documentMaxAge.
func (c *Client) document(ctx context.Context, u *url.URL) ([]byte, error) {
	key := u.String()
	c.docs.mu.Lock()
	e, ok := c.docs.entries[key]
	c.docs.mu.Unlock()
	if ok && c.now().Sub(e.at) < documentMaxAge {
		return e.body, e.err
	}
	r := request{method: http.MethodGet, target: u}
	body, err := flight(ctx, &c.docs.flight, key, func(ctx context.Context) ([]byte, error) {
		res, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		var entry docEntry
		switch {
		case res.status >= 200 && res.status <= 299:
			entry = docEntry{body: res.data, at: c.now()}
		case res.status == http.StatusNotFound:
			// Definitive (no discovery document): remembered like a document.
			entry = docEntry{err: c.statusError(r, res), at: c.now()}
		default:
			return nil, c.statusError(r, res)
		}
		c.docs.mu.Lock()
		c.docs.entries[key] = entry
		c.docs.mu.Unlock()
		return entry.body, entry.err
	})
	return body, c.waitEnded(ctx, err, r)
}
