package gatehouse

// PasswordSet reports whether the account has a password. An account without one signs in
// with emailed codes or links (SECURITY_PASSWORDLESS_EMAIL), a passkey or single sign-on; a
// password login for it fails exactly like a wrong password. The empty hash is the marker, so
// accounts made before password-less sign-in existed (SSO-only ones) need no migration.
func (u *User) PasswordSet() bool { return u.PasswordHash != "" }

// Audit events of sign-in by email (SECURITY_PASSWORDLESS_EMAIL). The sign-in itself is a
// login_success or login_failure event whose detail starts with "email ".
const (
	// AuditEmailSignInRequested: a code and link were asked for; the subject is the account
	// with that address, or empty when there is none (every request is recorded alike).
	AuditEmailSignInRequested = "email_signin_requested"
	// AuditEmailSignInApproved: the mailed link was opened in a browser that had not asked for
	// it, and its holder confirmed that the browser or app that asked may sign in.
	AuditEmailSignInApproved = "email_signin_approved"
	// AuditEmailSignInSecured: an emailed code or link signed in to an account whose address
	// had never been confirmed. Whoever registered the address may not own it (a pre-hijacked
	// account), so whatever they could have set was removed first (password, second factors,
	// sessions, API keys, pending one-time tokens); the detail says what.
	AuditEmailSignInSecured = "email_signin_unconfirmed_secured"
)
