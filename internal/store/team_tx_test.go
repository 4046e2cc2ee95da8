package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The team changes write their audit event (and an invitation its email) in the transaction of
// the change: both are there after it, with what the callbacks made of the row as written.
func TestTeamChangesWriteTheirEvents(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		s := open(t, db, store.WithClock(func() time.Time { return now }))
		f := newInvFixture(t, s)
		ev := func(event, detail string) func() gatehouse.AuditEvent {
			return func() gatehouse.AuditEvent {
				return gatehouse.AuditEvent{Event: event, Detail: detail, IP: "192.0.2.1"}
			}
		}
		events := func(event string) []gatehouse.AuditEvent {
			t.Helper()
			evs, err := s.AuditEvents(ctx, 0, event, 10)
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}

		team := &gatehouse.Team{Name: "Audited"}
		if err := s.CreateTeamAudited(ctx, team, f.owner.ID, func(t *gatehouse.Team) gatehouse.AuditEvent {
			return ev(gatehouse.AuditTeamCreated, "team "+itoa(t.ID))()
		}); err != nil {
			t.Fatal(err)
		}
		if evs := events(gatehouse.AuditTeamCreated); len(evs) != 1 || evs[0].Detail != "team "+itoa(team.ID) || !evs[0].At.Equal(now) || evs[0].IP != "192.0.2.1" {
			t.Fatalf("team_created events = %+v", evs)
		}

		if _, err := s.ChangeMember(ctx, gatehouse.MemberChange{TeamID: team.ID, UserID: f.a.ID, Role: gatehouse.TeamMember,
			Audit: func(prev gatehouse.TeamRole) gatehouse.AuditEvent {
				return ev(gatehouse.AuditMemberChanged, "was "+string(prev)+".")()
			}}); err != nil {
			t.Fatal(err)
		}
		if evs := events(gatehouse.AuditMemberChanged); len(evs) != 1 || evs[0].Detail != "was ." {
			t.Fatalf("member_changed events = %+v", evs)
		}

		inv, err := s.CreateInvitation(ctx, gatehouse.NewInvitation{
			TeamID: team.ID, Email: f.b.Email, Role: gatehouse.TeamViewer, InvitedBy: f.owner.ID,
			TokenHash: "tok-audited", CodeHash: "code-audited", ExpiresAt: now.Add(time.Hour),
			Audit: func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
				return ev(gatehouse.AuditInvitationCreated, "invitation "+itoa(inv.ID))()
			},
			Mail: &gatehouse.OutboxMail{To: "ignored@example.com", Subject: "Join Audited", Text: "the link"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if evs := events(gatehouse.AuditInvitationCreated); len(evs) != 1 || evs[0].Detail != "invitation "+itoa(inv.ID) {
			t.Fatalf("invitation_created events = %+v", evs)
		}
		ms, err := s.ListMail(ctx, "", 10)
		if err != nil || len(ms) != 1 || ms[0].To != f.b.Email || ms[0].Subject != "Join Audited" || ms[0].Status != gatehouse.MailPending ||
			!ms[0].NextAttemptAt.Equal(now) {
			t.Fatalf("outbox = %+v, %v", ms, err)
		}

		joined, jt, err := s.AcceptInvitationAudited(ctx, "code-audited", f.b.ID, func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
			return ev(gatehouse.AuditInvitationAccepted, "as "+string(inv.Role))()
		})
		if err != nil || joined.ID != inv.ID || jt.ID != team.ID || jt.Name != "Audited" {
			t.Fatalf("accepted %+v in %+v: %v", joined, jt, err)
		}
		if evs := events(gatehouse.AuditInvitationAccepted); len(evs) != 1 || evs[0].Detail != "as viewer" {
			t.Fatalf("invitation_accepted events = %+v", evs)
		}

		other, err := f.invite(t, f.c.Email, gatehouse.TeamMember, "audited-c", now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeInvitationIf(ctx, f.team.ID, other.ID, nil, func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
			return ev(gatehouse.AuditInvitationRevoked, "revoked "+itoa(inv.ID))()
		}); err != nil {
			t.Fatal(err)
		}
		if evs := events(gatehouse.AuditInvitationRevoked); len(evs) != 1 || evs[0].Detail != "revoked "+itoa(other.ID) {
			t.Fatalf("invitation_revoked events = %+v", evs)
		}

		if err := s.DeleteTeam(ctx, team.ID, nil, func(t *gatehouse.Team) gatehouse.AuditEvent {
			return ev(gatehouse.AuditTeamDeleted, "deleted "+t.Name)()
		}); err != nil {
			t.Fatal(err)
		}
		if evs := events(gatehouse.AuditTeamDeleted); len(evs) != 1 || evs[0].Detail != "deleted Audited" {
			t.Fatalf("team_deleted events = %+v", evs)
		}
	})
}

// A team change and its event commit together or not at all: when the transaction fails after
// the row is written (here the request is cancelled while the event is made), neither the row
// nor the event (nor an invitation's email) is there.
func TestTeamChangesRollBackWithTheirEvents(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		bg := context.Background()
		s := open(t, db)
		f := newInvFixture(t, s)
		week := time.Now().Add(7 * 24 * time.Hour)
		pending, err := f.invite(t, f.c.Email, gatehouse.TeamMember, "rollback-c", week)
		if err != nil {
			t.Fatal(err)
		}
		// failing returns a context and an audit callback that cancels it: the event's insert,
		// the statement after the change, then fails, and the transaction with it (a cancelled
		// request is not retried).
		failing := func() (context.Context, func() gatehouse.AuditEvent) {
			ctx, cancel := context.WithCancel(bg)
			t.Cleanup(cancel)
			return ctx, func() gatehouse.AuditEvent { cancel(); return gatehouse.AuditEvent{Event: "doomed"} }
		}
		mustFail := func(what string, err error) {
			t.Helper()
			if err == nil {
				t.Fatalf("%s: succeeded although its event could not be written", what)
			}
		}

		ctx, audit := failing()
		mustFail("create team", s.CreateTeamAudited(ctx, &gatehouse.Team{Name: "Doomed"}, f.owner.ID, func(*gatehouse.Team) gatehouse.AuditEvent { return audit() }))
		ctx, audit = failing()
		_, err = s.ChangeMember(ctx, gatehouse.MemberChange{TeamID: f.team.ID, UserID: f.a.ID, Role: gatehouse.TeamMember,
			Audit: func(gatehouse.TeamRole) gatehouse.AuditEvent { return audit() }})
		mustFail("add member", err)
		ctx, audit = failing()
		_, err = s.CreateInvitation(ctx, gatehouse.NewInvitation{
			TeamID: f.team.ID, Email: f.b.Email, Role: gatehouse.TeamMember, InvitedBy: f.owner.ID,
			TokenHash: "tok-doomed", CodeHash: "code-doomed", ExpiresAt: week,
			Audit: func(*gatehouse.Invitation) gatehouse.AuditEvent { return audit() },
			Mail:  &gatehouse.OutboxMail{Subject: "Join", Text: "the link"},
		})
		mustFail("invite", err)
		ctx, audit = failing()
		_, err = s.RevokeInvitationIf(ctx, f.team.ID, pending.ID, nil, func(*gatehouse.Invitation) gatehouse.AuditEvent { return audit() })
		mustFail("revoke", err)
		ctx, audit = failing()
		_, _, err = s.AcceptInvitationAudited(ctx, "tok-rollback-c", f.c.ID, func(*gatehouse.Invitation) gatehouse.AuditEvent { return audit() })
		mustFail("accept", err)
		ctx, audit = failing()
		mustFail("delete team", s.DeleteTeam(ctx, f.team.ID, nil, func(*gatehouse.Team) gatehouse.AuditEvent { return audit() }))

		teams, err := s.ListTeams(bg, f.owner.ID, true, 0, 10)
		if err != nil || len(teams) != 1 || teams[0].ID != f.team.ID {
			t.Fatalf("teams after the failed changes = %+v, %v (want only the fixture's, not deleted)", teams, err)
		}
		for _, u := range []*gatehouse.User{f.a, f.c} {
			if role, err := s.TeamRole(bg, f.team.ID, u.ID); err != nil || role != "" {
				t.Fatalf("%s is a %q after the failed changes (%v)", u.Email, role, err)
			}
		}
		list, err := s.PendingInvitations(bg, f.team.ID, 0, 10)
		if err != nil || len(list) != 1 || list[0].ID != pending.ID || list[0].Status(time.Now()) != gatehouse.InvitationPending {
			t.Fatalf("pending after the failed changes = %+v, %v", list, err)
		}
		if ms, err := s.ListMail(bg, "", 10); err != nil || len(ms) != 0 {
			t.Fatalf("outbox after the failed invitation = %+v, %v", ms, err)
		}
		if evs, err := s.AuditEvents(bg, 0, "doomed", 10); err != nil || len(evs) != 0 {
			t.Fatalf("events of the failed changes = %+v, %v", evs, err)
		}
	})
}

// An invitation whose email the outbox would refuse is not stored: it could never be accepted.
func TestInvitationWithRefusedMailIsNotStored(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		f := newInvFixture(t, s)
		_, err := s.CreateInvitation(ctx, gatehouse.NewInvitation{
			TeamID: f.team.ID, Email: f.a.Email, Role: gatehouse.TeamMember, InvitedBy: f.owner.ID,
			TokenHash: "tok-refused", CodeHash: "code-refused", ExpiresAt: time.Now().Add(time.Hour),
			Mail: &gatehouse.OutboxMail{Subject: "Join\r\nBcc: someone@example.com", Text: "the link"},
		})
		if gatehouse.ErrorCode(err) != gatehouse.EInvalid || !strings.Contains(gatehouse.ErrorMessage(err), "subject") {
			t.Fatalf("err = %v, want invalid subject", err)
		}
		if list, err := s.PendingInvitations(ctx, f.team.ID, 0, 10); err != nil || len(list) != 0 {
			t.Fatalf("pending = %+v, %v", list, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Team search: a part of the name, any case, matched literally (% and _ are not wildcards),
// paged by id.
func TestSearchTeams(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		owner := mkUser(t, s, "owner@example.com", true)
		for _, name := range []string{"Platform", "Data Platform", "100% Uptime", "Design_Ops", "Billing"} {
			if err := s.CreateTeam(ctx, &gatehouse.Team{Name: name}, owner.ID); err != nil {
				t.Fatal(err)
			}
		}
		names := func(q string, after int64, limit int) []string {
			t.Helper()
			ts, err := s.SearchTeams(ctx, q, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]string, len(ts))
			for i, tm := range ts {
				out[i] = tm.Name
			}
			return out
		}
		for q, want := range map[string]string{
			"platform": "Platform,Data Platform", "PLAT": "Platform,Data Platform", "%": "100% Uptime", "_": "Design_Ops",
			"bi_ling": "", "n_o": "Design_Ops", "": "Platform,Data Platform,100% Uptime,Design_Ops,Billing", "zzz": "",
		} {
			if got := strings.Join(names(q, 0, 10), ","); got != want {
				t.Errorf("search %q = %q, want %q", q, got, want)
			}
		}
		first, err := s.SearchTeams(ctx, "", 0, 2)
		if err != nil || len(first) != 2 {
			t.Fatalf("first page: %v, %v", first, err)
		}
		if got := strings.Join(names("", first[1].ID, 10), ","); got != "100% Uptime,Design_Ops,Billing" {
			t.Fatalf("after the first page: %q", got)
		}
	})
}
