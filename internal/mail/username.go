package mail

import "github.com/gatehousehq/gatehouse"

// The messages of usernames (SECURITY_USERNAME_ENABLE).
const (
	KindUsernameTaken    = "username_taken"
	KindUsernameRecovery = "username_recovery"
)

// UsernameTaken is sent, instead of a confirmation, to an address that registered with a
// username another account has (or one that looks like it): the registration's answer is the
// same as any other, so that it cannot tell which usernames exist; the address's owner learns
// here that no account was made.
type UsernameTaken struct {
	Username     string // the name asked for, shown as text on one line
	RegisterLink string // the registration page (absolute)
}

// UsernameRecovery tells an account its username (SECURITY_USERNAME_RECOVERY).
type UsernameRecovery struct {
	Username  string // shown as text on one line
	LoginLink string // the sign-in page (absolute)
}

// Kind implements Content.
func (UsernameTaken) Kind() string { return KindUsernameTaken }

// Kind implements Content.
func (UsernameRecovery) Kind() string { return KindUsernameRecovery }

func (c UsernameTaken) validate() error {
	if cleanLine(c.Username) == "" {
		return gatehouse.FieldError("username", "is required")
	}
	return checkLink("register_link", c.RegisterLink, true)
}

func (c UsernameRecovery) validate() error {
	if cleanLine(c.Username) == "" {
		return gatehouse.FieldError("username", "is required")
	}
	return checkLink("login_link", c.LoginLink, true)
}
