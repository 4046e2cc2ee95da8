package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// Renewing an invitation (resending it): new secrets and expiry with its event and its mail in
// one transaction; the old secret no longer accepts, the new one does; an expired invitation can
// be renewed, an accepted or revoked one cannot.
func TestRenewInvitation(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		f := newInvFixture(t, s)
		now := time.Now().UTC()
		inv, err := f.invite(t, f.a.Email, gatehouse.TeamMember, "old", now.Add(-time.Minute)) // expired already
		if err != nil {
			t.Fatal(err)
		}
		audit := func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
			return gatehouse.AuditEvent{Event: gatehouse.AuditInvitationResent, Email: inv.Email}
		}
		msg := &gatehouse.OutboxMail{Subject: "Join Platform", Text: "link"}
		renewed, err := s.RenewInvitation(ctx, f.team.ID, inv.ID, "tok-new", "code-new", now.Add(time.Hour), msg, audit)
		if err != nil || !renewed.Pending(now) {
			t.Fatalf("renewed = %+v, %v", renewed, err)
		}
		if _, _, err := s.AcceptInvitationAudited(ctx, "tok-old", f.a.ID, nil); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("the old token after renewal: %v", err)
		}
		mails, err := s.ListMail(ctx, "", 10)
		if err != nil || len(mails) != 1 || mails[0].To != f.a.Email || mails[0].Subject != "Join Platform" {
			t.Fatalf("outbox = %+v, %v", mails, err)
		}
		if evs, _, err := s.ListAuditPage(ctx, gatehouse.AuditQuery{Event: gatehouse.AuditInvitationResent, Limit: 10}); err != nil || len(evs) != 1 {
			t.Fatalf("invitation_resent events = %+v, %v", evs, err)
		}
		if _, _, err := s.AcceptInvitationAudited(ctx, "tok-new", f.a.ID, nil); err != nil {
			t.Fatalf("the new token: %v", err)
		}
		if _, err := s.RenewInvitation(ctx, f.team.ID, inv.ID, "tok-3", "code-3", now.Add(time.Hour), msg, audit); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("renewing an accepted invitation: %v", err)
		}
		if _, err := s.RenewInvitation(ctx, f.team.ID, 999999, "tok-4", "code-4", now.Add(time.Hour), msg, audit); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("renewing an unknown invitation: %v", err)
		}
	})
}
