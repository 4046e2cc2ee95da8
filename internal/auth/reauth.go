package auth

import (
	"context"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// VerifyPassword re-authenticates the caller before a sensitive change when their sign-in is
// no longer fresh (the web pages' SECURITY_FRESHNESS prompt): the session's auth time becomes
// now (see reauthenticated). Wrong passwords count against the throttle of password changes, as
// for every other re-authentication (see checkPassword).
func (s *Service) VerifyPassword(ctx context.Context, p *gatehouse.Principal, password string, c Client) error {
	if err := s.checkPassword(ctx, p.User, password, c); err != nil {
		return err
	}
	return s.reauthenticated(ctx, p)
}

// Reauthentication is the answer to Reauthenticate: a new access token of the same session,
// carrying the renewed auth_time.
type Reauthentication struct {
	AccessToken string
	ExpiresIn   int
	Scope       string
	AuthTime    time.Time
}

// Reauthenticate checks the caller's password again for a session whose sign-in is no longer
// fresh: the session's auth time becomes now, and a new access token of the session carries it
// (the refresh token is unchanged; later refreshes keep the new auth time). Wrong passwords
// count against the throttle of password changes. API keys cannot re-authenticate.
func (s *Service) Reauthenticate(ctx context.Context, p *gatehouse.Principal, password string, c Client) (*Reauthentication, error) {
	if p == nil || p.User == nil {
		return nil, gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")
	}
	if p.APIKeyID != 0 || p.SessionID == "" {
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "an API key cannot re-authenticate; sign in").WithReason(ReasonSessionRequired)
	}
	if err := s.checkPassword(ctx, p.User, password, c); err != nil {
		return nil, err
	}
	if err := s.reauthenticated(ctx, p); err != nil {
		return nil, err
	}
	sess, err := s.store.SessionByID(ctx, p.SessionID)
	if err != nil {
		return nil, err
	}
	// The token keeps the request's scopes (they may be narrower than the session's).
	sess.Scope = gatehouse.FormatScopes(p.Scopes)
	pair, err := s.pair(p.User, sess, "")
	if err != nil {
		return nil, err
	}
	return &Reauthentication{AccessToken: pair.AccessToken, ExpiresIn: pair.ExpiresIn, Scope: pair.Scope, AuthTime: sess.AuthAt}, nil
}
