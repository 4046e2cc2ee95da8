package gatehouse

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzDisplayTextProblem: the name check never panics, and what it accepts as a name holds no
// control, bidirectional-control or (but for ZWJ/ZWNJ) other format character.
func FuzzDisplayTextProblem(f *testing.F) {
	for _, s := range []string{"Team A", "invoice\u202Efdp.exe", "a\u2066b\u2069", "a\tb", "👨\u200D👩", "te\u200Bam",
		"\U000E0041", "\xff", "שלום\u200F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if DisplayTextProblem(s, false) != "" {
			return
		}
		if strings.ContainsFunc(s, func(r rune) bool {
			return unicode.Is(unicode.Cc, r) || isBidiControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
		}) {
			t.Fatalf("DisplayTextProblem(%q) accepted it", s)
		}
		if DisplayTextProblem(s, true) != "" {
			t.Fatalf("a valid name %q is not a valid description", s)
		}
	})
}
