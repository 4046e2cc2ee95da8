package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// RegisterRequest is one self-registration, recorded by Register.
type RegisterRequest struct {
	// User is the new account (email, password hash, roles, confirmed or not). When the account
	// is created its ID, security stamp and times are filled in.
	User *gatehouse.User
	// TokenHash, CodeHash and ExpiresAt make the confirmation token of a new account; an empty
	// TokenHash issues none (confirmation off).
	TokenHash string
	CodeHash  string
	ExpiresAt time.Time
	// ConfirmMail is queued for a new account, AlreadyRegisteredMail for an address that already
	// has one; nil queues nothing. Their To is ignored: User.Email is used.
	ConfirmMail           *gatehouse.OutboxMail
	AlreadyRegisteredMail *gatehouse.OutboxMail
	// UsernameTakenMail is queued, to the address that registered, when the address is new
	// but User.Username is taken (or looks like a taken one); nil queues nothing.
	UsernameTakenMail *gatehouse.OutboxMail
	// Audit is the register event. For a new account subject and actor are the account; for a
	// taken address the subject is the existing account, there is no actor and the detail says
	// the address was already registered.
	Audit gatehouse.AuditEvent
}

// RegisterOutcome says what Register did.
type RegisterOutcome int

const (
	// RegisterCreated: a new account, its token, event and mail were written.
	RegisterCreated RegisterOutcome = iota + 1
	// RegisterTaken: the address has an account; the event and the already-registered mail
	// were written.
	RegisterTaken
	// RegisterConfusable: the address looks like another account's (UTS #39); nothing was
	// written.
	RegisterConfusable
	// RegisterUsernameTaken: the address is new but the username is taken (or confusable with
	// a taken one): no account; the event and the username-taken mail were written.
	RegisterUsernameTaken
)

// DetailUsernameTaken is the detail of the register event of a new address whose username
// another account has.
const DetailUsernameTaken = "username already taken"

// DetailAlreadyRegistered is the detail of the register event of an address that already has
// an account.
const DetailAlreadyRegistered = "address already registered"

// Register records a self-registration in one transaction, so that registering a taken address
// costs the same round trips as a new one (issue 12, no user enumeration by timing): for a new
// address the account, its roles, the confirmation token, the audit event and the mail; for a
// taken one the audit event and the already-registered mail. The existing account is looked up
// with a SELECT first (a unique violation inside a transaction aborts it on PostgreSQL); an
// insert that still loses the race to a concurrent registration is retried and then finds the
// address taken.
func (s *Store) Register(ctx context.Context, r RegisterRequest) (out RegisterOutcome, err error) {
	u := r.User
	defer wrapErr(&err, "store.Register(%q)", u.Email)
	for _, m := range []*gatehouse.OutboxMail{r.ConfirmMail, r.AlreadyRegisteredMail, r.UsernameTakenMail} {
		if m != nil {
			m.To = u.Email
			if err := validateMail(m); err != nil {
				return 0, err
			}
		}
	}
	for attempt := 1; ; attempt++ {
		out, err = s.register(ctx, r)
		if err == nil || gatehouse.ErrorCode(err) != gatehouse.EConflict || isConfusable(err) {
			return out, err
		}
		// Lost the race for the address to a concurrent registration: the next attempt finds it
		// taken. Should it keep losing, the address is taken all the same; nothing was written.
		if attempt == 3 {
			return RegisterTaken, nil
		}
	}
}

func isConfusable(err error) bool {
	ge, ok := errors.AsType[*gatehouse.Error](err)
	return ok && ge.Reason == ReasonEmailConfusable
}

func (s *Store) register(ctx context.Context, r RegisterRequest) (out RegisterOutcome, err error) {
	u := r.User
	now := utc(s.now())
	ev := r.Audit
	if ev.At.IsZero() {
		ev.At = now
	}
	created := *u
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = 0
		var existing []int64
		if err := tx.NewSelect().Model((*userRow)(nil)).Column("id").
			Where("email_lower = ?", NormalizeEmail(u.Email)).Limit(1).Scan(ctx, &existing); err != nil {
			return err
		}
		var m *gatehouse.OutboxMail
		if len(existing) == 0 {
			if err := s.createUser(ctx, tx, &created); err != nil {
				if isConfusable(err) {
					out = RegisterConfusable
					return nil // nothing was written
				}
				if !IsUsernameTaken(err) {
					return err
				}
				// The answer stays the same (no enumeration of usernames either): the event, and
				// a mail to the address that asked, telling its owner to choose another name.
				ev.SubjectID, ev.ActorID, ev.Detail = nil, nil, DetailUsernameTaken
				m, out = r.UsernameTakenMail, RegisterUsernameTaken
			} else {
				if r.TokenHash != "" {
					if _, err := tx.NewInsert().Model(&actionTokenRow{
						TokenHash: r.TokenHash, CodeHash: r.CodeHash, Purpose: PurposeConfirm, UserID: created.ID,
						Stamp: created.SecurityStamp, CreatedAt: now, ExpiresAt: utc(r.ExpiresAt),
					}).Exec(ctx); err != nil {
						return err
					}
				}
				ev.SubjectID, ev.ActorID = &created.ID, &created.ID
				m, out = r.ConfirmMail, RegisterCreated
			}
		} else {
			// The same precedence as a new address: a look-alike of another account gets nothing.
			if confusable, err := confusableTaken(ctx, tx, u.Email, 0); err != nil {
				return err
			} else if confusable {
				out = RegisterConfusable
				return nil
			}
			id := existing[0]
			ev.SubjectID, ev.ActorID, ev.Detail = &id, nil, DetailAlreadyRegistered
			m, out = r.AlreadyRegisteredMail, RegisterTaken
		}
		if err := insertAudit(ctx, tx, ev); err != nil {
			return err
		}
		if m != nil {
			if _, err := tx.NewInsert().Model(&mailRow{Recipient: u.Email, Subject: m.Subject, TextBody: m.Text, HTMLBody: m.HTML,
				Status: string(gatehouse.MailPending), NextAttemptAt: now, CreatedAt: now}).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if out == RegisterCreated {
		*u = created
	}
	return out, nil
}
