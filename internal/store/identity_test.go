package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func reasonOf(err error) string {
	if e, ok := errors.AsType[*gatehouse.Error](err); ok {
		return e.Reason
	}
	return ""
}

func TestIdentities(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))

		// A just-in-time account and its identity are made together.
		u := &gatehouse.User{Email: "Jit@Example.com", Active: true, SSOOnly: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
		subject := `Ünïcode 'sub' "with" \ quotes; -- and a tail`
		id := &store.Identity{Provider: "oidc:corp", Subject: subject, Email: "jit@example.com"}
		if err := s.CreateExternalUser(ctx, u, id); err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || id.ID == 0 || id.UserID != u.ID || id.LastLoginAt == nil {
			t.Fatalf("user %+v identity %+v", u, id)
		}
		got, gotID, err := s.IdentityUser(ctx, "oidc:corp", subject)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !got.SSOOnly || gotID.Subject != subject || gotID.Email != "jit@example.com" || !gotID.CreatedAt.Equal(clk.Now().UTC()) {
			t.Fatalf("IdentityUser = %+v, %+v", got, gotID)
		}
		// Subjects are case-sensitive, and belong to one provider.
		for _, probe := range [][2]string{{"oidc:corp", "ünïcode 'sub' \"with\" \\ quotes; -- and a tail"}, {"oidc:other", subject}, {"saml", subject}} {
			if _, _, err := s.IdentityUser(ctx, probe[0], probe[1]); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
				t.Errorf("IdentityUser(%q, %q) = %v; want not found", probe[0], probe[1], err)
			}
		}

		// The same subject again, racing first sign-ins: a conflict, and no second account.
		dup := &gatehouse.User{Email: "other@example.com", Active: true}
		err = s.CreateExternalUser(ctx, dup, &store.Identity{Provider: "oidc:corp", Subject: subject})
		if gatehouse.ErrorCode(err) != gatehouse.EConflict || reasonOf(err) != "identity_taken" {
			t.Fatalf("duplicate subject: %v", err)
		}
		if _, err := s.UserByEmail(ctx, "other@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("the account of a refused identity exists: %v", err)
		}
		// A taken email: a conflict, and no identity left behind.
		err = s.CreateExternalUser(ctx, &gatehouse.User{Email: "jit@example.COM", Active: true}, &store.Identity{Provider: "saml", Subject: "x"})
		if gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("taken email: %v", err)
		}
		if _, _, err := s.IdentityUser(ctx, "saml", "x"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("identity of a refused account: %v", err)
		}
		// Bad input names the field and changes nothing.
		for _, bad := range []*store.Identity{{Provider: "", Subject: "s"}, {Provider: "saml", Subject: ""}, {Provider: "saml", Subject: string(make([]byte, 256))}} {
			err := s.CreateExternalUser(ctx, &gatehouse.User{Email: "bad@example.com", Active: true}, bad)
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid || len(gatehouse.ErrorFields(err)) != 1 {
				t.Errorf("identity %+v: %v", bad, err)
			}
		}

		// Linking an existing, never-confirmed account confirms its address, after taking away
		// what its registrant set: the password, the security stamp (so every token), the API
		// keys; the audit events the caller asks for commit with it.
		local := &gatehouse.User{Email: "local@example.com", Active: true, PasswordHash: "$2a$04$registrant", PasswordScheme: "bcrypt"}
		if err := s.CreateUser(ctx, local); err != nil {
			t.Fatal(err)
		}
		key := &gatehouse.APIKey{UserID: local.ID, Name: "registrant's key", Prefix: "gh_reg", Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: "stamp-1"}
		if err := s.CreateAPIKey(ctx, key, "registrant-key-hash"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		link := &store.Identity{UserID: local.ID, Provider: "saml", Subject: "local-nameid", Email: "local@example.com"}
		refused := gatehouse.Errorf(gatehouse.EForbidden, "refused by the check")
		if _, err := s.LinkIdentity(ctx, link, store.LinkOptions{NewStamp: "stamp-2", Check: func(*gatehouse.User) error { return refused }}); gatehouse.ErrorCode(err) != gatehouse.EForbidden || gatehouse.ErrorMessage(err) != "refused by the check" {
			t.Fatalf("a refusing check: %v", err)
		}
		if still, _ := s.UserByID(ctx, local.ID); still.PasswordHash == "" || still.ConfirmedAt != nil {
			t.Fatalf("a refused link changed the account: %+v", still)
		}
		out, err := s.LinkIdentity(ctx, link, store.LinkOptions{NewStamp: "stamp-2", Audit: func(o store.LinkOutcome) []gatehouse.AuditEvent {
			return []gatehouse.AuditEvent{{Event: gatehouse.AuditSSOLinkSecured, SubjectID: &o.User.ID, Detail: fmt.Sprintf("keys %d", o.APIKeysRevoked)}}
		}})
		if err != nil {
			t.Fatal(err)
		}
		after, err := s.UserByID(ctx, local.ID)
		if err != nil || after.ConfirmedAt == nil || !after.ConfirmedAt.Equal(clk.Now().UTC()) || after.SSOOnly || after.PasswordHash != "" || after.SecurityStamp != "stamp-2" {
			t.Fatalf("linked user = %+v, %v", after, err)
		}
		if !out.Secured || !out.HadPassword || out.APIKeysRevoked != 1 || out.User.ID != local.ID {
			t.Fatalf("outcome = %+v", out)
		}
		if k, _, err := s.APIKeyBySecret(ctx, "registrant-key-hash"); err != nil || k.RevokedAt == nil {
			t.Fatalf("the registrant's API key: %+v, %v", k, err)
		}
		if evs, _ := s.AuditEvents(ctx, local.ID, gatehouse.AuditSSOLinkSecured, 10); len(evs) != 1 || evs[0].Detail != "keys 1" {
			t.Fatalf("audit = %+v", evs)
		}
		// A confirmed account keeps its password and stamp.
		now := clk.Now().Add(-time.Hour)
		confirmed := &gatehouse.User{Email: "confirmed@example.com", Active: true, PasswordHash: "$2a$04$owner", PasswordScheme: "bcrypt", ConfirmedAt: &now}
		if err := s.CreateUser(ctx, confirmed); err != nil {
			t.Fatal(err)
		}
		owner, _ := s.UserByID(ctx, confirmed.ID)
		if out, err := s.LinkIdentity(ctx, &store.Identity{UserID: confirmed.ID, Provider: "saml", Subject: "confirmed"}, store.LinkOptions{NewStamp: "stamp-3"}); err != nil || out.Secured {
			t.Fatalf("link of a confirmed account: %+v, %v", out, err)
		}
		if kept, _ := s.UserByID(ctx, confirmed.ID); kept.PasswordHash != owner.PasswordHash || kept.SecurityStamp != owner.SecurityStamp || !kept.ConfirmedAt.Equal(*owner.ConfirmedAt) {
			t.Fatalf("a confirmed account changed: %+v", kept)
		}
		if _, err := s.LinkIdentity(ctx, &store.Identity{UserID: u.ID, Provider: "saml", Subject: "local-nameid"}, store.LinkOptions{NewStamp: "x"}); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("linking a linked subject: %v", err)
		}
		if _, err := s.LinkIdentity(ctx, &store.Identity{UserID: 999999, Provider: "saml", Subject: "nobody"}, store.LinkOptions{NewStamp: "x"}); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("linking to an unknown user: %v", err)
		}

		clk.Advance(time.Hour)
		if err := s.TouchIdentity(ctx, link.ID, "renamed@example.com"); err != nil {
			t.Fatal(err)
		}
		ids, err := s.Identities(ctx, local.ID)
		if err != nil || len(ids) != 1 || ids[0].Email != "renamed@example.com" || !ids[0].LastLoginAt.Equal(clk.Now().UTC()) {
			t.Fatalf("Identities = %+v, %v", ids, err)
		}
		if _, err := s.UnlinkIdentity(ctx, u.ID, link.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unlinking another user's identity: %v", err)
		}
		if gone, err := s.UnlinkIdentity(ctx, local.ID, link.ID); err != nil || gone.Subject != "local-nameid" {
			t.Fatalf("UnlinkIdentity = %+v, %v", gone, err)
		}
		if ids, err := s.Identities(ctx, local.ID); err != nil || len(ids) != 0 {
			t.Fatalf("after unlink: %+v, %v", ids, err)
		}

		// The SSO-only flag round-trips.
		before, err := s.SetSSOOnly(ctx, local.ID, true)
		if err != nil || before.SSOOnly {
			t.Fatalf("SetSSOOnly = %+v, %v", before, err)
		}
		if again, err := s.UserByEmail(ctx, "local@example.com"); err != nil || !again.SSOOnly {
			t.Fatalf("after SetSSOOnly: %+v, %v", again, err)
		}
		if _, err := s.SetSSOOnly(ctx, 999999, true); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("SetSSOOnly of an unknown user: %v", err)
		}

		// Deleting the account deletes its identities.
		if _, err := s.DeleteUser(ctx, u.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.IdentityUser(ctx, "oidc:corp", subject); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("identity of a deleted user: %v", err)
		}
	})
}

func TestSyncExternalAccess(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		mk := func(email string, roles ...gatehouse.Role) *gatehouse.User {
			u := &gatehouse.User{Email: email, Active: true, Roles: roles}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		admin := mk("admin@example.com", gatehouse.RoleAdmin)
		sso := mk("sso@example.com", gatehouse.RoleViewer)
		roles := func(rs ...gatehouse.Role) *[]gatehouse.Role { return &rs }

		// Roles are replaced.
		ch, err := s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Roles: roles(gatehouse.RoleMaintainer, gatehouse.RoleMaintainer)})
		if err != nil || !slices.Equal(ch.RolesBefore, []gatehouse.Role{gatehouse.RoleViewer}) || !slices.Equal(ch.RolesAfter, []gatehouse.Role{gatehouse.RoleMaintainer}) || ch.KeptAdmin {
			t.Fatalf("roles: %+v, %v", ch, err)
		}
		// Nothing to change: nothing changes.
		if ch, err := s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Roles: roles(gatehouse.RoleMaintainer)}); err != nil || !slices.Equal(ch.RolesBefore, ch.RolesAfter) {
			t.Fatalf("same roles: %+v, %v", ch, err)
		}
		// The last active admin keeps the admin role; with another admin it goes.
		ch, err = s.SyncExternalAccess(ctx, admin.ID, store.ExternalAccess{Roles: roles(gatehouse.RoleViewer)})
		if err != nil || !ch.KeptAdmin || !slices.Contains(ch.RolesAfter, gatehouse.RoleAdmin) || !slices.Contains(ch.RolesAfter, gatehouse.RoleViewer) {
			t.Fatalf("last admin: %+v, %v", ch, err)
		}
		if _, err := s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Roles: roles(gatehouse.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		ch, err = s.SyncExternalAccess(ctx, admin.ID, store.ExternalAccess{Roles: roles(gatehouse.RoleViewer)})
		if err != nil || ch.KeptAdmin || !slices.Equal(ch.RolesAfter, []gatehouse.Role{gatehouse.RoleViewer}) {
			t.Fatalf("admin with another admin: %+v, %v", ch, err)
		}
		if _, err := s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Roles: roles("root")}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("unknown role: %v", err)
		}

		// Teams: by id and by exact name; add, change, remove; the last owner stays.
		eng := &gatehouse.Team{Name: "Engineering"}
		ops := &gatehouse.Team{Name: "Ops"}
		dupA, dupB := &gatehouse.Team{Name: "Twin"}, &gatehouse.Team{Name: "Twin"}
		for _, tm := range []*gatehouse.Team{eng, ops, dupA, dupB} {
			if err := s.CreateTeam(ctx, tm, admin.ID); err != nil {
				t.Fatal(err)
			}
		}
		ch, err = s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Teams: []store.TeamGrant{
			{TeamID: eng.ID, Role: gatehouse.TeamMember},
			{TeamName: "Ops", Role: gatehouse.TeamViewer},
			{TeamName: "Twin", Role: gatehouse.TeamMember},
			{TeamName: "Nope", Role: gatehouse.TeamMember},
			{TeamID: 987654, Role: gatehouse.TeamMember},
		}})
		if err != nil || len(ch.Teams) != 2 || ch.Teams[eng.ID] != [2]gatehouse.TeamRole{"", gatehouse.TeamMember} ||
			ch.Teams[ops.ID] != [2]gatehouse.TeamRole{"", gatehouse.TeamViewer} || len(ch.Skipped) != 3 {
			t.Fatalf("teams: %+v, %v", ch, err)
		}
		ch, err = s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Teams: []store.TeamGrant{
			{TeamID: eng.ID, Role: gatehouse.TeamAdmin}, {TeamID: ops.ID, Role: ""},
		}})
		if err != nil || ch.Teams[eng.ID] != [2]gatehouse.TeamRole{gatehouse.TeamMember, gatehouse.TeamAdmin} || ch.Teams[ops.ID] != [2]gatehouse.TeamRole{gatehouse.TeamViewer, ""} {
			t.Fatalf("team changes: %+v, %v", ch, err)
		}
		if r, err := s.TeamRole(ctx, ops.ID, sso.ID); err != nil || r != "" {
			t.Fatalf("still in ops: %q, %v", r, err)
		}
		// admin is the only owner of Engineering: a sign-in cannot take that away.
		ch, err = s.SyncExternalAccess(ctx, admin.ID, store.ExternalAccess{Teams: []store.TeamGrant{{TeamID: eng.ID, Role: gatehouse.TeamMember}}})
		if err != nil || len(ch.Teams) != 0 || len(ch.Skipped) != 1 {
			t.Fatalf("last owner: %+v, %v", ch, err)
		}
		if r, _ := s.TeamRole(ctx, eng.ID, admin.ID); r != gatehouse.TeamOwner {
			t.Fatalf("last owner is now %q", r)
		}
		if _, err := s.SyncExternalAccess(ctx, sso.ID, store.ExternalAccess{Teams: []store.TeamGrant{{TeamID: eng.ID, Role: "boss"}}}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("unknown team role: %v", err)
		}
	})
}

func TestConsumeOnce(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		exp := clk.Now().Add(5 * time.Minute)
		if err := s.ConsumeOnce(ctx, "id-1", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeOnce(ctx, "id-1", exp); gatehouse.ErrorCode(err) != gatehouse.EConflict || reasonOf(err) != "replayed" {
			t.Fatalf("replay: %v", err)
		}
		// Ids of any length and content are fine: only their hash is stored.
		long := string(make([]byte, 5000)) + "ü'\""
		if err := s.ConsumeOnce(ctx, long, exp); err != nil {
			t.Fatal(err)
		}

		// Many instances accepting the same assertion at once: exactly one wins.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := s.ConsumeOnce(ctx, "raced", exp); err == nil {
					wins.Add(1)
				} else if gatehouse.ErrorCode(err) != gatehouse.EConflict {
					t.Errorf("raced consume: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d consumers won", wins.Load())
		}

		// Expired records are purged; live ones stay.
		if err := s.ConsumeOnce(ctx, "later", clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Minute)
		if err := s.PurgeReplay(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeOnce(ctx, "later", clk.Now().Add(time.Hour)); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("a live record was purged: %v", err)
		}
		if err := s.ConsumeOnce(ctx, "id-1", clk.Now().Add(time.Hour)); err != nil {
			t.Fatalf("an expired record was kept: %v", err)
		}
	})
}
