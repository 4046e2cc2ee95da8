package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// userRow is the users table. Domain types never carry storage tags.
type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	Email              string     `bun:"email"`
	EmailLower         string     `bun:"email_lower"`
	EmailSkeleton      *string    `bun:"email_skeleton"`    // EmailSkeleton; NULL only before the start-up backfill
	Username           *string    `bun:"username"`          // as shown; NULL: none
	UsernameNorm       *string    `bun:"username_norm"`     // username.Key, unique
	UsernameSkeleton   *string    `bun:"username_skeleton"` // username.Skeleton of the key
	PasswordHash       string     `bun:"password_hash"`
	PasswordScheme     string     `bun:"password_scheme"`
	Active             bool       `bun:"active"`
	ConfirmedAt        *time.Time `bun:"confirmed_at"`
	SecurityStamp      string     `bun:"security_stamp"`
	MustChangePassword bool       `bun:"must_change_password"`
	LastLoginAt        *time.Time `bun:"last_login_at"`
	LastLoginIP        string     `bun:"last_login_ip"`
	CurrentLoginAt     *time.Time `bun:"current_login_at"`
	CurrentLoginIP     string     `bun:"current_login_ip"`
	LoginCount         int64      `bun:"login_count"`
	LockedUntil        *time.Time `bun:"locked_until"` // the lockout's end, for the administration; see LockUserAudited
	SSOOnly            bool       `bun:"sso_only"`
	FSUniquifier       *string    `bun:"fs_uniquifier"`
	WebAuthnUserHandle *string    `bun:"webauthn_user_handle"`
	CreatedAt          time.Time  `bun:"created_at"`
	UpdatedAt          time.Time  `bun:"updated_at"`
}

type roleRow struct {
	bun.BaseModel `bun:"table:roles,alias:r"`

	ID          int64  `bun:"id,pk,autoincrement"`
	Name        string `bun:"name"`
	Description string `bun:"description"`
}

type userRoleRow struct {
	bun.BaseModel `bun:"table:user_roles,alias:ur"`

	UserID int64 `bun:"user_id,pk"`
	RoleID int64 `bun:"role_id,pk"`
}

// NormalizeEmail is the form in which emails are compared: trimmed and lower-cased.
func NormalizeEmail(email string) string { return gatehouse.NormalizeEmail(email) }

// NewSecurityStamp returns a fresh random security stamp.
func NewSecurityStamp() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// utc truncates to microseconds (the finest precision every engine keeps) in UTC, so that a time
// read back equals the time written.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

func (r *userRow) toDomain(roles []gatehouse.Role) *gatehouse.User {
	return &gatehouse.User{
		ID: r.ID, Email: r.Email, Username: deref(r.Username), PasswordHash: r.PasswordHash, PasswordScheme: r.PasswordScheme,
		Active: r.Active, ConfirmedAt: utcPtr(r.ConfirmedAt), SecurityStamp: r.SecurityStamp,
		MustChangePassword: r.MustChangePassword, Roles: roles,
		LastLoginAt: utcPtr(r.LastLoginAt), LastLoginIP: r.LastLoginIP,
		CurrentLoginAt: utcPtr(r.CurrentLoginAt), CurrentLoginIP: r.CurrentLoginIP,
		LoginCount: r.LoginCount, LockedUntil: utcPtr(r.LockedUntil), CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
		SSOOnly: r.SSOOnly, FSUniquifier: deref(r.FSUniquifier), WebAuthnUserHandle: deref(r.WebAuthnUserHandle),
	}
}

// CreateUser inserts u with its roles and fills in its ID, timestamps and (when empty) security
// stamp. An email already taken, compared case-insensitively, is EConflict.
func (s *Store) CreateUser(ctx context.Context, u *gatehouse.User) (err error) {
	defer wrapErr(&err, "store.CreateUser(%q)", u.Email)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.createUser(ctx, tx, u)
	})
}

func (s *Store) createUser(ctx context.Context, tx bun.Tx, u *gatehouse.User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	now := utc(s.now())
	if u.SecurityStamp == "" {
		u.SecurityStamp = NewSecurityStamp()
	}
	// An address that looks like another account's is refused (UTS #39 skeleton): such an account
	// exists only to be mistaken for the other one, by its owner, its team mates or an admin.
	if confusable, err := confusableTaken(ctx, tx, u.Email, 0); err != nil {
		return err
	} else if confusable {
		return errEmailConfusable("email")
	}
	uname, err := usernameColumns(ctx, tx, u.Username, 0)
	if err != nil {
		return err
	}
	skeleton := EmailSkeleton(u.Email)
	row := &userRow{
		Username: uname.display, UsernameNorm: uname.key, UsernameSkeleton: uname.skeleton,
		Email: u.Email, EmailLower: NormalizeEmail(u.Email), EmailSkeleton: &skeleton, PasswordHash: u.PasswordHash,
		PasswordScheme: u.PasswordScheme, Active: u.Active, ConfirmedAt: utcPtr(u.ConfirmedAt),
		SecurityStamp: u.SecurityStamp, MustChangePassword: u.MustChangePassword,
		SSOOnly: u.SSOOnly, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		if s.dialect.IsUniqueViolation(err) {
			return uniqueViolation(err, uname.key)
		}
		return err
	}
	if err := s.setRoles(ctx, tx, row.ID, u.Roles); err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.UpdatedAt = row.ID, now, now
	return nil
}

func validateUser(u *gatehouse.User) error {
	if strings.TrimSpace(u.Email) == "" {
		return gatehouse.FieldError("email", "is required")
	}
	if len(u.Email) > 320 {
		return gatehouse.FieldError("email", "must be at most 320 characters")
	}
	for _, r := range u.Roles {
		if !r.Valid() {
			return gatehouse.FieldError("roles", fmt.Sprintf("unknown role %q", r))
		}
	}
	return nil
}

// setRoles replaces the user's roles.
func (s *Store) setRoles(ctx context.Context, tx bun.Tx, userID int64, roles []gatehouse.Role) error {
	if _, err := tx.NewDelete().Model((*userRoleRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return err
	}
	if len(roles) == 0 {
		return nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	var ids []int64
	if err := tx.NewSelect().Model((*roleRow)(nil)).Column("id").Where("name IN (?)", bun.List(names)).Scan(ctx, &ids); err != nil {
		return err
	}
	rows := make([]userRoleRow, len(ids))
	for i, id := range ids {
		rows[i] = userRoleRow{UserID: userID, RoleID: id}
	}
	_, err := tx.NewInsert().Model(&rows).Exec(ctx)
	return err
}

func (s *Store) rolesOf(ctx context.Context, tx bun.IDB, userID int64) ([]gatehouse.Role, error) {
	var names []string
	err := tx.NewSelect().Model((*roleRow)(nil)).Column("r.name").
		Join("JOIN user_roles AS ur ON ur.role_id = r.id").
		Where("ur.user_id = ?", userID).OrderExpr("r.id").Scan(ctx, &names)
	roles := make([]gatehouse.Role, len(names))
	for i, n := range names {
		roles[i] = gatehouse.Role(n)
	}
	return roles, err
}

// UserByID returns the user or ENotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.UserByID(%d)", id)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err = s.userWhere(ctx, tx, "id = ?", id)
		return err
	})
	return u, err
}

// UserByEmail returns the user with this email, compared case-insensitively, or ENotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.UserByEmail")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err = s.userWhere(ctx, tx, "email_lower = ?", NormalizeEmail(email))
		return err
	})
	return u, err
}

func (s *Store) userWhere(ctx context.Context, tx bun.IDB, where string, arg any) (*gatehouse.User, error) {
	row := new(userRow)
	if err := tx.NewSelect().Model(row).Where(where, arg).Scan(ctx); err != nil {
		return nil, notFound(err, "user not found")
	}
	roles, err := s.rolesOf(ctx, tx, row.ID)
	if err != nil {
		return nil, err
	}
	return row.toDomain(roles), nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (n int64, err error) {
	defer wrapErr(&err, "store.CountUsers")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err = tx.NewSelect().Model((*userRow)(nil)).Count(ctx)
		return err
	})
	return n, err
}

// EnsureAdmin creates u with the admin role unless a user already holds that role, and reports
// whether it did. Instances starting together are safe: the unique email index (and, on Galera,
// certification with retry) lets exactly one insert win; the others see the admin and stop.
func (s *Store) EnsureAdmin(ctx context.Context, u *gatehouse.User) (created bool, err error) {
	defer wrapErr(&err, "store.EnsureAdmin(%q)", u.Email)
	u.Roles = []gatehouse.Role{gatehouse.RoleAdmin}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		created = false
		n, err := tx.NewSelect().Model((*userRoleRow)(nil)).
			Join("JOIN roles AS r ON r.id = ur.role_id").
			Where("r.name = ?", string(gatehouse.RoleAdmin)).Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		if err := s.createUser(ctx, tx, u); err != nil {
			return err
		}
		created = true
		return nil
	})
	if gatehouse.ErrorCode(err) == gatehouse.EConflict {
		// Either another instance created the admin at the same moment, or the address belongs
		// to an account without the admin role: then say so rather than start without an admin.
		var n int64
		if cerr := s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			n, err = tx.NewSelect().Model((*userRoleRow)(nil)).Join("JOIN roles AS r ON r.id = ur.role_id").
				Where("r.name = ?", string(gatehouse.RoleAdmin)).Count(ctx)
			return err
		}); cerr != nil {
			return false, cerr
		}
		if n > 0 {
			return false, nil
		}
		return false, gatehouse.Errorf(gatehouse.EConflict, "no user holds the admin role and %s belongs to an account without it", u.Email)
	}
	return created, err
}

// RecordLogin updates the login-tracking fields in one statement, so that concurrent logins
// never lose a count.
func (s *Store) RecordLogin(ctx context.Context, userID int64, ip string) (err error) {
	defer wrapErr(&err, "store.RecordLogin(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("last_login_at = current_login_at").
			Set("last_login_ip = current_login_ip").
			Set("current_login_at = ?", now).
			Set("current_login_ip = ?", ip).
			Set("login_count = login_count + 1").
			Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(res, "user not found")
	})
}

// AdminExists reports whether any user holds the admin role. Start-up asks it before hashing
// the default admin's password, so that a normal start does no bcrypt work.
func (s *Store) AdminExists(ctx context.Context) (exists bool, err error) {
	defer wrapErr(&err, "store.AdminExists")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*userRoleRow)(nil)).Join("JOIN roles AS r ON r.id = ur.role_id").
			Where("r.name = ?", string(gatehouse.RoleAdmin)).Count(ctx)
		exists = n > 0
		return err
	})
	return exists, err
}
