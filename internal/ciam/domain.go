package ciam

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// malformedScheme matches a scheme followed by anything but "//" and a port
// number: "https:/host", "https:host", "http:".
var malformedScheme = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*:(?:/|$|[^0-9])`)

// ParseAuthDomain turns the user's auth_domain setting into the base URL that
// every endpoint is resolved against.
//
// Accepted forms:
//   - a bare host, optionally with a port: "sample.portal.tencentciam.com"
//     (https is implied);
//   - a base URL: "https://sample.portal.tencentciam.com[:port]", with an
//     optional trailing slash;
//   - "http://" only for loopback hosts (127.0.0.0/8, ::1, localhost), so that
//     a local server works without TLS.
//
// A path, a query, a fragment or user information is rejected: the endpoints
// are fixed by the vendor and anything else in the URL would be either
// ignored or, worse, sent somewhere it should not go. Error messages never
// repeat the query, fragment or user information, as they might hold a secret.
func ParseAuthDomain(raw string) (*url.URL, error) {
	s := raw
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("must not be empty")
	}
	if strings.TrimSpace(s) != s {
		// Refused, like a credential's: it is not what was meant, and a
		// value read from a file keeps the file's final newline.
		return nil, errors.New("starts or ends with whitespace")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, errors.New("must not contain whitespace")
	}
	if !strings.Contains(s, "://") {
		// "https:/host", "https:host" and "//host" are URLs with a typo,
		// not hosts with a path or port.
		if strings.HasPrefix(s, "/") || malformedScheme.MatchString(s) {
			return nil, errors.New("is not a well-formed URL; write https://host or https://host:port, or just the host")
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse errors quote the whole input; say what is wrong instead.
		return nil, errors.New("is not a valid host name or URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return nil, fmt.Errorf("has scheme %q; use https:// (or http:// for a loopback host)", printable(u.Scheme, 16))
	}
	if u.User != nil {
		return nil, errors.New("must not contain user information (user:password@); set credentials with client_id and client_secret")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, errors.New("must not contain a query (?...); give only the scheme, host and optional port")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, errors.New("must not contain a fragment (#...); give only the scheme, host and optional port")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("must not contain a path; the CIAM endpoints (/oauth2/token, /scim/api/token) are added by the provider")
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("has no host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("has an invalid port; use a number from 1 to 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("has an empty port")
	}
	if scheme == "http" && !IsLoopbackHost(host) {
		return nil, fmt.Errorf("uses plain http:// for host %q; http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost), use https://", printable(host, 253))
	}
	return &url.URL{Scheme: scheme, Host: strings.ToLower(u.Host)}, nil
}

// IsLoopbackHost reports whether host (without port) names the local machine:
// "localhost", an address in 127.0.0.0/8, or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
