package ciam

import (
	"strings"
	"testing"
)

func TestParseAuthDomain(t *testing.T) {
	ok := []struct{ in, want string }{
		{"sample.portal.tencentciam.com", "https://sample.portal.tencentciam.com"},
		{"sample.portal.tencentciam.com:8443", "https://sample.portal.tencentciam.com:8443"},
		{"https://sample.portal.tencentciam.com", "https://sample.portal.tencentciam.com"},
		{"https://sample.portal.tencentciam.com/", "https://sample.portal.tencentciam.com"},
		{"HTTPS://login.example.com:443", "https://login.example.com:443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.8.9.10", "http://127.8.9.10"},
		{"http://localhost:1", "http://localhost:1"},
		{"http://LOCALHOST", "http://localhost"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"},
	}
	for _, c := range ok {
		u, err := ParseAuthDomain(c.in)
		if err != nil {
			t.Errorf("ParseAuthDomain(%q): unexpected error %v", c.in, err)
			continue
		}
		if u.String() != c.want {
			t.Errorf("ParseAuthDomain(%q) = %q, want %q", c.in, u.String(), c.want)
		}
	}

	bad := []struct{ in, wantErr string }{
		{"", "must not be empty"},
		{"   ", "must not be empty"},
		{"  Sample.Portal.TencentCIAM.com ", "starts or ends with whitespace"},
		{"https://sample.portal.tencentciam.com\n", "starts or ends with whitespace"},
		{"https:/sample.portal.tencentciam.com", "is not a well-formed URL"},
		{"https:sample.portal.tencentciam.com", "is not a well-formed URL"},
		{"//sample.portal.tencentciam.com", "is not a well-formed URL"},
		{"/sample.portal.tencentciam.com", "is not a well-formed URL"},
		{"http://sample.portal.tencentciam.com", "http is allowed only for loopback"},
		{"http://10.0.0.1:8080", "http is allowed only for loopback"},
		{"http://localhost.example.com", "http is allowed only for loopback"},
		{"http://128.0.0.1", "http is allowed only for loopback"},
		{"https://sample.portal.tencentciam.com/oauth2/token", "must not contain a path"},
		{"sample.portal.tencentciam.com/x", "must not contain a path"},
		{"https://sample.portal.tencentciam.com?client_secret=s3cr3t-value", "must not contain a query"},
		{"https://sample.portal.tencentciam.com/?", "must not contain a query"},
		{"https://sample.portal.tencentciam.com#frag", "must not contain a fragment"},
		{"https://sample.portal.tencentciam.com/#", "must not contain a fragment"},
		{"ftp://sample.portal.tencentciam.com", "has scheme"},
		{"https://user:pass-s3cr3t@sample.portal.tencentciam.com", "must not contain user information"},
		{"https://", "has no host"},
		{"https://host:99999", "invalid port"},
		{"https://host:abc", "not a valid host name or URL"},
		{"https://host:", "empty port"},
		{"sample portal.com", "whitespace"},
	}
	for _, c := range bad {
		_, err := ParseAuthDomain(c.in)
		if err == nil {
			t.Errorf("ParseAuthDomain(%q): expected an error", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseAuthDomain(%q) error %q does not contain %q", c.in, err, c.wantErr)
		}
		for _, secret := range []string{"s3cr3t"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("ParseAuthDomain(%q) error %q repeats a secret-bearing part of the input", c.in, err)
			}
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.255.255.254": true, "::1": true, "[::1]": true,
		"0.0.0.0": false, "10.1.2.3": false, "example.com": false, "localhost.": false, "::": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// Directory names a directory once, whichever way its auth_domain is
// written; another port is another directory.
func TestDirectory(t *testing.T) {
	dir := func(raw string) string {
		t.Helper()
		u, err := ParseAuthDomain(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{BaseURL: u})
		if err != nil {
			t.Fatal(err)
		}
		return c.Directory()
	}
	want := dir("tenant.example.com")
	for _, same := range []string{"https://tenant.example.com", "https://Tenant.Example.COM/", "tenant.example.com:443", "https://tenant.example.com.:443/", "https://tenant.example.com:0443"} {
		if got := dir(same); got != want {
			t.Errorf("Directory(%q) = %q, want %q", same, got, want)
		}
	}
	if got := dir("https://tenant.example.com:8443"); got == want {
		t.Errorf("another port is the same directory: %q", got)
	}
	if got, loop := dir("http://127.0.0.1:80"), dir("http://127.0.0.1"); got != loop {
		t.Errorf("http default port: %q vs %q", got, loop)
	}
}
