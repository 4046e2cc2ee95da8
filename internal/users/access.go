package users

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// A user's sessions and API keys as administrators see and end them. Seeing is users.read;
// ending is users.reset_access, the action that ends all of them at once.

// maxListed bounds the sessions and keys listed for one user.
const maxListed = 200

// Sessions lists user id's sessions that have not ended, most recently used first.
func (s *Service) Sessions(ctx context.Context, p *gatehouse.Principal, id int64) ([]*gatehouse.Session, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, errUserNotFound
	}
	return s.store.ActiveSessions(ctx, id)
}

// EndSession ends one session of user id, with its audit event (a logout the admin caused).
// A session of another user, or one that has ended, is ENotFound.
func (s *Service) EndSession(ctx context.Context, p *gatehouse.Principal, id int64, sessionID string, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersResetAccess, ""); err != nil {
		return err
	}
	if id < 1 || sessionID == "" {
		return gatehouse.Errorf(gatehouse.ENotFound, "session not found")
	}
	return s.store.EndUserSessionAudited(ctx, id, sessionID, "ended by an administrator",
		audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditLogout, SubjectID: idPtr(id), Detail: "session ended by an administrator"}))
}

// APIKeys lists user id's keys that are not revoked, newest first.
func (s *Service) APIKeys(ctx context.Context, p *gatehouse.Principal, id int64) ([]*gatehouse.APIKey, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, errUserNotFound
	}
	return s.store.UserAPIKeys(ctx, id, maxListed)
}

// RevokeAPIKey revokes key keyID of user id, with its audit event. A key of another user, or
// one revoked already, is ENotFound.
func (s *Service) RevokeAPIKey(ctx context.Context, p *gatehouse.Principal, id, keyID int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersResetAccess, ""); err != nil {
		return err
	}
	if id < 1 || keyID < 1 {
		return gatehouse.Errorf(gatehouse.ENotFound, "API key not found")
	}
	_, err := s.store.RevokeAPIKeyAudited(ctx, id, keyID, func(k *gatehouse.APIKey) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditAPIKeyRevoked, SubjectID: idPtr(id),
			Detail: "key " + k.Prefix + " (" + k.Name + ") revoked by an administrator"})
	})
	return err
}
