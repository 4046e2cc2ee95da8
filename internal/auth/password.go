// Package auth holds Gatehouse's account logic: password hashing and policy and, as it grows,
// login, sessions, tokens, confirmation and recovery.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehousehq/gatehouse"
)

// Password hashing schemes, recorded beside each hash (users.password_scheme) so that hashes made
// in different ways can live in one table, verify, and be upgraded one login at a time.
const (
	// SchemeBcryptHMAC is what Flask-Security-Too stores with SECURITY_PASSWORD_HASH="bcrypt"
	// (its default): bcrypt(base64(HMAC-SHA512(key=SECURITY_PASSWORD_SALT, msg=NFKD(password))))
	// with the 88-character base64 text cut to bcrypt's 72-byte input. Sharing the scheme means a
	// Flask-Security user table, and its salt, can be imported as is. It is the only scheme Hash
	// produces.
	SchemeBcryptHMAC = "bcrypt-hmac"
	// SchemeBcrypt is plain bcrypt of NFKD(password): hashes imported from systems without the
	// HMAC step (htpasswd, PHP's password_hash, most bcrypt libraries). They verify, and Verify
	// asks for a rehash so that they become SchemeBcryptHMAC at the next successful login.
	SchemeBcrypt = "bcrypt"
)

// Defaults of the SECURITY_* settings, the same values Flask-Security-Too ships with.
const (
	// DefaultBcryptCost is SECURITY_BCRYPT_COST's default (passlib's bcrypt default too).
	DefaultBcryptCost = 12
	// DefaultPasswordLengthMin is SECURITY_PASSWORD_LENGTH_MIN's default: 12, as OWASP ASVS
	// 2.1.1 asks (Flask-Security's default is 8).
	DefaultPasswordLengthMin = 12
	// MinPasswordLengthMin is the lowest SECURITY_PASSWORD_LENGTH_MIN accepted (NIST SP 800-63B).
	MinPasswordLengthMin = 8
	// DefaultPasswordLengthMax is the longest password accepted: OWASP ASVS 2.1.2 asks that
	// passwords over 128 characters be denied (Flask-Security hard-codes the same 128).
	DefaultPasswordLengthMax = 128
	// DefaultZxcvbnMinimumScore is SECURITY_ZXCVBN_MINIMUM_SCORE's default.
	DefaultZxcvbnMinimumScore = 3
)

// bcryptMaxInput is the number of bytes bcrypt reads; golang.org/x/crypto/bcrypt refuses to
// hash longer inputs (ErrPasswordTooLong) and CompareHashAndPassword would silently ignore the
// excess, so every path below keeps its input within it explicitly.
const bcryptMaxInput = 72

// ---------------------------------------------------------------------------------------------
// Normalisation

// normalize returns the form of password that is hashed and checked: Unicode NFKD, as
// Flask-Security's PasswordUtil.normalize does with its default SECURITY_PASSWORD_NORMALIZE_FORM
// ("NFKD"). It makes canonically and compatibly equivalent input ("é" typed composed or
// decomposed, the "ﬁ" ligature or "fi") the same password, whatever a client's keyboard or
// operating system sends. ok is false for invalid UTF-8, which has no defined normal form.
func normalize(password string) (normalized string, ok bool) {
	if !utf8.ValidString(password) {
		return "", false
	}
	return norm.NFKD.String(password), true
}

// ---------------------------------------------------------------------------------------------
// Hashing

// Hasher hashes and verifies passwords. Its zero Cost means DefaultBcryptCost; Hash and the
// bcrypt-hmac scheme need a Salt.
type Hasher struct {
	// Cost is SECURITY_BCRYPT_COST, bcrypt's log2 work factor (4–31) for new hashes; hashes
	// stored at another cost still verify and are reported for rehash.
	Cost int
	// Salt is SECURITY_PASSWORD_SALT: the UTF-8 bytes of the configured string, used as is as
	// the HMAC key, exactly as Flask-Security's get_hmac does (encode_string(salt)); it is not
	// base64- or hex-decoded, so the same setting in both systems gives the same hashes. It is a
	// server-wide secret (a pepper): a database leaked without it cannot be attacked offline.
	// Changing it invalidates every bcrypt-hmac hash.
	Salt []byte
}

// cost returns the cost new hashes get, and an error when the configured one is out of range
// (bcrypt.GenerateFromPassword would silently use cost 10 instead of a too-small one).
func (h Hasher) cost() (int, error) {
	c := h.Cost
	if c == 0 {
		c = DefaultBcryptCost
	}
	if c < bcrypt.MinCost || c > bcrypt.MaxCost {
		return 0, fmt.Errorf("auth: SECURITY_BCRYPT_COST %d is outside %d–%d", c, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return c, nil
}

// preHash returns the bcrypt input of the bcrypt-hmac scheme for an NFKD-normalised password:
// the first 72 bytes of base64(HMAC-SHA512(Salt, UTF-8 password)).
//
// Flask-Security's get_hmac returns base64.b64encode(hmac.new(salt, password, sha512).digest()),
// 88 ASCII characters, and hash_password hands that to passlib's bcrypt. passlib's default
// (truncate_error=False) passes it on, and the bcrypt backends up to pyca/bcrypt 4.x read the
// first 72 bytes and ignore the rest; since pyca/bcrypt 5.0 refuses inputs over 72 bytes,
// Flask-Security cuts the HMAC with password[:72] itself (its "Move to libpass and support
// bcrypt 5.0" change and PR #1179). Either way bcrypt sees the first 72 characters of the
// base64 text, and so must we to verify its hashes; golang.org/x/crypto/bcrypt refuses 88 bytes,
// so the cut is made here, explicitly.
//
// What is cut is the HMAC output, never the user's password: the HMAC covers every byte of the
// password, however long, and 72 base64 characters still carry 432 bits of it, far beyond
// bcrypt's own 184-bit output. So two passwords that share a 72-byte prefix do not collide, as
// they would with plain bcrypt.
func (h Hasher) preHash(normalized string) []byte {
	return h.hmacB64(normalized)[:bcryptMaxInput] // 88 bytes, "==" padded, cut to 72
}

// Hash hashes a new password with the bcrypt-hmac scheme at the configured cost and returns the
// hash and its scheme (always SchemeBcryptHMAC), to be stored together. It does not apply the
// password policy: call PasswordPolicy.Check first. Any length is hashed in full (see preHash).
// Errors never include the password.
func (h Hasher) Hash(password string) (hash, scheme string, err error) {
	if len(h.Salt) == 0 {
		return "", "", errors.New("auth: SECURITY_PASSWORD_SALT is empty; it is needed to hash passwords")
	}
	cost, err := h.cost()
	if err != nil {
		return "", "", err
	}
	n, ok := normalize(password)
	if !ok {
		return "", "", gatehouse.Errorf(gatehouse.EInvalid, "the password is not valid UTF-8 text")
	}
	b, err := bcrypt.GenerateFromPassword(h.preHash(n), cost)
	if err != nil {
		return "", "", fmt.Errorf("auth: bcrypt: %w", err)
	}
	return string(b), SchemeBcryptHMAC, nil
}

// Verify reports whether password matches hash made with scheme, and whether the hash should be
// replaced (by Hash of the same password) now that the password is known: when it is not
// bcrypt-hmac, or its cost differs from the configured one. needsRehash is always false when
// ok is false.
//
// The comparison is bcrypt's, in constant time. Hashes with the $2a$, $2b$ and $2y$ prefixes
// verify (they are the same algorithm for the inputs used here), so Flask-Security (passlib
// writes $2b$), PHP and htpasswd ($2y$) and Go ($2a$) hashes all import. An unknown scheme, a
// malformed hash, invalid UTF-8, or a bcrypt-hmac hash without a configured salt give false.
//
// A SchemeBcrypt hash cannot match a password whose NFKD form exceeds 72 bytes: a bcrypt that
// does not truncate cannot have made such a hash, and one that does would accept any password
// with the same first 72 bytes, so Verify returns false rather than compare a silently
// truncated password.
//
// Every failing path still spends one bcrypt computation, so the response time does not tell
// which check failed.
func (h Hasher) Verify(hash, scheme, password string) (ok bool, needsRehash bool) {
	n, valid := normalize(password)
	if _, legacy := legacySchemes[scheme]; legacy {
		// A verify-only scheme imported from Flask-Security (password_legacy.go): its own work
		// factor is the cost of the check; a match is always rehashed to bcrypt-hmac.
		if valid {
			if ok, _ := h.verifyLegacy(hash, scheme, n); ok {
				return true, true
			}
		}
		return false, false
	}
	var input []byte
	switch {
	case !valid || !validBcryptPrefix(hash):
	case scheme == SchemeBcryptHMAC && len(h.Salt) > 0:
		input = h.preHash(n)
	case scheme == SchemeBcrypt && len(n) <= bcryptMaxInput && !strings.ContainsRune(n, 0):
		input = []byte(n)
	}
	if input == nil {
		h.burn()
		return false, false
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), input) != nil {
		return false, false
	}
	stored, err := bcrypt.Cost([]byte(hash))
	want, cerr := h.cost()
	return true, scheme != SchemeBcryptHMAC || err != nil || cerr != nil || stored != want
}

// validBcryptPrefix reports whether hash names one of the bcrypt versions accepted for import.
// Others ($2$, crypt_blowfish's buggy $2x$, anything else) are refused before bcrypt parses
// them.
func validBcryptPrefix(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// DummyVerify spends the time of a real Verify of password against a hash at the configured
// cost, and always fails. Call it when the account does not exist or has no password, so that
// login time does not reveal which accounts exist (Flask-Security hashes the password in that
// case for the same reason).
func (h Hasher) DummyVerify(password string) {
	n, ok := normalize(password)
	if !ok || len(h.Salt) == 0 {
		h.burn()
		return
	}
	_ = bcrypt.CompareHashAndPassword(dummyHash(h.costOrDefault()), h.preHash(n))
}

// burn performs one bcrypt comparison at the configured cost that cannot succeed.
func (h Hasher) burn() {
	_ = bcrypt.CompareHashAndPassword(dummyHash(h.costOrDefault()), []byte("gatehouse: no password matches this"))
}

// costOrDefault is the configured cost, or the default when it is out of range (for timing
// only: Hash reports the bad setting).
func (h Hasher) costOrDefault() int {
	if c, err := h.cost(); err == nil {
		return c
	}
	return DefaultBcryptCost
}

// dummyHashes holds, per cost, a hash of a random secret that no password matches. Each is made
// once, on first use (making one costs as much as a login), and shared by every Hasher.
var dummyHashes sync.Map // int (cost) -> *dummyEntry

type dummyEntry struct {
	once sync.Once
	hash []byte
}

// dummyHash returns the dummy hash for cost, making it on first use.
func dummyHash(cost int) []byte {
	v, _ := dummyHashes.LoadOrStore(cost, &dummyEntry{})
	e := v.(*dummyEntry)
	e.once.Do(func() {
		secret := make([]byte, 54) // encodes to 72 base64 characters, like a real bcrypt-hmac input
		_, _ = rand.Read(secret)   // crypto/rand.Read never fails (Go 1.24+)
		key := make([]byte, base64.StdEncoding.EncodedLen(len(secret)))
		base64.StdEncoding.Encode(key, secret)
		b, err := bcrypt.GenerateFromPassword(key, cost)
		if err != nil {
			panic("auth: making the dummy bcrypt hash: " + err.Error()) // cost is validated
		}
		e.hash = b
	})
	return e.hash
}

// NewSalt returns a new random SECURITY_PASSWORD_SALT: 32 bytes from crypto/rand as unpadded
// URL-safe base64 (43 characters), safe in environment variables and configuration files. It is
// generated at first start when none is configured, and stored; the string itself (not the
// bytes it encodes) is the HMAC key, as in Flask-Security.
func NewSalt() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: new salt: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
