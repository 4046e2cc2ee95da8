package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"testing"
)

// The rejection logic itself, with an injected reader: bytes at or above the largest multiple
// of the alphabet size are skipped, never folded onto the first letters.
func TestCodeFromRejectsBiasedBytes(t *testing.T) {
	const alphabet = "ABC" // 256 % 3 = 1: byte 255 must be rejected
	// 255 (rejected), 0 -> A, 254 -> 254%3=2 -> C, 255 (rejected), 4 -> B, then padding.
	r := bytes.NewReader([]byte{255, 0, 254, 255, 4, 0, 0, 0, 0, 0})
	got, err := codeFrom(r, alphabet, 3)
	if err != nil || got != "ACB" {
		t.Fatalf("codeFrom = %q, %v; want ACB", got, err)
	}
	// The 31-letter alphabet: 248..255 are the rejected values.
	only := bytes.Repeat([]byte{248, 249, 250, 251, 252, 253, 254, 255}, 4)
	if _, err := codeFrom(bytes.NewReader(only), codeAlphabet, 1); err == nil {
		t.Fatal("a reader of rejected bytes only produced a code")
	}
	every := make([]byte, 248)
	for i := range every {
		every[i] = byte(i)
	}
	in := append(append(append([]byte{}, only[:8]...), every...), make([]byte, 100)...) // padding: read in blocks
	got, err = codeFrom(bytes.NewReader(in), codeAlphabet, 248)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	for _, c := range got {
		counts[c]++
	}
	for _, c := range codeAlphabet {
		if counts[c] != 8 {
			t.Fatalf("letter %c drawn %d times from each accepted byte once, want 8", c, counts[c])
		}
	}
	if _, err := codeFrom(bytes.NewReader(nil), "", 1); err == nil {
		t.Fatal("empty alphabet accepted")
	}
}

// A statistical check of newCode over the real generator: 31 letters, 10 per code. With 20,000
// codes (200,000 letters, ~6,450 expected per letter) the chi-square statistic has 30 degrees of
// freedom; the bound 80 is exceeded by chance with probability below 1e-5, while the old modulo
// mapping's bias (the first 8 letters at 9/8 the weight) gives a statistic around 900.
func TestCodeDistributionUnbiased(t *testing.T) {
	counts := map[byte]int{}
	const codes = 20000
	for range codes {
		c := newCode()
		if len(c) != 11 || c[5] != '-' || normalizeRecoveryCode(c) != c {
			t.Fatalf("code %q", c)
		}
		for i := 0; i < len(c); i++ {
			if c[i] != '-' {
				counts[c[i]]++
			}
		}
	}
	expected := float64(codes*10) / float64(len(codeAlphabet))
	chi := 0.0
	for i := 0; i < len(codeAlphabet); i++ {
		d := float64(counts[codeAlphabet[i]]) - expected
		chi += d * d / expected
	}
	if chi > 80 || math.IsNaN(chi) {
		t.Fatalf("chi-square %.1f over 30 degrees of freedom: the letters are not uniform (%v)", chi, counts)
	}
	// The same test detects the old mapping: letters from b % 31 over uniform bytes.
	biased := map[byte]int{}
	b := make([]byte, codes*10)
	_, _ = rand.Read(b)
	for _, x := range b {
		biased[codeAlphabet[int(x)%len(codeAlphabet)]]++
	}
	chi = 0
	for i := 0; i < len(codeAlphabet); i++ {
		d := float64(biased[codeAlphabet[i]]) - expected
		chi += d * d / expected
	}
	if chi < 80 {
		t.Fatalf("the check would not have caught modulo bias (chi-square %.1f)", chi)
	}
}

// Stored forms: HMAC under the key, never the plain SHA-256; another key gives another value.
func TestHashSecretKeyed(t *testing.T) {
	s := &Service{opts: Options{TokenKey: []byte("k1")}}
	other := &Service{opts: Options{TokenKey: []byte("k2")}}
	code := "ABCDE-FGHJK"
	plain := sha256.Sum256([]byte(code))
	if got := s.HashOneTimeSecret(strings.ToLower("abcde fghjk")); got != HMACHex([]byte("k1"), code) || got == hex.EncodeToString(plain[:]) {
		t.Fatalf("HashOneTimeSecret = %s", got)
	}
	if s.hashSecret(code) == other.hashSecret(code) {
		t.Fatal("two keys, one stored value")
	}
}
