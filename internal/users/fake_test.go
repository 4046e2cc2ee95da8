package users_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// fakeStore is users.Store in memory: enough of the data layer to check the service's rules
// (decisions, events, mails) without a database. The store's own rules (the last admin,
// confusable addresses, transactions) are checked by the store conformance suite on every
// engine.
type fakeStore struct {
	mu     sync.Mutex
	users  map[int64]*gatehouse.User
	nextID int64
	calls  []string
	audit  []gatehouse.AuditEvent
	mail   []gatehouse.OutboxMail
	tokens []gatehouse.OneTimeToken
	// lastLimit is the Limit of the last list asked for.
	lastLimit int
	// kept is the session kept by the last two-factor reset.
	kept string
	// cleared are the throttle keys of the last unlock.
	cleared []string
}

func newFakeStore(us ...*gatehouse.User) *fakeStore {
	f := &fakeStore{users: map[int64]*gatehouse.User{}, nextID: 100}
	for _, u := range us {
		c := *u
		f.users[u.ID] = &c
	}
	return f
}

func (f *fakeStore) call(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

func (f *fakeStore) user(id int64) (*gatehouse.User, error) {
	u, ok := f.users[id]
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.ENotFound, "user not found")
	}
	c := *u
	c.Roles = slices.Clone(u.Roles)
	return &c, nil
}

func (f *fakeStore) ListUsersPage(_ context.Context, q gatehouse.UserQuery) ([]*gatehouse.User, bool, error) {
	f.call("ListUsersPage")
	f.lastLimit = q.Limit
	var out []*gatehouse.User
	for id := range int64(1000) {
		if u, ok := f.users[id]; ok && len(out) < q.Limit {
			out = append(out, u)
		}
	}
	return out, false, nil
}

func (f *fakeStore) UserByID(_ context.Context, id int64) (*gatehouse.User, error) {
	f.call("UserByID")
	return f.user(id)
}

func (f *fakeStore) CreateAccount(_ context.Context, a gatehouse.NewAccount) error {
	f.call("CreateAccount")
	f.nextID++
	u := *a.User
	u.ID = f.nextID
	f.users[u.ID] = &u
	a.User.ID = u.ID
	ev := a.Audit
	ev.SubjectID = &u.ID
	f.audit = append(f.audit, ev)
	if a.Confirmation != nil {
		f.tokens = append(f.tokens, *a.Confirmation)
	}
	if a.Mail != nil {
		m := *a.Mail
		m.To = u.Email
		f.mail = append(f.mail, m)
	}
	return nil
}

func (f *fakeStore) AdminUpdateUser(_ context.Context, id int64, ch gatehouse.UserChange, check gatehouse.Precondition,
	audit func(before, after *gatehouse.User) []gatehouse.AuditEvent) (*gatehouse.User, *gatehouse.User, error) {
	f.call("AdminUpdateUser")
	before, err := f.user(id)
	if err != nil {
		return nil, nil, err
	}
	if check != nil {
		if err := check(before); err != nil {
			return nil, nil, err
		}
	}
	after := *before
	if ch.Email != nil {
		after.Email = *ch.Email
	}
	if ch.Roles != nil {
		after.Roles = *ch.Roles
	}
	if ch.Active != nil {
		after.Active = *ch.Active
	}
	if ch.MustChangePassword != nil {
		after.MustChangePassword = *ch.MustChangePassword
	}
	if ch.Confirmed != nil {
		if *ch.Confirmed {
			now := time.Unix(0, 0)
			after.ConfirmedAt = &now
		} else {
			after.ConfirmedAt = nil
		}
	}
	f.users[id] = &after
	f.audit = append(f.audit, audit(before, &after)...)
	return before, &after, nil
}

func (f *fakeStore) AdminDeleteUser(_ context.Context, id int64, check gatehouse.Precondition,
	audit func(*gatehouse.User) gatehouse.AuditEvent) (*gatehouse.User, error) {
	f.call("AdminDeleteUser")
	u, err := f.user(id)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(u); err != nil {
			return nil, err
		}
	}
	delete(f.users, id)
	f.audit = append(f.audit, audit(u))
	return u, nil
}

func (f *fakeStore) ResetAccessAudited(_ context.Context, id int64, stamp, _ string, ev gatehouse.AuditEvent) error {
	f.call("ResetAccessAudited")
	if _, err := f.user(id); err != nil {
		return err
	}
	f.users[id].SecurityStamp = stamp
	f.audit = append(f.audit, ev)
	return nil
}

func (f *fakeStore) ClearThrottleAudited(_ context.Context, keys []string, ev gatehouse.AuditEvent) error {
	f.call("ClearThrottleAudited")
	f.cleared = keys
	f.audit = append(f.audit, ev)
	return nil
}

func (f *fakeStore) ResetTwoFactorAudited(_ context.Context, id int64, keep string,
	audit func(*gatehouse.User, int64) gatehouse.AuditEvent, notice func(*gatehouse.User) (*gatehouse.OutboxMail, error)) error {
	f.call("ResetTwoFactorAudited")
	u, err := f.user(id)
	if err != nil {
		return err
	}
	f.kept = keep
	f.audit = append(f.audit, audit(u, 2))
	m, err := notice(u)
	if err != nil {
		return err
	}
	if m != nil {
		f.mail = append(f.mail, *m)
	}
	return nil
}

func (f *fakeStore) ListMailPage(_ context.Context, q gatehouse.MailQuery) ([]gatehouse.OutboxMail, bool, error) {
	f.call("ListMailPage")
	f.lastLimit = q.Limit
	return nil, false, nil
}

func (f *fakeStore) ListAuditPage(_ context.Context, q gatehouse.AuditQuery) ([]gatehouse.AuditEvent, bool, error) {
	f.call("ListAuditPage")
	f.lastLimit = q.Limit
	return nil, false, nil
}

// fakeAccounts is users.Accounts with fixed answers.
type fakeAccounts struct {
	confirmable bool
	mailer      bool
	woken       int
	weak        string // a password the policy refuses
	// passwordless: accounts may be made without a password (sign-in by email).
	passwordless bool
}

func (a *fakeAccounts) HashNewPassword(_ context.Context, field, password, _ string) (string, string, error) {
	if password == a.weak {
		return "", "", gatehouse.FieldError(field, "is too weak")
	}
	return "hash:" + password, "fake", nil
}

func (a *fakeAccounts) NewAccountInvite(string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error) {
	return &gatehouse.OneTimeToken{TokenHash: "invite", ExpiresAt: time.Now().Add(time.Hour)}, &gatehouse.OutboxMail{Subject: "invite"}, nil
}

func (a *fakeAccounts) NewAccountConfirmation(email string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error) {
	if !a.confirmable {
		return nil, nil, nil
	}
	return &gatehouse.OneTimeToken{TokenHash: "t", CodeHash: "c"}, &gatehouse.OutboxMail{To: email, Subject: "Confirm", Text: "link"}, nil
}

func (a *fakeAccounts) LockoutKeys(email string) []string {
	return []string{"login:" + email, "change:" + email}
}

func (a *fakeAccounts) TwoFactorResetNotice(u *gatehouse.User) (*gatehouse.OutboxMail, error) {
	if !a.mailer {
		return nil, nil
	}
	return &gatehouse.OutboxMail{To: u.Email, Subject: "Second factors removed", Text: "notice"}, nil
}

func (a *fakeAccounts) MailQueued() { a.woken++ }

func (a *fakeAccounts) PasswordlessSignIn() bool { return a.passwordless }

func (f *fakeStore) RetryMailAudited(_ context.Context, id int64, ev gatehouse.AuditEvent) (*gatehouse.OutboxMail, error) {
	f.call("RetryMailAudited")
	return &gatehouse.OutboxMail{ID: id, Status: gatehouse.MailPending}, nil
}

func (f *fakeStore) ActiveSessions(context.Context, int64) ([]*gatehouse.Session, error) {
	f.call("ActiveSessions")
	return nil, nil
}

func (f *fakeStore) EndUserSessionAudited(context.Context, int64, string, string, gatehouse.AuditEvent) error {
	f.call("EndUserSessionAudited")
	return nil
}

func (f *fakeStore) UserAPIKeys(context.Context, int64, int) ([]*gatehouse.APIKey, error) {
	f.call("UserAPIKeys")
	return nil, nil
}

func (f *fakeStore) RevokeAPIKeyAudited(_ context.Context, _, id int64, audit func(*gatehouse.APIKey) gatehouse.AuditEvent) (*gatehouse.APIKey, error) {
	f.call("RevokeAPIKeyAudited")
	k := &gatehouse.APIKey{ID: id}
	audit(k)
	return k, nil
}

func (f *fakeStore) UserByEmail(context.Context, string) (*gatehouse.User, error) {
	f.call("UserByEmail")
	return nil, gatehouse.Errorf(gatehouse.ENotFound, "user not found")
}

// CheckNewUsername accepts any name: the rules are auth's and tested there and in the API tests.
func (a *fakeAccounts) CheckNewUsername(_, name string) (string, error) { return name, nil }
