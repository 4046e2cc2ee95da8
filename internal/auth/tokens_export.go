package auth

// NewOneTimeSecrets returns a fresh link token (256 random bits, base32) and a short code to
// type in (XXXXX-XXXXX), made as the confirmation and reset emails' are, for other flows that
// mail one-time secrets (team invitations). Store only HashOneTimeSecret of each.
func NewOneTimeSecrets() (token, code string) { return randomToken(32), newCode() }

// HashOneTimeSecret is the stored form of a link token or code from NewOneTimeSecrets, and the
// form to look up what a user sent: a typed code is normalized first (case, spaces and the dash
// do not matter), so the hash of the mailed code and of what the user typed agree.
func HashOneTimeSecret(s string) string { return hashToken(normalizeSecret(s)) }
