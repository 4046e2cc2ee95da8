package auth

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// FuzzValidateEmail: the email validator never panics; what it accepts is trimmed, at most 320
// bytes, a bare RFC 5322 address with a dotted domain (or localhost), and for a new account
// never an IP literal.
func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{"a@example.com", " A@Example.COM ", "user@[127.0.0.1]", "user@127.0.0.1", "\"q u\"@example.com",
		"a@b", "a@localhost", "p\u0430ypal@example.com", "a@b.c\x00", "Name <a@example.com>", "@", "a@@b.com", "a@[IPv6:::1]",
		strings.Repeat("a", 330) + "@example.com", "a@xn--80ak6aa92e.com", "a@ex\u202eample.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ValidateEmail("email", in)
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)["email"] == "" {
				t.Fatalf("ValidateEmail(%q) = %v, want a field error", in, err)
			}
			return
		}
		if got != strings.TrimSpace(got) || len(got) > 320 || !strings.Contains(got, "@") {
			t.Fatalf("ValidateEmail(%q) accepted %q", in, got)
		}
		if a, err := mail.ParseAddress(got); err != nil || a.Address != got {
			t.Fatalf("ValidateEmail(%q) accepted %q, which net/mail reads as %v, %v", in, got, a, err)
		}
		if n, err := ValidateNewEmail("email", in); err == nil {
			domain := n[strings.LastIndexByte(n, '@')+1:]
			if ipLiteralDomain(domain) {
				t.Fatalf("ValidateNewEmail(%q) accepted an IP literal", in)
			}
		}
	})
}

// FuzzAPIKeyFormat: the API key shape check never panics, accepts only prefix + base32 +
// a matching checksum, and every key Gatehouse makes passes it.
func FuzzAPIKeyFormat(f *testing.F) {
	good := newAPIKeySecret()
	f.Add(good)
	f.Add(strings.ToLower(good))
	f.Add(good[:len(good)-1] + "A")
	f.Add(APIKeyPrefix)
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.sig")
	f.Add(APIKeyPrefix + strings.Repeat("A", apiKeyLen-len(APIKeyPrefix)))
	f.Fuzz(func(t *testing.T, k string) {
		if !wellFormedAPIKey(k) {
			return
		}
		if len(k) != apiKeyLen || !IsAPIKey(k) {
			t.Fatalf("wellFormedAPIKey accepted %q", k)
		}
		body := k[:len(k)-apiKeyCheckLen]
		if apiKeyCheck(body) != k[len(body):] {
			t.Fatalf("wellFormedAPIKey accepted a bad checksum: %q", k)
		}
	})
}

// FuzzOneTimeSecret: what a user types as a one-time code or link token is normalised without
// panicking, idempotently, and a typed code in any case and spacing maps to the stored form.
func FuzzOneTimeSecret(f *testing.F) {
	for _, s := range []string{"KZ3VQ7XTD4B2MWLHRS5YGEJ6NP", "QWERT-YUPAS", "qwert-yupas", " QWERT YUPAS ", "", "-----",
		"ABCDE-FGHJK", "abcdefghjk", "\u00e9\u00e9\u00e9\u00e9\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		once := normalizeSecret(in)
		if twice := normalizeSecret(once); twice != once {
			t.Fatalf("normalizeSecret is not idempotent: %q -> %q -> %q", in, once, twice)
		}
	})
}
