package users_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/users"
)

var (
	ctx     = context.Background()
	client  = auth.Client{IP: "192.0.2.7", UserAgent: "test"}
	fixedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func principal(id int64, roles []gatehouse.Role, scopes ...gatehouse.Scope) *gatehouse.Principal {
	return &gatehouse.Principal{User: &gatehouse.User{ID: id, Email: "caller@example.com", Roles: roles, Active: true}, Scopes: scopes, SessionID: "sess-1"}
}

var (
	admin      = principal(1, []gatehouse.Role{gatehouse.RoleAdmin}, gatehouse.ScopeRead, gatehouse.ScopeWrite, gatehouse.ScopeAdmin)
	adminRW    = principal(1, []gatehouse.Role{gatehouse.RoleAdmin}, gatehouse.ScopeRead, gatehouse.ScopeWrite)
	maintainer = principal(2, []gatehouse.Role{gatehouse.RoleMaintainer}, gatehouse.ScopeRead, gatehouse.ScopeWrite)
)

func newService(st *fakeStore, acc *fakeAccounts) *users.Service {
	return users.New(users.Options{Store: st, Accounts: acc, NewStamp: func() string { return "new-stamp" }, Now: func() time.Time { return fixedAt }})
}

func target() *gatehouse.User {
	return &gatehouse.User{ID: 7, Email: "target@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
}

// Every operation decides before it looks at its input or the store: a caller who may not act
// gets 403 (or insufficient_scope) whatever the id or the body, and the store is not asked.
func TestDecisionComesFirst(t *testing.T) {
	bad := gatehouse.FieldError("email", "is required")
	ops := map[string]func(*users.Service, *gatehouse.Principal) error{
		"list": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.List(ctx, p, users.Query{UserQuery: gatehouse.UserQuery{Limit: 5}, Invalid: bad})
			return err
		},
		"create": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.Create(ctx, p, users.NewUser{Invalid: bad}, client)
			return err
		},
		"get": func(s *users.Service, p *gatehouse.Principal) error { _, err := s.Get(ctx, p, 0); return err },
		"update": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.Update(ctx, p, 0, users.Change{Invalid: bad}, client)
			return err
		},
		"delete":       func(s *users.Service, p *gatehouse.Principal) error { return s.Delete(ctx, p, 999, nil, client) },
		"reset access": func(s *users.Service, p *gatehouse.Principal) error { return s.ResetAccess(ctx, p, 999, client) },
		"unlock":       func(s *users.Service, p *gatehouse.Principal) error { return s.Unlock(ctx, p, 999, client) },
		"reset 2fa":    func(s *users.Service, p *gatehouse.Principal) error { return s.ResetTwoFactor(ctx, p, 999, client) },
		"outbox": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.Outbox(ctx, p, users.OutboxQuery{Invalid: bad})
			return err
		},
		"audit": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.Audit(ctx, p, users.AuditQuery{Invalid: bad})
			return err
		},
		"license": func(s *users.Service, p *gatehouse.Principal) error { _, err := s.License(ctx, p); return err },
		"by email": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.ByEmail(ctx, p, "a@example.com")
			return err
		},
		"sessions":    func(s *users.Service, p *gatehouse.Principal) error { _, err := s.Sessions(ctx, p, 7); return err },
		"end session": func(s *users.Service, p *gatehouse.Principal) error { return s.EndSession(ctx, p, 7, "s", client) },
		"api keys":    func(s *users.Service, p *gatehouse.Principal) error { _, err := s.APIKeys(ctx, p, 7); return err },
		"revoke key":  func(s *users.Service, p *gatehouse.Principal) error { return s.RevokeAPIKey(ctx, p, 7, 3, client) },
		"retry mail": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.RetryMail(ctx, p, 7, client)
			return err
		},
		"list (no input)": func(s *users.Service, p *gatehouse.Principal) error {
			_, err := s.List(ctx, p, users.Query{})
			return err
		},
	}
	for name, op := range ops {
		st := newFakeStore(target())
		s := newService(st, &fakeAccounts{})
		if err := op(s, maintainer); gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			t.Errorf("%s as a maintainer: %v, want forbidden", name, err)
		}
		err := op(s, adminRW)
		if e, ok := errors.AsType[*gatehouse.Error](err); !ok || e.Reason != "insufficient_scope" {
			t.Errorf("%s as an admin without the admin scope: %v, want insufficient_scope", name, err)
		}
		if err := op(s, nil); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Errorf("%s without a principal: %v", name, err)
		}
		if len(st.calls) != 0 {
			t.Errorf("%s: refused callers reached the store: %v", name, st.calls)
		}
	}
	// An allowed caller gets the verdict on its input, or not found for an id that names no user.
	s := newService(newFakeStore(target()), &fakeAccounts{})
	if _, err := s.Create(ctx, admin, users.NewUser{Invalid: bad}, client); !errors.Is(err, bad) {
		t.Errorf("create with a bad body as admin: %v", err)
	}
	for name, err := range map[string]error{
		"get 0":    func() error { _, err := s.Get(ctx, admin, 0); return err }(),
		"update 0": func() error { _, err := s.Update(ctx, admin, 0, users.Change{Invalid: bad}, client); return err }(),
		"delete 0": s.Delete(ctx, admin, 0, nil, client),
		"reset 0":  s.ResetAccess(ctx, admin, -1, client),
		"unlock 0": s.Unlock(ctx, admin, 0, client),
		"2fa 0":    s.ResetTwoFactor(ctx, admin, 0, client),
	} {
		if gatehouse.ErrorCode(err) != gatehouse.ENotFound || gatehouse.ErrorMessage(err) != "user not found" {
			t.Errorf("%s as admin: %v, want user not found", name, err)
		}
	}
	// The id is checked before the body, as the path comes before the body.
	if _, err := s.Update(ctx, admin, 7, users.Change{Invalid: bad}, client); !errors.Is(err, bad) {
		t.Errorf("update with a bad body as admin: %v", err)
	}
}

// Lists are fetched one past the page, so that the transport knows whether another follows.
func TestListsFetchOnePastThePage(t *testing.T) {
	st := newFakeStore(target())
	s := newService(st, &fakeAccounts{})
	if _, err := s.List(ctx, admin, users.Query{UserQuery: gatehouse.UserQuery{Limit: 10}}); err != nil || st.lastLimit != 11 {
		t.Errorf("List(limit 10) asked the store for %d (%v)", st.lastLimit, err)
	}
	if _, err := s.Outbox(ctx, admin, users.OutboxQuery{MailQuery: gatehouse.MailQuery{Limit: 3}}); err != nil || st.lastLimit != 4 {
		t.Errorf("Outbox(limit 3) asked the store for %d (%v)", st.lastLimit, err)
	}
	if _, err := s.Audit(ctx, admin, users.AuditQuery{AuditQuery: gatehouse.AuditQuery{Limit: 100}}); err != nil || st.lastLimit != 101 {
		t.Errorf("Audit(limit 100) asked the store for %d (%v)", st.lastLimit, err)
	}
}

func TestCreate(t *testing.T) {
	t.Run("confirmed", func(t *testing.T) {
		st, acc := newFakeStore(), &fakeAccounts{confirmable: true}
		s := newService(st, acc)
		u, err := s.Create(ctx, admin, users.NewUser{Email: " new@example.com ", Password: "long enough", Roles: []gatehouse.Role{gatehouse.RoleViewer, gatehouse.RoleAdmin}, Confirmed: true, MustChangePassword: true}, client)
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "new@example.com" || u.ConfirmedAt == nil || !u.ConfirmedAt.Equal(fixedAt) || !u.MustChangePassword || u.PasswordHash != "hash:long enough" {
			t.Errorf("created %+v", u)
		}
		if len(st.mail) != 0 || len(st.tokens) != 0 || acc.woken != 0 {
			t.Errorf("a confirmed account got a confirmation: %v %v", st.mail, st.tokens)
		}
		if len(st.audit) != 1 {
			t.Fatalf("events: %+v", st.audit)
		}
		ev := st.audit[0]
		if ev.Event != gatehouse.AuditUserCreated || *ev.SubjectID != u.ID || *ev.ActorID != 1 || ev.IP != client.IP || ev.UserAgent != client.UserAgent ||
			ev.Detail != "by an administrator; roles: admin,viewer" {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("unconfirmed", func(t *testing.T) {
		st, acc := newFakeStore(), &fakeAccounts{confirmable: true}
		s := newService(st, acc)
		u, err := s.Create(ctx, admin, users.NewUser{Email: "new@example.com", Password: "long enough"}, client)
		if err != nil {
			t.Fatal(err)
		}
		// The account, its token, its event and its mail went to the store in one call (one
		// transaction), and the dispatcher was woken after it.
		if !slices.Equal(st.calls, []string{"CreateAccount", "UserByID"}) || len(st.tokens) != 1 || len(st.mail) != 1 || st.mail[0].To != u.Email || acc.woken != 1 {
			t.Errorf("calls %v, tokens %v, mail %v, woken %d", st.calls, st.tokens, st.mail, acc.woken)
		}
		if u.ConfirmedAt != nil || st.audit[0].Detail != "by an administrator; roles: (none)" {
			t.Errorf("created %+v, event %+v", u, st.audit[0])
		}
	})
	t.Run("refused", func(t *testing.T) {
		st := newFakeStore()
		s := newService(st, &fakeAccounts{weak: "weak"})
		for _, tc := range []struct {
			in    users.NewUser
			field string
		}{
			{users.NewUser{Email: "", Password: "long enough"}, "email"},
			{users.NewUser{Email: "not an address", Password: "long enough"}, "email"},
			{users.NewUser{Email: "ip@[127.0.0.1]", Password: "long enough"}, "email"},
			{users.NewUser{Email: "new@example.com"}, "password"},
			{users.NewUser{Email: "new@example.com", Password: "weak"}, "password"},
		} {
			if _, err := s.Create(ctx, admin, tc.in, client); gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)[tc.field] == "" {
				t.Errorf("Create(%+v) = %v, want a problem with %s", tc.in, err, tc.field)
			}
		}
		if len(st.calls) != 0 {
			t.Errorf("refused creations reached the store: %v", st.calls)
		}
	})
}

func TestUpdateEvents(t *testing.T) {
	st := newFakeStore(target())
	s := newService(st, &fakeAccounts{})
	email, no, yes := "Renamed@example.com", false, true
	roles := []gatehouse.Role{gatehouse.RoleMaintainer}
	u, err := s.Update(ctx, admin, 7, users.Change{UserChange: gatehouse.UserChange{Email: &email, Roles: &roles, Active: &no, MustChangePassword: &yes}}, client)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != email || u.Active || !slices.Equal(u.Roles, roles) {
		t.Errorf("after: %+v", u)
	}
	var got []string
	for _, ev := range st.audit {
		if *ev.ActorID != 1 || *ev.SubjectID != 7 || ev.IP != client.IP || ev.Email != email {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.Event+": "+ev.Detail)
	}
	want := []string{
		gatehouse.AuditRoleChange + ": roles: viewer -> maintainer",
		gatehouse.AuditUserDeactivated + ": every session ended",
		gatehouse.AuditUserUpdated + ": email: target@example.com -> Renamed@example.com; must_change_password: false -> true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A bad new address is refused before the store is asked.
	st.calls = nil
	bad := "no"
	if _, err := s.Update(ctx, admin, 7, users.Change{UserChange: gatehouse.UserChange{Email: &bad}}, client); gatehouse.ErrorFields(err)["email"] == "" || len(st.calls) != 0 {
		t.Errorf("bad email: %v, calls %v", err, st.calls)
	}
	// If-Match is the store's to check, inside the transaction.
	stale := errors.New("stale")
	if _, err := s.Update(ctx, admin, 7, users.Change{UserChange: gatehouse.UserChange{Active: &yes}, IfMatch: func(*gatehouse.User) error { return stale }}, client); !errors.Is(err, stale) {
		t.Errorf("precondition: %v", err)
	}
}

func TestDeleteResetUnlock(t *testing.T) {
	st, acc := newFakeStore(target(), &gatehouse.User{ID: 1, Email: "caller@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}), &fakeAccounts{mailer: true}
	s := newService(st, acc)
	if err := s.ResetAccess(ctx, admin, 7, client); err != nil || st.users[7].SecurityStamp != "new-stamp" {
		t.Fatalf("reset access: %v", err)
	}
	if err := s.Unlock(ctx, admin, 7, client); err != nil || !slices.Equal(st.cleared, []string{"login:target@example.com", "change:target@example.com"}) {
		t.Fatalf("unlock: %v, cleared %v", err, st.cleared)
	}
	if err := s.ResetTwoFactor(ctx, admin, 7, client); err != nil || st.kept != "" || len(st.mail) != 1 || acc.woken != 1 {
		t.Fatalf("2FA reset of another user: %v, kept %q, mail %v", err, st.kept, st.mail)
	}
	// An admin resetting their own factors stays signed in where they asked.
	if err := s.ResetTwoFactor(ctx, admin, 1, client); err != nil || st.kept != "sess-1" {
		t.Fatalf("own 2FA reset: %v, kept %q", err, st.kept)
	}
	if err := s.Delete(ctx, admin, 7, nil, client); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range st.audit {
		got = append(got, ev.Event+": "+ev.Detail)
		if *ev.ActorID != 1 || ev.IP != client.IP {
			t.Errorf("event %+v", ev)
		}
	}
	want := []string{
		gatehouse.AuditResetAccess + ": ",
		gatehouse.AuditUnlock + ": ",
		gatehouse.AuditTwoFactorReset + ": every second factor removed by an administrator (2 security keys)",
		gatehouse.AuditTwoFactorReset + ": every second factor removed by an administrator (2 security keys)",
		gatehouse.AuditUserDeleted + ": roles: viewer",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := s.Delete(ctx, admin, 7, nil, client); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Errorf("deleting again: %v", err)
	}
}

func TestLicenseNotConfigured(t *testing.T) {
	s := newService(newFakeStore(), &fakeAccounts{})
	if _, err := s.License(ctx, admin); gatehouse.ErrorCode(err) != gatehouse.EUnavailable {
		t.Errorf("License without a client: %v", err)
	}
}
