package gatehouse

import "unicode"

// Problems reported by DisplayTextProblem, as field error texts.
const (
	problemControl = "must not contain control characters"
	problemBidi    = "must not contain bidirectional override or isolate characters (U+202A to U+202E, U+2066 to U+2069)"
	problemFormat  = "must not contain invisible formatting characters"
)

// DisplayTextProblem checks text that other people see (team, project, API key and security key
// names, descriptions) and returns what is wrong with it as a field error text, or "" when it is
// fine. Multiline text (a description) may hold line feeds, carriage returns and tabs, and is
// otherwise only refused control characters: free text in right-to-left scripts legitimately
// uses the bidirectional marks. A name (multiline false) refuses:
//
//   - control characters (Unicode Cc), and the line and paragraph separators U+2028 and U+2029;
//   - the bidirectional controls (U+202A to U+202E embeddings and overrides, U+2066 to U+2069
//     isolates, U+200E, U+200F and U+061C marks), which can make a name read differently from
//     what it is ("Trojan Source");
//   - every other format character (Unicode Cf: zero-width spaces, invisible tags, the byte order
//     mark, interlinear annotations), except the zero-width joiner and non-joiner (U+200C,
//     U+200D) that some scripts and emoji sequences need.
func DisplayTextProblem(s string, multiline bool) string {
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.Is(unicode.Cc, r), r == '\u2028', r == '\u2029':
			return problemControl
		case multiline:
		case isBidiControl(r):
			return problemBidi
		case r == '\u200c', r == '\u200d':
		case unicode.Is(unicode.Cf, r):
			return problemFormat
		}
	}
	return ""
}

func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' ||
		r == '\u200e' || r == '\u200f' || r == '\u061c'
}
