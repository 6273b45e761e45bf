package provider

import "sync"

// markSet is a set of renewalMarks, safe for concurrent use.
type markSet struct{ m sync.Map }

func (s *markSet) add(marks []string) {
	for _, m := range marks {
		s.m.Store(m, struct{}{})
	}
}

// claim adds mark and reports whether it was not in the set yet.
func (s *markSet) claim(mark string) bool {
	_, taken := s.m.LoadOrStore(mark, struct{}{})
	return !taken
}

func (s *markSet) has(mark string) bool {
	_, ok := s.m.Load(mark)
	return ok
}

func (s *markSet) list() []string {
	var out []string
	s.m.Range(func(k, _ any) bool {
		if m, ok := k.(string); ok {
			out = append(out, m)
		}
		return true
	})
	return out
}
