package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/fsimport"
)

// TestImportFlaskSecurityCommand runs gatehouse import flask-security through run on a
// Flask-Security-shaped SQLite database whose tables and a column were renamed (and which has
// the v1 model: no WebAuthn table, no recovery codes): flags, dry run, report, idempotence.
// The import of a database made by Flask-Security-Too itself is TestFlaskSecurityImport
// (internal/app).
func TestImportFlaskSecurityCommand(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fs.db")
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Hasher{Cost: 4, Salt: []byte("twelve chars")}
	hash, _, err := h.Hash("Imported password 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, mail VARCHAR(255) NOT NULL, password VARCHAR(255), active BOOLEAN NOT NULL,
			fs_uniquifier VARCHAR(64) NOT NULL, confirmed_at DATETIME, create_datetime DATETIME NOT NULL)`,
		`CREATE TABLE grp (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL)`,
		`CREATE TABLE account_grp (user_id INTEGER, role_id INTEGER)`,
		`INSERT INTO grp VALUES (1, 'admin'), (2, 'superuser')`,
		`INSERT INTO accounts VALUES (1, 'one@example.com', '` + hash + `', 1, 'u1', '2024-01-02 03:04:05.000000', '2023-01-01 00:00:00')`,
		`INSERT INTO accounts VALUES (2, 'two@example.com', 'plain text', 1, 'u2', NULL, '2023-01-01 00:00:00')`,
		`INSERT INTO accounts VALUES (3, 'admin@localhost.local', '` + hash + `', 1, 'u3', NULL, '2023-01-01 00:00:00')`,
		`INSERT INTO account_grp VALUES (1, 1), (1, 2)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = db.Close()

	env := func(k string) string {
		return map[string]string{"DB_PATH": filepath.Join(dir, "g.db"), "LOG_LEVEL": "error", "SECURITY_BCRYPT_COST": "10",
			"SECURITY_PASSWORD_SALT": "twelve chars"}[k]
	}
	base := []string{"import", "flask-security", "--source", "sqlite:///" + src, "--user-table", "accounts", "--role-table", "grp",
		"--roles-users-table", "account_grp", "--column", "user.email=mail", "--role-map", "admin=admin"}
	run := func(extra ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runWithInput(context.Background(), append(append([]string{}, base...), extra...), env, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	decode := func(s string) *fsimport.Report {
		var r fsimport.Report
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatalf("report: %v\n%s", err, s)
		}
		return &r
	}

	code, out, errs := run("--dry-run", "--format", "json")
	r := decode(out)
	if code != exitOK || !r.DryRun || r.Imported != 1 || r.Skipped != 1 || r.Conflicts != 1 || r.UnmappedRoles["superuser"] != 1 {
		t.Fatalf("dry run: exit %d %+v\n%s", code, r, errs)
	}
	if e := r.Entry("one@example.com"); e.PasswordScheme != auth.SchemeBcryptHMAC || strings.Join(e.Roles, ",") != "admin" {
		t.Fatalf("one: %+v", e)
	}
	report := filepath.Join(dir, "report.json")
	code, out, errs = run("--report-json", report)
	if code != exitOK || !strings.Contains(out, "1 imported") || !strings.Contains(out, "superuser (1 users)") ||
		!strings.Contains(out, "two@example.com: password stored in plain text") || !strings.Contains(out, "conflict  admin@localhost.local") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	b, err := os.ReadFile(report)
	if err != nil || decode(string(b)).Imported != 1 {
		t.Fatalf("report file: %v\n%s", err, b)
	}
	code, out, _ = run("--format", "json")
	if r := decode(out); code != exitOK || r.Imported != 0 || r.Exists != 1 {
		t.Fatalf("second run: %+v", r)
	}
	// The email changed in the source since: still the same account, not a second one.
	db, err = sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE accounts SET mail = 'one.new@example.com' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	code, out, _ = run("--format", "json")
	if r := decode(out); code != exitOK || r.Imported != 0 || r.Exists != 1 || len(r.Entry("one.new@example.com").Notes) != 1 {
		t.Fatalf("after an email change: %+v", r)
	}
	var lo bytes.Buffer
	runWithInput(context.Background(), []string{"user", "list"}, env, strings.NewReader(""), &lo, &lo)
	if !strings.Contains(lo.String(), "one@example.com") || !strings.Contains(lo.String(), "2024-") && !strings.Contains(lo.String(), "admin") {
		t.Fatalf("list:\n%s", lo.String())
	}

	for _, bad := range [][]string{
		{"import", "flask-security"},
		{"import", "flask-security", "--source", src, "--role-map", "admin=root"},
		{"import", "flask-security", "--source", src, "--format", "xml"},
		{"import", "flask-security", "--source", src, "--totp-secrets", "nope"},
		{"import", "flask-security", "--source", "oracle://x/y"},
		{"import", "other"},
	} {
		var out bytes.Buffer
		if code := runWithInput(context.Background(), bad, env, strings.NewReader(""), &out, &out); code == exitOK {
			t.Errorf("%v: exit 0\n%s", bad, out.String())
		}
	}
}
