package auth

import (
	"context"
	"fmt"

	"gatehouse"
	"gatehouse/internal/rbac"
	"gatehouse/internal/store"
)

// AdminLinkIdentity links the identity provider's subject to user id, as a first sign-in would,
// but on an administrator's word: the way to link an account that SSO never links by itself (an
// admin account, or any account when the provider is not trusted to link by email address).
// provider is "saml" or "oidc:<name>"; configured says whether it names a configured provider
// (the SSO transport knows; an unknown one is refused after the authorization). Like an automatic
// link it marks the address confirmed, and an account that was never confirmed loses whatever
// its registrant set (see store.LinkOutcome.Secured). A subject linked already is EConflict.
func (s *Service) AdminLinkIdentity(ctx context.Context, p *gatehouse.Principal, userID int64, provider, subject string, configured bool, c Client) (*SSOAccount, error) {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return nil, err
	}
	if !configured {
		return nil, gatehouse.FieldError("provider", "is not a configured provider (saml or oidc:<name>)")
	}
	id := &store.Identity{UserID: userID, Provider: provider, Subject: subject}
	out, err := s.store.LinkIdentity(ctx, id, store.LinkOptions{NewStamp: store.NewSecurityStamp(),
		Audit: func(o store.LinkOutcome) []gatehouse.AuditEvent {
			return s.linkAudit(o, idPtr(p.User.ID), fmt.Sprintf("provider %s; subject %q; linked by an administrator", provider, subject), c)
		}})
	if err != nil {
		return nil, err
	}
	if out.Secured {
		s.log.Warn("SSO: an administrator linked an account that was never confirmed; its password, factors, sessions and API keys were removed",
			"user_id", userID, "provider", provider)
	}
	return s.AdminSSOAccount(ctx, p, userID)
}
