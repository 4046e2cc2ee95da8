package config

import "time"

// Security profiles (SECURITY_PROFILE): a preset of stricter defaults. A profile changes only
// defaults; every variable set explicitly still wins over it.
const (
	ProfileDefault = "default"
	// ProfileASVSL2 applies what OWASP ASVS 4.0.3 Level 2 asks beyond Gatehouse's defaults (see
	// docs/security.md, which lists each change with its requirement).
	ProfileASVSL2 = "asvs-l2"
)

// asvsL2 is the ASVS Level 2 preset, applied to the defaults before the variables are read.
func asvsL2(c *Config) {
	s := &c.Security
	s.RefreshMaxAge = 12 * time.Hour        // 3.3.2: re-authentication at least every 12 hours (NIST AAL2)
	s.RefreshMaxIdle = 30 * time.Minute     // 3.3.2: and after 30 minutes of inactivity
	s.RememberDuration = 12 * time.Hour     // 3.3.2: a remembered web sign-in lasts no longer than a session
	s.TwoFactorRememberFor = 12 * time.Hour // 3.3.2: a remembered device does not outlive that either
	s.Freshness = 15 * time.Minute          // 3.7.1: sensitive changes ask for the password again after 15 minutes
	s.TwoFactorRequired = "admins"          // 4.3.1, 2.2.x: administrators use a second factor
	if s.PasswordLengthMin < 12 {
		s.PasswordLengthMin = 12 // 2.1.1: at least 12 characters
	}
	s.LockoutAfter = 0 // 2.2.1: slow down (backoff), do not let strangers lock accounts
}

// applyProfile applies the named preset; unknown names are left to the variable's own check.
func applyProfile(c *Config, name string) {
	if name == ProfileASVSL2 {
		asvsL2(c)
	}
}
