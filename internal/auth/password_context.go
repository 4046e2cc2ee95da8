package auth

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ProductName is the name every deployment's passwords are checked against, whatever
// BRAND_NAME says: "gatehouse2026!" is a guess an attacker makes first.
const ProductName = "gatehouse"

// contextRest is how many letters and digits a password must keep once the context words
// (see builtFromContext) are taken out of it.
const contextRest = 8

// builtFromContext reports whether password is mostly made of the context words: the pieces
// of the user inputs (an email's local part and domain labels) and of the service's names.
// Every occurrence of every piece of three or more characters is removed from the lower-cased
// NFKC password (longest pieces first); when a piece was found and fewer than contextRest
// letters and digits remain, the password is a variation of things an attacker knows
// ("localhost.local1" or "Gatehouse2026!" for admin@localhost.local). This works without
// zxcvbn (SECURITY_PASSWORD_COMPLEXITY_CHECKER=none), which also receives the words.
func builtFromContext(password string, words []string) bool {
	pw := strings.ToLower(norm.NFKC.String(password))
	pieces := strengthInputs(words)
	// Longest first, so that "localhost" goes before "local".
	sort.SliceStable(pieces, func(i, j int) bool {
		return utf8.RuneCountInString(pieces[i]) > utf8.RuneCountInString(pieces[j])
	})
	found := false
	for _, p := range pieces {
		if strings.ContainsAny(p, "@. ") {
			continue // whole inputs: their pieces are in the list too
		}
		if strings.Contains(pw, p) {
			found = true
			pw = strings.ReplaceAll(pw, p, " ")
		}
	}
	if !found {
		return false
	}
	rest := 0
	for _, r := range pw {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			rest++
		}
	}
	return rest < contextRest
}

// contextWords returns the words a new password is checked against: the user inputs given
// by the caller (the account's email address), the configured ones (BRAND_NAME) and
// ProductName.
func (p PasswordPolicy) contextWords(userInputs []string) []string {
	out := make([]string, 0, len(userInputs)+len(p.ContextWords)+1)
	out = append(out, userInputs...)
	out = append(out, p.ContextWords...)
	return append(out, ProductName)
}
