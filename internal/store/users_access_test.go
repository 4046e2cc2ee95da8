package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// events returns the event names about subject, oldest first.
func events(t *testing.T, s *store.Store, subject int64) []string {
	t.Helper()
	evs, _, err := s.ListAuditPage(context.Background(), store.AuditQuery{SubjectID: subject, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Event)
	}
	return out
}

func mailTo(t *testing.T, s *store.Store, to string) int {
	t.Helper()
	ms, _, err := s.ListMailPage(context.Background(), store.MailQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.To == to {
			n++
		}
	}
	return n
}

// An administrator's account is created with its confirmation token, event and mail in one
// transaction: all of them, or (a taken address) none.
func TestCreateAccount(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		admin := mkUser(t, s, "admin@example.com", true, gatehouse.RoleAdmin)
		account := func(email string) gatehouse.NewAccount {
			return gatehouse.NewAccount{
				User:         &gatehouse.User{Email: email, PasswordHash: "x", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}},
				Confirmation: &gatehouse.OneTimeToken{TokenHash: "tok-" + email, CodeHash: "code-" + email, ExpiresAt: time.Now().Add(time.Hour)},
				Audit:        gatehouse.AuditEvent{Event: gatehouse.AuditUserCreated, ActorID: &admin.ID, Detail: "by an administrator"},
				Mail:         &gatehouse.OutboxMail{To: "ignored@example.com", Subject: "Confirm", Text: "link"},
			}
		}
		a := account("new@example.com")
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		u := a.User
		if u.ID == 0 || u.SecurityStamp == "" || u.CreatedAt.IsZero() {
			t.Fatalf("the caller's user was not filled in: %+v", u)
		}
		if got := events(t, s, u.ID); !slices.Equal(got, []string{gatehouse.AuditUserCreated}) {
			t.Errorf("events = %v", got)
		}
		if mailTo(t, s, "new@example.com") != 1 || mailTo(t, s, "ignored@example.com") != 0 {
			t.Error("the mail did not go to the account's address")
		}
		if confirmed, err := s.ConfirmWithToken(ctx, "tok-new@example.com"); err != nil || confirmed.ID != u.ID {
			t.Errorf("the confirmation token: %v, %v", confirmed, err)
		}

		// A taken address writes nothing at all.
		taken := account("NEW@example.com")
		taken.Confirmation.TokenHash = "tok-taken"
		if err := s.CreateAccount(ctx, taken); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("taken address: %v", err)
		}
		if n := mailTo(t, s, "NEW@example.com"); n != 0 {
			t.Errorf("%d mails for a refused account", n)
		}
		if _, err := s.ConfirmWithToken(ctx, "tok-taken"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("a refused account's token exists: %v", err)
		}
		evs, _, _ := s.ListAuditPage(ctx, store.AuditQuery{Event: gatehouse.AuditUserCreated, Limit: 100})
		if len(evs) != 1 {
			t.Errorf("%d user_created events, want 1", len(evs))
		}
		// Without confirmation or mail, only the account and its event.
		plain := account("plain@example.com")
		plain.Confirmation, plain.Mail = nil, nil
		if err := s.CreateAccount(ctx, plain); err != nil || mailTo(t, s, "plain@example.com") != 0 {
			t.Fatalf("plain account: %v", err)
		}
	})
}

// The audited writes of the administration record their events with the change, and nothing
// when the change fails or changes nothing.
func TestAuditedAdminWrites(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		admin := mkUser(t, s, "admin@example.com", true, gatehouse.RoleAdmin)
		u := mkUser(t, s, "u@example.com", true, gatehouse.RoleViewer)
		ev := func(event string) gatehouse.AuditEvent {
			return gatehouse.AuditEvent{Event: event, SubjectID: &u.ID, ActorID: &admin.ID}
		}
		calls := 0
		audit := func(before, after *gatehouse.User) []gatehouse.AuditEvent {
			calls++
			if before.Active == after.Active {
				t.Errorf("audit called for %+v -> %+v", before, after)
			}
			return []gatehouse.AuditEvent{ev(gatehouse.AuditUserDeactivated), ev(gatehouse.AuditUserUpdated)}
		}
		no := false
		if _, _, err := s.AdminUpdateUser(ctx, u.ID, store.UserChange{Active: &no}, nil, audit); err != nil {
			t.Fatal(err)
		}
		// Nothing changes the second time: no events.
		if _, _, err := s.AdminUpdateUser(ctx, u.ID, store.UserChange{Active: &no}, nil, audit); err != nil || calls != 1 {
			t.Fatalf("unchanged: %v, audit called %d times", err, calls)
		}
		// A refused change (the last admin) records nothing.
		if _, _, err := s.AdminUpdateUser(ctx, admin.ID, store.UserChange{Active: &no}, nil, audit); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("last admin: %v", err)
		}
		if err := s.ResetAccessAudited(ctx, u.ID, store.NewSecurityStamp(), "reset_access", ev(gatehouse.AuditResetAccess)); err != nil {
			t.Fatal(err)
		}
		if err := s.ResetAccessAudited(ctx, 999999, store.NewSecurityStamp(), "reset_access", ev("not_recorded")); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("reset access of no user: %v", err)
		}
		if _, err := s.RecordFailure(ctx, "login:u", time.Hour, func(int, time.Time) (*time.Time, *time.Time) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearThrottleAudited(ctx, []string{"login:u", "change:u"}, ev(gatehouse.AuditUnlock)); err != nil {
			t.Fatal(err)
		}
		if st, err := s.Throttle(ctx, "login:u"); err != nil || st["login:u"].Failures != 0 {
			t.Fatalf("throttle after unlock: %+v, %v", st, err)
		}
		if _, err := s.AdminDeleteUser(ctx, u.ID, nil, func(d *gatehouse.User) gatehouse.AuditEvent { return ev(gatehouse.AuditUserDeleted) }); err != nil {
			t.Fatal(err)
		}
		want := []string{gatehouse.AuditUserDeactivated, gatehouse.AuditUserUpdated, gatehouse.AuditResetAccess, gatehouse.AuditUnlock, gatehouse.AuditUserDeleted}
		if got := events(t, s, u.ID); !slices.Equal(got, want) {
			t.Errorf("events = %v, want %v", got, want)
		}
		if got := events(t, s, admin.ID); len(got) != 0 {
			t.Errorf("events about the refused change: %v", got)
		}
	})
}

// A two-factor reset removes the factors, ends the sessions but the kept one, and records its
// event and notice in one transaction: a failure anywhere leaves everything as it was.
func TestResetTwoFactorAudited(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		u := mkUser(t, s, "u@example.com", true)
		for _, id := range []string{"keep", "other"} {
			sess := &gatehouse.Session{ID: id, UserID: u.ID, Scope: "read", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
			if err := s.CreateSession(ctx, sess, "refresh-"+id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddRecoveryCodesIfNone(ctx, u.ID, []string{"h1", "h2"}); err != nil {
			t.Fatal(err)
		}
		audit := func(v *gatehouse.User, keys int64) gatehouse.AuditEvent {
			if v.ID != u.ID || keys != 0 {
				t.Errorf("audit of %d with %d keys", v.ID, keys)
			}
			return gatehouse.AuditEvent{Event: gatehouse.AuditTwoFactorReset, SubjectID: &v.ID}
		}
		boom := errors.New("the notice could not be made")
		if err := s.ResetTwoFactorAudited(ctx, u.ID, "keep", audit, func(*gatehouse.User) (*gatehouse.OutboxMail, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Fatalf("failing notice: %v", err)
		}
		tf, err := s.TwoFactorOf(ctx, u.ID)
		if err != nil || tf.RecoveryCodesLeft != 2 {
			t.Fatalf("a failed reset removed the codes: %+v, %v", tf, err)
		}
		if active, _ := s.ActiveSessions(ctx, u.ID); len(active) != 2 || len(events(t, s, u.ID)) != 0 {
			t.Fatalf("a failed reset ended sessions (%d left) or left events", len(active))
		}

		notice := func(v *gatehouse.User) (*gatehouse.OutboxMail, error) {
			return &gatehouse.OutboxMail{Subject: "Second factors removed", Text: "notice"}, nil
		}
		if err := s.ResetTwoFactorAudited(ctx, u.ID, "keep", audit, notice); err != nil {
			t.Fatal(err)
		}
		if tf, _ := s.TwoFactorOf(ctx, u.ID); tf.RecoveryCodesLeft != 0 {
			t.Errorf("codes left after the reset: %d", tf.RecoveryCodesLeft)
		}
		active, err := s.ActiveSessions(ctx, u.ID)
		if err != nil || len(active) != 1 || active[0].ID != "keep" {
			t.Errorf("sessions after the reset: %v, %v", active, err)
		}
		if got := events(t, s, u.ID); !slices.Equal(got, []string{gatehouse.AuditTwoFactorReset}) || mailTo(t, s, u.Email) != 1 {
			t.Errorf("events %v, mails %d", got, mailTo(t, s, u.Email))
		}
		if err := s.ResetTwoFactorAudited(ctx, 999999, "", audit, nil); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("reset of no user: %v", err)
		}
	})
}
