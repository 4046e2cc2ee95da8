package store

import (
	"context"
	"errors"
	"strings"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/username"
)

// Usernames (SECURITY_USERNAME_ENABLE). The services check a new name against the policy; the
// store keeps the three columns of it consistent (the display form, its key, the key's
// skeleton) and refuses a name that is taken or looks like a taken one, with the same error.

// ReasonUsernameTaken is the Reason of the EConflict a username gets when another account has it
// or one that looks like it (same UTS #39 skeleton): the answer is the same in both cases.
const ReasonUsernameTaken = "username_taken"

// ErrUsernameTaken is the refusal of a username that another account has, or one confusable
// with it.
func ErrUsernameTaken(field string) error {
	const problem = "is already taken"
	return &gatehouse.Error{Code: gatehouse.EConflict, Reason: ReasonUsernameTaken,
		Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// IsUsernameTaken reports whether err is ErrUsernameTaken.
func IsUsernameTaken(err error) bool {
	ge, ok := errors.AsType[*gatehouse.Error](err)
	return ok && ge.Reason == ReasonUsernameTaken
}

// usernameCols are the stored columns of a username; all nil for none.
type usernameCols struct{ display, key, skeleton *string }

// usernameColumns returns the columns of display for the account exceptID (0: a new account),
// or ErrUsernameTaken when another account has a username with the same skeleton (which every
// name with the same key shares). "" is no username.
func usernameColumns(ctx context.Context, tx bun.IDB, display string, exceptID int64) (usernameCols, error) {
	if display == "" {
		return usernameCols{}, nil
	}
	key, err := username.Key(display)
	if err != nil {
		return usernameCols{}, gatehouse.FieldError("username", "contains characters that cannot be part of a username")
	}
	skeleton := username.Skeleton(key)
	taken, err := tx.NewSelect().Model((*userRow)(nil)).
		Where("username_skeleton = ?", skeleton).Where("id <> ?", exceptID).Exists(ctx)
	if err != nil {
		return usernameCols{}, err
	}
	if taken {
		return usernameCols{}, ErrUsernameTaken("username")
	}
	return usernameCols{display: &display, key: &key, skeleton: &skeleton}, nil
}

// uniqueViolation explains a unique violation of an insert or update of users. The username was
// checked in the transaction already, so only a concurrent write of the same name can make it
// the culprit; the drivers do not say reliably which index it was, so a write that set a
// username says both.
func uniqueViolation(err error, usernameKey *string) error {
	if usernameKey != nil {
		return gatehouse.Wrap(gatehouse.EConflict, err, "a user with this email or username already exists")
	}
	return gatehouse.Wrap(gatehouse.EConflict, err, "a user with this email already exists")
}

// UserByUsername returns the user whose username has the key of name (compared as
// username.Key compares), or ENotFound; a name that has no key names nobody.
func (s *Store) UserByUsername(ctx context.Context, name string) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.UserByUsername")
	key, kerr := username.Key(name)
	if kerr != nil || key == "" {
		return nil, gatehouse.Errorf(gatehouse.ENotFound, "user not found")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err = s.userWhere(ctx, tx, "username_norm = ?", key)
		return err
	})
	return u, err
}

// UsernameTaken reports whether an account other than exceptID has name, or a name that looks
// like it.
func (s *Store) UsernameTaken(ctx context.Context, name string, exceptID int64) (taken bool, err error) {
	defer wrapErr(&err, "store.UsernameTaken")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := usernameColumns(ctx, tx, name, exceptID)
		taken = IsUsernameTaken(err)
		if taken {
			return nil
		}
		return err
	})
	return taken, err
}

// UsernameRecovery is one username-recovery request, recorded by RecoverUsername.
type UsernameRecovery struct {
	Email string // as typed; matched case-insensitively
	// Render makes the mail telling u its username. It is called exactly once, inside the
	// transaction, with the active account of the address that has a username or, when there is
	// none, with a stand-in (the same work, so that the time does not tell).
	Render func(u *gatehouse.User) (*gatehouse.OutboxMail, error)
	// Audit is the username_recovery_requested event; its subject is filled in from the
	// account, if any.
	Audit gatehouse.AuditEvent
}

// RecoverUsername records a username-recovery request in one transaction whose statements are
// the same whether or not the address has an account with a username (like RequestReset): the
// account is read, the event written (subject: the account or NULL), the mail inserted and, when
// no active account with a username has the address, deleted again. The mail and the event
// commit together; the mail leaves from the outbox after the answer.
func (s *Store) RecoverUsername(ctx context.Context, r UsernameRecovery) (err error) {
	defer wrapErr(&err, "store.RecoverUsername")
	now := utc(s.now())
	lower := NormalizeEmail(r.Email)
	ev := r.Audit
	if ev.At.IsZero() {
		ev.At = now
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []userRow
		if err := tx.NewSelect().Model(&rows).Where("email_lower = ?", lower).Limit(1).Scan(ctx); err != nil {
			return err
		}
		found := len(rows) == 1 && rows[0].Active && deref(rows[0].Username) != ""
		u := &gatehouse.User{Email: r.Email, Username: "nobody"}
		if found {
			u = rows[0].toDomain(nil)
		}
		m, err := r.Render(u)
		if err != nil {
			return err
		}
		m.To = u.Email
		ev.SubjectID = nil
		if len(rows) == 1 {
			ev.SubjectID = &rows[0].ID
		}
		if err := insertAudit(ctx, tx, ev); err != nil {
			return err
		}
		if err := insertMail(ctx, tx, m, now); err != nil {
			return err
		}
		if !found {
			_, err := tx.NewDelete().Model((*mailRow)(nil)).Where("id = ?", m.ID).Exec(ctx)
			return err
		}
		return nil
	})
}

// usernameFilter is the form a user-list filter is matched in against username_norm: its
// PRECIS key, or (a fragment PRECIS refuses, such as one with a space) its lower case, which
// then matches nothing a key could hold.
func usernameFilter(f string) string {
	f = strings.TrimSpace(f)
	if f == "" {
		return ""
	}
	if k, err := username.Key(f); err == nil {
		return k
	}
	return strings.ToLower(f)
}
