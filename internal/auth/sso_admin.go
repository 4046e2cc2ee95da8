package auth

import (
	"context"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// IdentityLink is an administrator's request to link an identity (AdminLinkIdentity).
type IdentityLink struct {
	// Provider is "saml" or "oidc:<name>"; Subject the provider's id for the person.
	Provider, Subject string
	// Configured says whether Provider names a configured provider (the SSO transport knows).
	Configured bool
	// Invalid is the transport's verdict on the request body, answered only after the caller
	// is known to be allowed, so that a refused caller learns nothing from it.
	Invalid error
}

// AdminLinkIdentity links the identity provider's subject to user id, as a first sign-in would,
// but on an administrator's word: the way to link an account that SSO never links by itself (an
// admin account, or any account when the provider is not trusted to link by email address). Like
// an automatic link it marks the address confirmed, and an account that was never confirmed
// loses whatever its registrant set (see store.LinkOutcome.Secured). A subject linked already is
// EConflict (identity_taken).
func (s *Service) AdminLinkIdentity(ctx context.Context, p *gatehouse.Principal, userID int64, in IdentityLink, c Client) (*SSOAccount, error) {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return nil, err
	}
	if in.Invalid != nil {
		return nil, in.Invalid
	}
	if !in.Configured {
		return nil, gatehouse.FieldError("provider", "is not a configured provider (saml or oidc:<name>)")
	}
	id := &store.Identity{UserID: userID, Provider: in.Provider, Subject: in.Subject}
	out, err := s.store.LinkIdentity(ctx, id, store.LinkOptions{NewStamp: store.NewSecurityStamp(),
		Audit: func(o store.LinkOutcome) []gatehouse.AuditEvent {
			return s.linkAudit(o, idPtr(p.User.ID), fmt.Sprintf("provider %s; subject %q; linked by an administrator", in.Provider, in.Subject), c)
		}})
	if err != nil {
		return nil, err
	}
	if out.Secured {
		s.log.Warn("SSO: an administrator linked an account that was never confirmed; its password, factors, sessions and API keys were removed",
			"user_id", userID, "provider", in.Provider)
	}
	return s.ssoAccount(ctx, userID)
}
