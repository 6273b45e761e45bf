// Command local-ciam runs the local CIAM standalone on a loopback port, for
// trying the provider by hand:
//
//	go run ./internal/cmd/local-ciam -addr 127.0.0.1:8943 -token-lifetime 70s -rotate-refresh-tokens
//
// It prints the settings to export and the commands that drive it (a fresh
// authorization code, a fault, its records), then logs every request until
// interrupted. `-h` lists the flags; README.md ("Try it by hand") walks
// through a session.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	err := run(os.Args[1:], os.Stdout, os.Stderr, stop)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "local-ciam:", err)
		os.Exit(2)
	}
}

const usage = `Usage: go run ./internal/cmd/local-ciam [flags]

Runs a local stand-in for a Tencent CIAM user directory on a loopback port,
with the demo application "demo-app" (client credentials, authorization code,
refresh token; redirect_uri %s) and the data-sync
configuration "demo-sync". Besides the directory's endpoints it serves:

  POST /dev/code      a fresh authorization code for demo-app, as text (what a
                      browser sign-in at /oauth2/authorize would redirect with).
                      Optional parameters: scope (default openid), client_id,
                      redirect_uri, user, and for PKCE code_verifier or
                      code_challenge.
  POST /dev/faults    queue a fault for the next request to a path:
                      path=/oauth2/token (or another endpoint), count=N, and
                      status=503 [body=...] [content_type=text/html]
                      [retry_after=5], delay=10s, reset=1, truncate=1,
                      swallow=1 (the directory acts, the client gets status,
                      default 502) or answer_after=30s.
                      GET lists the queued faults, DELETE drops them.
  GET  /dev/records   requests per endpoint, tokens issued per grant type,
                      revocations, refresh-token grants (live, revoked, reuse
                      detected), User-Agents, and every code and refresh
                      token presented, by fingerprint (how often, rotated,
                      presented again after rotation, answer lost), as
                      JSON; never a token or a secret.

Every request is logged on standard output (no token, code, secret or query).

Flags:
`

// config is what the flags set.
type config struct {
	addr                    string
	latency                 time.Duration
	tokenLifetime, scimLife time.Duration
	rotate, public, quiet   bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("local-ciam", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, usage, localciam.DemoRedirectURI)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "loopback `address` to listen on (port 0 picks a free port)")
	fs.DurationVar(&c.latency, "latency", 0, "latency added to every response, e.g. 50ms")
	fs.DurationVar(&c.tokenLifetime, "token-lifetime", 299*time.Second, "`lifetime` of access tokens (expires_in, whole seconds), e.g. 70s to watch a renewal")
	fs.DurationVar(&c.scimLife, "scim-token-lifetime", 2*time.Hour, "`lifetime` of data-sync (SCIM) tokens")
	fs.BoolVar(&c.rotate, "rotate-refresh-tokens", false, "issue a new refresh token on every renewal and spend the old one; an old one that comes back revokes the whole grant (reuse detection)")
	fs.BoolVar(&c.public, "public-clients", false, "let a grant exchanged with code_verifier and no client_secret (a public PKCE client) renew and revoke with client_id alone")
	fs.BoolVar(&c.quiet, "quiet", false, "do not log requests")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with -; see -h)", fs.Arg(0))
	}
	for name, d := range map[string]time.Duration{"-token-lifetime": c.tokenLifetime, "-scim-token-lifetime": c.scimLife} {
		if d < time.Second || d%time.Second != 0 {
			return c, fmt.Errorf("%s must be whole seconds, at least 1s, not %s", name, d)
		}
	}
	if c.latency < 0 {
		return c, fmt.Errorf("-latency must not be negative, not %s", c.latency)
	}
	return c, nil
}

// run serves until stop receives.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	opts := localciam.Options{
		Latency:              c.latency,
		AccessTokenExpiresIn: int64(c.tokenLifetime / time.Second),
		SCIMExpiresIn:        int64(c.scimLife / time.Second),
		RotateRefreshTokens:  c.rotate,
		PublicClientRefresh:  c.public,
		DevEndpoints:         true,
	}
	if !c.quiet {
		opts.RequestLog = stdout
	}
	srv, err := localciam.New(opts)
	if err != nil {
		return err
	}
	if err := srv.Start(c.addr); err != nil {
		return err
	}
	u := srv.URL()
	fmt.Fprintf(stdout, "local CIAM listening on %s\n\n", u)
	fmt.Fprintf(stdout, "  export CIAM_AUTH_DOMAIN=%s\n", u)
	fmt.Fprintf(stdout, "  export CIAM_CLIENT_ID=%s CIAM_CLIENT_SECRET='%s'\n", localciam.DemoClientID, localciam.DemoClientSecret)
	fmt.Fprintf(stdout, "  export CIAM_SCIM_CLIENT_ID=%s CIAM_SCIM_CLIENT_SECRET='%s'\n\n", localciam.DemoSCIMClientID, localciam.DemoSCIMClientSecret)
	fmt.Fprintf(stdout, "Access tokens live %s; refresh tokens %s; public clients %s.\n\n", c.tokenLifetime,
		map[bool]string{true: "rotate (a reused one revokes its grant)", false: "do not rotate"}[c.rotate],
		map[bool]string{true: "renew and revoke with client_id alone", false: "need a secret to renew and revoke"}[c.public])
	fmt.Fprintf(stdout, "  curl -fsS -X POST %s%s     # an authorization code for demo-app (redirect_uri %s)\n", u, localciam.DevCodePath, localciam.DemoRedirectURI)
	fmt.Fprintf(stdout, "  curl -fsS -X POST '%s%s?path=%s&status=503'   # the next token request fails\n", u, localciam.DevFaultsPath, localciam.TokenPath)
	fmt.Fprintf(stdout, "  curl -fsS %s%s   # what the directory has seen and issued\n\n", u, localciam.DevRecordsPath)
	fmt.Fprintln(stdout, "These demo credentials exist only on this loopback server. Ctrl-C stops it.")

	<-stop
	_ = srv.Close()
	fmt.Fprintf(stdout, "served %d requests; stopped at %s\n", srv.Requests(""), time.Now().UTC().Format(time.RFC3339))
	return nil
}
