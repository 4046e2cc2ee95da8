package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Passkey sign-ins: the pending ceremonies of discoverable logins (no account known until the
// assertion names its credential) and the lookup of a credential by its id.

type passkeyLoginRow struct {
	bun.BaseModel `bun:"table:passkey_logins,alias:pkl"`

	IDHash      string    `bun:"id_hash,pk"`
	SessionData string    `bun:"session_data"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

const errNoPasskeyLogin = "no passkey sign-in is pending for this ceremony, or it has expired"

// SavePasskeyLogin keeps the session data of a passkey sign-in ceremony under the hash of the
// token its client holds.
func (s *Store) SavePasskeyLogin(ctx context.Context, hash, sessionData string, expiresAt time.Time) (err error) {
	defer wrapErr(&err, "store.SavePasskeyLogin")
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&passkeyLoginRow{
			IDHash: hash, SessionData: sessionData, CreatedAt: now, ExpiresAt: utc(expiresAt),
		}).Exec(ctx)
		return err
	})
}

// TakePasskeyLogin returns the session data of a live passkey sign-in ceremony and deletes it in
// the same transaction, so that a ceremony is answered at most once even when requests race on
// several instances (only one DELETE affects the row). An unknown, taken or expired ceremony is
// ENotFound.
func (s *Store) TakePasskeyLogin(ctx context.Context, hash string) (sessionData string, err error) {
	defer wrapErr(&err, "store.TakePasskeyLogin")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(passkeyLoginRow)
		if err := tx.NewSelect().Model(row).Where("id_hash = ?", hash).Where("expires_at > ?", now).Scan(ctx); err != nil {
			return notFound(err, errNoPasskeyLogin)
		}
		res, err := tx.NewDelete().Model((*passkeyLoginRow)(nil)).Where("id_hash = ?", hash).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, errNoPasskeyLogin); err != nil {
			return err
		}
		sessionData = row.SessionData
		return nil
	})
	return sessionData, err
}

// WebAuthnCredentialByID returns the credential with this raw credential id, whoever owns it;
// an unknown id is ENotFound. A discoverable sign-in starts from it: the assertion names its
// credential before any account is known.
func (s *Store) WebAuthnCredentialByID(ctx context.Context, credentialID []byte) (c *WebAuthnCredential, err error) {
	defer wrapErr(&err, "store.WebAuthnCredentialByID")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(webAuthnCredentialRow)
		if err := tx.NewSelect().Model(row).Where("credential_hash = ?", WebAuthnCredentialHash(credentialID)).Scan(ctx); err != nil {
			return notFound(err, "security key not found")
		}
		c = row.toDomain()
		return nil
	})
	return c, err
}
