package localciam

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// handleDevRecords answers the directory's records: requests per path,
// tokens issued per grant type, revocations, the refresh-token grants by
// state, the distinct User-Agent headers (the provider sends its version),
// and every code and refresh token presented, by fingerprint, with how often
// it came and whether it came back after rotation. No token, code or secret
// is in it.
func (s *Server) handleDevRecords(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	writeDevJSON(w, s.records())
}

// Records returns what GET /dev/records answers, as indented JSON.
func (s *Server) Records() []byte {
	b, _ := json.MarshalIndent(s.records(), "", "  ")
	return b
}

func (s *Server) records() map[string]any {
	requests := map[string]int64{}
	s.counts.Range(func(k, _ any) bool {
		if p, ok := k.(string); ok && !strings.HasPrefix(p, "/dev/") {
			requests[p] = s.Requests(p)
		}
		return true
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	grants := map[string]int64{}
	for k, v := range s.grants {
		grants[k] = v
	}
	families := map[*grantFamily]bool{}
	live := 0
	for _, g := range s.refresh {
		families[g.family] = true
		if g.valid() {
			live++
		}
	}
	revoked, reused := 0, 0
	for f := range families {
		if f.revoked {
			revoked++
		}
		if f.reused {
			reused++
		}
	}
	codes := 0
	for _, c := range s.codes {
		if !c.used && !s.now().After(c.expires) {
			codes++
		}
	}
	return map[string]any{
		"requests":       requests,
		"issued":         grants,
		"revocations":    s.revocations,
		"unused_codes":   codes,
		"refresh_tokens": map[string]int{"grants": len(families), "live": live, "grants_revoked": revoked, "reuse_detected": reused},
		"user_agents":    slices.Clone(s.userAgents),
		"presentations":  s.presentationRecords(),
	}
}

// presentationRecord is what /dev/records says of one code or refresh token
// that reached the token endpoint: a fingerprint (the first 12 hex digits of
// its SHA-256), never the value.
type presentationRecord struct {
	Kind               string `json:"kind"`
	Fingerprint        string `json:"fingerprint"`
	Presented          int64  `json:"presented"`
	Rotated            bool   `json:"rotated,omitempty"`
	ReusePresentations int64  `json:"reuse_presentations,omitempty"`
	AnswerLost         bool   `json:"answer_lost,omitempty"`
}

// presentationRecords lists every presented code and refresh token, sorted
// by fingerprint. The caller holds s.mu.
func (s *Server) presentationRecords() []presentationRecord {
	out := []presentationRecord{}
	for v, n := range s.presented {
		rec := presentationRecord{Kind: "unknown", Presented: n}
		sum := sha256.Sum256([]byte(v))
		rec.Fingerprint = hex.EncodeToString(sum[:6])
		if _, ok := s.codes[v]; ok {
			rec.Kind = "code"
		}
		if g, ok := s.refresh[v]; ok {
			rec.Kind, rec.Rotated, rec.ReusePresentations, rec.AnswerLost = "refresh_token", g.rotated, g.reuses, g.answerLost
		}
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b presentationRecord) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	return out
}
