package localciam

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
)

// This file holds the faults where the directory acts and its answer is
// lost (Fault.Swallow, Fault.AnswerAfter), and the record of which refresh
// tokens only such a lost answer carried: no client could have known them.

// answerNote collects, while a fault holds an answer back, the new refresh
// token the answer carries (from a code exchange, or a rotation), or the
// rotated-away refresh token whose reuse it rejects.
type answerNote struct {
	refresh, reused string
	exchange        bool
}

type answerNoteKey struct{}

// noteAnswer records, for a request whose answer a fault may lose, the new
// refresh token the answer carries, and whether it is a code exchange's.
func noteAnswer(r *http.Request, refresh string, exchange bool) {
	if n, ok := r.Context().Value(answerNoteKey{}).(*answerNote); ok {
		n.refresh, n.exchange = refresh, exchange
	}
}

// noteReuse records, for a request whose answer a fault may lose, that the
// answer rejects the reuse of a rotated-away refresh token.
func noteReuse(r *http.Request, refresh string) {
	if n, ok := r.Context().Value(answerNoteKey{}).(*answerNote); ok {
		n.reused = refresh
	}
}

// actThenLoseAnswer lets the directory act on r, then either throws the
// answer away and answers f.Status (Swallow) or sends it f.AnswerAfter
// later; a refresh token the client never got is marked answerLost.
func (s *Server) actThenLoseAnswer(mux http.Handler, f Fault, w http.ResponseWriter, r *http.Request) {
	note := &answerNote{}
	r = r.WithContext(context.WithValue(r.Context(), answerNoteKey{}, note))
	if f.Swallow {
		if f.wait(r) {
			mux.ServeHTTP(discard{header: http.Header{}}, r)
			s.markAnswerLost(note)
			f.answer(w)
		}
		return
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	if !(Fault{Delay: f.AnswerAfter}).wait(r) {
		s.markAnswerLost(note) // the client left first
		return
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *Server) markAnswerLost(note *answerNote) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.refresh[note.refresh]; ok {
		g.answerLost = true
		g.family.exchangeLost = g.family.exchangeLost || note.exchange
	}
	if g, ok := s.refresh[note.reused]; ok {
		g.reuseAnswersLost++
	}
}

// RefreshRecord is the directory's record of one refresh token.
type RefreshRecord struct {
	// Known is false for a value the directory never issued.
	Known bool
	// Presented counts the token requests that carried it.
	Presented int64
	// Works says it would be accepted now.
	Works bool
	// Rotated says a renewal exchanged it for a new one.
	Rotated bool
	// ReusePresentations counts the requests that carried it after it was
	// rotated away (each revoked the grant: reuse detection), and
	// ReuseAnswersLost those whose answer (the rejection) a fault lost.
	ReusePresentations, ReuseAnswersLost int64
	// SuccessorLost says the answer that carried the token it was rotated
	// into never reached the client: only then may a client present it
	// again without a fault of its own.
	SuccessorLost bool
	// AnswerLost says the answer that carried this token never reached the
	// client.
	AnswerLost bool
	// GrantAlive says some refresh token of its grant still works.
	GrantAlive bool
}

// Refresh returns the directory's record of a refresh token.
func (s *Server) Refresh(token string) RefreshRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	if !ok {
		return RefreshRecord{Presented: s.presented[token]}
	}
	rec := RefreshRecord{
		Known: true, Presented: s.presented[token], Works: g.valid(), Rotated: g.rotated,
		ReusePresentations: g.reuses, ReuseAnswersLost: g.reuseAnswersLost, AnswerLost: g.answerLost, GrantAlive: !g.family.revoked,
	}
	for _, next := range s.refresh {
		if next.family == g.family && next.rotatedFrom == token {
			rec.SuccessorLost = next.answerLost
		}
	}
	if rec.GrantAlive {
		rec.GrantAlive = false
		for _, other := range s.refresh {
			if other.family == g.family && other.valid() {
				rec.GrantAlive = true
				break
			}
		}
	}
	return rec
}

// GrantRecord is the directory's record of the grant issued for one
// authorization code.
type GrantRecord struct {
	// Exchanged says the code was exchanged for a grant.
	Exchanged bool
	// Alive says a refresh token of the grant works; Live is that token.
	Alive bool
	Live  string
	// FirstAnswerLost says the exchange's answer never reached the client:
	// no client could know the grant.
	FirstAnswerLost bool
}

// CodeGrant returns the record of the grant issued for code.
func (s *Server) CodeGrant(code string) GrantRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec GrantRecord
	for v, g := range s.refresh {
		if g.family.code != code || code == "" {
			continue
		}
		rec.Exchanged, rec.FirstAnswerLost = true, g.family.exchangeLost
		if g.valid() {
			rec.Alive, rec.Live = true, v
		}
	}
	return rec
}

// LiveGrants returns how many grants have a refresh token that works.
func (s *Server) LiveGrants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := map[*grantFamily]bool{}
	for _, g := range s.refresh {
		if g.valid() {
			live[g.family] = true
		}
	}
	return len(live)
}

// AnswersLost returns how many refresh tokens only an answer that a fault
// lost carried (from a code exchange or a rotation).
func (s *Server) AnswersLost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.refresh {
		if g.answerLost {
			n++
		}
	}
	return n
}

// Rotations returns how many refresh tokens a renewal rotated away.
func (s *Server) Rotations() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotations
}
