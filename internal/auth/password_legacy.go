package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Schemes of hashes imported from Flask-Security-Too installations that did not use bcrypt.
// Flask-Security hashes with passlib and, for every scheme not in SECURITY_PASSWORD_SINGLE_HASH
// (by default only the django_* schemes and plaintext are), hands passlib the HMAC of the
// password, not the password: passlib hashes get_hmac(password), the 88 base64 characters of
// HMAC-SHA512(SECURITY_PASSWORD_SALT, NFKD(password)), in full (only bcrypt cuts its input).
// The "-hmac" schemes are those; the others are passlib hashes of the (NFKD) password itself,
// for installations that listed the scheme in SECURITY_PASSWORD_SINGLE_HASH.
//
// Gatehouse only verifies them: Verify reports every one for rehash, so an account moves to
// bcrypt-hmac at its first successful login.
const (
	// SchemeArgon2HMAC: passlib's argon2 ("$argon2id$v=19$m=…,t=…,p=…$salt$hash", salt and hash
	// in unpadded standard base64), Flask-Security-Too's default since 5.5.
	SchemeArgon2HMAC = "argon2-hmac"
	SchemeArgon2     = "argon2"
	// SchemePBKDF2SHA512HMAC: passlib's pbkdf2_sha512 ("$pbkdf2-sha512$rounds$salt$checksum",
	// passlib's adapted base64 with "." for "+").
	SchemePBKDF2SHA512HMAC = "pbkdf2-sha512-hmac"
	SchemePBKDF2SHA512     = "pbkdf2-sha512"
	// SchemePBKDF2SHA256HMAC: passlib's pbkdf2_sha256, the same format.
	SchemePBKDF2SHA256HMAC = "pbkdf2-sha256-hmac"
	SchemePBKDF2SHA256     = "pbkdf2-sha256"
	// SchemeSHA512CryptHMAC: sha512_crypt, the "$6$" SHA-crypt of glibc and passlib.
	SchemeSHA512CryptHMAC = "sha512-crypt-hmac"
	SchemeSHA512Crypt     = "sha512-crypt"
	// SchemeSHA256CryptHMAC: sha256_crypt, "$5$".
	SchemeSHA256CryptHMAC = "sha256-crypt-hmac"
	SchemeSHA256Crypt     = "sha256-crypt"
)

// Limits on the work an imported hash may ask for: a hash is data from another system, and a
// hostile one must not make a login take minutes or memory the server does not have.
const (
	maxArgon2MemoryKiB = 1 << 20 // 1 GiB
	maxArgon2Time      = 64
	maxPBKDF2Rounds    = 10_000_000
)

// legacyScheme describes one verify-only scheme.
type legacyScheme struct {
	hmac   bool
	verify func(hash string, input []byte) bool
}

var legacySchemes = map[string]legacyScheme{
	SchemeArgon2HMAC:       {true, verifyArgon2},
	SchemeArgon2:           {false, verifyArgon2},
	SchemePBKDF2SHA512HMAC: {true, func(h string, in []byte) bool { return verifyPBKDF2(h, in, "$pbkdf2-sha512$", sha512.New) }},
	SchemePBKDF2SHA512:     {false, func(h string, in []byte) bool { return verifyPBKDF2(h, in, "$pbkdf2-sha512$", sha512.New) }},
	SchemePBKDF2SHA256HMAC: {true, func(h string, in []byte) bool { return verifyPBKDF2(h, in, "$pbkdf2-sha256$", sha256.New) }},
	SchemePBKDF2SHA256:     {false, func(h string, in []byte) bool { return verifyPBKDF2(h, in, "$pbkdf2-sha256$", sha256.New) }},
	SchemeSHA512CryptHMAC:  {true, func(h string, in []byte) bool { return verifySHACrypt(h, in, "$6$", sha512.New) }},
	SchemeSHA512Crypt:      {false, func(h string, in []byte) bool { return verifySHACrypt(h, in, "$6$", sha512.New) }},
	SchemeSHA256CryptHMAC:  {true, func(h string, in []byte) bool { return verifySHACrypt(h, in, "$5$", sha256.New) }},
	SchemeSHA256Crypt:      {false, func(h string, in []byte) bool { return verifySHACrypt(h, in, "$5$", sha256.New) }},
}

// IdentifyFlaskSecurityHash returns the Gatehouse scheme of a password hash stored by
// Flask-Security-Too, or "" when Gatehouse cannot verify it (plaintext, des_crypt, django_*,
// an argon2 variant or version other than argon2i/argon2id v=19, anything unknown). singleHash
// says the installation listed the hash's scheme in SECURITY_PASSWORD_SINGLE_HASH (no HMAC).
// It checks the form only; whether the password matches is known at login.
func IdentifyFlaskSecurityHash(hash string, singleHash bool) string {
	pick := func(withHMAC, plain string) string {
		if singleHash {
			return plain
		}
		return withHMAC
	}
	switch {
	case validBcryptPrefix(hash):
		if _, err := strconv.Atoi(strings.SplitN(hash[4:], "$", 2)[0]); err != nil || len(hash) != 60 {
			return ""
		}
		return pick(SchemeBcryptHMAC, SchemeBcrypt)
	case strings.HasPrefix(hash, "$argon2id$"), strings.HasPrefix(hash, "$argon2i$"):
		if _, ok := parseArgon2(hash); !ok {
			return ""
		}
		return pick(SchemeArgon2HMAC, SchemeArgon2)
	case strings.HasPrefix(hash, "$pbkdf2-sha512$"):
		if _, ok := parsePBKDF2(hash, "$pbkdf2-sha512$"); !ok {
			return ""
		}
		return pick(SchemePBKDF2SHA512HMAC, SchemePBKDF2SHA512)
	case strings.HasPrefix(hash, "$pbkdf2-sha256$"):
		if _, ok := parsePBKDF2(hash, "$pbkdf2-sha256$"); !ok {
			return ""
		}
		return pick(SchemePBKDF2SHA256HMAC, SchemePBKDF2SHA256)
	case strings.HasPrefix(hash, "$6$"):
		if _, ok := parseSHACrypt(hash, "$6$"); !ok {
			return ""
		}
		return pick(SchemeSHA512CryptHMAC, SchemeSHA512Crypt)
	case strings.HasPrefix(hash, "$5$"):
		if _, ok := parseSHACrypt(hash, "$5$"); !ok {
			return ""
		}
		return pick(SchemeSHA256CryptHMAC, SchemeSHA256Crypt)
	}
	return ""
}

// verifyLegacy checks password (NFKD-normalised) against a verify-only scheme. known is false
// when scheme is not one of them.
func (h Hasher) verifyLegacy(hash, scheme, normalized string) (ok, known bool) {
	ls, known := legacySchemes[scheme]
	if !known {
		return false, false
	}
	input := []byte(normalized)
	if ls.hmac {
		if len(h.Salt) == 0 {
			return false, true
		}
		input = h.hmacB64(normalized)
	}
	return ls.verify(hash, input), true
}

// hmacB64 is Flask-Security's get_hmac: base64(HMAC-SHA512(Salt, password)), 88 characters.
func (h Hasher) hmacB64(normalized string) []byte {
	mac := hmac.New(sha512.New, h.Salt)
	mac.Write([]byte(normalized))
	enc := make([]byte, base64.StdEncoding.EncodedLen(sha512.Size))
	base64.StdEncoding.Encode(enc, mac.Sum(nil))
	return enc
}

type argon2Params struct {
	id           bool
	memory, time uint32
	threads      uint8
	salt, sum    []byte
}

// parseArgon2 reads the PHC string passlib (argon2-cffi) writes.
func parseArgon2(hash string) (p argon2Params, ok bool) {
	f := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(f) != 6 || f[0] != "" || f[2] != "v=19" {
		return p, false
	}
	p.id = f[1] == "argon2id"
	if !p.id && f[1] != "argon2i" {
		return p, false
	}
	var m, t, par int
	seen := 0
	for _, kv := range strings.Split(f[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, false
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			par = n
		default:
			return p, false
		}
		seen++
	}
	if seen != 3 || m > maxArgon2MemoryKiB || t > maxArgon2Time || par > 255 || m < 8*par {
		return p, false
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil || len(p.salt) < 8 {
		return p, false
	}
	if p.sum, err = base64.RawStdEncoding.DecodeString(f[5]); err != nil || len(p.sum) < 4 {
		return p, false
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(par) // bounded above
	return p, true
}

func verifyArgon2(hash string, input []byte) bool {
	p, ok := parseArgon2(hash)
	if !ok {
		return false
	}
	keyLen := uint32(len(p.sum)) //nolint:gosec // a decoded hash field
	var got []byte
	if p.id {
		got = argon2.IDKey(input, p.salt, p.time, p.memory, p.threads, keyLen)
	} else {
		got = argon2.Key(input, p.salt, p.time, p.memory, p.threads, keyLen)
	}
	return subtle.ConstantTimeCompare(got, p.sum) == 1
}

// ab64 is passlib's "adapted base64": standard base64 with "." for "+", no padding.
func ab64Decode(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

type pbkdf2Params struct {
	rounds    int
	salt, sum []byte
}

func parsePBKDF2(hash, prefix string) (p pbkdf2Params, ok bool) {
	f := strings.Split(strings.TrimPrefix(hash, prefix), "$")
	if !strings.HasPrefix(hash, prefix) || len(f) != 3 {
		return p, false
	}
	var err error
	if p.rounds, err = strconv.Atoi(f[0]); err != nil || p.rounds < 1 || p.rounds > maxPBKDF2Rounds {
		return p, false
	}
	if p.salt, err = ab64Decode(f[1]); err != nil {
		return p, false
	}
	if p.sum, err = ab64Decode(f[2]); err != nil || len(p.sum) < 16 {
		return p, false
	}
	return p, true
}

func verifyPBKDF2(hash string, input []byte, prefix string, h func() hash.Hash) bool {
	p, ok := parsePBKDF2(hash, prefix)
	if !ok {
		return false
	}
	got, err := pbkdf2.Key(h, string(input), p.salt, p.rounds, len(p.sum))
	return err == nil && subtle.ConstantTimeCompare(got, p.sum) == 1
}
