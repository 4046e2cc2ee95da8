package sso

// SetACSHook makes the assertion consumer run f inside its panic guard before it reads the
// response: the tests make it panic, as crewjam/saml can on a hostile response (GO-2026-6909).
func SetACSHook(s *Service, f func()) { s.acsHook = f }
