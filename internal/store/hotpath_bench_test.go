package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The store's hot queries: what every authenticated request (Principal), every team-scoped
// request (TeamRole) and the teams listing (ListTeams) cost, on each engine the run has (SQLite
// always; the others with the GATEHOUSE_TEST_* variables of scripts/test). Run with
//
//	go test -run '^$' -bench . -benchmem ./internal/store
//
// The data set is small but shaped like the benchmark harness's: 200 users, 100 teams, each
// user owning one team and a member of two more, two roles for the user asked about.
func BenchmarkHotQueries(b *testing.B) {
	for _, engine := range testdb.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, testdb.New(b, engine))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			if _, err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			f := seedHot(b, s)
			b.Run("Principal", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := s.Principal(ctx, f.user, f.sid); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("TeamRole", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.TeamRole(ctx, f.team, f.user); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("ListTeams", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if ts, err := s.ListTeams(ctx, f.user, false, 0, 50); err != nil || len(ts) != 3 {
						b.Fatal(len(ts), err)
					}
				}
			})
		})
	}
}

type hotFixture struct {
	user, team int64
	sid        string
}

func seedHot(b *testing.B, s *store.Store) hotFixture {
	b.Helper()
	ctx := context.Background()
	const users, teams = 200, 100
	ids := make([]int64, users)
	for i := range ids {
		u := &gatehouse.User{Email: fmt.Sprintf("hot-%d@example.com", i), PasswordHash: "$2a$12$x", PasswordScheme: "bcrypt", Active: true}
		if i == 0 {
			u.Roles = []gatehouse.Role{gatehouse.RoleMaintainer, gatehouse.RoleViewer}
		}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	tids := make([]int64, teams)
	for j := range tids {
		t := &gatehouse.Team{Name: fmt.Sprintf("Team %d", j)}
		if err := s.CreateTeam(ctx, t, ids[j]); err != nil {
			b.Fatal(err)
		}
		tids[j] = t.ID
	}
	for i := range ids {
		for k := 1; k <= 2; k++ {
			j := (i*7 + k*31) % teams
			if j == i%teams || (i < teams && j == i) {
				continue
			}
			if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: tids[j], UserID: ids[i], Role: gatehouse.TeamMember}); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := time.Now()
	sess := &gatehouse.Session{ID: "hot-session", UserID: ids[0], Scope: "read write", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, "hot-refresh-hash"); err != nil {
		b.Fatal(err)
	}
	return hotFixture{user: ids[0], team: tids[0], sid: sess.ID}
}
