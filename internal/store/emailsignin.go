package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// Sign-in by emailed code or link (SECURITY_PASSWORDLESS_EMAIL). A request stores one row per
// eligible account (active, not SSO-only) holding the hashes of three secrets: the binding the
// client that asked keeps (SHA-256: 256 random bits), the link token mailed (HMAC under the
// one-time-code key) and the six-digit code mailed (HMAC keyed by the binding too, so that the
// code means nothing without the binding). The auth package makes the secrets and the hashes.

type emailSignInRow struct {
	bun.BaseModel `bun:"table:email_signins,alias:es"`

	BindingHash string     `bun:"binding_hash,pk"`
	TokenHash   string     `bun:"token_hash"`
	CodeHash    string     `bun:"code_hash"`
	UserID      int64      `bun:"user_id"`
	Stamp       string     `bun:"stamp"`
	IP          string     `bun:"ip"`
	UserAgent   string     `bun:"user_agent"`
	Failures    int        `bun:"failures"`
	CreatedAt   time.Time  `bun:"created_at"`
	ExpiresAt   time.Time  `bun:"expires_at"`
	ApprovedAt  *time.Time `bun:"approved_at"`
	UsedAt      *time.Time `bun:"used_at"`
}

// EmailSignInRequest is one request for a sign-in code and link, recorded by
// RequestEmailSignIn.
type EmailSignInRequest struct {
	Email       string // as typed; matched case-insensitively
	BindingHash string
	TokenHash   string
	CodeHash    string
	ExpiresAt   time.Time
	// IP and UserAgent describe the client that asked, for the page that asks whoever opens
	// the link in another browser to confirm.
	IP, UserAgent string
	// Mail is the rendered message with the code and the link; its To is ignored (the
	// account's stored address is used).
	Mail *gatehouse.OutboxMail
	// Audit is the email_signin_requested event; its subject is filled in from the account.
	Audit gatehouse.AuditEvent
}

// eligible is the condition on users of an account that may sign in by email.
const eligible = "email_lower = ? AND active = ? AND sso_only = ?"

// RequestEmailSignIn records a request in one transaction whose statements are the same
// whether or not the address has an eligible account, so that neither the answer nor its time
// tells (as RequestReset does): an INSERT … SELECT of the row from the eligible account with
// that address (none: nothing inserted), the audit event, whose subject is the account with
// that address or NULL, and the mail, inserted always and deleted in the same transaction when
// no eligible account has the address.
func (s *Store) RequestEmailSignIn(ctx context.Context, r EmailSignInRequest) (err error) {
	defer wrapErr(&err, "store.RequestEmailSignIn")
	if r.Mail == nil {
		return gatehouse.Errorf(gatehouse.EInternal, "no sign-in mail to queue")
	}
	r.Mail.To = r.Email
	if err := validateMail(r.Mail); err != nil {
		return err
	}
	now := utc(s.now())
	lower := NormalizeEmail(r.Email)
	ev := r.Audit
	if ev.At.IsZero() {
		ev.At = now
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_signins
			(binding_hash, token_hash, code_hash, user_id, stamp, ip, user_agent, failures, created_at, expires_at)
			SELECT ?, ?, ?, id, security_stamp, ?, ?, 0, ?, ? FROM users WHERE `+eligible,
			r.BindingHash, r.TokenHash, r.CodeHash, truncate(r.IP, 64), truncate(r.UserAgent, 512), now, utc(r.ExpiresAt),
			lower, true, false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events
			(at, event, actor_id, subject_id, email, ip, user_agent, detail)
			VALUES (?, ?, NULL, (SELECT id FROM users WHERE email_lower = ?), ?, ?, ?, ?)`,
			utc(ev.At), ev.Event, lower, truncate(ev.Email, 320), truncate(ev.IP, 64),
			truncate(ev.UserAgent, 512), truncate(ev.Detail, 1000)); err != nil {
			return err
		}
		row := &mailRow{Recipient: r.Email, Subject: r.Mail.Subject, TextBody: r.Mail.Text, HTMLBody: r.Mail.HTML,
			Status: string(gatehouse.MailPending), NextAttemptAt: now, CreatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = ?
			AND NOT EXISTS (SELECT 1 FROM users WHERE `+eligible+`)`, row.ID, lower, true, false); err != nil {
			return err
		}
		// The account's own spelling of its address, as every other mail uses.
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET recipient = (SELECT email FROM users WHERE email_lower = ?)
			WHERE id = ? AND EXISTS (SELECT 1 FROM users WHERE email_lower = ?)`, lower, row.ID, lower)
		return err
	})
}

// EmailSignInProof is what a client presents to finish a sign-in by email: always the hash of
// its binding, and one of a code (CodeHash), the link opened by that same client (TokenHash),
// or neither, when the link was opened in another browser and approved there.
type EmailSignInProof struct {
	BindingHash string
	// Email, when set, must be the account's address (the code and approval paths name it).
	Email     string
	CodeHash  string
	TokenHash string
}

// EmailSignInOutcome is what ConsumeEmailSignIn made of a proof.
type EmailSignInOutcome int

// Outcomes of ConsumeEmailSignIn.
const (
	// EmailSignInDone: the request is used up and the account signs in.
	EmailSignInDone EmailSignInOutcome = iota
	// EmailSignInBadCode: no live request of this binding has this code; the failure was
	// counted against the request (if there is one), which dies after maxFailures.
	EmailSignInBadCode
	// EmailSignInGone: no live request matches (unknown, used, expired, spent by wrong codes,
	// not approved yet, another account's, or the account changed since).
	EmailSignInGone
)

// EmailSignInResult is the outcome of ConsumeEmailSignIn and, when done, the account.
type EmailSignInResult struct {
	Outcome EmailSignInOutcome
	// User is the account as it is after the sign-in (address confirmed).
	User *gatehouse.User
	// Secured: the address had never been confirmed, so what its registrant could have set was
	// removed first (see LinkOutcome.Secured); HadPassword says whether a password was.
	Secured        bool
	HadPassword    bool
	APIKeysRevoked int64
}

// ConsumeEmailSignIn uses up the live request that the proof matches, in one transaction: the
// request is marked used, and the account's address counts as confirmed from now on (the mail
// reached it). An account never confirmed before is secured first with newStamp. A wrong code
// counts against its request.
func (s *Store) ConsumeEmailSignIn(ctx context.Context, p EmailSignInProof, maxFailures int, newStamp string) (res EmailSignInResult, err error) {
	defer wrapErr(&err, "store.ConsumeEmailSignIn")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res = EmailSignInResult{Outcome: EmailSignInGone}
		q := tx.NewUpdate().Model((*emailSignInRow)(nil)).Set("used_at = ?", now).
			Where("binding_hash = ?", p.BindingHash).Where("used_at IS NULL").Where("expires_at > ?", now).
			Where("failures < ?", maxFailures)
		switch {
		case p.CodeHash != "":
			q = q.Where("code_hash = ?", p.CodeHash)
		case p.TokenHash != "":
			q = q.Where("token_hash = ?", p.TokenHash)
		default:
			q = q.Where("approved_at IS NOT NULL")
		}
		if p.Email != "" {
			q = q.Where("user_id = (SELECT id FROM users WHERE email_lower = ?)", NormalizeEmail(p.Email))
		}
		r, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			if p.CodeHash == "" {
				return nil
			}
			// The same statement whether or not the binding has a request, so that a wrong
			// code for an unknown address costs what one for a known address does.
			res.Outcome = EmailSignInBadCode
			_, err := tx.NewUpdate().Model((*emailSignInRow)(nil)).Set("failures = failures + 1").
				Where("binding_hash = ?", p.BindingHash).Where("used_at IS NULL").Exec(ctx)
			return err
		}
		row := new(emailSignInRow)
		if err := tx.NewSelect().Model(row).Where("binding_hash = ?", p.BindingHash).Scan(ctx); err != nil {
			return err
		}
		u, err := s.userWhere(ctx, tx, "id = ?", row.UserID)
		if err != nil {
			return err
		}
		if !u.Active || u.SSOOnly || u.SecurityStamp != row.Stamp {
			return nil // used up all the same: it can never work again
		}
		if u.ConfirmedAt == nil {
			res.Secured, res.HadPassword = true, u.PasswordHash != ""
			if res.APIKeysRevoked, err = s.secureUnconfirmed(ctx, tx, u.ID, newStamp, "email_signin_unconfirmed"); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("confirmed_at = ?", now).Set("updated_at = ?", now).
				Where("id = ?", u.ID).Exec(ctx); err != nil {
				return err
			}
			if u, err = s.userWhere(ctx, tx, "id = ?", u.ID); err != nil {
				return err
			}
		}
		res.Outcome, res.User = EmailSignInDone, u
		return nil
	})
	return res, err
}

// EmailSignInLink describes the live request a mailed link belongs to, for the page the link
// opens: whether the browser holds its binding, and which client asked.
type EmailSignInLink struct {
	BindingHash string
	UserID      int64
	Email       string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Approved    bool
}

// EmailSignInByToken returns the live request of a link token's hash (not used, not expired,
// not spent by wrong codes, its account active and unchanged), or ENotFound. It changes
// nothing: opening a link (a mail scanner does) never uses it.
func (s *Store) EmailSignInByToken(ctx context.Context, tokenHash string, maxFailures int) (l *EmailSignInLink, err error) {
	defer wrapErr(&err, "store.EmailSignInByToken")
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(emailSignInRow)
		if err := tx.NewSelect().Model(row).Where("token_hash = ?", tokenHash).Where("used_at IS NULL").
			Where("expires_at > ?", now).Where("failures < ?", maxFailures).Scan(ctx); err != nil {
			return notFound(err, "the link is invalid or has expired")
		}
		u, err := s.userWhere(ctx, tx, "id = ?", row.UserID)
		if err != nil {
			return err
		}
		if !u.Active || u.SSOOnly || u.SecurityStamp != row.Stamp {
			return gatehouse.Errorf(gatehouse.ENotFound, "the link is invalid or has expired")
		}
		l = &EmailSignInLink{BindingHash: row.BindingHash, UserID: u.ID, Email: u.Email, IP: row.IP, UserAgent: row.UserAgent,
			CreatedAt: utc(row.CreatedAt), ExpiresAt: utc(row.ExpiresAt), Approved: row.ApprovedAt != nil}
		return nil
	})
	return l, err
}

// ApproveEmailSignIn records that the link of tokenHash was opened in a browser without its
// binding and confirmed there: the client holding the binding may now finish without a code.
// A link that is not live (see EmailSignInByToken) is ENotFound.
func (s *Store) ApproveEmailSignIn(ctx context.Context, tokenHash string, maxFailures int) (l *EmailSignInLink, err error) {
	defer wrapErr(&err, "store.ApproveEmailSignIn")
	now := utc(s.now())
	if l, err = s.EmailSignInByToken(ctx, tokenHash, maxFailures); err != nil {
		return nil, err
	}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := tx.NewUpdate().Model((*emailSignInRow)(nil)).Set("approved_at = ?", now).
			Where("token_hash = ?", tokenHash).Where("used_at IS NULL").Where("expires_at > ?", now).
			Where("failures < ?", maxFailures).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(r, "the link is invalid or has expired")
	})
	l.Approved = err == nil
	return l, err
}
