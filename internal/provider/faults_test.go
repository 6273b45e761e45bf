package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// faultCase is one misbehaviour of the CIAM, run through the real terraform
// binary, with what must come of it.
type faultCase struct {
	name string
	// scim targets ciam_scim_token instead of ciam_client_credentials_token.
	scim   bool
	faults func(other string) []localciam.Fault
	// provider holds extra provider attributes (name, value pairs).
	provider []string
	// env overrides environment variables.
	env map[string]string
	// block is the body of the token block.
	block string
	// wantErr is nil when the run must recover and succeed.
	wantErr *regexp.Regexp
	// wantRequests is the exact number of requests for a failing case.
	wantRequests int64
	minElapsed   time.Duration
	maxElapsed   time.Duration
}

const okTokenJSON = `{"access_token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer","expires_in":299}`

func repeat(n int, f localciam.Fault) []localciam.Fault {
	out := make([]localciam.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func faultCases() []faultCase {
	gateway := `<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>` +
		`<p>upstream rejected POST /oauth2/token?client_secret=` + localciam.DemoClientSecret + `</p></body></html>`
	return []faultCase{
		{
			name:   "503, 503, 200 recovers after three requests",
			faults: func(string) []localciam.Fault { return repeat(2, localciam.Fault{Status: 503}) },
		},
		{
			name: "429 with Retry-After 1 waits and recovers",
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 429, Header: http.Header{"Retry-After": {"1"}}}}
			},
			minElapsed: time.Second,
		},
		{
			name: "429 with an HTTP-date Retry-After waits and recovers",
			faults: func(string) []localciam.Fault {
				at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
				return []localciam.Fault{{Status: 429, Header: http.Header{"Retry-After": {at}}}}
			},
			minElapsed: time.Second,
		},
		{
			name: "5xx beyond max_retries fails after max_retries + 1 requests",
			faults: func(string) []localciam.Fault {
				return repeat(5, localciam.Fault{Status: 503, Body: `{"error":"temporarily_unavailable"}`})
			},
			provider:     []string{"max_retries", "2"},
			wantErr:      errorMatching("CIAM Token Request Failed (temporarily_unavailable)", "HTTP 503", "after 3 attempts"),
			wantRequests: 3,
		},
		{
			name: "a gateway's HTML page gives the status and a sanitized excerpt",
			faults: func(string) []localciam.Fault {
				return repeat(2, localciam.Fault{Status: 502, ContentType: "text/html", Body: gateway})
			},
			provider:     []string{"max_retries", "1"},
			wantErr:      errorMatching("Unexpected CIAM Response (HTTP 502)", "after 2 attempts", "Content-Type text/html", "502 Bad Gateway 502 Bad Gateway upstream rejected", "client_secret=[REDACTED]"),
			wantRequests: 2,
		},
		{
			name:   "a connection reset recovers",
			faults: func(string) []localciam.Fault { return []localciam.Fault{{Reset: true}} },
		},
		{
			name:   "a truncated body recovers",
			faults: func(string) []localciam.Fault { return []localciam.Fault{{Truncate: true}} },
		},
		{
			name:         "no answer within request_timeout fails fast",
			faults:       func(string) []localciam.Fault { return repeat(2, localciam.Fault{Delay: 30 * time.Second}) },
			provider:     []string{"max_retries", "1", "request_timeout", "1s"},
			wantErr:      errorMatching("Cannot Reach The CIAM", "no answer within 1s (request_timeout)", "after 2 attempts"),
			wantRequests: 2,
			maxElapsed:   15 * time.Second,
		},
		{
			name:       "a slow answer within request_timeout succeeds",
			faults:     func(string) []localciam.Fault { return []localciam.Fault{{Delay: 1500 * time.Millisecond, Pass: true}} },
			minElapsed: 1500 * time.Millisecond,
		},
		{
			name:         "a 10 MiB body fails cleanly",
			faults:       func(string) []localciam.Fault { return []localciam.Fault{{BodySize: 10 << 20}} },
			wantErr:      errorMatching("Unusable CIAM Token Response", "larger than 1048576 bytes"),
			wantRequests: 1,
		},
		{
			name: "a garbage body fails cleanly",
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 200, ContentType: "application/octet-stream", Body: "\x00\x01\x02garbage\xff"}}
			},
			wantErr:      errorMatching("Unusable CIAM Token Response", "response body is not JSON", "Content-Type application/octet-stream"),
			wantRequests: 1,
		},
		{
			name:         "an empty 200 body fails cleanly",
			faults:       func(string) []localciam.Fault { return []localciam.Fault{{Status: 200}} },
			wantErr:      errorMatching("Unusable CIAM Token Response", "response body is empty"),
			wantRequests: 1,
		},
		{
			name: "a JSON token with a wrong content type is accepted",
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 200, ContentType: "text/plain", Body: okTokenJSON}}
			},
		},
		{
			name:         "a redirect to another host is never followed",
			faults:       func(other string) []localciam.Fault { return []localciam.Fault{{RedirectTo: other + "/oauth2/token"}} },
			wantErr:      errorMatching("CIAM Answered With A Redirect (HTTP 302)", "a redirect to host 127.0.0.1:", "never follows redirects"),
			wantRequests: 1,
		},
		{
			name:         "invalid_client is never retried",
			env:          map[string]string{envClientSecret: "wrong-secret-5e1b"},
			wantErr:      errorMatching("(invalid_client)"),
			wantRequests: 1,
		},
		{
			name:         "invalid_scope is never retried",
			block:        `scopes = ["admin"]`,
			wantErr:      errorMatching("(invalid_scope)"),
			wantRequests: 1,
		},
		{
			name: "other 4xx are never retried",
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 404, ContentType: "text/html", Body: "<h1>Not Found</h1>"}}
			},
			wantErr:      errorMatching("Unexpected CIAM Response (HTTP 404)", "endpoint was not found"),
			wantRequests: 1,
		},
		{
			name: "a page echoing the secret across the 4 KiB cut, JSON-escaped and percent-encoded leaks no fragment",
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 502, ContentType: "text/html", Body: echoPage(localciam.DemoClientID, localciam.DemoClientSecret)}}
			},
			provider:     []string{"max_retries", "0"},
			wantErr:      errorMatching("Unexpected CIAM Response (HTTP 502)", "[REDACTED]"),
			wantRequests: 1,
		},
		{
			name: "OAuth error members echoing the secret in every encoding leak no fragment",
			faults: func(string) []localciam.Fault {
				enc := leaktest.Encodings(localciam.DemoClientID, localciam.DemoClientSecret)
				body, _ := json.Marshal(map[string]string{
					"error":             "invalid_request",
					"error_description": "bad client_secret " + enc["json-go"] + " / " + enc["query-lower"] + " / " + enc["basic"],
					"error_uri":         "https://x.example/?s=" + enc["path"] + "&t=" + enc["json-php"],
				})
				return []localciam.Fault{{Status: 400, Body: string(body)}}
			},
			wantErr:      errorMatching("(invalid_request)", "[REDACTED]"),
			wantRequests: 1,
		},
		{
			name: "SCIM: a page echoing the secret-bearing URL leaks no fragment",
			scim: true,
			faults: func(string) []localciam.Fault {
				return []localciam.Fault{{Status: 500, ContentType: "text/html", Body: echoPage(localciam.DemoSCIMClientID, localciam.DemoSCIMClientSecret)}}
			},
			provider:     []string{"max_retries", "0"},
			wantErr:      errorMatching("Unexpected CIAM Response (HTTP 500)", "[REDACTED]"),
			wantRequests: 1,
		},
		{
			name:   "SCIM: 503 then 200 recovers",
			scim:   true,
			faults: func(string) []localciam.Fault { return []localciam.Fault{{Status: 503}} },
		},
		{
			name: "SCIM: a redirect is never followed and the secret-bearing URL never printed",
			scim: true,
			faults: func(other string) []localciam.Fault {
				return []localciam.Fault{{RedirectTo: other + "/collect", Status: 307}}
			},
			wantErr:      errorMatching("CIAM Answered With A Redirect (HTTP 307)", "SCIM token request", "a redirect to host 127.0.0.1:", "never follows redirects"),
			wantRequests: 1,
		},
	}
}

// echoPage is a gateway's error page that echoes a secret the way careless
// servers do: raw across the 4 KiB point where excerpts used to be cut,
// JSON-escaped, percent-encoded in lower case, and as the Basic header value.
func echoPage(clientID, secret string) string {
	enc := leaktest.Encodings(clientID, secret)
	head := "<html><body>" + strings.Repeat("<br>", 1018) + "echo: " // 4090 bytes: the secret's 7th byte is the 4097th
	return head + secret + "<p>" + enc["json-go"] + " " + enc["json-full"] + " " + enc["query-lower"] + " " + enc["basic"] + "</p></body></html>"
}

// TestAccFaults runs every fault through the real terraform binary and checks
// the outcome, the requests the server saw, the elapsed time, and that
// neither the diagnostics nor the trace-level provider log hold a secret or
// a token.
func TestAccFaults(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) { runFaultCase(t, tc) })
	}
}

func runFaultCase(t *testing.T, tc faultCase) {
	unsetCIAMEnv(t)
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PROVIDER", "TRACE")

	srv := startCIAM(t)
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { otherHits.Add(1) }))
	defer other.Close()

	path, kind, typ := localciam.TokenPath, localciam.GrantClientCredentials, "ciam_client_credentials_token"
	if tc.scim {
		path, kind, typ = localciam.SCIMTokenPath, localciam.IssuedSCIM, "ciam_scim_token"
	}
	var faults []localciam.Fault
	if tc.faults != nil {
		faults = tc.faults(other.URL)
		srv.InjectFaults(path, faults...)
	}
	// Credentials come from the environment, as in a pipeline: the test
	// harness itself logs the configuration it writes at trace level.
	t.Setenv(envClientID, localciam.DemoClientID)
	t.Setenv(envClientSecret, localciam.DemoClientSecret)
	t.Setenv(envSCIMClientID, localciam.DemoSCIMClientID)
	t.Setenv(envSCIMClientSecret, localciam.DemoSCIMClientSecret)
	for k, v := range tc.env {
		t.Setenv(k, v)
	}
	cfg := testAccProviderConfig(srv.URL(), tc.provider...) + fmt.Sprintf("data %q \"test\" {\n%s\n}\n", typ, tc.block)

	step := resource.TestStep{Config: cfg, ExpectError: tc.wantErr}
	start := time.Now()
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: []resource.TestStep{step}})
	elapsed := time.Since(start)

	got := srv.Requests(path)
	if tc.wantErr == nil {
		// The first read used up every fault and then succeeded; each later
		// read (apply, the post-apply plan) is one clean request.
		if n := srv.PendingFaults(path); n != 0 {
			t.Errorf("%d faults were never reached", n)
		}
		failed := int64(0) // faults that answered instead of the server
		for _, f := range faults {
			if !f.Pass {
				failed++
			}
		}
		if want := failed + srv.Grants(kind); got != want || srv.Grants(kind) == 0 {
			t.Errorf("requests = %d, want %d failed + %d successful", got, failed, srv.Grants(kind))
		}
	} else if got != tc.wantRequests {
		t.Errorf("requests = %d, want exactly %d", got, tc.wantRequests)
	}
	if otherHits.Load() != 0 {
		t.Errorf("the redirect target received %d requests", otherHits.Load())
	}
	if tc.minElapsed > 0 && elapsed < tc.minElapsed {
		t.Errorf("elapsed %v, want at least %v", elapsed, tc.minElapsed)
	}
	maxElapsed := tc.maxElapsed
	if maxElapsed == 0 {
		maxElapsed = 30 * time.Second
	}
	if elapsed > maxElapsed {
		t.Errorf("elapsed %v, want at most %v", elapsed, maxElapsed)
	}

	if keep := os.Getenv("CIAM_KEEP_FAULT_LOG"); keep != "" {
		b, _ := os.ReadFile(logPath)
		_ = os.WriteFile(keep, b, 0o600)
	}
	logText, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("reading the trace log: %v", err)
	}
	if !strings.Contains(string(logText), "CIAM request") {
		t.Fatalf("the trace log holds no provider request line; the leak check would prove nothing")
	}
	if tc.wantErr != nil && !strings.Contains(string(logText), "Response contains error diagnostic") {
		t.Errorf("the trace log holds no error diagnostic; the diagnostics leak check would prove nothing")
	}
	for i, s := range append(srv.Secrets(), "wrong-secret-5e1b") {
		if strings.Contains(string(logText), s) {
			t.Errorf("the trace log (diagnostics included) holds secret #%d", i)
		}
	}
	// Not even a fragment, in any encoding.
	for _, pair := range [][2]string{{localciam.DemoClientID, localciam.DemoClientSecret}, {localciam.DemoSCIMClientID, localciam.DemoSCIMClientSecret}} {
		if w, ok := leaktest.WindowOf(string(logText), pair[0], pair[1]); ok {
			t.Errorf("the trace log (diagnostics included) holds the %s of the secret of %s", w, pair[0])
		}
	}
	for i, tok := range append(srv.IssuedTokens(), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln") {
		if strings.Contains(string(logText), tok) {
			t.Errorf("the trace log holds token #%d", i)
		}
	}
}
