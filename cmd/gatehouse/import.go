package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/fsimport"
)

const importHelp = `Usage: gatehouse import flask-security --source URL [flags]

Imports the users of a Flask-Security-Too database into Gatehouse: email, active and confirmed
state, login tracking, creation time, roles (through --role-map), password hashes as they are
(bcrypt, argon2, pbkdf2_sha512/256, sha512/256_crypt: verified at sign-in and rehashed), the
authenticator-app secret, the primary two-factor method, recovery codes and WebAuthn
credentials. Existing Gatehouse accounts are never changed; running it again changes nothing.
Gatehouse's configuration (DB_*, SECURITY_*) comes from the environment as for every command:
set SECURITY_PASSWORD_SALT to the Flask-Security installation's salt, or the imported hashes
will not verify. See docs/migrating-from-flask-security.md.

Flags:
  --source URL              SQLAlchemy URL (postgresql://…, mysql+pymysql://…, sqlite:///path)
                            or a DSN; also the first argument
  --role-map MAP            Flask-Security role -> Gatehouse role, e.g.
                            admin=admin,editor=maintainer,user=viewer; other roles are
                            reported and not granted
  --totp-secrets JSON       SECURITY_TOTP_SECRETS, e.g. '{"1": "secret"}'
  --totp-secrets-file FILE  the same, read from a file
  --recovery-codes-keys K   SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS (comma-separated)
  --recovery-codes-keys-file FILE
  --single-hash LIST        SECURITY_PASSWORD_SINGLE_HASH: passlib schemes hashed without the
                            HMAC step (e.g. argon2), or "true" for all
  --user-table NAME, --role-table NAME, --roles-users-table NAME, --webauthn-table NAME
                            renamed tables (defaults: user, role, roles_users, web_authn)
  --column TABLE.COL=NAME   a renamed column, e.g. user.email=mail (repeatable)
  --batch-size N            users per transaction (default 500)
  --dry-run                 report what would happen, write nothing
  --format text|json        the report on standard output (default text)
  --report-json FILE        also write the JSON report to FILE
`

type columnFlags map[string]map[string]string

func (c columnFlags) String() string { return fmt.Sprint(map[string]map[string]string(c)) }

func (c columnFlags) Set(v string) error {
	key, name, ok := strings.Cut(v, "=")
	table, col, ok2 := strings.Cut(key, ".")
	if !ok || !ok2 || name == "" || col == "" {
		return errors.New("want TABLE.COLUMN=NAME, e.g. user.email=mail")
	}
	if c[table] == nil {
		c[table] = map[string]string{}
	}
	c[table][col] = name
	return nil
}

// parseRoleMap reads "fsrole=gatehouse-role,…".
func parseRoleMap(s string) (map[string]gatehouse.Role, error) {
	out := map[string]gatehouse.Role{}
	for pair := range strings.SplitSeq(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		role := gatehouse.Role(strings.ToLower(strings.TrimSpace(to)))
		if !ok || strings.TrimSpace(from) == "" || !role.Valid() {
			return nil, fmt.Errorf("--role-map: %q: want FSROLE=admin|maintainer|viewer", pair)
		}
		out[strings.TrimSpace(from)] = role
	}
	return out, nil
}

func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "flask-security" {
		if len(args) > 0 && isHelp(args[0]) {
			_, _ = fmt.Fprint(stdout, importHelp)
			return exitOK
		}
		_, _ = fmt.Fprint(stderr, importHelp)
		return exitConfig
	}
	fs := newFlagSet("import flask-security", stderr)
	source := fs.String("source", "", "")
	roleMap := fs.String("role-map", "", "")
	totpSecrets := fs.String("totp-secrets", "", "")
	totpFile := fs.String("totp-secrets-file", "", "")
	rcKeys := fs.String("recovery-codes-keys", "", "")
	rcFile := fs.String("recovery-codes-keys-file", "", "")
	singleHash := fs.String("single-hash", "", "")
	batch := fs.Int("batch-size", 500, "")
	dryRun := fs.Bool("dry-run", false, "")
	format := fs.String("format", "text", "")
	reportJSON := fs.String("report-json", "", "")
	tables := map[string]*string{}
	for _, t := range []string{"user", "role", "roles-users", "webauthn"} {
		tables[strings.ReplaceAll(t, "-", "_")] = fs.String(t+"-table", "", "")
	}
	cols := columnFlags{}
	fs.Var(cols, "column", "")
	if code, done := parseArgs(fs, importHelp, args[1:], stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		_, _ = fmt.Fprintf(stderr, "gatehouse import flask-security: "+format+"\n", a...)
		return exitConfig
	}
	if *source == "" && fs.NArg() == 1 {
		*source = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *source == "" {
		return usageErr("--source is required")
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format is text or json")
	}
	if *batch < 1 || *batch > 10000 {
		return usageErr("--batch-size is 1–10000")
	}
	opts := fsimport.Options{Source: *source, Tables: map[string]string{}, Columns: cols, BatchSize: *batch, DryRun: *dryRun,
		SingleHash: map[string]bool{}}
	for k, v := range tables {
		if *v != "" {
			opts.Tables[k] = *v
		}
	}
	var err error
	if opts.RoleMap, err = parseRoleMap(*roleMap); err != nil {
		return usageErr("%v", err)
	}
	secrets, err := valueOrFile("--totp-secrets", *totpSecrets, *totpFile)
	if err != nil {
		return usageErr("%v", err)
	}
	if opts.TOTPSecrets, err = fsimport.ParseTOTPSecrets(secrets); err != nil {
		return usageErr("%v", err)
	}
	keys, err := valueOrFile("--recovery-codes-keys", *rcKeys, *rcFile)
	if err != nil {
		return usageErr("%v", err)
	}
	if opts.RecoveryKeys, err = fsimport.ParseFernetKeys(strings.ReplaceAll(keys, "\n", ",")); err != nil {
		return usageErr("%v", err)
	}
	if b, err := strconv.ParseBool(*singleHash); err == nil {
		opts.SingleHashAll = b
	} else {
		for s := range strings.SplitSeq(*singleHash, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opts.SingleHash[s] = true
			}
		}
	}

	a, code := startApp(ctx, getenv, stderr)
	if a == nil {
		return code
	}
	defer func() { _ = a.Close() }()
	rep, err := fsimport.Run(ctx, opts, fsimport.Target{Store: a.Store, SealTOTP: a.Auth.SealImportedTOTP})
	code = exitOK
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse import flask-security: %v\n", err)
		code = exitFail
		if rep == nil {
			return code
		}
		_, _ = fmt.Fprintln(stderr, "the batches reported below were committed; run the command again to go on")
	}
	if *reportJSON != "" {
		f, err := os.Create(*reportJSON) // #nosec G304 -- the operator's own path
		if err == nil {
			err = rep.WriteJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "gatehouse import flask-security: writing %s: %v\n", *reportJSON, err)
			code = exitFail
		}
	}
	if *format == "json" {
		_ = rep.WriteJSON(stdout)
	} else {
		_ = rep.WriteText(stdout)
	}
	return code
}

// valueOrFile returns the flag's value, or the content of the file flag; not both.
func valueOrFile(name, value, file string) (string, error) {
	if value != "" && file != "" {
		return "", fmt.Errorf("%s and %s-file are exclusive", name, name)
	}
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file) // #nosec G304 -- the operator's own path
	return strings.TrimSpace(string(b)), err
}
