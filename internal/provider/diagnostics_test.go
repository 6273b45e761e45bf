package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
)

// invalid_request advises on the likely cause of the request at hand, not
// always on the client_id.
func TestInvalidRequestAdvisesOnTheLikelyCause(t *testing.T) {
	e := &ciam.Error{Op: "POST /oauth2/token", StatusCode: 400, Code: ciam.ErrCodeInvalidRequest}
	many := make([]string, 20000)
	for i := range many {
		many[i] = "scope-number-" + strings.Repeat("x", 5)
	}
	for name, tc := range map[string]struct {
		req       tokenRequest
		want, not string
	}{
		"a 20,000-scope request": {tokenRequest{what: "client-credentials token", grant: "client_credentials", clientID: "app", scopes: many},
			"20000 scopes", "empty or overlong client_id"},
		"an overlong client_id": {tokenRequest{what: "client-credentials token", grant: "client_credentials", clientID: strings.Repeat("a", 300)},
			"client_id of 300 characters", "scope parameter"},
		"a plain request": {tokenRequest{what: "client-credentials token", grant: "client_credentials", clientID: "app"},
			"client_id or scopes", "overlong client_id"},
		"a revocation": {tokenRequest{what: "revocation", grant: "revocation", clientID: "app"},
			"the token to revoke", "empty or overlong client_id"},
		"a data-sync token": {tokenRequest{what: "SCIM token", grant: "data-sync", clientID: "sync"},
			"client_id or client_secret in the query", "empty or overlong client_id"},
	} {
		_, detail := explainCIAMError(e, tc.req)
		if !strings.Contains(detail, tc.want) || strings.Contains(detail, tc.not) {
			t.Errorf("%s: %q; want %q and not %q", name, detail, tc.want, tc.not)
		}
	}
}

// A key set that holds private key material is the directory's
// misconfiguration: the message says to report it to the directory's
// operator, as the troubleshooting guide does, not to check for a proxy.
func TestPrivateKeyMaterialIsReportedToTheOperator(t *testing.T) {
	c := newHandlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ciam.JWKSPath {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"keys":[{"kty":"oct","kid":"h1","k":"c2VjcmV0LWtleS1tYXRlcmlhbA"}]}`)
	})
	_, err := c.JWKS(context.Background())
	if err == nil {
		t.Fatal("a key set with private material was accepted")
	}
	d := documentErrorDiagnostic(err, "key set (JWKS)", c.Host(), domainSpec{})
	if !strings.Contains(d.Detail(), "private or symmetric key material") || !strings.Contains(d.Detail(), "report it to the directory's operator") ||
		strings.Contains(d.Detail(), "proxy") {
		t.Errorf("%s: %s", d.Summary(), d.Detail())
	}
}

// A 5xx that the retries did not outlast says how many retries there were
// at most, without claiming any: max_retries may be 0.
func TestStatusAdviceDoesNotClaimRetries(t *testing.T) {
	got := statusAdvice(503, false)
	if !strings.Contains(got, fmt.Sprintf("every retry that max_retries allows (default %d; none with 0)", ciam.DefaultMaxRetries)) {
		t.Errorf("statusAdvice(503): %s", got)
	}
}

// A failed code exchange says once that it was not retried, and does not
// say "try again later" before asking for a new code.
func TestCodeExchangeFailureSaysNotRetriedOnce(t *testing.T) {
	c := newStatusClient(t, http.StatusBadGateway)
	_, err := c.AuthorizationCodeToken(context.Background(), ciam.Credentials{ClientID: "app", ClientSecret: "s"}, ciam.AuthorizationCodeRequest{Code: "c", RedirectURI: "https://e/cb"})
	d := codeExchangeDiagnostic(err, tokenRequest{what: "authorization-code exchange", grant: "authorization_code", host: c.Host()}, "https://e/cb", false)
	if n := strings.Count(d.Detail(), "not retried"); n != 1 || strings.Contains(strings.ToLower(d.Detail()), "try again later") {
		t.Errorf("%q said \"not retried\" %d times:\n%s", d.Summary(), n, d.Detail())
	}
}

// newStatusClient is a client of a directory that answers every request
// with status and an empty body.
func newStatusClient(t *testing.T, status int) *ciam.Client {
	t.Helper()
	return newHandlerClient(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
}

// newHandlerClient is a client of a directory that h serves.
func newHandlerClient(t *testing.T, h http.HandlerFunc) *ciam.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := ciam.ParseAuthDomain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ciam.New(ciam.Config{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A renewal or revocation answered in plain HTTP names the setting the URL
// came from, as an exchange does: here CIAM_AUTH_DOMAIN, a bare host.
func TestPlainHTTPAnswerToARenewalNamesTheSetting(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer plain.Close()
	host := strings.TrimPrefix(plain.URL, "http://")
	base, err := ciam.ParseAuthDomain(host) // a bare host implies https
	if err != nil {
		t.Fatal(err)
	}
	c, err := ciam.New(ciam.Config{BaseURL: base, Retry: ciam.RetryPolicy{MaxRetries: 0}})
	if err != nil {
		t.Fatal(err)
	}
	creds := ciam.Credentials{ClientID: "app", ClientSecret: "s"}
	domain := domainSpec{value: host, fromEnv: true}
	_, err = c.RefreshToken(context.Background(), creds, "rt")
	renewal := renewalFailure(&authorizationCodeTokenModel{}, grantClient{creds: creds}, err, c.Host(), domain, time.Now(), time.Minute, time.Minute)
	revErr := c.Revoke(context.Background(), creds, "rt")
	revocation := revocationFailed(&authorizationCodeTokenModel{}, grantClient{creds: creds}, revErr, c.Host(), domain, "The resource was removed from state").Detail()
	for name, text := range map[string]string{"renewal": renewal, "revocation": revocation} {
		if !strings.Contains(text, "CIAM_AUTH_DOMAIN environment variable") || !strings.Contains(text, "CIAM_AUTH_DOMAIN=http://"+host) {
			t.Errorf("%s: %s", name, text)
		}
	}
}
