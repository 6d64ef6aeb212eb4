package auth

import "net/http"

// Test hooks for the external tests of this package.

// MuxOf is the mux the service was registered on.
func MuxOf(s *Service) *http.ServeMux { return s.mux }

// HasRule reports whether a mux pattern has a permission rule.
func HasRule(s *Service, pattern string) bool {
	_, ok := s.rules[pattern]
	return ok
}

// RulePatterns lists every pattern of the rule table.
func RulePatterns(s *Service) []string {
	var out []string
	for k := range s.rules {
		out = append(out, k)
	}
	return out
}

// RuleAccess names who may call a pattern before any resource check:
// "public", "ui", "signed-in", "admin", "self" or "resource"; "" without a
// rule.
func RuleAccess(s *Service, pattern string) string {
	r, ok := s.rules[pattern]
	if !ok {
		return ""
	}
	return map[access]string{accPublic: "public", accUI: "ui", accAuthenticated: "signed-in", accAdmin: "admin", accSelf: "self", accResource: "resource"}[r.access]
}

// SameRule reports whether two patterns have the same rule.
func SameRule(s *Service, a, b string) bool {
	ra, okA := s.rules[a]
	rb, okB := s.rules[b]
	return okA && okB && ra == rb
}
