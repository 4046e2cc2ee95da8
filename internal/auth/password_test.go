package auth

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehousehq/gatehouse"
)

// fsSalt is the SECURITY_PASSWORD_SALT the Flask-Security vectors below were made with.
const fsSalt = "gatehouse-test-salt-3f9a"

// Vectors made by Flask-Security-Too itself (Debian's python3-flask-security 5.1.2, passlib
// 1.7.4, pyca/bcrypt 3.2.2) with SECURITY_PASSWORD_SALT=fsSalt, SECURITY_PASSWORD_HASH="bcrypt"
// and SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={"bcrypt__rounds": 4}, as its login form does:
//
//	n = _security._password_util.normalize(password)   # NFKD
//	hash_password(n), get_hmac(n)
//
// hmac is get_hmac's output, the 88-character base64 of HMAC-SHA512(salt, NFKD(password)).
var fsVectors = []struct {
	name, password, hmac, hash string
}{
	{
		name:     "ascii",
		password: "correct horse battery staple",
		hmac:     "fVmp9oB/Q7m0fC+DUuhVK6jzTbP6MOLGhDuO0XSmoFgJt+fpmFhAm1P4PGhNOxECVdAexH9/9ULPsa35La/R4Q==",
		hash:     "$2b$04$ub2U/qkNVXCMi4plUjL2leW2vyRXubdoQOZCVgBOObygZlMl4.U5a",
	},
	{
		name:     "decomposed é and fi ligature",
		password: "Cafe\u0301 \ufb01sh",
		hmac:     "VoCv9lSly7fp2b/x3UinLxwph87cCaLR/J4J+9GZBdECM0euKE2/VFnFglQATHa/XfcAoXUIu8V+5+JUy1LtYQ==",
		hash:     "$2b$04$Cn3wx4I2OZS.q2GkM4hYXevuvwn/TKOeIk.wOjtuLBK4TjTsprJq2",
	},
	{
		name:     "over 72 bytes, four scripts",
		password: strings.Repeat("Caf\u00e9 fish-\u043f\u0430\u0440\u043e\u043b\u044c-\u5bc6\u7801-\U0001F511", 3),
		hmac:     "ojzosC662Raw0KrY6B+eRGzIgCz8DHr0Vi7RqqOW74E61Siok4PpZLeoxYD+jTT+POnNlq3WuTOSkeO/tUaR/w==",
		hash:     "$2b$04$XwPbLUdMnNcwb1/cYepJO.SaTQNQuRj8rQrsWqy2RSBruav5FzU2y",
	},
}

// htpasswdHMAC is `htpasswd -nbB -C 4 user <first 72 characters of fsVectors[0].hmac>` (Debian
// apache2-utils 2.4): an independent bcrypt implementation, with the $2y$ prefix, of the
// bcrypt-hmac input, so it must verify as bcrypt-hmac of fsVectors[0].password.
const htpasswdHMAC = "$2y$04$theahLfTYsSGCBZlnCetXuR50vpIP/HN5qBi7bGzvy/b/gi0hvpFq"

// Plain bcrypt hashes from other systems, imported with SchemeBcrypt.
var plainVectors = []struct {
	name, password, hash string
}{
	// pyca/bcrypt 3.2.2: bcrypt.hashpw(pw, bcrypt.gensalt(4, prefix=b"2a"))
	{"$2a$ pyca/bcrypt", "Tr0ub4dor&3 plain import", "$2a$04$0QowKAKhMBtlHhhskw3NEu3T2aZkkLKZ5P7Jeu3huTzTk0fcEp9I6"},
	// pyca/bcrypt 3.2.2, prefix 2b, of unicodedata.normalize("NFKD", "Zürich-Paßwort ﬁx")
	{"$2b$ pyca/bcrypt, NFKD", "Z\u00fcrich-Pa\u00dfwort \ufb01x", "$2b$04$DxWaJhuzwbyXtTyYyhtbQerdL88Ez3.INstGagpdx4PvlSe/UMvkK"},
	// htpasswd -nbB -C 4 user 'Tr0ub4dor&3 imported from apache'
	{"$2y$ htpasswd", "Tr0ub4dor&3 imported from apache", "$2y$04$Ko0CUsM4BfpX8/A6Y3mP4.kG5QJiRLhX9BPOcE2f8LwfXfCfwBmG6"},
}

// truncatedPlain is pyca/bcrypt 3.2.2's hash of longPlain (79 bytes), which it silently cut to
// 72 bytes: that library accepts any password sharing those 72 bytes.
const (
	longPlain      = "An imported passphrase that runs well past the seventy-two byte limit of bcrypt"
	truncatedPlain = "$2b$04$yvDYx6gPfth52d23Zc4uiuKiq.Q4DgZVxw.noGn7bMsiU/8iaUTcS"
)

func testHasher() Hasher { return Hasher{Cost: bcrypt.MinCost, Salt: []byte(fsSalt)} }

// TestFlaskSecurityHMAC checks the pre-hash against Flask-Security's get_hmac outputs, computed
// here a second way with the standard library, and that bcrypt gets their first 72 characters.
func TestFlaskSecurityHMAC(t *testing.T) {
	for _, v := range fsVectors {
		t.Run(v.name, func(t *testing.T) {
			mac := hmac.New(sha512.New, []byte(fsSalt))
			mac.Write([]byte(norm.NFKD.String(v.password)))
			if got := base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != v.hmac {
				t.Fatalf("stdlib HMAC = %s, Flask-Security get_hmac = %s", got, v.hmac)
			}
			if len(v.hmac) != 88 {
				t.Fatalf("get_hmac length = %d, want 88", len(v.hmac))
			}
			n, _ := normalize(v.password)
			if got := string(testHasher().preHash(n)); got != v.hmac[:72] {
				t.Fatalf("preHash = %s, want the first 72 characters of %s", got, v.hmac)
			}
		})
	}
}

// verifyCase is one Verify call and its expected result.
type verifyCase struct {
	name, hash, scheme, password string
	hasher                       Hasher
	ok, rehash                   bool
}

func TestVerify(t *testing.T) {
	h := testHasher()
	own, scheme, err := h.Hash("correct horse battery staple")
	if err != nil || scheme != SchemeBcryptHMAC {
		t.Fatalf("Hash = %q, %v", scheme, err)
	}
	ligature, _, err := h.Hash("\ufb01nd the \ufb02ow") // "ﬁnd the ﬂow"
	if err != nil {
		t.Fatal(err)
	}
	composed, _, err := h.Hash("r\u00e9sum\u00e9 caf\u00e9") // "résumé café", composed
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("\u043f\u0430\u0440\u043e\u043b\u044c ", 20) // 240 bytes of Cyrillic
	longHash, _, err := h.Hash(long)
	if err != nil {
		t.Fatal(err)
	}

	tests := []verifyCase{
		{"round trip", own, SchemeBcryptHMAC, "correct horse battery staple", h, true, false},
		{"wrong password", own, SchemeBcryptHMAC, "correct horse battery stapler", h, false, false},
		{"empty password", own, SchemeBcryptHMAC, "", h, false, false},
		{"NFKD: fi ligature typed as fi", ligature, SchemeBcryptHMAC, "find the flow", h, true, false},
		{"NFKD: fi ligature typed as ligature", ligature, SchemeBcryptHMAC, "\ufb01nd the \ufb02ow", h, true, false},
		{"NFKD: composed é typed decomposed", composed, SchemeBcryptHMAC, "re\u0301sume\u0301 cafe\u0301", h, true, false},
		{"NFKD: e without accent differs", composed, SchemeBcryptHMAC, "resume cafe", h, false, false},
		{"long password, all of it counts", longHash, SchemeBcryptHMAC, long, h, true, false},
		{"long password, change after byte 72", longHash, SchemeBcryptHMAC, long[:len(long)-2] + "x ", h, false, false},
		{"cost changed", own, SchemeBcryptHMAC, "correct horse battery staple", Hasher{Cost: 5, Salt: []byte(fsSalt)}, true, true},
		{"other salt", own, SchemeBcryptHMAC, "correct horse battery staple", Hasher{Cost: 4, Salt: []byte("another salt")}, false, false},
		{"no salt", own, SchemeBcryptHMAC, "correct horse battery staple", Hasher{Cost: 4}, false, false},
		{"bcrypt-hmac hash given as plain", own, SchemeBcrypt, "correct horse battery staple", h, false, false},
		{"unknown scheme", own, "argon2", "correct horse battery staple", h, false, false},
		{"empty scheme", own, "", "correct horse battery staple", h, false, false},
		{"$2x$ refused", "$2x$" + own[4:], SchemeBcryptHMAC, "correct horse battery staple", h, false, false},
		{"malformed hash", "$2a$04$short", SchemeBcryptHMAC, "correct horse battery staple", h, false, false},
		{"invalid UTF-8", own, SchemeBcryptHMAC, "correct horse \xff battery staple", h, false, false},

		{"htpasswd $2y$ of the Flask-Security HMAC", htpasswdHMAC, SchemeBcryptHMAC, fsVectors[0].password, h, true, false},
		{"htpasswd $2y$ of the HMAC, wrong password", htpasswdHMAC, SchemeBcryptHMAC, "correct horse battery", h, false, false},

		{"plain bcrypt, over 72 bytes", truncatedPlain, SchemeBcrypt, longPlain, h, false, false},
		{"plain bcrypt, its first 72 bytes", truncatedPlain, SchemeBcrypt, longPlain[:72], h, true, true},
		{"plain bcrypt, NUL", plainVectors[0].hash, SchemeBcrypt, plainVectors[0].password + "\x00", h, false, false},
	}
	for _, v := range fsVectors {
		tests = append(tests,
			verifyCase{"Flask-Security " + v.name, v.hash, SchemeBcryptHMAC, v.password, h, true, false},
			verifyCase{"Flask-Security " + v.name + ", at cost 12", v.hash, SchemeBcryptHMAC, v.password, Hasher{Salt: []byte(fsSalt)}, true, true},
			verifyCase{"Flask-Security " + v.name + ", wrong", v.hash, SchemeBcryptHMAC, v.password + "!", h, false, false},
		)
	}
	for _, v := range plainVectors {
		tests = append(tests,
			verifyCase{"import " + v.name, v.hash, SchemeBcrypt, v.password, h, true, true},
			verifyCase{"import " + v.name + ", as bcrypt-hmac", v.hash, SchemeBcryptHMAC, v.password, h, false, false},
			verifyCase{"import " + v.name + ", wrong", v.hash, SchemeBcrypt, strings.ToUpper(v.password), h, false, false},
		)
	}
	// The NFKD plain vector also verifies when typed with a decomposed ü and "fi".
	tests = append(tests, verifyCase{"import NFKD, typed decomposed", plainVectors[1].hash, SchemeBcrypt, "Zu\u0308rich-Pa\u00dfwort fix", h, true, true})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash := tc.hasher.Verify(tc.hash, tc.scheme, tc.password)
			if ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("Verify = %v, %v; want %v, %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

// TestRehashFlow is the login-time upgrade: a verified plain or old-cost hash is replaced by Hash
// and then verifies without asking again.
func TestRehashFlow(t *testing.T) {
	h := testHasher()
	v := plainVectors[0]
	ok, rehash := h.Verify(v.hash, SchemeBcrypt, v.password)
	if !ok || !rehash {
		t.Fatalf("import: Verify = %v, %v", ok, rehash)
	}
	hash, scheme, err := h.Hash(v.password)
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash := h.Verify(hash, scheme, v.password); !ok || rehash {
		t.Fatalf("after rehash: Verify = %v, %v", ok, rehash)
	}
	if c, _ := bcrypt.Cost([]byte(hash)); c != bcrypt.MinCost {
		t.Fatalf("cost = %d", c)
	}
}

// TestHashAtCost12 uses the production cost once (two bcrypt runs: about 0.5 s, 8 s under the
// race detector).
func TestHashAtCost12(t *testing.T) {
	if testing.Short() {
		t.Skip("cost 12 is slow")
	}
	h := Hasher{Salt: []byte(fsSalt)} // Cost 0 means DefaultBcryptCost
	hash, _, err := h.Hash("a cost twelve passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(hash)); c != DefaultBcryptCost {
		t.Fatalf("cost = %d, want %d", c, DefaultBcryptCost)
	}
	if ok, rehash := h.Verify(hash, SchemeBcryptHMAC, "a cost twelve passphrase"); !ok || rehash {
		t.Fatalf("Verify = %v, %v", ok, rehash)
	}
}

func TestHashErrors(t *testing.T) {
	const secret = "s3cret-Passw0rd-never-shown"
	tests := []struct {
		name   string
		hash   func() (string, string, error)
		code   gatehouse.Code
		secret string
	}{
		{"no salt", func() (string, string, error) { return Hasher{Cost: 4}.Hash(secret) }, gatehouse.EInternal, secret},
		{"cost too low", func() (string, string, error) { return Hasher{Cost: 3, Salt: []byte("s")}.Hash(secret) }, gatehouse.EInternal, secret},
		{"cost too high", func() (string, string, error) { return Hasher{Cost: 32, Salt: []byte("s")}.Hash(secret) }, gatehouse.EInternal, secret},
		{"invalid UTF-8", func() (string, string, error) { return testHasher().Hash(secret + "\xff") }, gatehouse.EInvalid, secret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash, scheme, err := tc.hash()
			if err == nil || hash != "" || scheme != "" {
				t.Fatalf("= %q, %q, %v; want an error", hash, scheme, err)
			}
			if got := gatehouse.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %s, want %s (%v)", got, tc.code, err)
			}
			assertNoSecret(t, err, tc.secret)
		})
	}
}

func TestDummyVerify(t *testing.T) {
	// Safe for concurrent use; the dummy hash of a cost is made once.
	h := Hasher{Cost: 5, Salt: []byte(fsSalt)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { h.DummyVerify("whatever") })
	}
	wg.Wait()
	if c, err := bcrypt.Cost(dummyHash(5)); err != nil || c != 5 {
		t.Fatalf("dummy hash cost = %d, %v", c, err)
	}
	Hasher{Cost: 5}.DummyVerify("no salt still burns")
	h.DummyVerify("\xff invalid UTF-8 still burns")

	// That it costs as much as a real Verify is a timing property: it is measured by
	// BenchmarkVerifyAndDummy (go test -bench VerifyAndDummy ./internal/auth), not asserted here.
	if c, err := bcrypt.Cost(dummyHash(DefaultBcryptCost)); err != nil || c != DefaultBcryptCost {
		t.Fatalf("dummy hash at the default cost = %d, %v", c, err)
	}
}

func TestNewSalt(t *testing.T) {
	a, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSalt()
	if a == b {
		t.Fatal("two salts are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || len(a) != 43 {
		t.Fatalf("salt %q: %d bytes, %v", a, len(raw), err)
	}
}

// secrets, any 12-byte piece of it).
func assertNoSecret(t *testing.T, err error, secret string) {
	t.Helper()
	if err == nil || secret == "" {
		return
	}
	texts := []string{err.Error(), gatehouse.ErrorMessage(err)}
	for k, v := range gatehouse.ErrorFields(err) {
		texts = append(texts, k, v)
	}
	pieces := []string{secret}
	if len(secret) > 12 {
		pieces = nil
		for i := 0; i+12 <= len(secret); i++ {
			pieces = append(pieces, secret[i:i+12])
		}
	}
	for _, text := range texts {
		for _, p := range pieces {
			if strings.Contains(text, p) {
				t.Fatalf("error %q contains the password", text)
			}
		}
	}
}

// BenchmarkVerify measures one login-time verification at the default cost (12).
func BenchmarkVerify(b *testing.B) {
	h := Hasher{Cost: DefaultBcryptCost, Salt: []byte(fsSalt)}
	hash, scheme, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := h.Verify(hash, scheme, "correct horse battery staple"); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkVerifyAndDummy prints what a failed login costs for a known account (Verify), an
// unknown one (DummyVerify) and a hash of an unknown scheme: they should be alike, so response
// times do not tell which accounts exist.
func BenchmarkVerifyAndDummy(b *testing.B) {
	h := Hasher{Cost: 10, Salt: []byte(fsSalt)}
	hash, _, err := h.Hash("the real password")
	if err != nil {
		b.Fatal(err)
	}
	h.DummyVerify("warm up")
	b.Run("Verify", func(b *testing.B) {
		for b.Loop() {
			h.Verify(hash, SchemeBcryptHMAC, "a wrong password")
		}
	})
	b.Run("DummyVerify", func(b *testing.B) {
		for b.Loop() {
			h.DummyVerify("a wrong password")
		}
	})
	b.Run("UnknownScheme", func(b *testing.B) {
		for b.Loop() {
			h.Verify(hash, "no-such-scheme", "a wrong password")
		}
	})
}
