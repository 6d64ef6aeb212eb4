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
