package auth

import (
	"context"

	"gatehouse"
)

// VerifyPassword re-authenticates the caller before a sensitive change when their sign-in is
// no longer fresh (the web pages' SECURITY_FRESHNESS prompt). Wrong passwords count against the
// throttle of password changes, as for every other re-authentication (see checkPassword).
func (s *Service) VerifyPassword(ctx context.Context, p *gatehouse.Principal, password string, c Client) error {
	return s.checkPassword(ctx, p.User, password, c)
}
