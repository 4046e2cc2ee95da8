package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// One-time codes (confirmation, reset, email change, invitations, recovery codes, emailed
// sign-in codes) are short: ~49 bits for XXXXX-XXXXX, 20 bits for six digits. A plain hash of
// one is cracked from a database copy in seconds, so they, and the link tokens mailed with
// them, are stored as HMAC-SHA-256 under a server secret that is not in the database
// (SECURITY_TOKEN_HMAC_KEY): without it, a stored value says nothing about the code.

// hashSecret is the stored form of a one-time code or link token: HMAC-SHA-256 under the token
// key, hex (64 characters, as the SHA-256 it replaces, so the columns fit).
func (s *Service) hashSecret(v string) string {
	return HMACHex(s.opts.TokenKey, v)
}

// HMACHex returns hex(HMAC-SHA-256(key, v)): how one-time codes are stored (see hashSecret).
// Exported for tests that check the stored form.
func HMACHex(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// HashOneTimeSecret is the stored form of a link token or code from NewOneTimeSecrets, and the
// form to look up what a user sent: a typed code is normalized first (case, spaces and the dash
// do not matter), so the hash of the mailed code and of what the user typed agree.
func (s *Service) HashOneTimeSecret(v string) string { return s.hashSecret(normalizeSecret(v)) }

// NewOneTimeSecrets returns a fresh link token (256 random bits, base32) and a short code to
// type in (XXXXX-XXXXX), made as the confirmation and reset emails' are, for other flows that
// mail one-time secrets (team invitations). Store only HashOneTimeSecret of each.
func NewOneTimeSecrets() (token, code string) { return randomToken(32), newCode() }

// codeAlphabet avoids characters people confuse (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newCode returns a short code to type instead of following a link: 10 characters of a
// 31-letter alphabet (~49 bits), shown as XXXXX-XXXXX.
func newCode() string {
	c, err := codeFrom(rand.Reader, codeAlphabet, 10)
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	return c[:5] + "-" + c[5:]
}

// codeFrom draws n characters of alphabet (at most 256 long) uniformly from r. A random byte b
// maps to alphabet[b % len] only when b is below the largest multiple of len that fits in a
// byte; the others are drawn again (rejection sampling), because with 31 letters the 8
// leftover byte values would make the first 8 letters 9/8 as likely as the rest.
func codeFrom(r io.Reader, alphabet string, n int) (string, error) {
	size := len(alphabet)
	if size == 0 || size > 256 {
		return "", fmt.Errorf("codeFrom: alphabet of %d characters", size)
	}
	limit := 256 - 256%size // bytes at or above this are rejected
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+1)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%size])
			}
		}
	}
	return string(out), nil
}
