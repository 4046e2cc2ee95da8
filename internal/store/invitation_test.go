package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// invFixture is a team with an owner, and users to invite.
type invFixture struct {
	s              *store.Store
	team           *gatehouse.Team
	owner, a, b, c *gatehouse.User
}

func newInvFixture(t *testing.T, s *store.Store) *invFixture {
	t.Helper()
	ctx := context.Background()
	f := &invFixture{s: s}
	for i, u := range []**gatehouse.User{&f.owner, &f.a, &f.b, &f.c} {
		// Mixed case: invitations match addresses case-insensitively.
		*u = &gatehouse.User{Email: fmt.Sprintf("User%d@Example.com", i), Active: true}
		if err := s.CreateUser(ctx, *u); err != nil {
			t.Fatal(err)
		}
	}
	f.team = &gatehouse.Team{Name: "Platform"}
	if err := s.CreateTeam(ctx, f.team, f.owner.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// invite stores an invitation whose token and code hashes are derived from name.
func (f *invFixture) invite(t *testing.T, email string, role gatehouse.TeamRole, name string, expires time.Time) (*gatehouse.Invitation, error) {
	t.Helper()
	return f.s.CreateInvitation(context.Background(), gatehouse.NewInvitation{
		TeamID: f.team.ID, Email: email, Role: role, InvitedBy: f.owner.ID,
		TokenHash: "tok-" + name, CodeHash: "code-" + name, ExpiresAt: expires,
	})
}

func TestInvitationLifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		s := open(t, db, store.WithClock(clock))
		f := newInvFixture(t, s)
		week := now.Add(7 * 24 * time.Hour)

		// Created pending; the address is kept as given and matched case-insensitively.
		inv, err := f.invite(t, f.a.Email, gatehouse.TeamMember, "a", week)
		if err != nil {
			t.Fatal(err)
		}
		if inv.ID == 0 || inv.Email != f.a.Email || inv.Role != gatehouse.TeamMember || !inv.Pending(now) ||
			inv.InvitedBy == nil || *inv.InvitedBy != f.owner.ID || !inv.ExpiresAt.Equal(week) || !inv.CreatedAt.Equal(now) {
			t.Fatalf("created = %+v", inv)
		}
		for name, tc := range map[string]struct {
			email string
			role  gatehouse.TeamRole
			code  gatehouse.Code
		}{
			"pending again": {"  " + f.a.Email + " ", gatehouse.TeamViewer, gatehouse.EConflict},
			"a member":      {f.owner.Email, gatehouse.TeamAdmin, gatehouse.EConflict},
			"bad role":      {f.b.Email, "maintainer", gatehouse.EInvalid},
			"no email":      {" ", gatehouse.TeamMember, gatehouse.EInvalid},
		} {
			if _, err := f.invite(t, tc.email, tc.role, "x-"+name, week); gatehouse.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", name, err, tc.code)
			}
		}
		if _, err := s.CreateInvitation(ctx, gatehouse.NewInvitation{TeamID: f.team.ID + 999, Email: "x@example.com", Role: gatehouse.TeamMember,
			InvitedBy: f.owner.ID, TokenHash: "t", CodeHash: "c", ExpiresAt: week}); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unknown team: %v", err)
		}

		// Only the addressee accepts, with the token's or the code's hash; once.
		if _, err := s.AcceptInvitation(ctx, "tok-a", f.b.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("accepted by another user: %v", err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-nope", f.a.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unknown hash: %v", err)
		}
		got, err := s.AcceptInvitation(ctx, "code-a", f.a.ID)
		if err != nil || got.ID != inv.ID || got.AcceptedAt == nil || got.AcceptedBy == nil || *got.AcceptedBy != f.a.ID {
			t.Fatalf("accept = %+v, %v", got, err)
		}
		if role, _ := s.TeamRole(ctx, f.team.ID, f.a.ID); role != gatehouse.TeamMember {
			t.Fatalf("role after accept = %q", role)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-a", f.a.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("reuse: %v", err)
		}
		if _, err := s.RevokeInvitation(ctx, f.team.ID, inv.ID); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("revoke accepted: %v", err)
		}

		// Revoked: not accepted, not listed, gone for a second revocation and for other teams.
		rb, err := f.invite(t, f.b.Email, gatehouse.TeamAdmin, "b", week)
		if err != nil {
			t.Fatal(err)
		}
		other := &gatehouse.Team{Name: "Other"}
		if err := s.CreateTeam(ctx, other, f.owner.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeInvitation(ctx, other.ID, rb.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("revoke through another team: %v", err)
		}
		if list, err := s.PendingInvitations(ctx, f.team.ID, 0, 10); err != nil || len(list) != 1 || list[0].ID != rb.ID {
			t.Fatalf("pending = %+v, %v", list, err)
		}
		if r, err := s.RevokeInvitation(ctx, f.team.ID, rb.ID); err != nil || r.RevokedAt == nil {
			t.Fatalf("revoke = %+v, %v", r, err)
		}
		if _, err := s.RevokeInvitation(ctx, f.team.ID, rb.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("second revoke: %v", err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-b", f.b.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("accept revoked: %v", err)
		}
		if list, err := s.PendingInvitations(ctx, f.team.ID, 0, 10); err != nil || len(list) != 0 {
			t.Fatalf("pending after revoke = %+v, %v", list, err)
		}
		if _, err := s.PendingInvitations(ctx, f.team.ID+999, 0, 10); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("list of unknown team: %v", err)
		}

		// Already a member when accepting: refused, and the invitation stays pending.
		if _, err := f.invite(t, f.b.Email, gatehouse.TeamViewer, "b2", week); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: f.team.ID, UserID: f.b.ID, Role: gatehouse.TeamMember}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-b2", f.b.ID); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("accept as a member: %v", err)
		}
		if list, _ := s.PendingInvitations(ctx, f.team.ID, 0, 10); len(list) != 1 {
			t.Fatalf("pending after a refused accept = %+v", list)
		}

		// Expired: refused and no longer listed; the address may be invited again.
		if _, err := f.invite(t, f.c.Email, gatehouse.TeamViewer, "c", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		if _, err := s.AcceptInvitation(ctx, "tok-c", f.c.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("accept expired: %v", err)
		}
		if _, err := f.invite(t, f.c.Email, gatehouse.TeamViewer, "c2", week); err != nil {
			t.Fatalf("invite again after expiry: %v", err)
		}

		// Deleting the team deletes its invitations.
		if err := s.DeleteTeam(ctx, f.team.ID, nil, nil); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := s.DB().QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM invitations WHERE team_id = %d", f.team.ID)).Scan(&left); err != nil || left != 0 {
			t.Fatalf("invitations left after the team was deleted: %d, %v", left, err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-c2", f.c.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("accept after the team was deleted: %v", err)
		}
	})
}

// Racing acceptances of one invitation (through different instances, on Galera different
// nodes) let exactly one in; racing invitations of one address create exactly one; a
// revocation racing an acceptance has exactly one winner.
func TestInvitationRaces(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		stores := []*store.Store{open(t, nodeFirst(db, 0)), open(t, nodeFirst(db, 1)), open(t, nodeFirst(db, 2))}
		f := newInvFixture(t, stores[0])
		week := time.Now().Add(7 * 24 * time.Hour)
		const workers = 6

		// Invitations of one address.
		var created atomic.Int32
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				_, err := stores[w%3].CreateInvitation(ctx, gatehouse.NewInvitation{
					TeamID: f.team.ID, Email: f.a.Email, Role: gatehouse.TeamMember, InvitedBy: f.owner.ID,
					TokenHash: fmt.Sprintf("race-tok-%d", w), CodeHash: fmt.Sprintf("race-code-%d", w), ExpiresAt: week,
				})
				switch gatehouse.ErrorCode(err) {
				case "":
					created.Add(1)
				case gatehouse.EConflict:
				default:
					t.Errorf("create: %v", err)
				}
			})
		}
		wg.Wait()
		list, err := stores[0].PendingInvitations(ctx, f.team.ID, 0, 10)
		if created.Load() != 1 || err != nil || len(list) != 1 {
			t.Fatalf("created %d, pending %+v, %v", created.Load(), list, err)
		}

		// Acceptances of one invitation.
		if _, err := f.invite(t, f.b.Email, gatehouse.TeamViewer, "race-b", week); err != nil {
			t.Fatal(err)
		}
		var accepted atomic.Int32
		for w := range workers {
			wg.Go(func() {
				_, err := stores[w%3].AcceptInvitation(ctx, "tok-race-b", f.b.ID)
				switch gatehouse.ErrorCode(err) {
				case "":
					accepted.Add(1)
				case gatehouse.ENotFound, gatehouse.EConflict:
				default:
					t.Errorf("accept: %v", err)
				}
			})
		}
		wg.Wait()
		if accepted.Load() != 1 {
			t.Fatalf("accepted %d times", accepted.Load())
		}
		if role, _ := stores[0].TeamRole(ctx, f.team.ID, f.b.ID); role != gatehouse.TeamViewer {
			t.Fatalf("role = %q", role)
		}

		// A revocation racing an acceptance.
		inv, err := f.invite(t, f.c.Email, gatehouse.TeamMember, "race-c", week)
		if err != nil {
			t.Fatal(err)
		}
		var revErr, accErr error
		wg.Go(func() { _, revErr = stores[1].RevokeInvitation(ctx, f.team.ID, inv.ID) })
		wg.Go(func() { _, accErr = stores[2].AcceptInvitation(ctx, "tok-race-c", f.c.ID) })
		wg.Wait()
		role, _ := stores[0].TeamRole(ctx, f.team.ID, f.c.ID)
		switch {
		case revErr == nil && accErr != nil && role == "":
		case accErr == nil && revErr != nil && role == gatehouse.TeamMember:
		default:
			t.Fatalf("revoke: %v, accept: %v, role %q: want exactly one winner", revErr, accErr, role)
		}
	})
}
