package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The user list's filters for a second factor (an app, codes by email, or a security key) and
// for SSO-only accounts, alone and together.
func TestListUsersTwoFactorAndSSOFilters(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		app, mail, key, none, sso, pending := mkUser(t, s, "app@example.com", true), mkUser(t, s, "mail@example.com", true),
			mkUser(t, s, "key@example.com", true), mkUser(t, s, "none@example.com", true), mkUser(t, s, "sso@example.com", true),
			mkUser(t, s, "pending@example.com", true)
		if _, _, err := s.AdminUpdateUser(ctx, app.ID, gatehouse.UserChange{Confirmed: ptr(true)}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPendingTOTP(ctx, app.ID, "sealed"); err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmTOTP(ctx, app.ID, "sealed", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPendingTOTP(ctx, pending.ID, "sealed"); err != nil { // never confirmed: no factor
			t.Fatal(err)
		}
		if _, err := s.SetEmailTwoFactor(ctx, mail.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveWebAuthnRegistration(ctx, key.ID, "chal", `{"challenge":"chal"}`, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteWebAuthnRegistration(ctx, "chal", &store.WebAuthnCredential{UserID: key.ID, CredentialID: []byte{1, 2, 3},
			PublicKey: []byte{4}, AttestationType: "none", AttestationFormat: "none", AAGUID: "00000000-0000-0000-0000-000000000000", Name: "k"}, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetSSOOnly(ctx, sso.ID, true); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		list := func(q gatehouse.UserQuery) []int64 {
			t.Helper()
			q.Limit, q.Sort = 100, gatehouse.DefaultUserSort
			us, _, err := s.ListUsersPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return userIDs(us)
		}
		for name, c := range map[string]struct {
			q    gatehouse.UserQuery
			want []int64
		}{
			"with a second factor":    {gatehouse.UserQuery{TwoFactor: &yes}, []int64{app.ID, mail.ID, key.ID}},
			"without":                 {gatehouse.UserQuery{TwoFactor: &no}, []int64{none.ID, sso.ID, pending.ID}},
			"SSO only":                {gatehouse.UserQuery{SSOOnly: &yes}, []int64{sso.ID}},
			"not SSO only, no factor": {gatehouse.UserQuery{SSOOnly: &no, TwoFactor: &no}, []int64{none.ID, pending.ID}},
			"confirmed":               {gatehouse.UserQuery{Confirmed: &yes}, []int64{app.ID}},
			"not confirmed":           {gatehouse.UserQuery{Confirmed: &no, SSOOnly: &no}, []int64{mail.ID, key.ID, none.ID, pending.ID}},
		} {
			if got := list(c.q); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
	})
}

// The user list's filter for locked accounts: a lockout recorded on the account counts until it
// ends, and an unlock or a password reset lifts it.
func TestListUsersLockedFilter(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		locked, expired, reset, free := mkUser(t, s, "locked@example.com", true), mkUser(t, s, "expired@example.com", true),
			mkUser(t, s, "reset@example.com", true), mkUser(t, s, "free@example.com", true)
		now := time.Now()
		for _, c := range []struct {
			id    int64
			until time.Time
		}{{locked.ID, now.Add(time.Hour)}, {expired.ID, now.Add(-time.Minute)}, {reset.ID, now.Add(time.Hour)}} {
			if err := s.LockUserAudited(ctx, c.id, c.until, gatehouse.AuditEvent{Event: gatehouse.AuditLockout, SubjectID: &c.id}); err != nil {
				t.Fatal(err)
			}
		}
		// A shorter lockout recorded later never shortens a running one.
		if err := s.LockUserAudited(ctx, locked.ID, now.Add(time.Minute), gatehouse.AuditEvent{Event: gatehouse.AuditLockout, SubjectID: &locked.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearLockout(ctx, reset.ID, "login:acct:none"); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		list := func(q gatehouse.UserQuery) []int64 {
			t.Helper()
			q.Limit, q.Sort = 100, gatehouse.DefaultUserSort
			us, _, err := s.ListUsersPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return userIDs(us)
		}
		if got, want := list(gatehouse.UserQuery{Locked: &yes}), []int64{locked.ID}; !slices.Equal(got, want) {
			t.Errorf("locked: %v, want %v", got, want)
		}
		if got, want := list(gatehouse.UserQuery{Locked: &no, EmailContains: "@example.com"}), []int64{expired.ID, reset.ID, free.ID}; !slices.Equal(got, want) {
			t.Errorf("not locked: %v, want %v", got, want)
		}
		u, err := s.UserByID(ctx, locked.ID)
		if err != nil || u.LockedUntil == nil || !u.Locked(now) || u.LockedUntil.Before(now.Add(59*time.Minute)) {
			t.Fatalf("locked user: %v %v", u.LockedUntil, err)
		}
		if err := s.ClearThrottleAudited(ctx, []string{"login:acct:x"}, gatehouse.AuditEvent{Event: gatehouse.AuditUnlock, SubjectID: &locked.ID}); err != nil {
			t.Fatal(err)
		}
		if got := list(gatehouse.UserQuery{Locked: &yes}); len(got) != 0 {
			t.Errorf("after the unlock, locked: %v", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }
