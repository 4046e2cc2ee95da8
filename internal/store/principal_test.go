package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func mustUser(t testing.TB, s *store.Store, email string, roles ...gatehouse.Role) *gatehouse.User {
	t.Helper()
	u := &gatehouse.User{Email: email, PasswordHash: "$2a$12$hash", PasswordScheme: "bcrypt", Active: true, Roles: roles}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func mustSession(t testing.TB, s *store.Store, id string, userID int64, now time.Time) {
	t.Helper()
	sess := &gatehouse.Session{ID: id, UserID: userID, Scope: "read write", Remember: true, IP: "192.0.2.1",
		UserAgent: `agent "quoted" ü`, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(context.Background(), sess, "hash-"+id); err != nil {
		t.Fatal(err)
	}
}

// Principal is one hand-written statement; it must return exactly what the separate reads of
// the user (with its roles) and of the session return, on every engine, for every column.
func TestPrincipalMatchesSeparateReads(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
		s := open(t, db, store.WithClock(func() time.Time { return now }))
		alice := mustUser(t, s, "alice@example.com", gatehouse.RoleMaintainer, gatehouse.RoleViewer)
		bob := mustUser(t, s, "bob@example.com") // no roles
		if err := s.RecordLogin(ctx, alice.ID, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
		mustSession(t, s, "sess-alice", alice.ID, now)
		mustSession(t, s, "sess-bob", bob.ID, now)

		check := func(name string, userID int64, sid string) {
			t.Helper()
			u, sess, err := s.Principal(ctx, userID, sid)
			if err != nil {
				t.Fatalf("%s: Principal: %v", name, err)
			}
			wantU, err := s.UserByID(ctx, userID)
			if err != nil {
				t.Fatal(err)
			}
			wantS, err := s.SessionByID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u, wantU) {
				t.Errorf("%s: user\n got  %+v\n want %+v", name, u, wantU)
			}
			if !reflect.DeepEqual(sess, wantS) {
				t.Errorf("%s: session\n got  %+v\n want %+v", name, sess, wantS)
			}
		}
		check("user with roles and login data", alice.ID, "sess-alice")
		check("user without roles", bob.ID, "sess-bob")
		// Another user's session comes back as it is, for the caller to refuse.
		check("someone else's session", bob.ID, "sess-alice")
		if err := s.RevokeSession(ctx, "sess-alice", "logout"); err != nil {
			t.Fatal(err)
		}
		check("revoked session", alice.ID, "sess-alice")

		for _, tc := range []struct {
			name string
			user int64
			sid  string
		}{
			{"unknown session", alice.ID, "no-such-session"},
			{"unknown user", bob.ID + 1000, "sess-bob"},
		} {
			if _, _, err := s.Principal(ctx, tc.user, tc.sid); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
				t.Errorf("%s: err = %v, want not_found", tc.name, err)
			}
		}
		// APIKeyBySecret is the same kind of statement: its owner must equal UserByID's.
		exp := now.Add(time.Hour)
		key := &gatehouse.APIKey{UserID: alice.ID, Name: "ci", Prefix: "ghk_test", Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: alice.SecurityStamp, ExpiresAt: &exp}
		if err := s.CreateAPIKey(ctx, key, "secret-hash-1"); err != nil {
			t.Fatal(err)
		}
		k, owner, err := s.APIKeyBySecret(ctx, "secret-hash-1")
		if err != nil {
			t.Fatal(err)
		}
		if wantU, _ := s.UserByID(ctx, alice.ID); !reflect.DeepEqual(owner, wantU) {
			t.Errorf("API key owner\n got  %+v\n want %+v", owner, wantU)
		}
		if k.ID != key.ID || k.UserID != alice.ID || k.Name != "ci" || k.Prefix != "ghk_test" || !slices.Equal(k.Scopes, key.Scopes) ||
			k.Stamp != alice.SecurityStamp || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) || k.RevokedAt != nil {
			t.Errorf("API key = %+v, want %+v", k, key)
		}
		if _, _, err := s.APIKeyBySecret(ctx, "no-such-hash"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("unknown API key: %v, want not_found", err)
		}

		u, sess, err := s.Principal(ctx, alice.ID, "")
		if err != nil || sess != nil || u.ID != alice.ID || !slices.Equal(u.Roles, alice.Roles) {
			t.Errorf("no session id: %+v, %+v, %v; want the user alone", u, sess, err)
		}
	})
}

func TestListTeamsAndTeamRole(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		a := mustUser(t, s, "a@example.com")
		b := mustUser(t, s, "b@example.com")
		var teams []*gatehouse.Team
		for i, owner := range []int64{a.ID, b.ID, a.ID} {
			tm := &gatehouse.Team{Name: []string{"One 'quoted'", "Two", "Three 🦫"}[i], Description: "d"}
			if err := s.CreateTeam(ctx, tm, owner); err != nil {
				t.Fatal(err)
			}
			teams = append(teams, tm)
		}
		if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: teams[0].ID, UserID: b.ID, Role: gatehouse.TeamViewer}); err != nil {
			t.Fatal(err)
		}
		type row struct {
			id   int64
			name string
			role gatehouse.TeamRole
		}
		list := func(user int64, all bool, after int64, limit int) []row {
			t.Helper()
			got, err := s.ListTeams(ctx, user, all, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("ListTeams returned nil, want an empty list")
			}
			out := []row{}
			for _, x := range got {
				want, err := s.TeamByID(ctx, x.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(x.Team, *want) {
					t.Errorf("team %d: %+v, want %+v", x.ID, x.Team, *want)
				}
				out = append(out, row{x.ID, x.Name, x.Role})
			}
			return out
		}
		t1, t2, t3 := teams[0], teams[1], teams[2]
		for _, tc := range []struct {
			name string
			got  []row
			want []row
		}{
			{"a's teams", list(a.ID, false, 0, 10), []row{{t1.ID, t1.Name, gatehouse.TeamOwner}, {t3.ID, t3.Name, gatehouse.TeamOwner}}},
			{"a's first page", list(a.ID, false, 0, 1), []row{{t1.ID, t1.Name, gatehouse.TeamOwner}}},
			{"a's next page", list(a.ID, false, t1.ID, 1), []row{{t3.ID, t3.Name, gatehouse.TeamOwner}}},
			{"a's last page", list(a.ID, false, t3.ID, 1), []row{}},
			{"b's teams", list(b.ID, false, 0, 10), []row{{t1.ID, t1.Name, gatehouse.TeamViewer}, {t2.ID, t2.Name, gatehouse.TeamOwner}}},
			{"every team, as b", list(b.ID, true, 0, 10), []row{{t1.ID, t1.Name, gatehouse.TeamViewer}, {t2.ID, t2.Name, gatehouse.TeamOwner}, {t3.ID, t3.Name, ""}}},
			{"every team, second page", list(b.ID, true, t1.ID, 1), []row{{t2.ID, t2.Name, gatehouse.TeamOwner}}},
		} {
			if !slices.Equal(tc.got, tc.want) {
				t.Errorf("%s = %+v, want %+v", tc.name, tc.got, tc.want)
			}
		}
		for _, tc := range []struct {
			team, user int64
			want       gatehouse.TeamRole
		}{
			{t1.ID, a.ID, gatehouse.TeamOwner},
			{t1.ID, b.ID, gatehouse.TeamViewer},
			{t3.ID, b.ID, ""},
			{t3.ID + 1000, a.ID, ""},
		} {
			if got, err := s.TeamRole(ctx, tc.team, tc.user); err != nil || got != tc.want {
				t.Errorf("TeamRole(team %d, user %d) = %q, %v; want %q", tc.team, tc.user, got, err, tc.want)
			}
		}
	})
}
