package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// WebAuthnCredential is a registered security key or passkey (a WebAuthn credential record).
type WebAuthnCredential struct {
	ID     int64
	UserID int64
	// CredentialID is the authenticator's raw credential id (up to 1023 bytes).
	CredentialID []byte
	// PublicKey is the COSE-encoded credential public key.
	PublicKey         []byte
	AttestationType   string
	AttestationFormat string
	Transports        []string
	// AAGUID identifies the authenticator model (a UUID string; all zeros when not disclosed).
	AAGUID    string
	SignCount uint32
	// The authenticator data flags seen last: user present, user verified, backup eligible
	// (a synced passkey), backup state (currently backed up).
	UserPresent, UserVerified, BackupEligible, BackupState bool
	// Passkey marks a credential registered as a passkey (discoverable, user verification
	// required): it may sign in on its own. Other credentials are second factors only.
	Passkey bool

	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// WebAuthnCredentialHash is how a credential id is indexed: SHA-256, hex. Credential ids may be
// up to 1023 bytes, too long for a unique index on every engine.
func WebAuthnCredentialHash(credentialID []byte) string {
	sum := sha256.Sum256(credentialID)
	return hex.EncodeToString(sum[:])
}

type webAuthnCredentialRow struct {
	bun.BaseModel `bun:"table:webauthn_credentials,alias:wc"`

	ID                int64      `bun:"id,pk,autoincrement"`
	UserID            int64      `bun:"user_id"`
	CredentialID      string     `bun:"credential_id"` // base64url, unpadded
	CredentialHash    string     `bun:"credential_hash"`
	PublicKey         []byte     `bun:"public_key"`
	AttestationType   string     `bun:"attestation_type"`
	AttestationFormat string     `bun:"attestation_format"`
	Transports        string     `bun:"transports"` // comma-separated
	AAGUID            string     `bun:"aaguid"`
	SignCount         int64      `bun:"sign_count"`
	UserPresent       bool       `bun:"user_present"`
	UserVerified      bool       `bun:"user_verified"`
	BackupEligible    bool       `bun:"backup_eligible"`
	BackupState       bool       `bun:"backup_state"`
	Passkey           bool       `bun:"passkey"`
	Name              string     `bun:"name"`
	CreatedAt         time.Time  `bun:"created_at"`
	LastUsedAt        *time.Time `bun:"last_used_at"`
}

func (r *webAuthnCredentialRow) toDomain() *WebAuthnCredential {
	id, _ := base64.RawURLEncoding.DecodeString(r.CredentialID)
	var transports []string
	if r.Transports != "" {
		transports = strings.Split(r.Transports, ",")
	}
	return &WebAuthnCredential{
		ID: r.ID, UserID: r.UserID, CredentialID: id, PublicKey: r.PublicKey,
		AttestationType: r.AttestationType, AttestationFormat: r.AttestationFormat, Transports: transports,
		AAGUID: r.AAGUID, SignCount: uint32(r.SignCount), //nolint:gosec // written from a uint32
		UserPresent: r.UserPresent, UserVerified: r.UserVerified, BackupEligible: r.BackupEligible, BackupState: r.BackupState,
		Passkey: r.Passkey, Name: r.Name, CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt),
	}
}

type webAuthnRegistrationRow struct {
	bun.BaseModel `bun:"table:webauthn_registrations,alias:wr"`

	UserID      int64     `bun:"user_id,pk"`
	Challenge   string    `bun:"challenge"`
	SessionData string    `bun:"session_data"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

const errNoWebAuthnRegistration = "no registration is pending or it has expired; request new options"

// SaveWebAuthnRegistration keeps the session data of a registration ceremony the user just
// began, replacing any earlier pending one: only the newest options can complete.
func (s *Store) SaveWebAuthnRegistration(ctx context.Context, userID int64, challenge, sessionData string, expiresAt time.Time) (err error) {
	defer wrapErr(&err, "store.SaveWebAuthnRegistration(user=%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*webAuthnRegistrationRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&webAuthnRegistrationRow{
			UserID: userID, Challenge: challenge, SessionData: sessionData, CreatedAt: now, ExpiresAt: utc(expiresAt),
		}).Exec(ctx)
		return err
	})
}

// WebAuthnRegistration returns the session data of the user's pending registration; none, or
// an expired one, is ENotFound.
func (s *Store) WebAuthnRegistration(ctx context.Context, userID int64) (sessionData string, err error) {
	defer wrapErr(&err, "store.WebAuthnRegistration(user=%d)", userID)
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(webAuthnRegistrationRow)
		if err := tx.NewSelect().Model(row).Where("user_id = ?", userID).Where("expires_at > ?", now).Scan(ctx); err != nil {
			return notFound(err, errNoWebAuthnRegistration)
		}
		sessionData = row.SessionData
		return nil
	})
	return sessionData, err
}

// CompleteWebAuthnRegistration stores c (filling in its ID and CreatedAt) and consumes the
// pending registration whose challenge c answered, in one transaction: a registration
// completes once. A pending registration that is gone, expired or replaced is ENotFound; a
// credential id registered already (by anyone) is EConflict; a user who has max credentials
// already is EConflict.
func (s *Store) CompleteWebAuthnRegistration(ctx context.Context, challenge string, c *WebAuthnCredential, limit int) (err error) {
	defer wrapErr(&err, "store.CompleteWebAuthnRegistration(user=%d)", c.UserID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*webAuthnRegistrationRow)(nil)).Where("user_id = ?", c.UserID).
			Where("challenge = ?", challenge).Where("expires_at > ?", now).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, errNoWebAuthnRegistration); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*webAuthnCredentialRow)(nil)).Where("user_id = ?", c.UserID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= int64(limit) {
			return gatehouse.Errorf(gatehouse.EConflict, "at most %d security keys can be registered; remove one first", limit)
		}
		row := &webAuthnCredentialRow{
			UserID: c.UserID, CredentialID: base64.RawURLEncoding.EncodeToString(c.CredentialID),
			CredentialHash: WebAuthnCredentialHash(c.CredentialID), PublicKey: c.PublicKey,
			AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat,
			Transports: strings.Join(c.Transports, ","), AAGUID: c.AAGUID, SignCount: int64(c.SignCount),
			UserPresent: c.UserPresent, UserVerified: c.UserVerified, BackupEligible: c.BackupEligible, BackupState: c.BackupState,
			Passkey: c.Passkey, Name: c.Name, CreatedAt: now,
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return gatehouse.Wrap(gatehouse.EConflict, err, "this security key is registered already")
			}
			return err
		}
		c.ID, c.CreatedAt = row.ID, now
		return nil
	})
}

// WebAuthnCredentials lists a user's credentials, oldest first.
func (s *Store) WebAuthnCredentials(ctx context.Context, userID int64) (out []*WebAuthnCredential, err error) {
	defer wrapErr(&err, "store.WebAuthnCredentials(user=%d)", userID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []webAuthnCredentialRow
		if err := tx.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("created_at, id").Scan(ctx); err != nil {
			return err
		}
		out = make([]*WebAuthnCredential, len(rows))
		for i := range rows {
			out[i] = rows[i].toDomain()
		}
		return nil
	})
	return out, err
}

// WebAuthnUse is what a successful assertion changes on its credential.
type WebAuthnUse struct {
	UserID       int64
	CredentialID []byte
	// PrevSignCount is the counter the assertion was verified against; SignCount the new one.
	PrevSignCount, SignCount               uint32
	UserPresent, UserVerified, BackupState bool
}

// RecordWebAuthnUse stores the new signature counter, flags and last use of a credential. The
// update only applies while the stored counter is still PrevSignCount: when two assertions
// race, or an older one is replayed, only one of them is accepted and the other is EConflict
// (a clone or a replay; the caller refuses it).
func (s *Store) RecordWebAuthnUse(ctx context.Context, u WebAuthnUse) (err error) {
	defer wrapErr(&err, "store.RecordWebAuthnUse(user=%d)", u.UserID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*webAuthnCredentialRow)(nil)).
			Set("sign_count = ?", int64(u.SignCount)).Set("user_present = ?", u.UserPresent).
			Set("user_verified = ?", u.UserVerified).Set("backup_state = ?", u.BackupState).Set("last_used_at = ?", now).
			Where("credential_hash = ?", WebAuthnCredentialHash(u.CredentialID)).Where("user_id = ?", u.UserID).
			Where("sign_count = ?", int64(u.PrevSignCount)).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gatehouse.Errorf(gatehouse.EConflict, "the security key's signature counter changed meanwhile")
		}
		return nil
	})
}

// RenameWebAuthnCredential renames the user's credential. Another user's credential, or an
// unknown one, is ENotFound.
func (s *Store) RenameWebAuthnCredential(ctx context.Context, userID int64, credentialID []byte, name string) (c *WebAuthnCredential, err error) {
	defer wrapErr(&err, "store.RenameWebAuthnCredential(user=%d)", userID)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := userWebAuthnCredential(ctx, tx, userID, credentialID)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*webAuthnCredentialRow)(nil)).Set("name = ?", name).
			Where("id = ?", row.ID).Exec(ctx); err != nil {
			return err
		}
		row.Name = name
		c = row.toDomain()
		return nil
	})
	return c, err
}

// DeleteWebAuthnCredential removes the user's credential and returns it. Another user's
// credential, or an unknown one, is ENotFound.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, userID int64, credentialID []byte) (c *WebAuthnCredential, err error) {
	defer wrapErr(&err, "store.DeleteWebAuthnCredential(user=%d)", userID)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := userWebAuthnCredential(ctx, tx, userID, credentialID)
		if err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*webAuthnCredentialRow)(nil)).Where("id = ?", row.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "security key not found"); err != nil {
			return err
		}
		c = row.toDomain()
		return nil
	})
	return c, err
}

// DeleteUserWebAuthnCredentials removes every credential of a user (an admin's second-factor
// reset) and reports how many there were.
func (s *Store) DeleteUserWebAuthnCredentials(ctx context.Context, userID int64) (n int64, err error) {
	defer wrapErr(&err, "store.DeleteUserWebAuthnCredentials(user=%d)", userID)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err = deleteUserWebAuthn(ctx, tx, userID)
		return err
	})
	return n, err
}

// deleteUserWebAuthn is DeleteUserWebAuthnCredentials inside the caller's transaction (for a
// reset that removes every factor at once); it also drops a pending registration.
func deleteUserWebAuthn(ctx context.Context, tx bun.Tx, userID int64) (int64, error) {
	if _, err := tx.NewDelete().Model((*webAuthnRegistrationRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return 0, err
	}
	res, err := tx.NewDelete().Model((*webAuthnCredentialRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func userWebAuthnCredential(ctx context.Context, tx bun.Tx, userID int64, credentialID []byte) (*webAuthnCredentialRow, error) {
	row := new(webAuthnCredentialRow)
	if err := tx.NewSelect().Model(row).Where("credential_hash = ?", WebAuthnCredentialHash(credentialID)).
		Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, notFound(err, "security key not found")
	}
	return row, nil
}
