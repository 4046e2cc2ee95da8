package token

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzVerify: the access-token verifier never panics on any bearer string, and whatever it
// accepts carries exactly the claims of a token the manager issued (a mutated token either fails
// or, through base64 slack in its last character, decodes to the very same signed content).
func FuzzVerify(f *testing.F) {
	c := newClock(testNow)
	m := newTestManager(f, c, mustKey(f, AlgEdDSA), mustKey(f, AlgES256))
	tok, issued, err := m.Issue(testClaims())
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	for _, s := range []string{tok, "", ".", "..", parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".",
		`eyJhbGciOiJub25lIn0.` + parts[1] + ".", strings.Repeat("a", 9000), tok + ".x", strings.ToUpper(tok)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, bearer string) {
		got, err := m.Verify(bearer)
		if err != nil {
			assertUnauthenticated(t, err)
			return
		}
		if got.Subject != issued.Subject || got.Stamp != issued.Stamp || got.SessionID != issued.SessionID ||
			got.ID != issued.ID || !reflect.DeepEqual(got.Scope, issued.Scope) {
			t.Fatalf("Verify(%q) accepted claims %+v, issued %+v", bearer, got, issued)
		}
	})
}
