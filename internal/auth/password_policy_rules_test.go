package auth

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/gatehousehq/gatehouse"
)

// randomText returns n characters drawn from alphabet with a fixed seed.
func randomText(seed uint64, alphabet []rune, n int) string {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]rune, n)
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(out)
}

func runeRange(lo, hi rune) []rune {
	var out []rune
	for r := lo; r <= hi; r++ {
		out = append(out, r)
	}
	return out
}

func TestPolicyLengths(t *testing.T) {
	latin := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éèêàçñöüßÉÅøœ-")
	scripts := map[string][]rune{
		"Latin with accents": latin,
		"Cyrillic":           runeRange('а', 'я'),
		"CJK":                runeRange(0x4E00, 0x9FA5),
		"emoji":              runeRange(0x1F600, 0x1F64F),
		"Hangul":             runeRange(0xAC00, 0xD7A3), // decomposes to 2–3 jamo each under NFKD
		"Arabic":             runeRange(0x0621, 0x064A),
	}
	p := DefaultPasswordPolicy()
	seed := uint64(1)
	for name, alphabet := range scripts {
		seed++
		pw128 := randomText(seed, alphabet, 128)
		pw129 := randomText(seed, alphabet, 129)
		pw64 := randomText(seed, alphabet, 64)
		t.Run(name, func(t *testing.T) {
			for _, ok := range []string{pw64, pw128, norm.NFD.String(pw128)} {
				if err := p.Check("password", ok); err != nil {
					t.Errorf("%d characters refused: %v", PasswordLength(ok), err)
				}
			}
			err := p.Check("password", pw129)
			if gatehouse.ErrorFields(err)["password"] != "must be at most 128 characters" {
				t.Errorf("129 characters: %v", err)
			}
			assertNoSecret(t, err, pw129)
			// Hash takes every length the policy allows, in full.
			h := testHasher()
			hash, scheme, err := h.Hash(pw128)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := h.Verify(hash, scheme, pw128); !ok {
				t.Error("128 characters do not verify")
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	const email = "quillon.brackwater@example.com"
	def := DefaultPasswordPolicy()
	// zx8 is the default policy at the lowest minimum length allowed, so that zxcvbn's
	// warnings for short passwords are seen.
	zx8 := def
	zx8.MinLength = MinPasswordLengthMin
	tests := []struct {
		name     string
		policy   PasswordPolicy
		field    string
		password string
		inputs   []string
		problem  string // "" means accepted; a trailing "*" matches a prefix
	}{
		{"min length", def, "password", "Xk9#qZ!a7wP", nil, "must be at least 12 characters"},
		{"min length 8 accepted", PasswordPolicy{MinLength: 8}, "password", "Xk9#qZ!a", nil, ""},
		{"ligatures count once", PasswordPolicy{MinLength: 8}, "password", "\ufb01\ufb01\ufb01\ufb01", nil, "must be at least 8 characters"},
		{"composed and decomposed count alike", PasswordPolicy{MinLength: 8}, "password", "e\u0301e\u0301e\u0301e\u0301", nil, "must be at least 8 characters"},
		{"configured min", PasswordPolicy{MinLength: 12, CheckStrength: true}, "new_password", "Xk9#qZ!a7", nil, "must be at least 12 characters"},
		{"configured max", PasswordPolicy{MinLength: 8, MaxLength: 10}, "password", "Xk9#qZ!a7wP", nil, "must be at most 10 characters"},
		{"NUL", def, "password", "correct horse\x00battery staple", nil, "must not contain NUL characters"},
		{"invalid UTF-8", def, "password", "correct horse \xc3 battery staple", nil, "must be valid UTF-8 text"},
		{"password1", zx8, "password", "password1", nil, "is too easy to guess: this is a very common password"},
		{"top-10", zx8, "password", "12345678", nil, "is too easy to guess: this is a top-10 common password"},
		{"keyboard row", zx8, "new_password", "qwertyuiop", nil, "is too easy to guess: this is a top-100 common password"},
		{"repeat", def, "password", "aaaaaaaaaaaa", nil, `is too easy to guess: repeats like "aaa" are easy to guess`},
		{"sequence", zx8, "password", "abcdefghij", nil, "is too easy to guess: sequences like abc or 6543 are easy to guess"},
		{"name", zx8, "password", "jennifer", nil, "is too easy to guess: names and surnames by themselves are easy to guess"},
		{"no warning", zx8, "password", "johnsmith1", nil, "is too easy to guess: add another word or two; uncommon words are better"},
		{"similar to common", zx8, "password", "Summer2024", nil, "is too easy to guess: this is similar to a commonly used password"},
		{"strength off", PasswordPolicy{MinLength: 8}, "password", "Summer2024", nil, ""},
		{"strength off, breached", PasswordPolicy{MinLength: 8}, "password", "password1", nil, "appears in known data breaches; choose another one"},
		{"min score 4", PasswordPolicy{CheckStrength: true, MinScore: 4}, "password", "Brackwater1Quillon", []string{"Quillon Brackwater"}, "is too easy to guess*"},
		{"random passphrase", def, "password", "vivid-otter-quantum-marmalade-47-hinge", nil, ""},
		{"xkcd", def, "password", "correct horse battery staple", nil, ""},
		{"unknown words", def, "password", "QuillonBrackwater", nil, ""},
		{"unknown words are the user's name", def, "password", "QuillonBrackwater", []string{email}, "is too easy to guess*"},
		{"the email itself", def, "password", email, []string{email}, "is too easy to guess*"},
		{"other user's email", def, "password", "QuillonBrackwater", []string{"someone@else.org"}, ""},
		{"repeated CJK", def, "password", "密码密码密码密码密码密码", nil, `is too easy to guess: repeats like "abcabcabc" are only slightly harder to guess than "abc"`},
		{"repeated Cyrillic letter", def, "password", "жжжжжжжжжжжж", nil, `is too easy to guess: repeats like "aaa" are easy to guess`},
		{"Cyrillic name from the inputs", zx8, "password", "ЮлияВолкова", []string{"юлия.волкова@example.com"}, "is too easy to guess*"},
		{"Cyrillic name, other user", zx8, "password", "ЮлияВолкова", []string{"someone@else.org"}, ""},
		{"accented English word", zx8, "password", "Cafécafé", nil, "is too easy to guess*"},
		{"long, weak start, random end", def, "password", strings.Repeat("a", 40) + "q7#Lm2@xV9!pR4&zT", nil, ""},
		{"long, all weak", def, "password", strings.Repeat("password1", 14), nil, "is too easy to guess*"},
		{"64-character Chinese passphrase", def, "password",
			"春眠不觉晓处处闻啼鸟夜来风雨声花落知多少床前明月光疑是地上霜举头望明月低头思故乡白日依山尽黄河入海流欲穷千里目更上一层楼红豆生南国春来发几枝愿君", nil, ""},
		{"64-syllable Korean passphrase", def, "password",
			"동해물과백두산이마르고닳도록하느님이보우하사우리나라만세무궁화삼천리화려강산대한사람대한으로길이보전하세남산위에저소나무철갑을두른듯바람서리불변함은우리기상일세가을하늘공활한데", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.field, tc.password, tc.inputs...)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.problem)
			}
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid {
				t.Fatalf("code %s", gatehouse.ErrorCode(err))
			}
			fields := gatehouse.ErrorFields(err)
			got, named := fields[tc.field]
			if !named || len(fields) != 1 {
				t.Fatalf("fields = %v, want only %q", fields, tc.field)
			}
			if want, prefix := strings.CutSuffix(tc.problem, "*"); (prefix && !strings.HasPrefix(got, want)) || (!prefix && got != want) {
				t.Fatalf("problem = %q, want %q", got, tc.problem)
			}
			if gatehouse.ErrorMessage(err) != tc.field+": "+got {
				t.Fatalf("message = %q", gatehouse.ErrorMessage(err))
			}
			assertNoSecret(t, err, tc.password)
		})
	}
}

// TestStrengthBounded checks that zxcvbn's cost stays bounded for the longest and most
// expensive passwords the policy lets through to it: unbounded, 128 random printable characters
// took 0.56 s and NFKD-expanded ones up to minutes.
func TestStrengthBounded(t *testing.T) {
	l33t := []rune("4@8({[<3!1|70$5+%2Z")
	cases := map[string]string{
		"128 random printable": randomText(7, runeRange('!', '~'), 128),
		"128 random l33t":      randomText(8, l33t, 128),
		"128 U+FDFA (18 each)": strings.Repeat("\ufdfa", 128),
		"U+FDFA and l33t":      strings.Repeat("\ufdfa4@", 42) + "!1",
		"128 Hangul":           randomText(9, runeRange(0xAC00, 0xD7A3), 128),
		"128 weak l33t":        strings.Repeat("p@55w0rd", 16),
		"128 alternating":      strings.Repeat("ab", 64),
	}
	// zxcvbn's time grows steeply with its input's length, so the bound is on what it is given;
	// the time itself is measured by BenchmarkStrengthWorstCases.
	for name, pw := range cases {
		var st standIn
		if got := strengthText(&st, pw); len(got) > strengthJudge {
			t.Errorf("%s: zxcvbn would score %d characters, want at most %d", name, len(got), strengthJudge)
		}
	}
}

// BenchmarkStrengthWorstCases prints the policy check's time for the costliest inputs it lets
// through to zxcvbn.
func BenchmarkStrengthWorstCases(b *testing.B) {
	p := DefaultPasswordPolicy()
	for name, pw := range map[string]string{
		"128 random printable": randomText(7, runeRange('!', '~'), 128),
		"U+FDFA and l33t":      strings.Repeat("\ufdfa4@", 42) + "!1",
		"128 Hangul":           randomText(9, runeRange(0xAC00, 0xD7A3), 128),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = p.Check("password", pw)
			}
		})
	}
}

func TestCollapseRepeats(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"abc":                           "abc",
		"aa":                            "aa",
		"aaa":                           "aa",
		"aaaaaaaa":                      "aa",
		"xabcabcabcy":                   "xabcabcy",
		"hello hello":                   "hello hello",
		strings.Repeat("password1", 14): "password1password1",
		"aaaabababab":                   "aababab",
		"12121212x3434343434":           "1212x3434",
	} {
		if got := collapseRepeats(in); got != want {
			t.Errorf("collapseRepeats(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInertASCII(t *testing.T) {
	seen := map[byte]bool{}
	for i, c := range inertASCII {
		next := inertASCII[(i+1)%len(inertASCII)]
		if d := int(next) - int(c); d >= -5 && d <= 5 {
			t.Errorf("%#x then %#x: zxcvbn would see a sequence", c, next)
		}
		if c == 0 || c >= utf8.RuneSelf || (c >= '\t' && c <= '\r') || seen[c] {
			t.Errorf("%#x is not an unused inert character", c)
		}
		seen[c] = true
	}
	var st standIn
	got := st.text("AbéÉ密x密")
	want := string([]byte{'A', 'b', inertASCII[0], inertASCII[0], inertASCII[1], 'x', inertASCII[1]})
	if got != want {
		t.Fatalf("standIn = %q, want %q", got, want)
	}
}

// TestUserInputsLowerScore shows the email's pieces reaching zxcvbn.
func TestUserInputsLowerScore(t *testing.T) {
	got := strengthInputs([]string{"Quillon.Brackwater@Example.com", "Jo"})
	want := []string{"quillon.brackwater@example.com", "quillon", "brackwater", "example", "com"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("strengthInputs = %q, want %q", got, want)
	}
}

// assertNoSecret fails when err's text, message or fields contain secret (or, for long
