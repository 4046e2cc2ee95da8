package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// An administrator ends one session or revokes one API key of a user, each with its event in
// the same transaction; the same id of another user, or one that has ended, is not found and
// writes no event.
func TestEndUserSessionAndKeyAudited(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		alice, bob := mkUser(t, s, "alice@example.com", true), mkUser(t, s, "bob@example.com", true)
		now := time.Now().UTC()
		for i, id := range []string{"alice-1", "alice-2"} {
			if err := s.CreateSession(ctx, &gatehouse.Session{ID: id, UserID: alice.ID, Scope: "read", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
				"refresh-"+id); err != nil {
				t.Fatal(err, i)
			}
		}
		key := &gatehouse.APIKey{UserID: alice.ID, Name: "ci", Prefix: "ghk_ALICE", Scopes: []gatehouse.Scope{"read"}, Stamp: alice.SecurityStamp}
		if err := s.CreateAPIKey(ctx, key, "hash-alice"); err != nil {
			t.Fatal(err)
		}
		ev := gatehouse.AuditEvent{Event: gatehouse.AuditLogout, SubjectID: &alice.ID, Detail: "by an admin"}

		if err := s.EndUserSessionAudited(ctx, bob.ID, "alice-1", "admin", ev); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("alice's session as bob's: %v", err)
		}
		if err := s.EndUserSessionAudited(ctx, alice.ID, "alice-1", "admin", ev); err != nil {
			t.Fatal(err)
		}
		if err := s.EndUserSessionAudited(ctx, alice.ID, "alice-1", "admin", ev); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("ended twice: %v", err)
		}
		left, err := s.ActiveSessions(ctx, alice.ID)
		if err != nil || len(left) != 1 || left[0].ID != "alice-2" {
			t.Fatalf("alice's sessions after: %v, %v", left, err)
		}

		audit := func(k *gatehouse.APIKey) gatehouse.AuditEvent {
			return gatehouse.AuditEvent{Event: gatehouse.AuditAPIKeyRevoked, SubjectID: &alice.ID, Detail: k.Prefix}
		}
		if _, err := s.RevokeAPIKeyAudited(ctx, bob.ID, key.ID, audit); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("alice's key as bob's: %v", err)
		}
		if k, err := s.RevokeAPIKeyAudited(ctx, alice.ID, key.ID, audit); err != nil || k.RevokedAt == nil {
			t.Fatalf("revoke: %+v, %v", k, err)
		}
		if keys, err := s.UserAPIKeys(ctx, alice.ID, 10); err != nil || len(keys) != 0 {
			t.Fatalf("alice's keys after: %v, %v", keys, err)
		}
		for event, want := range map[string]int{gatehouse.AuditLogout: 1, gatehouse.AuditAPIKeyRevoked: 1} {
			evs, _, err := s.ListAuditPage(ctx, gatehouse.AuditQuery{SubjectID: alice.ID, Event: event, Limit: 10})
			if err != nil || len(evs) != want {
				t.Fatalf("%s events: %+v, %v", event, evs, err)
			}
		}
	})
}
