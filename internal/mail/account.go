package mail

import "time"

// KindAccountInvite is the message of an account an administrator created by invitation.
const KindAccountInvite = "account_invite"

// AccountInvite tells the owner of an address that an administrator made them an account, and
// lets them choose its password (the reset-password page, with a token made for this account).
// Using the link also confirms the address.
type AccountInvite struct {
	Link     string        // the password page with the token (absolute)
	Code     string        // the short code to type in instead; optional
	ValidFor time.Duration // how long link and code work; not shown when zero
}

// Kind implements Content.
func (AccountInvite) Kind() string { return KindAccountInvite }

func (c AccountInvite) validate() error {
	return firstErr(checkLink("link", c.Link, true), checkCode(c.Code, false))
}
