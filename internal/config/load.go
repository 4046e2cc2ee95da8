package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse/internal/username"
)

// Defaults returns the configuration with every default applied and nothing read.
func Defaults() *Config {
	return &Config{
		DB: DB{
			Type:            DBSQLite,
			Hosts:           []string{"127.0.0.1"},
			Name:            "gatehouse",
			User:            "gatehouse",
			DiskSpindles:    1,
			Path:            "./data/gatehouse.db",
			AutoMigrate:     true,
			ConnectTimeout:  60 * time.Second,
			ConnMaxLifetime: 30 * time.Minute,
			ConnMaxIdleTime: 5 * time.Minute,
		},
		HTTPAddr:        ":8080",
		ShutdownTimeout: 30 * time.Second,
		MemoryLimit:     DefaultMemoryLimit,
		LogFormat:       "json",
		AdminEmail:      "admin@localhost.local",
		AdminPassword:   "admin123",
		PublicURL:       "http://localhost:8080",
		BrandName:       "Gatehouse",
		Security: Security{
			BcryptCost:              12,
			PasswordLengthMin:       12,
			BreachedPasswordTimeout: 3 * time.Second,
			DeviceTokenMaxAge:       180 * 24 * time.Hour,
			DeviceTokenFailures:     5,
			PasswordComplexity:      "zxcvbn",
			ZxcvbnMinimumScore:      3,
			Profile:                 ProfileDefault,
			ConfirmEmailWithin:      48 * time.Hour,
			Changeable:              true,
			Recoverable:             true,
			ResetPasswordWithin:     time.Hour,
			SendPasswordResetEmail:  true,
			SendResetNoticeEmail:    true,
			SendPasswordChangeEmail: true,
			Trackable:               true,
			RefreshMaxAge:           30 * 24 * time.Hour,
			RefreshMaxIdle:          7 * 24 * time.Hour,
			RefreshReuseGrace:       10 * time.Second,
			LoginBackoffAfter:       5,
			LockoutDuration:         15 * time.Minute,
			RememberDuration:        30 * 24 * time.Hour,
			Freshness:               24 * time.Hour,
			TwoFactorRequired:       "none",
			TwoFactorRememberFor:    30 * 24 * time.Hour,

			WANAllowAsFirstFactor: true,
			PasswordlessWithin:    DefaultPasswordlessWithin,
			Username: Username{MinLength: username.DefaultMinLength, MaxLength: username.DefaultMaxLength,
				Form: username.DefaultForm, Punctuation: username.DefaultPunctuation},
		},
		Web:     Web{CookieSecure: "auto"},
		JWT:     JWT{AccessTTL: 15 * time.Minute, SigningAlg: "EdDSA", Audience: "gatehouse", VerifyCacheSize: 10000},
		SMTP:    SMTP{Port: 587, From: "Gatehouse <no-reply@localhost>", TLS: "starttls"},
		License: License{Product: "gatehouse", RefreshInterval: time.Hour, GracePeriod: 72 * time.Hour},
		SSO:     DefaultSSO(),
	}
}

// Load reads the configuration through getenv (os.Getenv in production; a map in tests). It
// returns *Error listing every invalid variable at once.
func Load(getenv func(string) string) (*Config, error) {
	c := Defaults()
	// The profile changes defaults only, so it applies before any variable is read and every
	// variable set explicitly overrides it.
	applyProfile(c, strings.TrimSpace(getenv("SECURITY_PROFILE")))
	var problems []Problem
	for _, v := range vars {
		raw, present, err := lookup(getenv, v)
		if err != nil {
			problems = append(problems, Problem{Var: v.Name + "_FILE", Value: getenv(v.Name + "_FILE"), Accepts: err.Error()})
			continue
		}
		if !present {
			continue
		}
		if err := v.set(c, raw); err != nil {
			shown := raw
			if v.Secret {
				shown = "(redacted)"
			}
			problems = append(problems, Problem{Var: v.Name, Value: shown, Accepts: err.Error()})
		}
	}
	problems = append(problems, c.finish()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	c.Settings = Effective(getenv)
	return c, nil
}

// lookup returns the variable's value from NAME or, for file variables, from the file NAME_FILE
// names. Setting both is an error, so that nobody wonders which one wins.
func lookup(getenv func(string) string, v Var) (string, bool, error) {
	raw := getenv(v.Name)
	if !v.File {
		return raw, raw != "", nil
	}
	path := getenv(v.Name + "_FILE")
	if path == "" {
		return raw, raw != "", nil
	}
	if raw != "" {
		return "", false, fmt.Errorf("either %s or %s_FILE, not both", v.Name, v.Name)
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the secret file on purpose
	if err != nil {
		return "", false, fmt.Errorf("a readable file (%w)", errors.Unwrap(err))
	}
	// Files written by editors and secret managers usually end with a newline that is not part
	// of the secret.
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

// finish applies the defaults that depend on other variables and checks combinations.
func (c *Config) finish() []Problem {
	var problems []Problem
	if c.DB.PoolSize == 0 {
		c.DB.PoolSize = DefaultPoolSize(c.DB.DiskSpindles)
	}
	if c.DB.Port == 0 {
		switch c.DB.Family() {
		case "postgres":
			c.DB.Port = 5432
		case "mysql":
			c.DB.Port = 3306
		}
	}
	if c.DB.Type != DBSQLite {
		hosts, bad := normaliseHosts(c.DB.Hosts, c.DB.Port)
		switch {
		case bad != "":
			problems = append(problems, Problem{Var: "DB_HOST", Value: strings.Join(c.DB.Hosts, ","), Accepts: "host or host:port entries separated by commas (" + bad + ")"})
		case len(hosts) == 0:
			problems = append(problems, Problem{Var: "DB_HOST", Value: "", Accepts: "at least one host"})
		case len(hosts) > 1 && c.DB.Type != DBGalera:
			problems = append(problems, Problem{Var: "DB_HOST", Value: strings.Join(c.DB.Hosts, ","), Accepts: "a single host unless DB_TYPE=galera"})
		default:
			c.DB.Hosts = hosts
		}
	}
	if c.JWT.Issuer == "" {
		c.JWT.Issuer = c.PublicURL
	}
	problems = append(problems, c.finishWebAuthn()...)
	problems = append(problems, c.finishSSO()...)
	problems = append(problems, c.finishTracing()...)
	problems = append(problems, c.finishPasswordless()...)
	problems = append(problems, c.finishUsername()...)
	if c.SMTP.User != "" && c.SMTP.TLS == "none" {
		problems = append(problems, Problem{Var: "SMTP_TLS", Value: c.SMTP.TLS, Accepts: "starttls or tls when SMTP_USER is set (credentials are never sent in clear text)"})
	}
	if c.License.Key != "" && c.License.ServerURL == "" {
		problems = append(problems, Problem{Var: "LICENSE_SERVER_URL", Value: "", Accepts: "the license server's URL when LICENSE_KEY is set"})
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		problems = append(problems, Problem{Var: "TLS_CERT_FILE", Value: c.TLSCertFile, Accepts: "TLS_CERT_FILE and TLS_KEY_FILE set together, or neither"})
	}
	return problems
}

// normaliseHosts turns each entry into host:port. It returns the first bad entry, if any.
func normaliseHosts(in []string, port int) ([]string, string) {
	out := make([]string, 0, len(in))
	for _, h := range in {
		host, p, err := net.SplitHostPort(h)
		if err != nil {
			// No port: a bare host name, IPv4 address or bracketed IPv6 address.
			host, p = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), strconv.Itoa(port)
			if strings.ContainsAny(host, "[]/ ") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
				return nil, h + " is not a host"
			}
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || host == "" {
			return nil, h + " has no valid host and port"
		}
		out = append(out, net.JoinHostPort(host, p))
	}
	return out, ""
}
