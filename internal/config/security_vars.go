package config

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// securityVars are the SECURITY_* settings: passwords, confirmation, recovery, sessions,
// brute-force limits, freshness, two-factor and one-time-code keys. They are kept apart from
// vars.go only to keep that file readable; their place in the table (and in
// docs/configuration.md) is between TRUSTED_PROXIES and WEBAUTHN_RP_ID.
var securityVars = []Var{
	{Name: "SECURITY_PROFILE", Default: "default", Doc: "`default`, or `asvs-l2`: the stricter defaults OWASP ASVS 4.0.3 Level 2 asks for (sessions of at most 12 hours and 30 minutes idle, \"remember me\" and \"remember this device\" 12 hours, SECURITY_FRESHNESS 15 minutes, SECURITY_TWO_FACTOR_REQUIRED `admins`, passwords of at least 12 characters, no lockout). Variables set explicitly still win. See [security.md](security.md#security-profile-asvs-l2).",
		set: func(c *Config, v string) error {
			return oneOf(&c.Security.Profile, strings.TrimSpace(v), ProfileDefault, ProfileASVSL2)
		}},
	{Name: "SECURITY_BCRYPT_COST", Default: "12", Doc: "bcrypt cost for new password hashes; existing hashes are rehashed at the next successful login when it changes.",
		set: func(c *Config, v string) error { return intIn(&c.Security.BcryptCost, v, 10, 16) }},
	{Name: "SECURITY_PASSWORD_SALT", Doc: "Secret key of the HMAC applied to passwords before bcrypt (Flask-Security's scheme; use the same value to import a Flask-Security user table; any length is accepted, one under 16 characters is warned about at start). Default: generated at first start and stored in the database.", File: true, Secret: true,
		set: func(c *Config, v string) error {
			// Any length is accepted: Flask-Security sets no minimum, and an installation's own
			// salt must be usable as it is to import its hashes. A short one is warned about at
			// start (app.New), never refused.
			// Empty means unset: a salt is generated.
			c.Security.PasswordSalt = v
			return nil
		}},
	{Name: "SECURITY_PASSWORD_LENGTH_MIN", Default: "12", Doc: "Minimum password length in characters (at most 128 are accepted). Never below 8: lower values are refused (OWASP ASVS 2.1.1 asks for at least 12).",
		set: func(c *Config, v string) error { return intIn(&c.Security.PasswordLengthMin, v, 8, 64) }},
	{Name: "SECURITY_BREACHED_PASSWORD_URL", Doc: "Base URL of a Have-I-Been-Pwned-compatible range API (such as `https://api.pwnedpasswords.com`): new passwords are also checked with k-anonymity range queries (`GET {url}/range/{first 5 hex digits of the SHA-1}`; only those 5 digits leave the server). Empty: only the offline list of common breached passwords built into the binary is checked. When the service does not answer in time the check passes (fail-open) and a warning is logged.",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				return accepts("an absolute http(s) URL without query, such as https://api.pwnedpasswords.com")
			}
			c.Security.BreachedPasswordURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Name: "SECURITY_BREACHED_PASSWORD_TIMEOUT", Default: "3s", Doc: "How long a range query to SECURITY_BREACHED_PASSWORD_URL may take before the check passes without it (fail-open, logged).",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.BreachedPasswordTimeout, v, 100*time.Millisecond, time.Minute)
		}},
	{Name: "SECURITY_PASSWORD_COMPLEXITY_CHECKER", Default: "zxcvbn", Doc: "`zxcvbn` refuses easily guessed passwords; `none` checks length only.",
		set: func(c *Config, v string) error { return oneOf(&c.Security.PasswordComplexity, v, "zxcvbn", "none") }},
	{Name: "SECURITY_ZXCVBN_MINIMUM_SCORE", Default: "3", Doc: "Lowest zxcvbn score (1–4) a new password needs. To check length only, set SECURITY_PASSWORD_COMPLEXITY_CHECKER=none.",
		set: func(c *Config, v string) error { return intIn(&c.Security.ZxcvbnMinimumScore, v, 1, 4) }},
	{Name: "SECURITY_REGISTERABLE", Default: "false", Doc: "Allow self-registration (`POST /api/v1/auth/register`). Off: administrators create accounts.",
		set: func(c *Config, v string) error { return boolean(&c.Security.Registerable, v) }},
	{Name: "SECURITY_CONFIRMABLE", Default: "true when SMTP_HOST is set", Doc: "New accounts must confirm their email address before they can log in.",
		set: func(c *Config, v string) error {
			var b bool
			if err := boolean(&b, v); err != nil {
				return err
			}
			c.Security.Confirmable = &b
			return nil
		}},
	{Name: "SECURITY_CONFIRM_EMAIL_WITHIN", Default: "2 days", Doc: "How long a confirmation link or code is valid, and the link and code of an account an administrator creates by invitation. Durations are Go durations (`90m`) or Flask-Security style (`1 hour`, `30 minutes`, `2 days`).",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.ConfirmEmailWithin, v, time.Minute, 30*24*time.Hour)
		}},
	{Name: "SECURITY_LOGIN_WITHOUT_CONFIRMATION", Default: "false", Doc: "Let accounts log in before confirming their address.",
		set: func(c *Config, v string) error { return boolean(&c.Security.LoginWithoutConfirmation, v) }},
	{Name: "SECURITY_CHANGEABLE", Default: "true", Doc: "Users can change their password (needs no SMTP).",
		set: func(c *Config, v string) error { return boolean(&c.Security.Changeable, v) }},
	{Name: "SECURITY_RECOVERABLE", Default: "true", Doc: "Forgot/reset password by email. Works only when SMTP is configured; otherwise the endpoints answer `feature_disabled`.",
		set: func(c *Config, v string) error { return boolean(&c.Security.Recoverable, v) }},
	{Name: "SECURITY_RESET_PASSWORD_WITHIN", Default: "1 hour", Doc: "How long a reset link or code is valid.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.ResetPasswordWithin, v, time.Minute, 7*24*time.Hour)
		}},
	{Name: "SECURITY_SEND_PASSWORD_RESET_EMAIL", Default: "true", Doc: "Mail the reset link when a reset is requested.",
		set: func(c *Config, v string) error { return boolean(&c.Security.SendPasswordResetEmail, v) }},
	{Name: "SECURITY_SEND_PASSWORD_RESET_NOTICE_EMAIL", Default: "true", Doc: "Mail a notice after a password was reset.",
		set: func(c *Config, v string) error { return boolean(&c.Security.SendResetNoticeEmail, v) }},
	{Name: "SECURITY_SEND_PASSWORD_CHANGE_EMAIL", Default: "true", Doc: "Mail a notice after a password was changed.",
		set: func(c *Config, v string) error { return boolean(&c.Security.SendPasswordChangeEmail, v) }},
	{Name: "SECURITY_TRACKABLE", Default: "true", Doc: "Record last and current login time and address and the login count.",
		set: func(c *Config, v string) error { return boolean(&c.Security.Trackable, v) }},
	{Name: "SECURITY_REFRESH_MAX_AGE", Default: "30 days", Doc: "Longest life of a session (refresh-token family), however often it is refreshed.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.RefreshMaxAge, v, time.Minute, 365*24*time.Hour)
		}},
	{Name: "SECURITY_REFRESH_MAX_IDLE", Default: "7 days", Doc: "A session unused this long ends.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.RefreshMaxIdle, v, time.Minute, 365*24*time.Hour)
		}},
	{Name: "SECURITY_REFRESH_REUSE_GRACE", Default: "10s", Doc: "A rotated refresh token presented again within this window (racing browser tabs) still works; after it, reuse revokes the whole session.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.RefreshReuseGrace, v, 0, time.Minute)
		}},
	{Name: "SECURITY_LOGIN_BACKOFF_AFTER", Default: "5", Doc: "After this many failures for one account (four times as many for one client address), each further attempt must wait exponentially longer (1 s, 2 s, … up to 15 min; 429 with `Retry-After`). Also applies to reset, confirm and code endpoints.",
		set: func(c *Config, v string) error { return intIn(&c.Security.LoginBackoffAfter, v, 1, 1000) }},
	{Name: "SECURITY_LOCKOUT_AFTER", Default: "0", Doc: "Lock an account after this many failures for SECURITY_LOCKOUT_DURATION (0: never lock). Admins can unlock.",
		set: func(c *Config, v string) error { return intIn(&c.Security.LockoutAfter, v, 0, 1000) }},
	{Name: "SECURITY_DEVICE_TOKEN_MAX_AGE", Default: "180 days", Doc: "Life of a device token (OWASP device cookies): a client that signed in to an account gets one (`data.device_token` in the API, a cookie on the pages) and, presenting it, keeps signing in while the account is slowed down or locked by failures from elsewhere. 0 turns device tokens off.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.DeviceTokenMaxAge, v, 0, 3*365*24*time.Hour)
		}},
	{Name: "SECURITY_DEVICE_TOKEN_FAILURES", Default: "5", Doc: "Failed sign-ins (within 24 hours) after which a device token stops being trusted until it expires; the client is then treated like any unknown one.",
		set: func(c *Config, v string) error { return intIn(&c.Security.DeviceTokenFailures, v, 1, 100) }},
	{Name: "SECURITY_LOCKOUT_DURATION", Default: "15 minutes", Doc: "How long a locked account stays locked.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.LockoutDuration, v, time.Minute, 30*24*time.Hour)
		}},
	{Name: "SECURITY_REMEMBER_DURATION", Default: "30 days", Doc: "How long a web sign-in with \"remember me\" lasts; without it the session cookie ends with the browser.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.RememberDuration, v, time.Hour, 365*24*time.Hour)
		}},
	{Name: "SECURITY_FRESHNESS", Default: "24 hours", Doc: "Credential changes (second factors, recovery codes, API keys, the email address) need a sign-in (or password re-entry) more recent than this: the web pages ask for the password again, the API takes `current_password` in the body or a re-authentication (`POST /api/v1/auth/reauth`), else answers `403 reauthentication_required`. Removing a factor and changing the email address always ask for the password, and changing the password for the current one.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.Freshness, v, time.Minute, 365*24*time.Hour)
		}},
	{Name: "SECURITY_TWO_FACTOR_REQUIRED", Default: "none", Doc: "Who must set up a second factor: `none`, `admins` (accounts with the global admin role) or `all`. Until they do, such accounts can only enrol one (see docs/two-factor.md).",
		set: func(c *Config, v string) error {
			return oneOf(&c.Security.TwoFactorRequired, v, "none", "admins", "all")
		}},
	{Name: "SECURITY_TWO_FACTOR_REMEMBER_DURATION", Default: "30 days", Doc: "How long \"remember this device\" skips the second login step (`0`: the option is off).",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.TwoFactorRememberFor, v, 0, 365*24*time.Hour)
		}},
	{Name: "SECURITY_TOTP_SECRETS_KEY", Doc: "Key that encrypts authenticator-app (TOTP) secrets at rest (AES-256-GCM): base64 of 32 random bytes (`openssl rand -base64 32`). Several comma-separated keys rotate: the first encrypts, all decrypt. Default: generated at first start and stored in the database (a warning is logged: set it in production, kept apart from database backups).", File: true, Secret: true,
		set: func(c *Config, v string) error {
			var keys [][]byte
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				k, err := base64.StdEncoding.DecodeString(item)
				if err != nil {
					k, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(item, "="))
				}
				if err != nil || len(k) != 32 {
					return accepts("base64 of 32 random bytes (openssl rand -base64 32); several keys separated by commas")
				}
				keys = append(keys, k)
			}
			c.Security.TOTPSecretsKeys = keys
			return nil
		}},
	{Name: "SECURITY_TOKEN_HMAC_KEY", Doc: "Secret key under which one-time codes and their link tokens (confirmation, reset, email change, invitations, emailed sign-in codes, recovery codes) are stored, as HMAC-SHA-256, so that a database copy alone cannot check guesses of a short code: at least 32 characters (`openssl rand -base64 32`). Keep it stable: changing it invalidates every pending link and code and every recovery code. Default: generated at first start and stored in the database (a warning is logged: set it in production, kept apart from database backups).", File: true, Secret: true,
		set: func(c *Config, v string) error {
			if len(v) < 32 {
				return accepts("a secret of at least 32 characters (openssl rand -base64 32)")
			}
			c.Security.TokenHMACKey = v
			return nil
		}},
}
