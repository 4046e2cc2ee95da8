// Package fsimport imports a Flask-Security-Too database into Gatehouse (gatehouse import
// flask-security): users with their password hashes, roles, second factors, recovery codes and
// WebAuthn credentials, read directly from the source database (SQLite, PostgreSQL,
// MySQL/MariaDB) with the fsqla v1–v3 models.
package fsimport

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Options configure an import.
type Options struct {
	// Source is an SQLAlchemy URL or a DSN (see ParseSource).
	Source string
	// Tables overrides DefaultTables by logical name (user, role, roles_users, webauthn).
	Tables map[string]string
	// Columns overrides column names: logical table -> logical column -> actual column.
	Columns map[string]map[string]string
	// RoleMap maps Flask-Security role names to Gatehouse roles; unmapped roles are reported
	// and not granted.
	RoleMap map[string]gatehouse.Role
	// TOTPSecrets are the installation's SECURITY_TOTP_SECRETS.
	TOTPSecrets TOTPSecrets
	// RecoveryKeys are SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS (none: codes stored in clear).
	RecoveryKeys Fernet
	// SingleHash lists the passlib schemes in SECURITY_PASSWORD_SINGLE_HASH that Gatehouse
	// verifies (hashed without the HMAC step); SingleHashAll is SECURITY_PASSWORD_SINGLE_HASH=True.
	SingleHash    map[string]bool
	SingleHashAll bool
	// BatchSize is the number of users per transaction (default 500).
	BatchSize int
	DryRun    bool
}

// Target is where the accounts go: Gatehouse's store, and the sealer of TOTP secrets (the
// auth service's, so the secrets are stored as an enrolment would store them).
type Target struct {
	Store *store.Store
	// SealTOTP is auth.Service.SealImportedTOTP.
	SealTOTP func(userID int64, secret string) (string, error)
}

var userCols = []string{"id", "email", "password", "active", "confirmed_at", "last_login_at", "current_login_at",
	"last_login_ip", "current_login_ip", "login_count", "create_datetime", "fs_uniquifier",
	"tf_primary_method", "tf_totp_secret", "mf_recovery_codes", "fs_webauthn_user_handle", "username"}

// Run imports every user of the source into the target, in batches of one transaction each,
// and returns the report. An error is returned only when the import cannot go on (the source
// or target is unreachable, the schema is not Flask-Security's); per-user problems are in the
// report.
func Run(ctx context.Context, opts Options, tgt Target) (*Report, error) {
	engine, dsn, err := ParseSource(opts.Source)
	if err != nil {
		return nil, err
	}
	db, err := openSource(ctx, engine, dsn)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	sc := &schema{engine: engine, tables: map[string]string{}, cols: opts.Columns, have: map[string]map[string]bool{}}
	for k, v := range DefaultTables {
		sc.tables[k] = v
	}
	for k, v := range opts.Tables {
		sc.tables[k] = v
	}
	rep := &Report{DryRun: opts.DryRun, Source: engine, UnmappedRoles: map[string]int{}}
	for _, t := range []string{"user", "role", "roles_users"} {
		ok, err := sc.inspect(ctx, db, t)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("source table %q not found (a Flask-Security database? rename with --%s-table)", sc.tables[t], strings.ReplaceAll(t, "_", "-"))
		}
	}
	for _, c := range []string{"id", "email", "password", "active", "fs_uniquifier"} {
		if _, ok := sc.col("user", c); !ok {
			return nil, fmt.Errorf("source table %q has no column %q (rename with --column user.%s=NAME)", sc.tables["user"], c, c)
		}
	}
	hasWebAuthn, err := sc.inspect(ctx, db, "webauthn")
	if err != nil {
		return nil, err
	}
	if !hasWebAuthn && opts.Tables["webauthn"] == "" {
		sc.tables["webauthn"] = "webauthn"
		if hasWebAuthn, err = sc.inspect(ctx, db, "webauthn"); err != nil {
			return nil, err
		}
	}
	if !hasWebAuthn {
		rep.Warnings = append(rep.Warnings, "no WebAuthn table (web_authn or webauthn; --webauthn-table names another): security keys are not imported")
	}
	roleNames, err := readRoles(ctx, db, sc)
	if err != nil {
		return nil, err
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = 500
	}
	// Ids are read in order from above every id an fsqla table can hold (an INTEGER column: even
	// PostgreSQL's int4 must be able to take the argument).
	var after int64 = math.MinInt32
	for {
		users, err := readUsers(ctx, db, sc, after, batch, roleNames, hasWebAuthn)
		if err != nil {
			return nil, err
		}
		if len(users) == 0 {
			break
		}
		after = users[len(users)-1].id
		if err := importBatch(ctx, opts, tgt, users, rep); err != nil {
			return rep, err
		}
		if len(users) < batch {
			break
		}
	}
	return rep, nil
}

func readRoles(ctx context.Context, db *sql.DB, sc *schema) (map[int64]string, error) {
	q := "SELECT " + sc.selectList("role", []string{"id", "name"}) + " FROM " + sc.table("role") // #nosec G202 -- quoted identifiers
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading roles: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[int64]string{}
	for rows.Next() {
		var id, name any
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[asInt(id)] = asString(name)
	}
	return out, rows.Err()
}

// sourceUser is one row of the source's user table with what belongs to it.
type sourceUser struct {
	id                                        int64
	email, password, uniquifier, ip1, ip2     string
	primary, totp, recovery, handle, username string
	active                                    bool
	confirmed, lastLogin, curLogin, createdAt any
	loginCount                                int64
	roles                                     []string
	webauthn                                  []*store.WebAuthnCredential
}

func readUsers(ctx context.Context, db *sql.DB, sc *schema, after int64, limit int, roleNames map[int64]string, hasWebAuthn bool) ([]*sourceUser, error) {
	idCol, _ := sc.col("user", "id")
	q := "SELECT " + sc.selectList("user", userCols) + " FROM " + sc.table("user") + // #nosec G202 -- quoted identifiers
		" WHERE " + idCol + " > ? ORDER BY " + idCol + " LIMIT " + fmt.Sprint(limit)
	rows, err := db.QueryContext(ctx, sc.bind(q), after)
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var users []*sourceUser
	byID := map[int64]*sourceUser{}
	for rows.Next() {
		v := make([]any, len(userCols))
		ptrs := make([]any, len(v))
		for i := range v {
			ptrs[i] = &v[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		u := &sourceUser{
			id: asInt(v[0]), email: asString(v[1]), password: asString(v[2]), active: asBool(v[3]),
			confirmed: v[4], lastLogin: v[5], curLogin: v[6], ip1: asString(v[7]), ip2: asString(v[8]),
			loginCount: asInt(v[9]), createdAt: v[10], uniquifier: asString(v[11]), primary: asString(v[12]),
			totp: asString(v[13]), recovery: asString(v[14]), handle: asString(v[15]), username: asString(v[16]),
		}
		users = append(users, u)
		byID[u.id] = u
	}
	if err := rows.Err(); err != nil || len(users) == 0 {
		return users, err
	}
	ids := make([]any, len(users))
	marks := make([]string, len(users))
	for i, u := range users {
		ids[i], marks[i] = u.id, "?"
	}
	in := "(" + strings.Join(marks, ",") + ")"
	uid, _ := sc.col("roles_users", "user_id")
	q = "SELECT " + sc.selectList("roles_users", []string{"user_id", "role_id"}) + " FROM " + sc.table("roles_users") + " WHERE " + uid + " IN " + in // #nosec G202
	if err := eachRow(ctx, db, sc.bind(q), ids, 2, func(v []any) {
		if u := byID[asInt(v[0])]; u != nil {
			if name, ok := roleNames[asInt(v[1])]; ok {
				u.roles = append(u.roles, name)
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("reading roles_users: %w", err)
	}
	if hasWebAuthn {
		cols := []string{"user_id", "credential_id", "public_key", "sign_count", "transports", "backup_state", "device_type", "name", "create_datetime", "lastuse_datetime", "usage"}
		wuid, _ := sc.col("webauthn", "user_id")
		wid, _ := sc.col("webauthn", "id")
		q = "SELECT " + sc.selectList("webauthn", cols) + " FROM " + sc.table("webauthn") + " WHERE " + wuid + " IN " + in + " ORDER BY " + wid // #nosec G202
		if err := eachRow(ctx, db, sc.bind(q), ids, len(cols), func(v []any) {
			u := byID[asInt(v[0])]
			if u == nil {
				return
			}
			c := &store.WebAuthnCredential{
				CredentialID: asBytes(v[1]), PublicKey: asBytes(v[2]), SignCount: uint32(asInt(v[3])), //nolint:gosec // a counter
				BackupState: asBool(v[5]), BackupEligible: asString(v[6]) == "multi_device" || asBool(v[5]),
				Name: asString(v[7]), UserPresent: true, AAGUID: "00000000-0000-0000-0000-000000000000",
				AttestationType: "none",
			}
			if t := asString(v[4]); t != "" {
				c.Transports = strings.Split(t, ",")
			}
			if t := asTime(v[8]); t != nil {
				c.CreatedAt = *t
			}
			c.LastUsedAt = asTime(v[9])
			// Flask-Security's "first" usage (SECURITY_WAN_ALLOW_AS_FIRST_FACTOR) is what Gatehouse
			// calls a passkey: it may sign in on its own. "secondary" keys stay second factors.
			c.Passkey = asString(v[10]) == "first"
			u.webauthn = append(u.webauthn, c)
		}); err != nil {
			return nil, fmt.Errorf("reading WebAuthn credentials: %w", err)
		}
	}
	return users, nil
}

// bind rewrites ? placeholders to PostgreSQL's $n.
func (s *schema) bind(q string) string {
	if s.engine != EnginePostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func eachRow(ctx context.Context, db *sql.DB, q string, args []any, ncol int, fn func([]any)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		v := make([]any, ncol)
		ptrs := make([]any, ncol)
		for i := range v {
			ptrs[i] = &v[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}

// passlibScheme names a hash the way SECURITY_PASSWORD_SINGLE_HASH does.
func passlibScheme(hash string) string {
	switch {
	case strings.HasPrefix(hash, "$2"):
		return "bcrypt"
	case strings.HasPrefix(hash, "$argon2"):
		return "argon2"
	case strings.HasPrefix(hash, "$pbkdf2-sha512$"):
		return "pbkdf2_sha512"
	case strings.HasPrefix(hash, "$pbkdf2-sha256$"):
		return "pbkdf2_sha256"
	case strings.HasPrefix(hash, "$6$"):
		return "sha512_crypt"
	case strings.HasPrefix(hash, "$5$"):
		return "sha256_crypt"
	}
	return ""
}

// importBatch maps a batch of source users and stores it in one transaction.
func importBatch(ctx context.Context, opts Options, tgt Target, users []*sourceUser, rep *Report) error {
	var batch []*store.ImportedUser
	var entries []*Entry
	for _, su := range users {
		e := &Entry{Email: su.email, FSUniquifier: su.uniquifier}
		iu := mapUser(opts, su, e, rep)
		if iu == nil {
			rep.add(e)
			continue
		}
		batch = append(batch, iu)
		entries = append(entries, e)
	}
	if len(batch) == 0 {
		return nil
	}
	results, err := tgt.Store.ImportUsers(ctx, batch, tgt.SealTOTP, opts.DryRun)
	if err != nil {
		return fmt.Errorf("importing a batch of %d users (from %s): %w", len(batch), batch[0].User.Email, err)
	}
	for i, r := range results {
		e := entries[i]
		e.Status, e.UserID = r.Status, r.UserID
		e.Notes = append(e.Notes, r.Notes...)
		switch r.Status {
		case store.ImportConflict:
			e.Reason = "a Gatehouse account with this email exists (not imported from this row): left untouched"
		case store.ImportExists:
			e.Reason = "imported by an earlier run"
			e.Notes = r.Notes
		}
		rep.add(e)
	}
	return nil
}

// mapUser turns a source user into an ImportedUser, or returns nil (with e filled in) when the
// user cannot be imported.
func mapUser(opts Options, su *sourceUser, e *Entry, rep *Report) *store.ImportedUser {
	skip := func(reason string) *store.ImportedUser {
		e.Status, e.Reason = StatusSkipped, reason
		return nil
	}
	if strings.TrimSpace(su.email) == "" {
		return skip("no email address")
	}
	if su.uniquifier == "" {
		return skip("no fs_uniquifier")
	}
	iu := &store.ImportedUser{Source: "flask-security"}
	u := &iu.User
	u.Email, u.Active, u.FSUniquifier = strings.TrimSpace(su.email), su.active, su.uniquifier
	if su.password == "" {
		return skip("no password (passwordless / WebAuthn-only accounts are not imported)")
	}
	single := opts.SingleHashAll || opts.SingleHash[passlibScheme(su.password)]
	u.PasswordScheme = auth.IdentifyFlaskSecurityHash(su.password, single)
	if u.PasswordScheme == "" {
		if passlibScheme(su.password) == "" {
			return skip("password stored in plain text or with a scheme Gatehouse cannot verify (set a new password after import with gatehouse user set-password)")
		}
		return skip("password hash malformed or beyond Gatehouse's limits")
	}
	u.PasswordHash = su.password
	e.PasswordScheme = u.PasswordScheme
	u.ConfirmedAt, u.LastLoginAt, u.CurrentLoginAt = asTime(su.confirmed), asTime(su.lastLogin), asTime(su.curLogin)
	u.LastLoginIP, u.CurrentLoginIP, u.LoginCount = su.ip1, su.ip2, su.loginCount
	if t := asTime(su.createdAt); t != nil {
		u.CreatedAt = *t
	}
	u.WebAuthnUserHandle, u.Username = su.handle, su.username
	seen := map[gatehouse.Role]bool{}
	for _, name := range su.roles {
		r, ok := opts.RoleMap[name]
		if !ok {
			rep.UnmappedRoles[name]++
			e.Notes = append(e.Notes, "role "+name+" not mapped (--role-map): not granted")
			continue
		}
		if !seen[r] {
			seen[r] = true
			u.Roles = append(u.Roles, r)
			e.Roles = append(e.Roles, string(r))
		}
	}
	switch su.primary {
	case "":
	case "authenticator":
		if su.totp == "" {
			e.Notes = append(e.Notes, "authenticator app set as primary method but no secret stored: not carried")
			break
		}
		secret, err := DecryptTOTP(su.totp, opts.TOTPSecrets)
		if err != nil {
			return skip("authenticator secret not readable (" + err.Error() + "); give --totp-secrets, or the account would lose its second factor")
		}
		iu.TOTPSecret = secret
		e.TwoFactor = "authenticator"
	case "email":
		iu.EmailTwoFactor = true
		e.TwoFactor = "email"
	case "sms":
		// Gatehouse has no SMS; keeping a second factor matters more than which one.
		iu.EmailTwoFactor = true
		e.TwoFactor = "email"
		e.Notes = append(e.Notes, "SMS second factor is not supported: replaced by emailed codes")
	default:
		return skip("unknown tf_primary_method " + su.primary)
	}
	if su.recovery != "" {
		iu.RecoveryCodeHashes, e.Notes = recoveryCodes(su.recovery, opts.RecoveryKeys, e.Notes)
		e.RecoveryCodes = len(iu.RecoveryCodeHashes)
	}
	iu.WebAuthn = su.webauthn
	e.WebAuthn = len(su.webauthn)
	return iu
}

// recoveryCodes returns the stored forms of Flask-Security's mf_recovery_codes (a comma-separated
// list, each code in clear or a Fernet token), or none, with a note, when they cannot all be
// read: a partial set would look complete to the user.
func recoveryCodes(stored string, keys Fernet, notes []string) ([]string, []string) {
	var hashes []string
	for c := range strings.SplitSeq(stored, ",") {
		code := strings.TrimSpace(c)
		if code == "" {
			continue
		}
		if strings.HasPrefix(code, "gAAAA") { // a Fernet token: version byte 0x80
			plain, err := keys.Decrypt(code)
			if err != nil {
				return nil, append(notes, "recovery codes are encrypted and --recovery-codes-keys does not open them: not carried")
			}
			code = string(plain)
		}
		h := auth.ImportedRecoveryCodeHash(code)
		if h == "" {
			return nil, append(notes, "recovery codes in a form Gatehouse does not accept: not carried")
		}
		hashes = append(hashes, h)
	}
	return hashes, notes
}
