package auth

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehousehq/gatehouse"
)

// ---------------------------------------------------------------------------------------------
// Policy

// PasswordPolicy says which new passwords are acceptable. It applies when a password is chosen
// (registration, change, reset, admin creation), never at login: a password that was accepted
// once keeps working when the policy tightens.
type PasswordPolicy struct {
	// MinLength is SECURITY_PASSWORD_LENGTH_MIN, in characters; 0 means DefaultPasswordLengthMin.
	MinLength int
	// MaxLength is the longest accepted password, in characters; 0 means
	// DefaultPasswordLengthMax (128, OWASP ASVS 2.1.2).
	MaxLength int
	// CheckStrength turns the zxcvbn check on (SECURITY_PASSWORD_COMPLEXITY_CHECKER="zxcvbn");
	// DefaultPasswordPolicy turns it on, the zero value leaves it off.
	CheckStrength bool
	// MinScore is SECURITY_ZXCVBN_MINIMUM_SCORE, the lowest accepted zxcvbn score (0–4); 0 means
	// DefaultZxcvbnMinimumScore (a threshold of 0 would accept everything: turn CheckStrength off
	// instead).
	MinScore int
	// ContextWords are checked like the account's email address: BRAND_NAME (ProductName is
	// always added). See builtFromContext.
	ContextWords []string
	// Breached, when set, also asks a range API (SECURITY_BREACHED_PASSWORD_URL); the offline
	// list (isCommonPassword) applies always.
	Breached *BreachedRange
}

// DefaultPasswordPolicy returns the policy with every SECURITY_* default: 12 to 128 characters and
// a zxcvbn score of at least 3.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{
		MinLength:     DefaultPasswordLengthMin,
		MaxLength:     DefaultPasswordLengthMax,
		CheckStrength: true,
		MinScore:      DefaultZxcvbnMinimumScore,
	}
}

// Check is CheckContext without a context (no range query can be cancelled by the caller).
func (p PasswordPolicy) Check(field, password string, userInputs ...string) error {
	return p.CheckContext(context.Background(), field, password, userInputs...)
}

// CheckContext reports whether password is acceptable as a new password (OWASP ASVS 2.1). A
// refusal is an EInvalid *gatehouse.Error naming field (so a form can say "new_password") with
// a human-readable problem; it never contains the password. userInputs are other things the
// user typed or that are known about them (email, name, username); with ContextWords and
// ProductName they are the context words: a password built from them is refused
// (builtFromContext), and zxcvbn counts them as weak. Then the password must not be a known
// breached one: the offline list, then the range API when Breached is set.
//
// Lengths are counted in Unicode code points of the composed (NFC) form, so that a character
// counts once however a client encoded it and "at least 64 characters in any script" holds:
// counting after NFKD, as Flask-Security does, would count a Hangul syllable as two or three
// characters and an accented letter as two, refusing a 64-syllable Korean passphrase. zxcvbn
// judges the NFKC form, for the same reason (see strength).
func (p PasswordPolicy) CheckContext(ctx context.Context, field, password string, userInputs ...string) error {
	if !utf8.ValidString(password) {
		return gatehouse.FieldError(field, "must be valid UTF-8 text")
	}
	if strings.ContainsRune(password, 0) {
		// NUL ends strings in C libraries and many bcrypt implementations: refuse it rather
		// than store a password that other tools would read differently.
		return gatehouse.FieldError(field, "must not contain NUL characters")
	}
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen <= 0 {
		minLen = DefaultPasswordLengthMin
	}
	if maxLen <= 0 {
		maxLen = DefaultPasswordLengthMax
	}
	n := PasswordLength(password)
	if n < minLen {
		return gatehouse.FieldError(field, fmt.Sprintf("must be at least %d characters", minLen))
	}
	if n > maxLen {
		// Checked before zxcvbn, whose cost grows steeply with the length.
		return gatehouse.FieldError(field, fmt.Sprintf("must be at most %d characters", maxLen))
	}
	words := p.contextWords(userInputs)
	if builtFromContext(password, words) {
		return gatehouse.FieldError(field, "is too easy to guess: it is made of your email address or the name of this service")
	}
	if p.CheckStrength {
		minScore := p.MinScore
		if minScore <= 0 {
			minScore = DefaultZxcvbnMinimumScore
		}
		score, warning := strength(password, words)
		if score < minScore {
			if warning != "" {
				return gatehouse.FieldError(field, "is too easy to guess: "+lowerFirst(warning))
			}
			return gatehouse.FieldError(field, "is too easy to guess: add another word or two; uncommon words are better")
		}
	}
	// After zxcvbn, whose warnings say more ("this is a top-10 common password"); with the
	// strength check off the offline list still applies.
	if isCommonPassword(password) {
		return errBreached(field)
	}
	// Last: the only check that may leave the server, for a password that passed the others.
	if p.Breached.Breached(ctx, password) {
		return errBreached(field)
	}
	return nil
}

func errBreached(field string) error {
	return gatehouse.FieldError(field, "appears in known data breaches; choose another one")
}

// PasswordLength returns the number of characters in password as the policy counts them:
// Unicode code points of its NFC form (see PasswordPolicy.Check for why not NFKD).
func PasswordLength(password string) int {
	return utf8.RuneCountInString(norm.NFC.String(password))
}

// Limits of the zxcvbn estimate; see strength.
const (
	strengthScan  = 256 // characters of the NFKC password examined for repeats
	strengthJudge = 48  // characters zxcvbn scores, after repeats are collapsed
)

// strength returns the zxcvbn score of password and zxcvbn's warning, as Flask-Security's
// password_complexity_validator asks zxcvbn, but of the NFKC form where Flask-Security uses
// NFKD: compatibility characters are unfolded alike ("ﬁ" is "fi"), but an accented letter or a
// Hangul syllable stays one character instead of two or three, which zxcvbn would count as
// that many random characters ("사랑해요", "I love you", would pass as nine). Then three
// adaptations to github.com/trustelem/zxcvbn, each measured here:
//
//   - It indexes by bytes while treating some tokens as runes, so it mis-scores multi-byte
//     text: 64 random Cyrillic letters scored 0 (guesses 0), which would refuse every long
//     non-Latin password. zxcvbn therefore gets an ASCII stand-in: ASCII characters stay, and
//     each distinct other character becomes one of inertASCII, control characters no zxcvbn
//     pattern uses (see standIn). Repeats ("密密密密") are still seen; zxcvbn's dictionaries,
//     keyboards and dates are ASCII, so only sequences of non-ASCII code points are lost.
//   - Its search grows faster than the cube of the length: 64 random characters of its l33t
//     table took 0.2–0.4 s, 128 random printable characters 0.56 s, 256 took 10 s and 384 took
//     49 s, and NFKD lengthens some 128-character passwords a lot (U+FDFA becomes 18
//     characters). So zxcvbn scores only the first strengthJudge (48) characters, about 80 ms
//     at worst. Compared with zxcvbn on the whole password, leaving the rest out makes the
//     estimate lower, not higher (but for a word cut at the 48th character, which then counts
//     as random letters), and 48 characters that zxcvbn still finds guessable are a weak start
//     for any password.
//   - Cutting would hide what makes long passwords weak, repetition ("password1" fourteen
//     times), so first every run of three or more copies of a piece is collapsed to two copies
//     (collapseRepeats): zxcvbn still sees and prices the repeat, from its start, and only the
//     factor of the repeat count is lost, which again lowers the estimate. The first 256
//     characters are examined; later ones could only have raised it.
func strength(password string, userInputs []string) (score int, warning string) {
	var st standIn
	pw := strengthText(&st, password)
	inputs := strengthInputs(userInputs)
	for i, in := range inputs {
		inputs[i] = st.text(in)
	}
	res := zxcvbn.PasswordStrength(pw, inputs)
	return res.Score, zxcvbnWarning(res.Score, res.Sequence)
}

// strengthText is what zxcvbn is given for password: NFKC, at most strengthScan characters
// read, stand-ins for non-ASCII, repeats collapsed, at most strengthJudge characters. Its
// bounded length is what bounds zxcvbn's time.
func strengthText(st *standIn, password string) string {
	runes := []rune(norm.NFKC.String(password))
	if len(runes) > strengthScan {
		runes = runes[:strengthScan]
	}
	pw := collapseRepeats(st.text(string(runes)))
	if len(pw) > strengthJudge {
		pw = pw[:strengthJudge]
	}
	return pw
}

// collapseRepeats shortens every run of three or more consecutive copies of a substring of the
// ASCII s to two copies, taking the shortest repeating piece at the leftmost position first:
// "aaaaaa" becomes "aa", "xabcabcabcy" becomes "xabcabcy".
func collapseRepeats(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		copies, period := 1, 0
		for p := 1; i+3*p <= len(s); p++ {
			k := 1
			for i+(k+1)*p <= len(s) && s[i+k*p:i+(k+1)*p] == s[i:i+p] {
				k++
			}
			if k >= 3 {
				copies, period = k, p
				break
			}
		}
		if copies < 3 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+2*period])
		i += copies * period
	}
	return b.String()
}

// inertASCII lists the ASCII characters to which zxcvbn gives no meaning: the control characters
// other than NUL and the whitespace \t \n \v \f \r (which its date matcher reads as separators).
// No dictionary, keyboard graph, l33t table or date contains them. They are ordered so that
// neighbours differ by more than 5, zxcvbn's largest sequence step, so that a run of distinct
// characters does not turn into a fake "sequence".
var inertASCII = func() []byte {
	var sorted []byte
	for c := byte(1); c < 0x20; c++ {
		if c < '\t' || c > '\r' {
			sorted = append(sorted, c)
		}
	}
	sorted = append(sorted, 0x7f) // 27 characters
	out := make([]byte, len(sorted))
	for k := range out {
		out[k] = sorted[(k*10)%len(sorted)] // 10 is coprime with 27: a permutation
	}
	return out
}()

// standIn maps text to ASCII for zxcvbn: ASCII stays, and each other character, case-folded,
// becomes the next of inertASCII in order of first appearance, the same one every time it
// appears in the password and the user inputs. Only the 28th distinct non-ASCII character and
// later ones share a stand-in with an earlier one; zxcvbn may then see a repeat that is not
// there, which can only lower the score, and only after 27 characters that already make it
// strong.
type standIn struct{ m map[rune]byte }

func (s *standIn) text(str string) string {
	var b strings.Builder
	b.Grow(len(str))
	for _, r := range str {
		if r < utf8.RuneSelf {
			b.WriteRune(r) // one byte: r is ASCII
			continue
		}
		if s.m == nil {
			s.m = map[rune]byte{}
		}
		k := unicode.ToLower(r)
		c, ok := s.m[k]
		if !ok {
			c = inertASCII[len(s.m)%len(inertASCII)]
			s.m[k] = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

// strengthInputs returns the user inputs for zxcvbn, NFKC-normalised like the password, plus
// the pieces of each (an email's local part and domain labels, a name's words): zxcvbn only
// recognises whole dictionary entries inside the password, and a password holds "alice" or
// "example" far more often than "alice@example.com".
func strengthInputs(inputs []string) []string {
	out := make([]string, 0, 2*len(inputs))
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(s)
		if utf8.RuneCountInString(s) < 3 || seen[s] {
			return // one- and two-letter pieces would only add noise
		}
		seen[s] = true
		out = append(out, s)
	}
	for _, in := range inputs {
		if !utf8.ValidString(in) {
			continue
		}
		n := norm.NFKC.String(in)
		add(n)
		for _, piece := range strings.FieldsFunc(n, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
		}) {
			add(piece)
		}
	}
	return out
}

// zxcvbnWarning returns the warning zxcvbn 4.4.2's feedback module (feedback.coffee,
// get_feedback and get_match_feedback) gives for a score and match sequence, the text
// Flask-Security shows when a password is too weak. github.com/trustelem/zxcvbn reproduces
// zxcvbn 4.4.2's scores but not its feedback, so the warning half is ported here; the
// suggestions are not used.
func zxcvbnWarning(score int, seq []*match.Match) string {
	if len(seq) == 0 || score > 2 {
		return ""
	}
	// Feedback is tied to the longest match (the first one on ties).
	longest := seq[0]
	for _, m := range seq[1:] {
		if utf8.RuneCountInString(m.Token) > utf8.RuneCountInString(longest.Token) {
			longest = m
		}
	}
	sole := len(seq) == 1
	switch longest.Pattern {
	case "dictionary":
		return dictionaryWarning(longest, sole)
	case "spatial":
		if longest.Turns == 1 {
			return "Straight rows of keys are easy to guess"
		}
		return "Short keyboard patterns are easy to guess"
	case "repeat":
		if utf8.RuneCountInString(longest.BaseToken) == 1 {
			return `Repeats like "aaa" are easy to guess`
		}
		return `Repeats like "abcabcabc" are only slightly harder to guess than "abc"`
	case "sequence":
		return "Sequences like abc or 6543 are easy to guess"
	case "regex":
		if longest.RegexName == "recent_year" {
			return "Recent years are easy to guess"
		}
	case "date":
		return "Dates are often easy to guess"
	}
	return ""
}

// dictionaryWarning is zxcvbn 4.4.2's get_dictionary_match_feedback, warning part.
func dictionaryWarning(m *match.Match, sole bool) string {
	switch m.DictionaryName {
	case "passwords":
		if sole && !m.L33t && !m.Reversed {
			switch {
			case m.Rank <= 10:
				return "This is a top-10 common password"
			case m.Rank <= 100:
				return "This is a top-100 common password"
			default:
				return "This is a very common password"
			}
		}
		if m.Guesses > 0 && math.Log10(m.Guesses) <= 4 {
			return "This is similar to a commonly used password"
		}
	case "english_wikipedia":
		if sole {
			return "A word by itself is easy to guess"
		}
	case "surnames", "male_names", "female_names":
		if sole {
			return "Names and surnames by themselves are easy to guess"
		}
		return "Common names and surnames are easy to guess"
	}
	return ""
}

// lowerFirst lower-cases the first letter, so a zxcvbn sentence reads on after a colon.
func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[size:]
}
