// Package localciam is a local stand-in for a Tencent CIAM user directory. It
// speaks the vendor's token protocol as documented (client-credentials grant,
// SCIM data-sync token, discovery, JWKS) with the vendor's exact status codes
// and error bodies, signs RS256 JWT access tokens, and adds what tests need:
// configurable clients, request counters and fault injection.
//
// It is used by the acceptance tests, the end-to-end tests and `make demo`.
// The provider binary never links it (GNUmakefile's check-deps target and
// TestProviderBinaryDoesNotLinkLocalCIAM enforce that).
//
// Where the vendor's pages are silent, the behaviour follows the OAuth 2.0
// authorization server the vendor's error bodies come from (the
// "OAuth 2.0 Parameter: grant_type" description and RFC 6749 error_uri are its
// signature); each such inference is marked "inferred" below.
package localciam

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint paths.
const (
	TokenPath     = "/oauth2/token"
	SCIMTokenPath = "/scim/api/token"
	JWKSPath      = "/oauth2/jwks"
	DiscoveryPath = "/.well-known/openid-configuration"
)

// Grant types.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	// IssuedSCIM counts SCIM tokens in Grants (it is not an OAuth grant).
	IssuedSCIM = "scim"
)

// Client is an application registered in the local directory.
type Client struct {
	ID     string
	Secret string
	// Scopes the application may request.
	Scopes []string
	// Grants the application may use; empty means client_credentials only.
	Grants []string
	// RedirectURIs are the registered redirect URIs (exact match).
	RedirectURIs []string
	// Disabled applications fail authentication (401 invalid_client), as
	// the vendor documents for "application not enabled".
	Disabled bool
}

func (c *Client) allows(grant string) bool {
	if len(c.Grants) == 0 {
		return grant == GrantClientCredentials
	}
	return slices.Contains(c.Grants, grant)
}

// Options configure a Server. The zero value is usable: it registers the
// demo clients of DefaultClients and DefaultSCIMClients.
type Options struct {
	// Clients are the OAuth applications; nil means DefaultClients().
	Clients []Client
	// SCIMClients are the data-sync configurations; nil means
	// DefaultSCIMClients().
	SCIMClients []Client
	// Issuer overrides the iss claim and discovery issuer; empty means the
	// server's own base URL.
	Issuer string
	// AnnouncedIssuer, when set, is the issuer the discovery document
	// announces, while tokens keep theirs: a directory (or an attacker's
	// copy of one) that claims to be another, for the mix-up defence tests.
	AnnouncedIssuer string
	// JWKSMember is the member of the JWKS document that holds the keys:
	// "keys" (RFC 7517, the default) or "Keys", as one vendor sample spells
	// it.
	JWKSMember string
	// NoDiscovery makes /.well-known/openid-configuration answer 404, as a
	// directory that serves no discovery document does.
	NoDiscovery bool
	// AccessTokenExpiresIn is the expires_in of OAuth access tokens
	// (default 299, as in the vendor's samples: 300 s tokens reported one
	// second short). The JWT's exp is iat + AccessTokenExpiresIn + 1.
	AccessTokenExpiresIn int64
	// SCIMExpiresIn is the expires_in of SCIM tokens (default 7200).
	SCIMExpiresIn int64
	// Latency is added before every response (benchmarks use 50 ms).
	Latency time.Duration
	// RotateRefreshTokens issues a new refresh token on every refresh and
	// spends the old one (the vendor's sample returns the same one). Like the
	// rotating servers (ORY Hydra, and RFC 9700 section 4.14.2's advice), it
	// detects reuse: a refresh token that was already rotated away revokes
	// every refresh token of its grant.
	RotateRefreshTokens bool
	// PublicClientRefresh lets a public client (one whose grant was issued
	// through PKCE, without a secret) refresh and revoke with client_id
	// alone, as RFC 6749 section 6 and RFC 7009 section 2.1 allow. The vendor
	// documents refresh and revoke only with a secret; off, such requests
	// are 401 invalid_client.
	PublicClientRefresh bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// DevEndpoints serves /dev/code, /dev/faults and /dev/records (dev.go),
	// for driving the server by hand; the local-ciam command turns them on.
	// Requests to them are not counted.
	DevEndpoints bool
	// RequestLog, when set, gets one line per request (dev.go: logRequest),
	// without any token, code, secret or query.
	RequestLog io.Writer
}

// Demo credentials used by DefaultClients and DefaultSCIMClients and by
// `make demo`. They only ever exist on a loopback server.
const (
	DemoClientID         = "demo-app"
	DemoClientSecret     = "Xk7/q&R+z%2=Lm9v"
	DemoSCIMClientID     = "demo-sync"
	DemoSCIMClientSecret = "s9T/w&K+e%5=Jp3d"
	DemoRedirectURI      = "https://app.example.com/callback"
)

// DefaultClients returns the demo application.
func DefaultClients() []Client {
	return []Client{{
		ID:           DemoClientID,
		Secret:       DemoClientSecret,
		Scopes:       []string{"identity_proofing", "openid", "users.read"},
		Grants:       []string{GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken},
		RedirectURIs: []string{DemoRedirectURI},
	}}
}

// DefaultSCIMClients returns the demo data-sync configuration.
func DefaultSCIMClients() []Client {
	return []Client{{ID: DemoSCIMClientID, Secret: DemoSCIMClientSecret}}
}

// Server is a local CIAM. Create it with New, serve it with Start (or mount
// Handler), and inspect it with Requests and IssuedTokens.
type Server struct {
	opts   Options
	signer *signer
	now    func() time.Time

	mu          sync.Mutex
	clients     map[string]Client
	scimClients map[string]Client
	issued      []string
	faults      map[string][]Fault
	codes       map[string]*authCode
	refresh     map[string]*refreshGrant
	grants      map[string]int64
	attempts    map[string]int64
	presented   map[string]int64
	userAgents  []string
	revocations int
	rotations   int64
	hook        func(http.ResponseWriter, *http.Request) bool
	logMu       sync.Mutex

	counts      sync.Map // path -> *atomic.Int64
	total       atomic.Int64
	connections atomic.Int64
	inFlight    atomic.Int64

	srv      *http.Server
	listener net.Listener
	baseURL  string
}

// New returns a Server for opts. It does not listen yet.
func New(opts Options) (*Server, error) {
	if opts.Clients == nil {
		opts.Clients = DefaultClients()
	}
	if opts.SCIMClients == nil {
		opts.SCIMClients = DefaultSCIMClients()
	}
	if opts.AccessTokenExpiresIn == 0 {
		opts.AccessTokenExpiresIn = 299
	}
	if opts.SCIMExpiresIn == 0 {
		opts.SCIMExpiresIn = 7200
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sg, err := sharedSigner()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:        opts,
		signer:      sg,
		now:         now,
		clients:     map[string]Client{},
		scimClients: map[string]Client{},
		faults:      map[string][]Fault{},
		codes:       map[string]*authCode{},
		refresh:     map[string]*refreshGrant{},
		grants:      map[string]int64{},
		attempts:    map[string]int64{},
		presented:   map[string]int64{},
	}
	for _, c := range opts.Clients {
		s.clients[c.ID] = c
	}
	for _, c := range opts.SCIMClients {
		s.scimClients[c.ID] = c
	}
	return s, nil
}

// Start listens on addr (use "127.0.0.1:0" for a free loopback port) and
// serves in the background. It refuses non-loopback addresses.
func (s *Server) Start(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("localciam: refusing to listen on non-loopback address %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ConnState: s.countConnection}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL returns the base URL ("http://127.0.0.1:port") once started.
func (s *Server) URL() string { return s.baseURL }

// Close stops the server and closes open connections.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// SetClient adds or replaces an application.
func (s *Server) SetClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// SetSCIMClient adds or replaces a data-sync configuration.
func (s *Server) SetSCIMClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scimClients[c.ID] = c
}

// SetHook installs a function that sees every request first; when it
// returns true it has answered and the server does nothing more.
func (s *Server) SetHook(h func(http.ResponseWriter, *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc(SCIMTokenPath, s.handleSCIMToken)
	mux.HandleFunc(JWKSPath, s.handleJWKS)
	mux.HandleFunc(DiscoveryPath, s.handleDiscovery)
	mux.HandleFunc(AuthorizePath, s.handleAuthorize)
	mux.HandleFunc(RevokePath, s.handleRevoke)
	dev := s.devMux()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.DevEndpoints && strings.HasPrefix(r.URL.Path, "/dev/") {
			dev.ServeHTTP(w, r)
			return
		}
		var form url.Values
		if s.opts.RequestLog != nil {
			start, lw := time.Now(), &logged{ResponseWriter: w}
			w = lw
			defer func() { s.logRequest(r, form, lw, time.Since(start)) }()
		}
		s.total.Add(1)
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		v, _ := s.counts.LoadOrStore(r.URL.Path, new(atomic.Int64))
		v.(*atomic.Int64).Add(1) //nolint:forcetypeassert // only *atomic.Int64 is stored
		// The body is read first: only then does the server notice a
		// client that leaves during the latency or a fault's delay.
		form = s.countAttempt(r)
		if s.opts.Latency > 0 {
			select {
			case <-time.After(s.opts.Latency):
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		if ua := r.UserAgent(); len(s.userAgents) < 100 && !slices.Contains(s.userAgents, ua) {
			s.userAgents = append(s.userAgents, ua)
		}
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		f, ok := s.nextFault(r.URL.Path)
		if ok && (f.Swallow || f.AnswerAfter > 0) {
			s.actThenLoseAnswer(mux, f, w, r)
			return
		}
		if ok && f.apply(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) issuer(r *http.Request) string {
	if s.opts.Issuer != "" {
		return s.opts.Issuer
	}
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var (
	signerOnce sync.Once
	signerVal  *signer
	errSigner  error
)

// sharedSigner generates one RSA key per process: key generation is slow and
// tests start many servers.
func sharedSigner() (*signer, error) {
	signerOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			errSigner = fmt.Errorf("localciam: generating RSA key: %w", err)
			return
		}
		signerVal = &signer{key: key, kid: newID()}
	})
	return signerVal, errSigner
}
