package localciam

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds what a person driving the local CIAM by hand needs and a
// real directory does not have (the local-ciam command turns it on): the
// /dev/ endpoints, which stand in for a browser sign-in and for the tests'
// Go calls, and a request log.

// Paths of the endpoints Options.DevEndpoints adds.
const (
	// DevCodePath: POST mints an authorization code, as a browser sign-in
	// at /oauth2/authorize would, and answers it as text.
	DevCodePath = "/dev/code"
	// DevFaultsPath: POST queues a fault for the next request to a path;
	// GET lists the faults still queued; DELETE drops them.
	DevFaultsPath = "/dev/faults"
	// DevRecordsPath: GET answers what the directory has seen and issued,
	// as JSON, never a token or a secret.
	DevRecordsPath = "/dev/records"
)

// devMux serves the /dev/ endpoints.
func (s *Server) devMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(DevCodePath, s.handleDevCode)
	mux.HandleFunc(DevFaultsPath, s.handleDevFaults)
	mux.HandleFunc(DevRecordsPath, s.handleDevRecords)
	mux.HandleFunc("/dev/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the /dev/ endpoints are "+DevCodePath+", "+DevFaultsPath+" and "+DevRecordsPath, http.StatusNotFound)
	})
	return mux
}

// handleDevCode mints a code. Parameters, in the query or a form body, all
// optional: client_id (default demo-app), redirect_uri (default the client's
// first registered one), scope (default openid), user (default demo-user),
// and for PKCE either code_challenge (S256) or code_verifier, whose S256
// challenge the server works out.
func (s *Server) handleDevCode(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "unreadable parameters: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := AuthorizeRequest{
		ClientID: r.Form.Get("client_id"), RedirectURI: r.Form.Get("redirect_uri"),
		Scope: r.Form.Get("scope"), CodeChallenge: r.Form.Get("code_challenge"), User: r.Form.Get("user"),
	}
	if req.ClientID == "" {
		req.ClientID = DemoClientID
	}
	if _, ok := r.Form["scope"]; !ok {
		req.Scope = "openid"
	}
	if v := r.Form.Get("code_verifier"); v != "" {
		if req.CodeChallenge != "" {
			http.Error(w, "give code_challenge or code_verifier, not both", http.StatusBadRequest)
			return
		}
		req.CodeChallenge = S256Challenge(v)
	}
	s.mu.Lock()
	c, ok := s.clients[req.ClientID]
	s.mu.Unlock()
	switch {
	case !ok:
		http.Error(w, fmt.Sprintf("no application %q here", req.ClientID), http.StatusBadRequest)
		return
	case req.RedirectURI == "" && len(c.RedirectURIs) > 0:
		req.RedirectURI = c.RedirectURIs[0]
	}
	switch {
	case c.Disabled:
		http.Error(w, fmt.Sprintf("application %q is disabled", c.ID), http.StatusBadRequest)
	case !c.allows(GrantAuthorizationCode):
		http.Error(w, fmt.Sprintf("application %q may not use the authorization-code grant", c.ID), http.StatusBadRequest)
	case !slices.Contains(c.RedirectURIs, req.RedirectURI):
		http.Error(w, fmt.Sprintf("redirect_uri %q is not registered for %q (registered: %s)", req.RedirectURI, c.ID, strings.Join(c.RedirectURIs, ", ")), http.StatusBadRequest)
	default:
		code, err := s.IssueCode(req)
		if err != nil {
			http.Error(w, fmt.Sprintf("scope %q is not allowed for %q (allowed: %s)", req.Scope, c.ID, strings.Join(c.Scopes, " ")), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, code+"\n")
	}
}

// servedPaths are the directory's endpoints a fault can be queued for.
var servedPaths = []string{TokenPath, SCIMTokenPath, JWKSPath, DiscoveryPath, AuthorizePath, RevokePath}

// handleDevFaults queues, lists or drops faults. POST parameters: path (one
// of the directory's endpoints, required), count (default 1), and what the
// fault does: status (with body and content_type), delay, retry_after,
// reset=1, truncate=1, swallow=1 (the directory acts, the client gets
// status), answer_after (the directory acts, the answer comes this much
// later). Unknown parameters are refused.
func (s *Server) handleDevFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		pending := map[string]int{}
		for path, q := range s.faults {
			if len(q) > 0 {
				pending[path] = len(q)
			}
		}
		s.mu.Unlock()
		writeDevJSON(w, map[string]any{"pending": pending})
		return
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "unreadable parameters: "+err.Error(), http.StatusBadRequest)
		return
	}
	f, count, path, err := parseDevFault(r.Form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.InjectFaults(path, slices.Repeat([]Fault{f}, count)...)
	writeDevJSON(w, map[string]any{"queued": count, "path": path, "pending": s.PendingFaults(path)})
}

// devFaultParams are the parameters POST /dev/faults takes.
var devFaultParams = []string{"path", "count", "status", "body", "content_type", "retry_after", "delay", "answer_after", "reset", "truncate", "swallow"}

func parseDevFault(form map[string][]string) (f Fault, count int, path string, err error) {
	for k := range form {
		if !slices.Contains(devFaultParams, k) {
			return f, 0, "", fmt.Errorf("unknown parameter %q: the parameters are %s", k, strings.Join(devFaultParams, ", "))
		}
	}
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	path = get("path")
	if !slices.Contains(servedPaths, path) {
		return f, 0, "", fmt.Errorf("path must be one of %s, not %q", strings.Join(servedPaths, ", "), path)
	}
	count = 1
	if v := get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil || count < 1 || count > 1000 {
			return f, 0, "", fmt.Errorf("count must be a whole number from 1 to 1000, not %q", v)
		}
	}
	if v := get("status"); v != "" {
		if f.Status, err = strconv.Atoi(v); err != nil || f.Status < 100 || f.Status > 599 {
			return f, 0, "", fmt.Errorf("status must be an HTTP status code, not %q", v)
		}
	}
	f.Body, f.ContentType = get("body"), get("content_type")
	for name, d := range map[string]*time.Duration{"delay": &f.Delay, "answer_after": &f.AnswerAfter} {
		if v := get(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 || *d > 10*time.Minute {
				return f, 0, "", fmt.Errorf("%s must be a duration from 1ms to 10m such as 30s, not %q", name, v)
			}
		}
	}
	if v := get("retry_after"); v != "" {
		f.Header = http.Header{"Retry-After": {v}}
	}
	for name, b := range map[string]*bool{"reset": &f.Reset, "truncate": &f.Truncate, "swallow": &f.Swallow} {
		if v := get(name); v != "" {
			if *b, err = strconv.ParseBool(v); err != nil {
				return f, 0, "", fmt.Errorf("%s must be 1 or 0 (or true or false), not %q", name, v)
			}
		}
	}
	kinds := 0
	for _, on := range []bool{f.Reset, f.Truncate, f.Swallow, f.AnswerAfter > 0} {
		if on {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return f, 0, "", fmt.Errorf("reset, truncate, swallow and answer_after exclude each other")
	case f.AnswerAfter > 0 && (f.Status != 0 || f.Body != "" || f.ContentType != "" || f.Header != nil):
		return f, 0, "", fmt.Errorf("answer_after sends the directory's own answer late: status, body, content_type and retry_after do not go with it")
	case (f.Body != "" || f.ContentType != "" || f.Header != nil) && f.Status == 0 && !f.Truncate:
		return f, 0, "", fmt.Errorf("body, content_type and retry_after need a status")
	case kinds == 0 && f.Status == 0 && f.Delay == 0:
		return f, 0, "", fmt.Errorf("say what the fault does: status, delay, reset=1, truncate=1, swallow=1 or answer_after")
	case f.Swallow && f.Status == 0:
		f.Status = http.StatusBadGateway
	case kinds == 0 && f.Status == 0:
		f.Pass = true // a plain delay, then the normal answer
	}
	return f, count, path, nil
}

func writeDevJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// logged is a ResponseWriter that remembers the status for the request log
// and still lets faults take the connection over.
type logged struct {
	http.ResponseWriter
	status int
}

func (l *logged) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logged) Write(b []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	return l.ResponseWriter.Write(b)
}

func (l *logged) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	l.status = -1
	hj, ok := l.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

// logRequest writes one line per request to Options.RequestLog: time,
// method, path, grant type and client, status. Never the query (the SCIM
// token request carries its secret there), a body value or a header.
func (s *Server) logRequest(r *http.Request, form url.Values, l *logged, took time.Duration) {
	if form == nil {
		form = r.PostForm // a revocation, when the handler read its form
	}
	grant, client := form.Get("grant_type"), form.Get("client_id")
	if client == "" && r.URL.Path == SCIMTokenPath {
		client = r.URL.Query().Get("client_id")
	}
	if id, _, basic, ok := clientAuth(r); basic && ok {
		client = id
	}
	var b strings.Builder
	// Only values the directory knows are logged as they are: a client may
	// send anything, a token included, in a path or a grant_type.
	path := r.URL.Path
	if !slices.Contains(servedPaths, path) {
		path = fmt.Sprintf("(an unknown path of %d characters)", len(path))
	}
	fmt.Fprintf(&b, "%s %s %s", time.Now().Format("15:04:05"), r.Method, path)
	switch grant {
	case "":
	case GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken:
		fmt.Fprintf(&b, " grant_type=%s", grant)
	default:
		fmt.Fprintf(&b, " grant_type=(unsupported, %d characters)", len(grant))
	}
	s.mu.Lock()
	_, app := s.clients[client]
	_, sync := s.scimClients[client]
	s.mu.Unlock()
	switch {
	case client == "":
	case app || sync:
		fmt.Fprintf(&b, " client_id=%s", strconv.Quote(client))
	default:
		fmt.Fprintf(&b, " client_id=(unknown, %d characters)", len(client))
	}
	switch l.status {
	case -1:
		b.WriteString(" -> connection taken over (fault)")
	case 0:
		b.WriteString(" -> no answer (the client left)")
	default:
		fmt.Fprintf(&b, " -> %d", l.status)
	}
	fmt.Fprintf(&b, " in %s\n", took.Round(time.Millisecond))
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.opts.RequestLog, b.String())
}
