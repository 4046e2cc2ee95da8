package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Type != DBSQLite || c.DB.Path != "./data/gatehouse.db" || !c.DB.AutoMigrate ||
		c.DB.ConnectTimeout != 60*time.Second || c.HTTPAddr != ":8080" || c.LogFormat != "json" ||
		c.AdminEmail != "admin@localhost.local" || c.AdminPassword != "admin123" {
		t.Fatalf("defaults = %+v", c)
	}
	if want := 2*runtime.NumCPU() + 1; c.DB.PoolSize != want {
		t.Errorf("default pool size = %d, want (2 × %d cores) + 1 spindle = %d", c.DB.PoolSize, runtime.NumCPU(), want)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"postgres default port", map[string]string{"DB_TYPE": "postgres", "DB_HOST": "db.internal"},
			func(c *Config) bool { return slices.Equal(c.DB.Hosts, []string{"db.internal:5432"}) }},
		{"mariadb port", map[string]string{"DB_TYPE": "mariadb", "DB_PORT": "3307"},
			func(c *Config) bool { return slices.Equal(c.DB.Hosts, []string{"127.0.0.1:3307"}) }},
		{"galera list", map[string]string{"DB_TYPE": "galera", "DB_HOST": "a, b:3307,[::1],[fe80::1]:3308"},
			func(c *Config) bool {
				return slices.Equal(c.DB.Hosts, []string{"a:3306", "b:3307", "[::1]:3306", "[fe80::1]:3308"})
			}},
		{"spindles change pool", map[string]string{"DB_DISK_SPINDLES": "4"},
			func(c *Config) bool { return c.DB.PoolSize == 2*runtime.NumCPU()+4 }},
		{"explicit pool", map[string]string{"DB_POOL_SIZE": "7"}, func(c *Config) bool { return c.DB.PoolSize == 7 }},
		{"bools", map[string]string{"DB_AUTO_MIGRATE": "off"}, func(c *Config) bool { return !c.DB.AutoMigrate }},
		{"log", map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "text"},
			func(c *Config) bool { return c.LogLevel.String() == "DEBUG" && c.LogFormat == "text" }},
		{"tls pair", map[string]string{"TLS_CERT_FILE": "c.pem", "TLS_KEY_FILE": "k.pem"},
			func(c *Config) bool { return c.TLSCertFile == "c.pem" && c.TLSKeyFile == "k.pem" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pass")
	if err := os.WriteFile(f, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DB_PASS_FILE": f, "ADMIN_PASSWORD_FILE": f}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Pass != "s3cret" || c.AdminPassword != "s3cret" {
		t.Fatalf("secrets from files = %q, %q", c.DB.Pass, c.AdminPassword)
	}
	_, err = Load(env(map[string]string{"DB_PASS": "x", "DB_PASS_FILE": f}))
	if err == nil || !strings.Contains(err.Error(), "DB_PASS_FILE") {
		t.Fatalf("both DB_PASS and DB_PASS_FILE: %v", err)
	}
	_, err = Load(env(map[string]string{"ADMIN_PASSWORD_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "ADMIN_PASSWORD_FILE") {
		t.Fatalf("missing secret file: %v", err)
	}
}

// Every problem is reported at once, naming the variable, its value and what it accepts; secrets
// are never echoed.
func TestInvalidReportsEverything(t *testing.T) {
	_, err := Load(env(map[string]string{
		"DB_TYPE":            "oracle",
		"DB_POOL_SIZE":       "zero",
		"DB_AUTO_MIGRATE":    "maybe",
		"DB_CONNECT_TIMEOUT": "forever",
		"HTTP_ADDR":          "8080",
		"LOG_LEVEL":          "loud",
		"LOG_FORMAT":         "xml",
		"ADMIN_EMAIL":        "not-an-email",
		"TLS_CERT_FILE":      "only-cert.pem",
		"DB_PORT":            "70000",
	}))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want *config.Error", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.Var)
		if p.Accepts == "" {
			t.Errorf("%s: no description of what it accepts", p.Var)
		}
	}
	want := []string{"DB_TYPE", "DB_PORT", "DB_POOL_SIZE", "DB_AUTO_MIGRATE", "DB_CONNECT_TIMEOUT", "HTTP_ADDR", "LOG_LEVEL", "LOG_FORMAT", "ADMIN_EMAIL", "TLS_CERT_FILE"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems for %v, want %v", got, want)
	}
	msg := err.Error()
	for _, s := range []string{`DB_TYPE="oracle"`, "one of sqlite, postgres, mysql, mariadb, galera", `HTTP_ADDR="8080"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("message lacks %q:\n%s", s, msg)
		}
	}

	_, err = Load(env(map[string]string{"ADMIN_PASSWORD": " "}))
	if err == nil || strings.Contains(err.Error(), `" "`) || !strings.Contains(err.Error(), "(redacted)") {
		t.Fatalf("secret echoed or not reported: %v", err)
	}
	for _, bad := range []map[string]string{
		{"DB_TYPE": "postgres", "DB_HOST": "a,b"},
		{"DB_TYPE": "galera", "DB_HOST": "a:notaport"},
		{"DB_TYPE": "galera", "DB_HOST": " , "},
	} {
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), "DB_HOST") {
			t.Errorf("Load(%v) = %v, want a DB_HOST problem", bad, err)
		}
	}
}

// docs/configuration.md documents exactly the variables in the table, with the same defaults.
func TestDocsInSync(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| ([^|]*) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	for _, v := range Vars() {
		def, ok := documented[v.Name]
		if !ok {
			t.Errorf("%s is not documented in docs/configuration.md", v.Name)
			continue
		}
		if def != v.Default {
			t.Errorf("%s: documented default %q, code says %q", v.Name, def, v.Default)
		}
		delete(documented, v.Name)
		if v.File {
			delete(documented, v.Name+"_FILE")
		}
	}
	for name := range documented {
		t.Errorf("docs/configuration.md documents %s, which the code does not read", name)
	}
}

func TestFlaskDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1 hour": time.Hour, "30 minutes": 30 * time.Minute, "2 days": 48 * time.Hour, "1 week": 7 * 24 * time.Hour,
		"90m": 90 * time.Minute, "10s": 10 * time.Second, "1 Hours": time.Hour,
	} {
		got, ok := parseFlaskDuration(in)
		if !ok || got != want {
			t.Errorf("parseFlaskDuration(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "hour", "one hour", "-1 hour", "1 fortnight", "1 hour ago"} {
		if _, ok := parseFlaskDuration(bad); ok {
			t.Errorf("parseFlaskDuration(%q) accepted", bad)
		}
	}
	c, err := Load(env(map[string]string{"SECURITY_RESET_PASSWORD_WITHIN": "30 minutes", "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1", "PUBLIC_URL": "https://auth.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.ResetPasswordWithin != 30*time.Minute || len(c.TrustedProxies) != 2 || c.PublicURL != "https://auth.example.com" || c.JWT.Issuer != c.PublicURL {
		t.Fatalf("config = %+v", c)
	}
	for _, bad := range []map[string]string{
		{"PUBLIC_URL": "auth.example.com"}, {"PUBLIC_URL": "https://x/?a=b"}, {"TRUSTED_PROXIES": "10.0.0.0/33"},
		{"SMTP_USER": "u", "SMTP_TLS": "none"}, {"SECURITY_RESET_PASSWORD_WITHIN": "forever"},
	} {
		if _, err := Load(env(bad)); err == nil {
			t.Errorf("Load(%v) accepted", bad)
		}
	}
}

func TestLicenseSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"LICENSE_KEY": " PENG-ABCD-EFGH-IJKL-MNOP-QRST ", "LICENSE_SERVER_URL": "https://license.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.License.Key != "PENG-ABCD-EFGH-IJKL-MNOP-QRST" || c.License.ServerURL != "https://license.example.com" || c.License.Product != "gatehouse" {
		t.Fatalf("license config = %+v", c.License)
	}
	_, err = Load(env(map[string]string{"LICENSE_KEY": "peng-bad"}))
	if err == nil || !strings.Contains(err.Error(), "LICENSE_KEY") || strings.Contains(err.Error(), "peng-bad") {
		t.Fatalf("malformed key: %v (it must be named, and never echoed)", err)
	}
	if _, err := Load(env(map[string]string{"LICENSE_KEY": "PENG-ABCD-EFGH-IJKL-MNOP-QRST"})); err == nil || !strings.Contains(err.Error(), "LICENSE_SERVER_URL") {
		t.Fatalf("key without server: %v", err)
	}
}

// TestSecurityProfileASVSL2: SECURITY_PROFILE=asvs-l2 changes the defaults ASVS Level 2 asks
// for, and a variable set explicitly still wins over the preset.
func TestSecurityProfileASVSL2(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	def, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Load(env(map[string]string{"SECURITY_PROFILE": "asvs-l2"}))
	if err != nil {
		t.Fatal(err)
	}
	if def.Security.Profile != ProfileDefault || l2.Security.Profile != ProfileASVSL2 {
		t.Errorf("profiles = %q, %q", def.Security.Profile, l2.Security.Profile)
	}
	s := l2.Security
	if s.RefreshMaxAge != 12*time.Hour || s.RefreshMaxIdle != 30*time.Minute || s.RememberDuration != 12*time.Hour ||
		s.TwoFactorRememberFor != 12*time.Hour || s.Freshness != 15*time.Minute || s.TwoFactorRequired != "admins" ||
		s.PasswordLengthMin < 12 || s.LockoutAfter != 0 {
		t.Errorf("asvs-l2 security = %+v", s)
	}
	if def.Security.TwoFactorRequired != "none" || def.Security.RefreshMaxIdle != 7*24*time.Hour {
		t.Errorf("the default profile changed: %+v", def.Security)
	}
	// Explicit settings win over the preset.
	mixed, err := Load(env(map[string]string{"SECURITY_PROFILE": "asvs-l2", "SECURITY_TWO_FACTOR_REQUIRED": "all",
		"SECURITY_REFRESH_MAX_IDLE": "1 hour", "SECURITY_FRESHNESS": "5m"}))
	if err != nil {
		t.Fatal(err)
	}
	if mixed.Security.TwoFactorRequired != "all" || mixed.Security.RefreshMaxIdle != time.Hour || mixed.Security.Freshness != 5*time.Minute ||
		mixed.Security.RefreshMaxAge != 12*time.Hour {
		t.Errorf("explicit settings with the preset = %+v", mixed.Security)
	}
	if _, err := Load(env(map[string]string{"SECURITY_PROFILE": "paranoid"})); err == nil || !strings.Contains(err.Error(), "SECURITY_PROFILE") {
		t.Errorf("unknown profile: %v", err)
	}
}

// TestShortPasswordSaltAccepted: Flask-Security sets no minimum length for
// SECURITY_PASSWORD_SALT, so an installation's 12-character salt must be usable as it is to
// import its password hashes (a short one is warned about at start, never refused).
func TestShortPasswordSaltAccepted(t *testing.T) {
	c, err := Load(env(map[string]string{"SECURITY_PASSWORD_SALT": "short salt12"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.PasswordSalt != "short salt12" {
		t.Fatalf("salt = %q", c.Security.PasswordSalt)
	}
}

// TestPortsOutOfRange: a port outside 0..65535 (1..65535 for the database) is reported as out of
// range, naming the variable.
func TestPortsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"HTTP_ADDR": ":70000"}, `HTTP_ADDR=":70000": expected host:port with a port from 0 to 65535 ("70000" is out of range)`},
		{map[string]string{"HTTP_ADDR": "127.0.0.1:-1"}, "out of range"},
		{map[string]string{"DB_TYPE": "postgres", "DB_PORT": "0"}, `DB_PORT="0": expected a whole number from 1 to 65535`},
		{map[string]string{"DB_TYPE": "postgres", "DB_PORT": "65536"}, `DB_PORT="65536": expected a whole number from 1 to 65535`},
		{map[string]string{"DB_TYPE": "galera", "DB_HOST": "a:70000"}, "a:70000 has no valid host and port"},
	} {
		_, err := Load(env(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v) = %v, want %q", c.vars, err, c.want)
		}
	}
}
