package config

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/gatehousehq/gatehouse/internal/username"
)

// Username holds the settings of usernames (Flask-Security-Too's SECURITY_USERNAME_*).
type Username struct {
	Enable      bool   // SECURITY_USERNAME_ENABLE
	Required    bool   // SECURITY_USERNAME_REQUIRED
	MinLength   int    // SECURITY_USERNAME_MIN_LENGTH
	MaxLength   int    // SECURITY_USERNAME_MAX_LENGTH
	Form        string // SECURITY_USERNAME_NORMALIZE_FORM
	Punctuation string // SECURITY_USERNAME_PUNCTUATION
	Recovery    bool   // SECURITY_USERNAME_RECOVERY
}

// Policy is the username policy these settings describe.
func (u Username) Policy() username.Policy {
	return username.Policy{MinLength: u.MinLength, MaxLength: u.MaxLength, Punctuation: u.Punctuation, Form: u.Form}
}

// usernameVars follow the passwordless settings in the table and in docs/configuration.md.
var usernameVars = []Var{
	{Name: "SECURITY_USERNAME_ENABLE", Default: "false", Doc: "Accounts may have a username besides their email address: unique without regard to case after Unicode normalisation, look-alikes refused; sign-in with either (`username` in place of `email` in `POST /api/v1/auth/login`; \"Email or username\" on the login page). See [authentication.md](authentication.md#usernames).",
		set: func(c *Config, v string) error { return boolean(&c.Security.Username.Enable, v) }},
	{Name: "SECURITY_USERNAME_REQUIRED", Default: "false", Doc: "Registration and account creation must give a username, and it cannot be removed. Off: it is optional.",
		set: func(c *Config, v string) error { return boolean(&c.Security.Username.Required, v) }},
	{Name: "SECURITY_USERNAME_MIN_LENGTH", Default: "4", Doc: "Fewest characters (code points) of a new username.",
		set: func(c *Config, v string) error {
			return intIn(&c.Security.Username.MinLength, v, 1, username.MaxLength)
		}},
	{Name: "SECURITY_USERNAME_MAX_LENGTH", Default: "32", Doc: "Most characters of a new username (at most 64).",
		set: func(c *Config, v string) error {
			return intIn(&c.Security.Username.MaxLength, v, 1, username.MaxLength)
		}},
	{Name: "SECURITY_USERNAME_NORMALIZE_FORM", Default: "NFKC", Doc: "Unicode normal form in which a username is stored and shown: `NFKC`, `NFC`, `NFKD` (Flask-Security's default) or `NFD`. Uniqueness does not depend on it: names are compared by their PRECIS UsernameCaseMapped form (RFC 8265).",
		set: func(c *Config, v string) error {
			return oneOf(&c.Security.Username.Form, strings.ToUpper(strings.TrimSpace(v)), username.Forms...)
		}},
	{Name: "SECURITY_USERNAME_PUNCTUATION", Default: "_-.", Doc: "Characters a username may contain besides letters and digits (it must start with a letter). Never spaces, control characters or `@`.",
		set: func(c *Config, v string) error {
			for _, r := range v {
				if r == '@' || unicode.IsSpace(r) || !unicode.IsPunct(r) && !unicode.IsSymbol(r) {
					return accepts("punctuation characters other than @, such as _-.")
				}
			}
			c.Security.Username.Punctuation = v
			return nil
		}},
	{Name: "SECURITY_USERNAME_RECOVERY", Default: "false", Doc: "Username recovery: `POST /api/v1/auth/username/recover` (and the page /recover-username, linked from the login page) mails an account's username to its address. Needs SECURITY_USERNAME_ENABLE and SMTP_HOST.",
		set: func(c *Config, v string) error { return boolean(&c.Security.Username.Recovery, v) }},
}

// finishUsername checks that the settings agree with each other.
func (c *Config) finishUsername() []Problem {
	u := c.Security.Username
	var problems []Problem
	if u.MinLength > u.MaxLength {
		problems = append(problems, Problem{Var: "SECURITY_USERNAME_MIN_LENGTH", Value: strconv.Itoa(u.MinLength), Accepts: "a length no greater than SECURITY_USERNAME_MAX_LENGTH"})
	}
	if u.Required && !u.Enable {
		problems = append(problems, Problem{Var: "SECURITY_USERNAME_REQUIRED", Value: "true", Accepts: "false unless SECURITY_USERNAME_ENABLE is true"})
	}
	if u.Recovery && !u.Enable {
		problems = append(problems, Problem{Var: "SECURITY_USERNAME_RECOVERY", Value: "true", Accepts: "false unless SECURITY_USERNAME_ENABLE is true"})
	}
	if u.Recovery && !c.SMTP.Enabled() {
		problems = append(problems, Problem{Var: "SECURITY_USERNAME_RECOVERY", Value: "true", Accepts: "false unless SMTP_HOST is set (the username is mailed)"})
	}
	return problems
}
