package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type challengeRow struct {
	bun.BaseModel `bun:"table:two_factor_challenges,alias:tfc"`

	IDHash          string     `bun:"id_hash,pk"`
	UserID          int64      `bun:"user_id"`
	Stamp           string     `bun:"stamp"`
	Scope           string     `bun:"scope"`
	Remember        bool       `bun:"remember"`
	Failures        int        `bun:"failures"`
	EmailCodeHash   *string    `bun:"email_code_hash"`
	EmailExpiresAt  *time.Time `bun:"email_expires_at"`
	EmailSentAt     *time.Time `bun:"email_sent_at"`
	WebAuthnSession *string    `bun:"webauthn_session"`
	FirstFactor     string     `bun:"first_factor"`
	CreatedAt       time.Time  `bun:"created_at"`
	ExpiresAt       time.Time  `bun:"expires_at"`
	UsedAt          *time.Time `bun:"used_at"`
}

type rememberedDeviceRow struct {
	bun.BaseModel `bun:"table:remembered_devices,alias:rd"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    int64     `bun:"user_id"`
	Stamp     string    `bun:"stamp"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// Challenge is a pending second login step.
type Challenge struct {
	IDHash   string
	UserID   int64
	Stamp    string // the user's security stamp at the password step
	Scope    string // the scopes granted at the password step
	Remember bool
	Failures int
	// EmailCodeHash is the hash of the code last emailed for this challenge; "" when none.
	EmailCodeHash   string
	EmailExpiresAt  *time.Time
	EmailSentAt     *time.Time
	WebAuthnSession []byte // the WebAuthn ceremony's session data; nil when none began
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	// FirstFactor is the method of the first step when it was not the password (an
	// authenticator code): the second step must use another one.
	FirstFactor string
}

func (r *challengeRow) toDomain() *Challenge {
	c := &Challenge{
		IDHash: r.IDHash, UserID: r.UserID, Stamp: r.Stamp, Scope: r.Scope, Remember: r.Remember, Failures: r.Failures,
		EmailCodeHash: deref(r.EmailCodeHash), EmailExpiresAt: utcPtr(r.EmailExpiresAt), EmailSentAt: utcPtr(r.EmailSentAt),
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), UsedAt: utcPtr(r.UsedAt), FirstFactor: r.FirstFactor,
	}
	if r.WebAuthnSession != nil {
		c.WebAuthnSession = []byte(*r.WebAuthnSession)
	}
	return c
}

// CreateChallenge stores a new challenge and deletes the user's challenges that have expired,
// so the table only holds live ones (and those of users who never come back, until their next
// login).
func (s *Store) CreateChallenge(ctx context.Context, c *Challenge) (err error) {
	defer wrapErr(&err, "store.CreateChallenge(user=%d)", c.UserID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*challengeRow)(nil)).Where("user_id = ? AND expires_at < ?", c.UserID, now).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&challengeRow{
			IDHash: c.IDHash, UserID: c.UserID, Stamp: c.Stamp, Scope: c.Scope, Remember: c.Remember,
			FirstFactor: c.FirstFactor, CreatedAt: now, ExpiresAt: utc(c.ExpiresAt),
		}).Exec(ctx)
		return err
	})
}

// ChallengeByHash returns the challenge or ENotFound. It does not judge it (expired, used):
// the caller does, against the clock.
func (s *Store) ChallengeByHash(ctx context.Context, hash string) (c *Challenge, err error) {
	defer wrapErr(&err, "store.ChallengeByHash")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(challengeRow)
		if err := tx.NewSelect().Model(row).Where("id_hash = ?", hash).Scan(ctx); err != nil {
			return notFound(err, "challenge not found")
		}
		c = row.toDomain()
		return nil
	})
	return c, err
}

// ChallengeFailed counts a wrong code against the challenge and returns the new count.
func (s *Store) ChallengeFailed(ctx context.Context, hash string) (failures int, err error) {
	defer wrapErr(&err, "store.ChallengeFailed")
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*challengeRow)(nil)).Set("failures = failures + 1").Where("id_hash = ?", hash).Exec(ctx); err != nil {
			return err
		}
		return tx.NewSelect().Model((*challengeRow)(nil)).Column("failures").Where("id_hash = ?", hash).Scan(ctx, &failures)
	})
	return failures, err
}

// SetChallengeEmailCode records the hash of a newly emailed code (the earlier one stops
// working) while the challenge is live.
func (s *Store) SetChallengeEmailCode(ctx context.Context, hash, codeHash string, expires time.Time) (err error) {
	defer wrapErr(&err, "store.SetChallengeEmailCode")
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*challengeRow)(nil)).Set("email_code_hash = ?", codeHash).
			Set("email_expires_at = ?", utc(expires)).Set("email_sent_at = ?", now).
			Where("id_hash = ? AND used_at IS NULL AND expires_at > ?", hash, now).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(res, "challenge not found")
	})
}

// SetChallengeWebAuthn records the session data of a WebAuthn login ceremony begun for the
// challenge while it is live.
func (s *Store) SetChallengeWebAuthn(ctx context.Context, hash string, data []byte) (err error) {
	defer wrapErr(&err, "store.SetChallengeWebAuthn")
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*challengeRow)(nil)).Set("webauthn_session = ?", string(data)).
			Where("id_hash = ? AND used_at IS NULL AND expires_at > ?", hash, now).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(res, "challenge not found")
	})
}

// FactorUse is the proof a second login step consumes together with its challenge. At most one
// field is set; none means the factor was verified outside the store (WebAuthn).
type FactorUse struct {
	TOTPStep     int64  // the time step of an accepted authenticator code
	RecoveryHash string // the hash of a recovery code
	// LegacyRecoveryHash is the code's hash as stored before one-time codes were keyed (plain
	// SHA-256): such codes keep working until used or replaced.
	LegacyRecoveryHash string
	EmailCodeHash      string // the hash of an emailed code
}

// ChallengeOutcome says why consuming a challenge did or did not work.
type ChallengeOutcome int

// Challenge outcomes.
const (
	ChallengeConsumed ChallengeOutcome = iota // the proof was good and the challenge is now used
	ChallengeGone                             // unknown, used, expired, another user's or too many failures: nothing changed
	ChallengeBadProof                         // the proof was refused (replayed step, spent or unknown code): nothing changed
)

// ConsumeChallenge ends a challenge with its proof, in one transaction: the challenge is marked
// used and the proof spent (TOTP step recorded, recovery code used) only together, each by a
// conditional UPDATE, so that neither a challenge nor a proof works twice, even when requests
// race on several instances.
func (s *Store) ConsumeChallenge(ctx context.Context, hash string, userID int64, maxFailures int, use FactorUse) (out ChallengeOutcome, err error) {
	defer wrapErr(&err, "store.ConsumeChallenge(user=%d)", userID)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = ChallengeGone
		q := tx.NewUpdate().Model((*challengeRow)(nil)).Set("used_at = ?", now).
			Where("id_hash = ? AND user_id = ? AND used_at IS NULL AND expires_at > ? AND failures < ?", hash, userID, now, maxFailures)
		if use.EmailCodeHash != "" {
			q = q.Where("email_code_hash = ? AND email_expires_at > ?", use.EmailCodeHash, now)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil && use.EmailCodeHash != "" {
				// Was it the code or the challenge? Only the first is a wrong code.
				live, err := tx.NewSelect().Model((*challengeRow)(nil)).
					Where("id_hash = ? AND user_id = ? AND used_at IS NULL AND expires_at > ? AND failures < ?", hash, userID, now, maxFailures).
					Exists(ctx)
				if err != nil {
					return err
				}
				if live {
					out = ChallengeBadProof
				}
			}
			return err
		}
		ok := true
		switch {
		case use.TOTPStep > 0:
			ok, err = useTOTPStep(ctx, tx, userID, use.TOTPStep)
		case use.RecoveryHash != "":
			ok, err = useRecoveryCode(ctx, tx, userID, now, use.RecoveryHash, use.LegacyRecoveryHash)
		}
		if err != nil {
			return err
		}
		if !ok {
			out = ChallengeBadProof
			return errRollback
		}
		out = ChallengeConsumed
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return out, err
}

// errRollback makes InTx roll back a transaction whose outcome was decided (not a failure).
var errRollback = gatehouse.Errorf(gatehouse.EConflict, "rolled back")

// AddRememberedDevice stores a remember-device token (by hash) bound to the user's stamp.
func (s *Store) AddRememberedDevice(ctx context.Context, hash string, userID int64, stamp string, expires time.Time) (err error) {
	defer wrapErr(&err, "store.AddRememberedDevice(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*rememberedDeviceRow)(nil)).Where("user_id = ? AND expires_at < ?", userID, now).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&rememberedDeviceRow{TokenHash: hash, UserID: userID, Stamp: stamp, CreatedAt: now, ExpiresAt: utc(expires)}).Exec(ctx)
		return err
	})
}

// RememberedDevice reports whether hash is a live remember-device token of the user with the
// given security stamp.
func (s *Store) RememberedDevice(ctx context.Context, hash string, userID int64, stamp string) (ok bool, err error) {
	defer wrapErr(&err, "store.RememberedDevice(%d)", userID)
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ok, err = tx.NewSelect().Model((*rememberedDeviceRow)(nil)).
			Where("token_hash = ? AND user_id = ? AND stamp = ? AND expires_at > ?", hash, userID, stamp, now).Exists(ctx)
		return err
	})
	return ok, err
}

// ForgetDevices ends every remember-device token of the user.
func (s *Store) ForgetDevices(ctx context.Context, userID int64) (err error) {
	defer wrapErr(&err, "store.ForgetDevices(%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*rememberedDeviceRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
		return err
	})
}
