package auth

import (
	"net/netip"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// ValidateNewEmail is ValidateEmail for an address an account is about to take (registration,
// admin and command-line creation, a change of address, an invitation): it also refuses domains
// that are IP literals (user@[127.0.0.1], user@127.0.0.1, user@[IPv6:::1]). Such an address skips
// DNS and the mail domain's policies, points mail at whatever host the literal names (an internal
// one included), and is no one's stable identity. Sign-in and recovery keep using ValidateEmail,
// so that an account created before the rule still works.
func ValidateNewEmail(field, email string) (string, error) {
	email, err := ValidateEmail(field, email)
	if err != nil {
		return "", err
	}
	if ipLiteralDomain(email[strings.LastIndexByte(email, '@')+1:]) {
		return "", gatehouse.FieldError(field, "must have a domain name, not an IP address")
	}
	return email, nil
}

// ipLiteralDomain reports whether an address's domain is an IP address, bracketed or not.
func ipLiteralDomain(domain string) bool {
	if strings.HasPrefix(domain, "[") {
		return true // RFC 5321 address literal, whatever is inside
	}
	_, err := netip.ParseAddr(domain)
	return err == nil
}
