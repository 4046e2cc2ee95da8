package config

import "time"

// DefaultPasswordlessWithin is SECURITY_PASSWORDLESS_WITHIN's default.
const DefaultPasswordlessWithin = 10 * time.Minute

// passwordlessVars are the settings of sign-in by emailed code or link (Flask-Security's
// unified sign-in with the email method). Their place in the table, and in
// docs/configuration.md, is after the other SECURITY_* settings.
var passwordlessVars = []Var{
	{Name: "SECURITY_PASSWORDLESS_EMAIL", Default: "false", Doc: "Sign-in by email: `POST /api/v1/auth/login/email-code` (and the login page's \"Email me a sign-in code\") mails a 6-digit code and a link that sign in without a password, bound to the browser or client that asked. Accounts may then also exist without a password. Needs SMTP_HOST.",
		set: func(c *Config, v string) error { return boolean(&c.Security.PasswordlessEmail, v) }},
	{Name: "SECURITY_PASSWORDLESS_WITHIN", Default: "10 minutes", Doc: "How long an emailed sign-in code and link are valid.",
		set: func(c *Config, v string) error {
			return flaskDuration(&c.Security.PasswordlessWithin, v, time.Minute, 24*time.Hour)
		}},
}

// finishPasswordless checks that sign-in by email can send its mail.
func (c *Config) finishPasswordless() []Problem {
	if c.Security.PasswordlessEmail && !c.SMTP.Enabled() {
		return []Problem{{Var: "SECURITY_PASSWORDLESS_EMAIL", Value: "true", Accepts: "false unless SMTP_HOST is set (the codes and links are mailed)"}}
	}
	return nil
}
