package config

// passkeyVars are the sign-ins without a password that need no email: passkeys (WebAuthn as
// the first factor) and authenticator-app codes in the password's place. They sit beside the
// WEBAUTHN_* variables in the table (and in docs/configuration.md).
var passkeyVars = []Var{
	{Name: "SECURITY_WAN_ALLOW_AS_FIRST_FACTOR", Default: "true", Doc: "Passkeys sign in on their own, without an email or password (`POST /api/v1/auth/login/passkey`, \"Sign in with a passkey\" and autofill on the login page). A passkey proves possession and user verification, so no second step follows. Off: passkeys still serve as second factors. See [two-factor.md](two-factor.md#passkeys-signing-in-without-a-password).",
		set: func(c *Config, v string) error { return boolean(&c.Security.WANAllowAsFirstFactor, v) }},
	{Name: "SECURITY_PASSWORDLESS_AUTHENTICATOR", Default: "false", Doc: "An account with an authenticator app may give its code instead of the password (`POST /api/v1/auth/login/authenticator`; Flask-Security's unified sign-in with `authenticator`). The code is one factor: the account's other second factor is asked next. See [two-factor.md](two-factor.md#an-authenticator-code-instead-of-the-password).",
		set: func(c *Config, v string) error { return boolean(&c.Security.PasswordlessAuthenticator, v) }},
}
