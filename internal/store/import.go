package store

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// ImportedUser is an account brought over from another system, with what it had there.
type ImportedUser struct {
	// User's Email, PasswordHash/PasswordScheme, Active, ConfirmedAt, Roles, login tracking,
	// FSUniquifier (required: it is how a later run recognises the account),
	// WebAuthnUserHandle and Username (when it is free and has a key: see importUsername) are
	// stored; CreatedAt is kept when set.
	User gatehouse.User
	// TOTPSecret is the base32 authenticator secret in clear; it is stored sealed by the seal
	// function ImportUsers is given, under the new account's id.
	TOTPSecret string
	// EmailTwoFactor turns emailed codes on as a second factor.
	EmailTwoFactor bool
	// RecoveryCodeHashes are the stored forms of the unused recovery codes.
	RecoveryCodeHashes []string
	WebAuthn           []*WebAuthnCredential
	// Source names the system in the audit event ("flask-security").
	Source string
}

// Import outcomes.
const (
	ImportCreated  = "imported"
	ImportExists   = "exists"   // imported by an earlier run (same fs_uniquifier, whatever the email): left as it is
	ImportConflict = "conflict" // a Gatehouse account with this email exists: never overwritten
)

// ImportResult is what happened to one ImportedUser.
type ImportResult struct {
	Status string
	UserID int64
	// Notes are what could not be carried (a security key registered to another account).
	Notes []string
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("store: dry run")

// ImportUsers creates the accounts of users in one transaction (a batch): either every account
// of the batch is created or none is, so an interrupted import resumes by running again. An
// email that exists already is never touched: ImportExists when it was imported before from
// the same source row (same FSUniquifier), ImportConflict otherwise. dryRun does the same work
// and rolls it back, so the results say exactly what a real run would do.
func (s *Store) ImportUsers(ctx context.Context, users []*ImportedUser, seal func(userID int64, secret string) (string, error), dryRun bool) (results []ImportResult, err error) {
	defer wrapErr(&err, "store.ImportUsers(%d users)", len(users))
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		results = make([]ImportResult, len(users))
		now := utc(s.now())
		for i, iu := range users {
			r, err := s.importUser(ctx, tx, iu, seal, now)
			if err != nil {
				return err
			}
			results[i] = r
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return results, err
}

func (s *Store) importUser(ctx context.Context, tx bun.Tx, iu *ImportedUser, seal func(int64, string) (string, error), now time.Time) (ImportResult, error) {
	u := &iu.User
	if err := validateUser(u); err != nil {
		return ImportResult{}, err
	}
	if u.FSUniquifier == "" {
		return ImportResult{}, gatehouse.FieldError("fs_uniquifier", "is required")
	}
	var existing userRow
	// Imported before, perhaps under the email the row had then: left as it is.
	switch err := tx.NewSelect().Model(&existing).Column("id", "email").Where("fs_uniquifier = ?", u.FSUniquifier).Limit(1).Scan(ctx); {
	case err == nil:
		r := ImportResult{Status: ImportExists, UserID: existing.ID}
		if NormalizeEmail(existing.Email) != NormalizeEmail(u.Email) {
			r.Notes = append(r.Notes, "imported before as "+existing.Email+"; the email changed in the source since: not updated")
		}
		return r, nil
	case !isNoRows(err):
		return ImportResult{}, err
	}
	switch err := tx.NewSelect().Model(&existing).Column("id", "fs_uniquifier").Where("email_lower = ?", NormalizeEmail(u.Email)).Scan(ctx); {
	case err == nil:
		if deref(existing.FSUniquifier) == u.FSUniquifier {
			return ImportResult{Status: ImportExists, UserID: existing.ID}, nil
		}
		return ImportResult{Status: ImportConflict, UserID: existing.ID}, nil
	case !isNoRows(err):
		return ImportResult{}, err
	}
	created := now
	if !u.CreatedAt.IsZero() {
		created = utc(u.CreatedAt)
	}
	if u.SecurityStamp == "" {
		u.SecurityStamp = NewSecurityStamp()
	}
	uname, note, err := importUsername(ctx, tx, u.Username)
	if err != nil {
		return ImportResult{}, err
	}
	row := &userRow{
		Username: uname.display, UsernameNorm: uname.key, UsernameSkeleton: uname.skeleton,
		Email: u.Email, EmailLower: NormalizeEmail(u.Email), PasswordHash: u.PasswordHash,
		PasswordScheme: u.PasswordScheme, Active: u.Active, ConfirmedAt: utcPtr(u.ConfirmedAt),
		SecurityStamp: u.SecurityStamp, LastLoginAt: utcPtr(u.LastLoginAt), LastLoginIP: truncate(u.LastLoginIP, 64),
		CurrentLoginAt: utcPtr(u.CurrentLoginAt), CurrentLoginIP: truncate(u.CurrentLoginIP, 64), LoginCount: u.LoginCount,
		FSUniquifier: &u.FSUniquifier, CreatedAt: created, UpdatedAt: now,
	}
	if u.WebAuthnUserHandle != "" {
		row.WebAuthnUserHandle = &u.WebAuthnUserHandle
	}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return ImportResult{}, err
	}
	if err := s.setRoles(ctx, tx, row.ID, u.Roles); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Status: ImportCreated, UserID: row.ID}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	if iu.TOTPSecret != "" || iu.EmailTwoFactor {
		tf := &twoFactorRow{UserID: row.ID, UpdatedAt: now}
		if iu.TOTPSecret != "" {
			enc, err := seal(row.ID, iu.TOTPSecret)
			if err != nil {
				return ImportResult{}, err
			}
			tf.TOTPSecret, tf.TOTPEnabledAt = &enc, &now
		}
		if iu.EmailTwoFactor {
			tf.EmailEnabledAt = &now
		}
		if _, err := tx.NewInsert().Model(tf).Exec(ctx); err != nil {
			return ImportResult{}, err
		}
	}
	if err := replaceRecoveryCodes(ctx, tx, row.ID, iu.RecoveryCodeHashes, now); err != nil {
		return ImportResult{}, err
	}
	for _, c := range iu.WebAuthn {
		hash := WebAuthnCredentialHash(c.CredentialID)
		taken, err := tx.NewSelect().Model((*webAuthnCredentialRow)(nil)).Where("credential_hash = ?", hash).Exists(ctx)
		if err != nil {
			return ImportResult{}, err
		}
		if taken {
			res.Notes = append(res.Notes, "security key "+c.Name+" is registered to another Gatehouse account: not carried")
			continue
		}
		created := now
		if !c.CreatedAt.IsZero() {
			created = utc(c.CreatedAt)
		}
		_, err = tx.NewInsert().Model(&webAuthnCredentialRow{
			UserID: row.ID, CredentialID: base64.RawURLEncoding.EncodeToString(c.CredentialID),
			CredentialHash: hash, PublicKey: c.PublicKey, AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat,
			Transports: strings.Join(c.Transports, ","), AAGUID: c.AAGUID, SignCount: int64(c.SignCount),
			UserPresent: c.UserPresent, UserVerified: c.UserVerified, BackupEligible: c.BackupEligible, BackupState: c.BackupState,
			Passkey: c.Passkey, Name: truncate(c.Name, 64), CreatedAt: created, LastUsedAt: utcPtr(c.LastUsedAt),
		}).Exec(ctx)
		if err != nil {
			return ImportResult{}, err
		}
	}
	_, err = tx.NewInsert().Model(&auditRow{
		At: now, Event: gatehouse.AuditUserImported, SubjectID: &row.ID, Email: truncate(u.Email, 320),
		Detail: truncate("source="+iu.Source+" fs_uniquifier="+u.FSUniquifier, 1000),
	}).Exec(ctx)
	return res, err
}

// importUsername returns the columns of an imported username. The source's own rules made it,
// so Gatehouse's rules for new names (length, punctuation) do not apply; it is carried when it
// has a PRECIS key and neither it nor a look-alike belongs to another account, and otherwise
// left out with a note (the account imports all the same, and signs in with its address).
func importUsername(ctx context.Context, tx bun.Tx, name string) (usernameCols, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return usernameCols{}, "", nil
	}
	cols, err := usernameColumns(ctx, tx, name, 0)
	switch {
	case err == nil:
		return cols, "", nil
	case IsUsernameTaken(err):
		return usernameCols{}, "username " + name + " is taken by another Gatehouse account (or looks like one): not carried", nil
	case gatehouse.ErrorCode(err) == gatehouse.EInvalid:
		return usernameCols{}, "username " + name + " cannot be a Gatehouse username (PRECIS UsernameCaseMapped refuses it): not carried", nil
	}
	return usernameCols{}, "", err
}
