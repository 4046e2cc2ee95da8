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

// RetryMail puts failed message id back in the queue, due now, with its audit event. Only a
// failed message is retried (EConflict otherwise), so no mail is sent twice by it.
func (s *Service) RetryMail(ctx context.Context, p *gatehouse.Principal, id int64, c Client) (*gatehouse.OutboxMail, error) {
	if err := rbac.Decide(p, rbac.ActOutboxRetry, ""); err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, gatehouse.Errorf(gatehouse.ENotFound, "mail not found")
	}
	return s.store.RetryMailAudited(ctx, id, audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditMailRetried}))
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
