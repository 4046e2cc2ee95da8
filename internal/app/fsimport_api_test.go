package app_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/fsimport"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

// The Flask-Security-Too side of these tests is Debian's python3-flask-security (5.1.x) running
// internal/fsimport/testdata/fsapp.py, which creates its users through Flask-Security's own API.
// Without it the tests are skipped, unless GATEHOUSE_TEST_REQUIRE is set (scripts/test installs
// it): then they fail.

const (
	fsSalt        = "shortsalt12" // 11 characters: Flask-Security sets no minimum
	fsTOTPSecrets = `{"1": "fsapp totp secret"}`
	fsRecoveryKey = "9-0_tCr2SCsbtLKyR_gosTd9aPM6H5Wy2jEgzGkCeSg="
	fsPython      = "/usr/bin/python3"
)

type fsUser struct {
	Password       string   `json:"password"`
	Hash           string   `json:"hash"`
	FSUniquifier   string   `json:"fs_uniquifier"`
	WebAuthnHandle string   `json:"webauthn_handle"`
	TOTP           string   `json:"totp_base32"`
	RecoveryCodes  []string `json:"recovery_codes"`
	Username       string   `json:"username"`
}

// fsKey is the security key registered in Flask-Security (the credential fsapp.py stores for
// webauthn-user@example.com, with counter 41): a software authenticator that signs in at
// Gatehouse after the import, for the relying party gatehouse.test (testConfig's PUBLIC_URL).
var fsKey = sync.OnceValue(func() (k struct {
	cred *webauthntest.Credential
	cose []byte
}) {
	var err error
	if k.cred, k.cose, err = webauthntest.NewCredential("gatehouse.test", nil, 42); err != nil {
		panic(err)
	}
	return k
})

func fsApp(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("../fsimport/testdata/fsapp.py")
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.CommandContext(context.Background(), fsPython, "-c", "import flask_security, flask_sqlalchemy, passlib, argon2").Run(); err != nil {
		if os.Getenv(testdb.EnvRequire) != "" {
			t.Fatalf("python3-flask-security is not installed (scripts/lib/fsimport.sh installs it), and %s is set: %v", testdb.EnvRequire, err)
		}
		t.Skipf("python3-flask-security not installed: %v", err)
	}
	return script
}

func fsEnv(encryptedCodes bool) []string {
	env := append(os.Environ(), "FS_SALT="+fsSalt, "FS_TOTP_SECRETS="+fsTOTPSecrets, "FS_CHEAP=1",
		`FS_WEBAUTHN={"id":"`+hex.EncodeToString(fsKey().cred.ID)+`","public_key":"`+hex.EncodeToString(fsKey().cose)+`","sign_count":41}`)
	if encryptedCodes {
		env = append(env, "FS_RECOVERY_KEYS="+fsRecoveryKey)
	}
	return env
}

// fsCreate makes a Flask-Security-Too database at url and returns its users.
func fsCreate(t *testing.T, url string, encryptedCodes bool) map[string]fsUser {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), fsPython, fsApp(t), "create", url)
	cmd.Env = fsEnv(encryptedCodes)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("fsapp.py create %s: %v\n%s", url, err, stderr)
	}
	var res struct{ Users map[string]fsUser }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("fsapp.py output: %v\n%s", err, out)
	}
	return res.Users
}

// fsVerifies asks Flask-Security-Too whether password matches hash.
func fsVerifies(t *testing.T, hash, password string) bool {
	t.Helper()
	in, _ := json.Marshal(map[string]string{"hash": hash, "password": password})
	cmd := exec.CommandContext(context.Background(), fsPython, fsApp(t), "verify")
	cmd.Env = fsEnv(false)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.ExitCode() == 1 {
		return false
	}
	if err != nil {
		t.Fatalf("fsapp.py verify: %v\n%s", err, out)
	}
	return true
}

// TestFlaskSecurityImport imports a Flask-Security-Too SQLite database into Gatehouse on every
// engine and signs in with what the users had.
func TestFlaskSecurityImport(t *testing.T) {
	fsApp(t)
	src := filepath.Join(t.TempDir(), "fs.db")
	url := "sqlite:///" + src // sqlite:////abs/path
	users := fsCreate(t, url, true)
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		checkFSImport(t, db, url, users, true)
	})
}

// TestFlaskSecurityImportSources reads the source from PostgreSQL and MariaDB (through the
// SQLAlchemy URLs Flask-Security configurations use).
func TestFlaskSecurityImportSources(t *testing.T) {
	fsApp(t)
	for _, engine := range []string{testdb.Postgres, testdb.MariaDB} {
		t.Run(engine, func(t *testing.T) {
			srcDB := testdb.New(t, engine)
			host := net.JoinHostPort(strings.Split(srcDB.Hosts[0], ":")[0], strings.Split(srcDB.Hosts[0], ":")[1])
			url := "postgresql+psycopg2://postgres@" + host + "/" + srcDB.Name
			if engine == testdb.MariaDB {
				url = "mysql+pymysql://root@" + host + "/" + srcDB.Name
			}
			users := fsCreate(t, url, false)
			checkFSImport(t, testdb.New(t, testdb.SQLite), url, users, false)
		})
	}
}

func checkFSImport(t *testing.T, db config.DB, url string, users map[string]fsUser, encryptedCodes bool) {
	cfg := testConfig(db)
	cfg.Security.PasswordSalt = fsSalt
	e := start(t, cfg, false)
	ctx := context.Background()
	e.createUser("taken@example.com", "Gatehouse's own password 1", "viewer")

	opts := fsimport.Options{
		Source:      url,
		RoleMap:     map[string]gatehouse.Role{"admin": gatehouse.RoleAdmin, "editor": gatehouse.RoleMaintainer, "user": gatehouse.RoleViewer},
		BatchSize:   3, // several batches
		TOTPSecrets: mustTOTPSecrets(t),
	}
	if encryptedCodes {
		opts.RecoveryKeys, _ = fsimport.ParseFernetKeys(fsRecoveryKey)
	}
	tgt := fsimport.Target{Store: e.app.Store, SealTOTP: e.app.Auth.SealImportedTOTP}

	// A dry run reports and writes nothing.
	dry := opts
	dry.DryRun = true
	rep, err := fsimport.Run(ctx, dry, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 9 || rep.Conflicts != 1 || rep.Skipped != 1 {
		t.Fatalf("dry run: %+v", rep)
	}
	if _, err := e.app.Store.UserByEmail(ctx, "bcrypt-admin@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Fatalf("the dry run wrote: %v", err)
	}

	rep, err = fsimport.Run(ctx, opts, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 9 || rep.Conflicts != 1 || rep.Skipped != 1 || rep.UnmappedRoles["auditor"] != 1 {
		t.Fatalf("import: %+v", rep)
	}
	if e := rep.Entry("plaintext-user@example.com"); e.Status != fsimport.StatusSkipped || !strings.Contains(e.Reason, "plain text") {
		t.Fatalf("plaintext: %+v", e)
	}
	// Idempotent: a second run changes nothing.
	again, err := fsimport.Run(ctx, opts, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Imported != 0 || again.Exists != 9 || again.Conflicts != 1 {
		t.Fatalf("second run: %+v", again)
	}

	// The existing Gatehouse account was not touched.
	e.login("taken@example.com", "Gatehouse's own password 1")
	e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "taken@example.com", "password": users["taken@example.com"].Password}), http.StatusUnauthorized, "unauthenticated")

	// Each original password signs in, a wrong one does not, and the hash becomes bcrypt-hmac.
	for _, email := range []string{"bcrypt-admin@example.com", "argon2-editor@example.com", "pbkdf2-user@example.com", "sha512crypt-user@example.com", "unconfirmed-user@example.com"} {
		u := users[email]
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": u.Password + "x"}), http.StatusUnauthorized, "unauthenticated")
		before, err := e.app.Store.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if before.PasswordHash != u.Hash || before.FSUniquifier != u.FSUniquifier || before.Username != u.Username {
			t.Fatalf("%s: hash or reference not carried: %+v", email, before)
		}
		e.login(email, u.Password)
		after, _ := e.app.Store.UserByEmail(ctx, email)
		// (A bcrypt hash at Gatehouse's cost is kept as it is.)
		if after.PasswordScheme != auth.SchemeBcryptHMAC || (after.PasswordHash == u.Hash) != strings.HasPrefix(u.Hash, "$2b$04$") {
			t.Fatalf("%s: not rehashed after login: %s", email, after.PasswordScheme)
		}
		e.login(email, u.Password) // and the new hash verifies
		// The other direction: Gatehouse's hash verifies in Flask-Security-Too.
		if email == "argon2-editor@example.com" && db.Type == testdb.SQLite && (!fsVerifies(t, after.PasswordHash, u.Password) || fsVerifies(t, after.PasswordHash, u.Password+"x")) {
			t.Fatal("Flask-Security-Too does not verify Gatehouse's bcrypt hash the same way")
		}
	}
	// The argon2 password holds "Ü", which Flask-Security normalised to NFKD: the decomposed
	// form a client might send is the same password.
	e.login("argon2-editor@example.com", strings.Replace(users["argon2-editor@example.com"].Password, "\u00dc", "U\u0308", 1))

	// Roles, confirmation, active state and tracking.
	wantRoles := map[string]string{"bcrypt-admin@example.com": "admin", "argon2-editor@example.com": "maintainer",
		"unconfirmed-user@example.com": "maintainer,viewer", "totp-user@example.com": "viewer", "webauthn-user@example.com": ""}
	for email, want := range wantRoles {
		u, _ := e.app.Store.UserByEmail(ctx, email)
		var got []string
		for _, r := range u.Roles {
			got = append(got, string(r))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: roles %v, want %s", email, got, want)
		}
	}
	if u, _ := e.app.Store.UserByEmail(ctx, "unconfirmed-user@example.com"); u.ConfirmedAt != nil || !u.Active {
		t.Errorf("unconfirmed-user: %+v", u)
	}
	if u, _ := e.app.Store.UserByEmail(ctx, "inactive-user@example.com"); u.Active || u.ConfirmedAt == nil || u.LoginCount != 7 || u.CurrentLoginIP != "192.0.2.2" {
		t.Errorf("inactive-user: %+v", u)
	}
	e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "inactive-user@example.com", "password": users["inactive-user@example.com"].Password}), http.StatusUnauthorized, "unauthenticated")

	// TOTP: the original secret's codes, computed by oathtool, answer the second step.
	tu := users["totp-user@example.com"]
	ch := e.passwordStep("totp-user@example.com", tu.Password)
	e.expect(e.secondStep(ch.Challenge, "totp", oathCode(t, tu.TOTP, e.clock.Now())), http.StatusOK, "")

	// Recovery codes made by Flask-Security work once each.
	ru := users["recovery-user@example.com"]
	if len(ru.RecoveryCodes) != 5 {
		t.Fatalf("recovery codes: %v", ru.RecoveryCodes)
	}
	ch = e.passwordStep("recovery-user@example.com", ru.Password)
	e.expect(e.secondStep(ch.Challenge, "recovery_code", strings.ToUpper(ru.RecoveryCodes[2])), http.StatusOK, "")
	ch = e.passwordStep("recovery-user@example.com", ru.Password)
	e.expect(e.secondStep(ch.Challenge, "recovery_code", ru.RecoveryCodes[2]), http.StatusUnauthorized, "unauthenticated")
	ch = e.passwordStep("recovery-user@example.com", ru.Password)
	e.expect(e.secondStep(ch.Challenge, "totp", oathCode(t, ru.TOTP, e.clock.Now())), http.StatusOK, "")

	// The security key is carried with its id, public key, counter and the user handle.
	wu, _ := e.app.Store.UserByEmail(ctx, "webauthn-user@example.com")
	creds, err := e.app.Store.WebAuthnCredentials(ctx, wu.ID)
	if err != nil || len(creds) != 1 {
		t.Fatalf("webauthn credentials: %v, %v", creds, err)
	}
	c := creds[0]
	if !bytes.Equal(c.CredentialID, fsKey().cred.ID) || !bytes.Equal(c.PublicKey, fsKey().cose) ||
		c.SignCount != 41 || c.Name != "my key" || strings.Join(c.Transports, ",") != "usb,nfc" {
		t.Fatalf("credential: %+v", c)
	}
	if wu.WebAuthnUserHandle == "" || wu.WebAuthnUserHandle != users["webauthn-user@example.com"].WebAuthnHandle {
		t.Fatalf("user handle %q, want %q", wu.WebAuthnUserHandle, users["webauthn-user@example.com"].WebAuthnHandle)
	}
	// And it signs in: the key answers with Flask-Security's user handle, which the account kept.
	cred := *fsKey().cred
	cred.UserHandle = []byte(users["webauthn-user@example.com"].WebAuthnHandle)
	key := webauthntest.New("https://gatehouse.test")
	key.Add(&cred)
	challenge, options := e.webAuthnSignIn("webauthn-user@example.com", users["webauthn-user@example.com"].Password)
	assertion, err := key.Get(options)
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.webAuthnSecondStep(challenge, assertion), http.StatusOK, "")
	// Registered there for the "first" usage (Flask-Security's first factor), it is a passkey
	// here: it signs in on its own, with Flask-Security's user handle.
	if !c.Passkey {
		t.Fatalf("a first-usage key was not imported as a passkey: %+v", c)
	}
	key.UserVerified = true
	e.expect(e.passkeySignIn(key), http.StatusOK, "")
	if evs, _ := e.app.Store.AuditEvents(ctx, wu.ID, gatehouse.AuditUserImported, 5); len(evs) != 1 {
		t.Fatalf("audit events: %v", evs)
	}
}

func mustTOTPSecrets(t *testing.T) fsimport.TOTPSecrets {
	s, err := fsimport.ParseTOTPSecrets(fsTOTPSecrets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
