// Package config reads Gatehouse's configuration from the environment, applies defaults and
// validates it, reporting every problem at once and naming the variable.
//
// Every variable is declared once in the table in vars.go, with its default and meaning; the
// table drives parsing, the error messages and a test that keeps docs/configuration.md in sync.
package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"time"
)

// Database engines accepted by DB_TYPE.
const (
	DBSQLite   = "sqlite"
	DBPostgres = "postgres"
	DBMySQL    = "mysql"
	DBMariaDB  = "mariadb"
	DBGalera   = "galera"
)

// Config is the whole configuration of one Gatehouse process.
type Config struct {
	// Settings is the configuration as Load read it, secrets masked (Effective), for the
	// administration console. Nil for a Config built in code.
	Settings []Setting

	DB DB

	HTTPAddr        string
	TLSCertFile     string
	TLSKeyFile      string
	ShutdownTimeout time.Duration
	// DebugPprofAddr is the loopback address of the profiler listener; empty: off.
	DebugPprofAddr string
	// MemoryLimit is MEMORY_LIMIT, the Go runtime's soft memory limit in bytes; 0: none.
	MemoryLimit int64

	LogLevel  slog.Level
	LogFormat string // "json" or "text"

	AdminEmail    string
	AdminPassword string

	// PublicURL is the base of every link Gatehouse sends (emails); never taken from requests.
	PublicURL string
	// BrandName names the product in emails and pages.
	BrandName string
	// TrustedProxies are the peers whose X-Forwarded-For header is believed.
	TrustedProxies []netip.Prefix

	Security Security
	Web      Web
	JWT      JWT
	SMTP     SMTP
	License  License
	SSO      SSO
	Tracing  Tracing
}

// License configures the license-server client (enterprise features such as SSO).
type License struct {
	Key             string // empty: community tier, no calls
	ServerURL       string
	Product         string
	RefreshInterval time.Duration
	GracePeriod     time.Duration
}

// Security holds the account settings, under Flask-Security-Too's SECURITY_* names.
type Security struct {
	Profile                  string // SECURITY_PROFILE: "default" or "asvs-l2" (see profile.go)
	BcryptCost               int
	PasswordSalt             string // empty: generated at first start and stored in the database
	PasswordLengthMin        int
	PasswordComplexity       string // "zxcvbn" or "none"
	ZxcvbnMinimumScore       int
	BreachedPasswordURL      string        // HIBP-compatible range API; empty: offline list only
	BreachedPasswordTimeout  time.Duration // range query timeout (fail-open)
	DeviceTokenMaxAge        time.Duration // life of a sign-in device token; 0: off
	DeviceTokenFailures      int           // failures before a device token is no longer trusted
	Registerable             bool
	Confirmable              *bool // nil: on when SMTP is configured
	ConfirmEmailWithin       time.Duration
	LoginWithoutConfirmation bool
	Changeable               bool
	Recoverable              bool
	ResetPasswordWithin      time.Duration
	SendPasswordResetEmail   bool
	SendResetNoticeEmail     bool
	SendPasswordChangeEmail  bool
	Trackable                bool
	RefreshMaxAge            time.Duration
	RefreshMaxIdle           time.Duration
	RefreshReuseGrace        time.Duration
	LoginBackoffAfter        int
	LockoutAfter             int
	LockoutDuration          time.Duration
	RememberDuration         time.Duration // web "remember me"
	Freshness                time.Duration // web re-authentication before sensitive changes
	TwoFactorRequired        string        // "none", "admins" or "all"
	TwoFactorRememberFor     time.Duration // "remember this device"; 0: off
	TOTPSecretsKeys          [][]byte      // AES-256 keys; empty: generated and stored in the database
	TokenHMACKey             string        // one-time code HMAC key; empty: generated and stored in the database
	WebAuthnRPID             string        // WEBAUTHN_RP_ID; default: PublicURL's host
	WebAuthnOrigins          []string      // WEBAUTHN_ORIGINS; default: PublicURL's origin

	// Sign-in without a password (passkey_vars.go).
	WANAllowAsFirstFactor     bool          // SECURITY_WAN_ALLOW_AS_FIRST_FACTOR: passkeys sign in on their own
	PasswordlessAuthenticator bool          // SECURITY_PASSWORDLESS_AUTHENTICATOR: an authenticator code instead of the password
	PasswordlessEmail         bool          // SECURITY_PASSWORDLESS_EMAIL: sign-in by emailed code or link
	PasswordlessWithin        time.Duration // SECURITY_PASSWORDLESS_WITHIN

	// Username holds the SECURITY_USERNAME_* settings (username.go).
	Username Username
}

// Web holds the settings of the server-rendered pages (internal/web).
type Web struct {
	LogoPath     string // BRAND_LOGO_PATH; empty: the default logo
	CookieSecure string // "auto", "true" or "false"
}

// JWT holds the access-token settings.
type JWT struct {
	AccessTTL      time.Duration
	SigningKeyFile string // PEM file with one or more keys; empty: generated and stored in the database
	SigningAlg     string // for generated keys: EdDSA or ES256
	Issuer         string // default: PublicURL
	Audience       string
	// VerifyCacheSize bounds the cache of verified access tokens; 0: off.
	VerifyCacheSize int
}

// SMTP says how to send email. Host empty means email is off.
type SMTP struct {
	Host string
	Port int
	User string
	Pass string
	From string
	TLS  string // starttls, tls or none
}

// Enabled reports whether an SMTP server is configured.
func (s SMTP) Enabled() bool { return s.Host != "" }

// ConfirmableOn resolves SECURITY_CONFIRMABLE: its value when set, else on exactly when SMTP is
// configured (confirmation needs email).
func (c *Config) ConfirmableOn() bool {
	if c.Security.Confirmable != nil {
		return *c.Security.Confirmable
	}
	return c.SMTP.Enabled()
}

// DB says how to reach the database.
type DB struct {
	Type string
	// Hosts lists host:port pairs; more than one only for galera, tried in order.
	Hosts []string
	// Port is DB_PORT, the default port for Hosts entries without one.
	Port           int
	Name           string
	User           string
	Pass           string
	PoolSize       int
	DiskSpindles   int
	Path           string // SQLite file
	AutoMigrate    bool
	ConnectTimeout time.Duration
	// ConnMaxLifetime and ConnMaxIdleTime bound how long pooled connections live, so that
	// connections through a restarted proxy or to a failed-over node are recycled.
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// Family returns the migration family of the engine: "postgres", "mysql" (MySQL, MariaDB and
// Galera) or "sqlite".
func (d DB) Family() string {
	switch d.Type {
	case DBMySQL, DBMariaDB, DBGalera:
		return "mysql"
	}
	return d.Type
}

// DefaultPoolSize is the standard's formula: (2 × CPU cores) + disk spindles.
func DefaultPoolSize(spindles int) int {
	return 2*runtime.NumCPU() + spindles
}

// Problem is one invalid variable.
type Problem struct {
	Var     string
	Value   string
	Accepts string
}

// Error lists every invalid variable; it is what Load returns when anything is wrong.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s=%q: expected %s", p.Var, p.Value, p.Accepts)
	}
	return b.String()
}
