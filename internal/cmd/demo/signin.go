package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// signIn follows a sign-in URL as a browser would and returns the code of
// the redirect, which must carry state back.
func signIn(signInURL, state string) (string, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(signInURL)
	if err != nil {
		return "", fmt.Errorf("signing in: %w", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	switch {
	case resp.StatusCode != http.StatusFound || err != nil:
		return "", fmt.Errorf("the sign-in answered HTTP %d, not a redirect", resp.StatusCode)
	case loc.Query().Get("error") != "":
		return "", fmt.Errorf("the sign-in redirected with error=%s", loc.Query().Get("error"))
	case loc.Query().Get("state") != state:
		return "", fmt.Errorf("the redirect does not carry the state of the sign-in URL")
	case loc.Query().Get("code") == "":
		return "", fmt.Errorf("the redirect carries no code")
	}
	return loc.Query().Get("code"), nil
}

// findLeak names the first secret, code or issued token found in text.
func findLeak(text string, d *demo) string {
	for _, s := range append(d.srv.Secrets(), d.secrets...) {
		if strings.Contains(text, s) {
			return "client secret, code verifier or code"
		}
	}
	for _, t := range d.srv.IssuedTokens() {
		if strings.Contains(text, t) {
			return "token"
		}
	}
	return ""
}
