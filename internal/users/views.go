package users

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// The operations views of global admins: the mail outbox, the audit trail and the license.

// OutboxQuery is a page of the outbox as the transport read it (Invalid: see Query).
type OutboxQuery struct {
	gatehouse.MailQuery
	Invalid error
}

// Outbox returns a page of the mail outbox, newest first: up to q.Limit+1 messages, the one
// past the page telling the transport that more follow.
func (s *Service) Outbox(ctx context.Context, p *gatehouse.Principal, q OutboxQuery) ([]gatehouse.OutboxMail, error) {
	if err := rbac.Decide(p, rbac.ActOutboxRead, ""); err != nil {
		return nil, err
	}
	if q.Invalid != nil {
		return nil, q.Invalid
	}
	q.Limit++
	ms, _, err := s.store.ListMailPage(ctx, q.MailQuery)
	return ms, err
}

// AuditQuery is a page of the audit trail as the transport read it (Invalid: see Query).
type AuditQuery struct {
	gatehouse.AuditQuery
	Invalid error
}

// Audit returns a page of the audit trail, newest first: up to q.Limit+1 events, the one past
// the page telling the transport that more follow.
func (s *Service) Audit(ctx context.Context, p *gatehouse.Principal, q AuditQuery) ([]gatehouse.AuditEvent, error) {
	if err := rbac.Decide(p, rbac.ActAuditRead, ""); err != nil {
		return nil, err
	}
	if q.Invalid != nil {
		return nil, q.Invalid
	}
	q.Limit++
	evs, _, err := s.store.ListAuditPage(ctx, q.AuditQuery)
	return evs, err
}

// License returns the license state as admins see it.
func (s *Service) License(_ context.Context, p *gatehouse.Principal) (license.Status, error) {
	if err := rbac.Decide(p, rbac.ActLicenseRead, ""); err != nil {
		return license.Status{}, err
	}
	if s.license == nil {
		return license.Status{}, gatehouse.Errorf(gatehouse.EUnavailable, "the license client is not configured")
	}
	return s.license.Status(), nil
}
