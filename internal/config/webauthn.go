package config

import (
	"net/url"
	"strings"
)

// finishWebAuthn derives the WebAuthn relying party from PUBLIC_URL where it is not set, and
// checks that every origin lies within the RP ID: browsers refuse a ceremony whose RP ID is not
// the page's host or a parent domain of it, so such a setting could never work.
func (c *Config) finishWebAuthn() []Problem {
	pub, err := url.Parse(c.PublicURL)
	if err != nil {
		return nil // PUBLIC_URL itself is reported
	}
	if c.Security.WebAuthnRPID == "" {
		c.Security.WebAuthnRPID = strings.ToLower(pub.Hostname())
	}
	if len(c.Security.WebAuthnOrigins) == 0 {
		c.Security.WebAuthnOrigins = []string{pub.Scheme + "://" + strings.ToLower(pub.Host)}
	}
	rpID := c.Security.WebAuthnRPID
	for _, o := range c.Security.WebAuthnOrigins {
		u, err := url.Parse(o)
		if err != nil {
			continue // reported by WEBAUTHN_ORIGINS
		}
		if h := u.Hostname(); h != rpID && !strings.HasSuffix(h, "."+rpID) {
			return []Problem{{Var: "WEBAUTHN_RP_ID", Value: rpID,
				Accepts: "the host of every WEBAUTHN_ORIGINS entry (" + o + ") or a parent domain of it"}}
		}
	}
	return nil
}
