package localciam

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault is one misbehaviour, applied to one request. Faults queued with
// InjectFaults for a path are used up in order, one per request; when the
// queue is empty the server answers normally.
type Fault struct {
	// Delay is waited before anything else (the request's context still
	// ends it early).
	Delay time.Duration
	// Status, when non-zero, answers with this status instead of the normal
	// answer; Body and ContentType give the body (defaults: empty body,
	// application/json;charset=UTF-8).
	Status      int
	Body        string
	ContentType string
	// Header is added to the answer (e.g. Retry-After).
	Header http.Header
	// BodySize, when non-zero, answers Status (default 200) with a body of
	// BodySize bytes of JSON-looking garbage, streamed.
	BodySize int
	// Reset closes the connection without an answer (TCP reset).
	Reset bool
	// Truncate announces a Content-Length longer than the body it sends,
	// then closes the connection.
	Truncate bool
	// RedirectTo answers Status (default 302) with Location: RedirectTo.
	RedirectTo string
	// Pass lets the request through to the normal handler after Delay.
	Pass bool
	// Swallow lets the normal handler act on the request (issue, rotate,
	// revoke), throws its answer away and answers Status with Body instead:
	// a gateway that fails after the directory did its work.
	Swallow bool
	// AnswerAfter, when non-zero, lets the normal handler act on the request
	// at once and sends its answer this much later: a slow link after the
	// directory did its work. What it did stays done when the client leaves
	// first.
	AnswerAfter time.Duration
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// InjectFaults queues faults for requests to path.
func (s *Server) InjectFaults(path string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], faults...)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// PendingFaults returns how many queued faults for path are still unused.
func (s *Server) PendingFaults(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[path])
}

func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[path]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[path] = q[1:]
	return q[0], true
}

// wait waits Delay; it returns false when the request ended first.
func (f Fault) wait(r *http.Request) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return false
		}
	}
	return true
}

// answer writes Status (and Header, Body, ContentType).
func (f Fault) answer(w http.ResponseWriter) {
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", orDefaultString(f.ContentType, "application/json;charset=UTF-8"))
	w.WriteHeader(orDefault(f.Status, http.StatusServiceUnavailable))
	_, _ = w.Write([]byte(f.Body))
}

// apply carries out the fault. It returns false when the normal handler
// should answer (Pass, or a plain delay).
func (f Fault) apply(w http.ResponseWriter, r *http.Request) bool {
	if !f.wait(r) {
		return true
	}
	switch {
	case f.Pass:
		return false
	case f.Reset:
		resetConnection(w)
		return true
	case f.Truncate:
		truncate(w, f)
		return true
	case f.RedirectTo != "":
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Location", f.RedirectTo)
		w.WriteHeader(orDefault(f.Status, http.StatusFound))
		return true
	case f.BodySize > 0:
		w.Header().Set("Content-Type", orDefaultString(f.ContentType, "application/json;charset=UTF-8"))
		w.Header().Set("Content-Length", strconv.Itoa(f.BodySize))
		w.WriteHeader(orDefault(f.Status, http.StatusOK))
		writeGarbage(w, f.BodySize)
		return true
	case f.Status != 0:
		f.answer(w)
		return true
	}
	return false
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func orDefaultString(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// hijack takes the connection over from net/http; failing that, the
// handler aborts, which also breaks the connection.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return conn, buf
}

func resetConnection(w http.ResponseWriter) {
	conn, _ := hijack(w)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST instead of FIN
	}
	_ = conn.Close()
}

func truncate(w http.ResponseWriter, f Fault) {
	body := orDefaultString(f.Body, `{"access_token" : "eyJ`)
	conn, buf := hijack(w)
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 " + strconv.Itoa(orDefault(f.Status, 200)) + " OK\r\n" +
		"Content-Type: application/json;charset=UTF-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)+1000) + "\r\n\r\n" + body)
	_ = buf.Flush()
}

func writeGarbage(w http.ResponseWriter, n int) {
	chunk := bytes.Repeat([]byte(`{"x":"0123456789abcdef"},`), 2048)
	for n > 0 {
		c := chunk
		if len(c) > n {
			c = c[:n]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= len(c)
	}
}
