package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// A change that changes nothing (an empty PATCH, the same values again, a member given the role
// it has) writes nothing: updated_at, and so the ETag a client holds, stays, and no audit event
// claims a change. A real change still moves updated_at.
func TestUpdatesThatChangeNothingWriteNothing(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC).Unix())
		now := func() time.Time { return time.Unix(clock.Load(), 0).UTC() }
		s := open(t, db, store.WithClock(now))
		f := newInvFixture(t, s)
		pr := &gatehouse.Project{TeamID: f.team.ID, Name: "Site", Description: "the web site", CreatedBy: &f.owner.ID}
		if err := s.CreateProject(ctx, pr); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChangeMember(ctx, gatehouse.MemberChange{TeamID: f.team.ID, UserID: f.a.ID, Role: gatehouse.TeamMember}); err != nil {
			t.Fatal(err)
		}
		created := now()
		clock.Add(60)

		name, desc := "Platform", "the web site"
		for label, patch := range map[string]gatehouse.TeamPatch{"empty": {}, "same name": {Name: &name}} {
			tm, err := s.UpdateTeam(ctx, f.team.ID, patch, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tm.UpdatedAt.Equal(created) {
				t.Fatalf("team, %s patch: updated_at %v, want %v", label, tm.UpdatedAt, created)
			}
		}
		for label, patch := range map[string]gatehouse.ProjectPatch{"empty": {}, "same description": {Description: &desc}} {
			p, err := s.UpdateProject(ctx, f.team.ID, pr.ID, patch, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !p.UpdatedAt.Equal(created) {
				t.Fatalf("project, %s patch: updated_at %v, want %v", label, p.UpdatedAt, created)
			}
		}
		audited := 0
		if _, err := s.ChangeMember(ctx, gatehouse.MemberChange{TeamID: f.team.ID, UserID: f.a.ID, Role: gatehouse.TeamMember,
			Audit: func(gatehouse.TeamRole) gatehouse.AuditEvent {
				audited++
				return gatehouse.AuditEvent{Event: gatehouse.AuditMemberChanged}
			}}); err != nil {
			t.Fatal(err)
		}
		if evs, err := s.AuditEvents(ctx, 0, gatehouse.AuditMemberChanged, 10); err != nil || len(evs) != 0 || audited != 0 {
			t.Fatalf("same role: %d member_changed events, audit called %d times (%v)", len(evs), audited, err)
		}

		// A real change moves updated_at.
		other := "Platform team"
		tm, err := s.UpdateTeam(ctx, f.team.ID, gatehouse.TeamPatch{Name: &other}, nil)
		if err != nil || !tm.UpdatedAt.Equal(now()) || tm.Name != other {
			t.Fatalf("real change: %+v, %v", tm, err)
		}
		p, err := s.UpdateProject(ctx, f.team.ID, pr.ID, gatehouse.ProjectPatch{Name: &other}, nil)
		if err != nil || !p.UpdatedAt.Equal(now()) || p.Name != other {
			t.Fatalf("real change: %+v, %v", p, err)
		}
	})
}
