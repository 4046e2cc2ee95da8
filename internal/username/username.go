// Package username checks and normalises usernames (Flask-Security-Too's
// SECURITY_USERNAME_ENABLE): the form shown (what the user typed, in a Unicode normal form),
// the key under which two usernames are the same (PRECIS UsernameCaseMapped, RFC 8265: width
// mapped, case folded, NFC), and the skeleton under which two usernames look alike (UTS #39).
// It depends on no other Gatehouse package, so that the store and the services share one
// definition.
package username

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Defaults of the policy (Flask-Security-Too's SECURITY_USERNAME_MIN_LENGTH and _MAX_LENGTH).
const (
	DefaultMinLength   = 4
	DefaultMaxLength   = 32
	DefaultPunctuation = "_-."
	DefaultForm        = "NFKC"
	// MaxLength bounds SECURITY_USERNAME_MAX_LENGTH: the columns hold 64 characters on every
	// engine (the key may grow under case folding, so they are VARCHAR(255)).
	MaxLength = 64
)

// Policy is what a new username must satisfy. The zero value is not usable: see Default.
type Policy struct {
	// MinLength and MaxLength count characters (code points) of the display form.
	MinLength, MaxLength int
	// Punctuation lists the characters allowed beside letters and digits ("_-." by default).
	// "@" is never allowed: a name with "@" would be taken for an address by the login page.
	Punctuation string
	// Form is the Unicode normal form of the display form: NFKC (default), NFC, NFKD or NFD.
	Form string
}

// Default is the policy of an unconfigured server.
func Default() Policy {
	return Policy{MinLength: DefaultMinLength, MaxLength: DefaultMaxLength, Punctuation: DefaultPunctuation, Form: DefaultForm}
}

// Forms are the values Form accepts.
var Forms = []string{"NFKC", "NFC", "NFKD", "NFD"}

func (p Policy) form() norm.Form {
	switch strings.ToUpper(p.Form) {
	case "NFC":
		return norm.NFC
	case "NFKD":
		return norm.NFKD
	case "NFD":
		return norm.NFD
	}
	return norm.NFKC
}

// Problem is why a username was refused, as a field error's text.
type Problem string

func (p Problem) Error() string { return string(p) }

// Check validates a username as typed and returns its display form (trimmed of surrounding
// spaces, in the policy's normal form) and its key. The problem reads as the field's error:
// "must be at least 4 characters".
func (p Policy) Check(typed string) (display, key string, err error) {
	display = p.form().String(strings.TrimSpace(typed))
	if display == "" {
		return "", "", Problem("is required")
	}
	if !utf8.ValidString(display) {
		return "", "", Problem("is not valid UTF-8")
	}
	n := utf8.RuneCountInString(display)
	if n < p.MinLength {
		return "", "", Problem(fmt.Sprintf("must be at least %d characters", p.MinLength))
	}
	if n > p.MaxLength || n > MaxLength {
		return "", "", Problem(fmt.Sprintf("must be at most %d characters", min(p.MaxLength, MaxLength)))
	}
	first, _ := utf8.DecodeRuneInString(display)
	if !unicode.IsLetter(first) {
		return "", "", Problem("must start with a letter")
	}
	for _, r := range display {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r):
		case r != '@' && strings.ContainsRune(p.Punctuation, r):
		default:
			return "", "", Problem(p.allowed(r))
		}
	}
	key, err = Key(display)
	if err != nil {
		return "", "", Problem("contains characters that cannot be part of a username")
	}
	return display, key, nil
}

func (p Policy) allowed(r rune) string {
	what := "letters and digits"
	if punct := strings.ReplaceAll(p.Punctuation, "@", ""); punct != "" {
		var quoted []string
		for _, c := range punct {
			quoted = append(quoted, fmt.Sprintf("%q", c))
		}
		what = "letters, digits and " + strings.Join(quoted, " ")
	}
	switch {
	case unicode.IsSpace(r):
		return "must not contain spaces; use " + what
	case unicode.IsControl(r) || !unicode.IsPrint(r):
		return "must not contain control or invisible characters; use " + what
	}
	return fmt.Sprintf("must not contain %q; use %s", r, what)
}

// Key is the form under which usernames are unique: PRECIS UsernameCaseMapped (RFC 8265) of
// the name, so "Alice", "ALICE" and "ａｌｉｃｅ" (full-width) are one name. It refuses what the
// profile refuses (spaces, symbols outside ASCII, unassigned code points). Sign-in looks names
// up by it without the policy's other rules, so that a name made under an older policy still
// signs in.
func Key(name string) (string, error) {
	return precis.UsernameCaseMapped.String(strings.TrimSpace(name))
}

// Skeleton is the key under which usernames that look alike are the same: the UTS #39 skeleton
// of the key, lower-cased again (the mapping can produce capitals), as a SHA-256 hex digest so
// that the indexed column has a fixed size on every engine. "аlice" (Cyrillic а) and "alice"
// share it; so do "rn" and "m", "1" and "l".
func Skeleton(key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(confusable.Skeleton(key))))
	return hex.EncodeToString(sum[:])
}
