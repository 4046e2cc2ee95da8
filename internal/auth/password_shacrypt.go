package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt ("$5$" sha256_crypt and "$6$" sha512_crypt), as specified by Ulrich Drepper
// ("Unix crypt using SHA-256 and SHA-512", the text glibc and passlib implement). It is
// implemented here rather than taken from a module: no maintained Go module for it is available
// to this project, and the algorithm is short and fixed; the tests check it against hashes
// passlib made.

const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	// shaCryptMaxRounds bounds the work a stored hash may ask for (the specification allows
	// 999,999,999, minutes of CPU per login); passlib's default is 656,000 (sha512) and 535,000
	// (sha256).
	shaCryptMaxRounds = 10_000_000
)

type shaCryptParams struct {
	rounds int
	salt   string
	sum    string
}

// parseSHACrypt reads "$6$[rounds=N$]salt$checksum".
func parseSHACrypt(h, prefix string) (p shaCryptParams, ok bool) {
	if !strings.HasPrefix(h, prefix) {
		return p, false
	}
	f := strings.Split(h[len(prefix):], "$")
	p.rounds = shaCryptDefaultRounds
	if len(f) == 3 && strings.HasPrefix(f[0], "rounds=") {
		n, err := strconv.Atoi(strings.TrimPrefix(f[0], "rounds="))
		if err != nil || n < 1 {
			return p, false
		}
		p.rounds = max(n, shaCryptMinRounds)
		f = f[1:]
	}
	if len(f) != 2 || p.rounds > shaCryptMaxRounds || strings.ContainsAny(f[0], "\n:") {
		return p, false
	}
	p.salt, p.sum = f[0], f[1]
	if len(p.salt) > 16 {
		p.salt = p.salt[:16]
	}
	want := 86
	if prefix == "$5$" {
		want = 43
	}
	if len(p.sum) != want {
		return p, false
	}
	return p, true
}

func verifySHACrypt(h string, password []byte, prefix string, newHash func() hash.Hash) bool {
	p, ok := parseSHACrypt(h, prefix)
	if !ok {
		return false
	}
	got := shaCryptSum(password, []byte(p.salt), p.rounds, newHash)
	return subtle.ConstantTimeCompare([]byte(got), []byte(p.sum)) == 1
}

// shaCryptSum returns the encoded checksum of password with salt and rounds.
func shaCryptSum(pw, salt []byte, rounds int, newHash func() hash.Hash) string {
	sum := func(parts ...[]byte) []byte {
		d := newHash()
		for _, b := range parts {
			d.Write(b)
		}
		return d.Sum(nil)
	}
	size := newHash().Size()
	repeat := func(src []byte, n int) []byte { // src repeated to n bytes
		out := make([]byte, 0, n)
		for len(out) < n {
			out = append(out, src[:min(len(src), n-len(out))]...)
		}
		return out
	}
	b := sum(pw, salt, pw)
	a := newHash()
	a.Write(pw)
	a.Write(salt)
	a.Write(repeat(b, len(pw)))
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(b)
		} else {
			a.Write(pw)
		}
	}
	c := a.Sum(nil)

	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	pBytes := repeat(dp.Sum(nil), len(pw))
	ds := newHash()
	for range 16 + int(c[0]) {
		ds.Write(salt)
	}
	sBytes := repeat(ds.Sum(nil), len(salt))

	for i := range rounds {
		d := newHash()
		if i&1 != 0 {
			d.Write(pBytes)
		} else {
			d.Write(c)
		}
		if i%3 != 0 {
			d.Write(sBytes)
		}
		if i%7 != 0 {
			d.Write(pBytes)
		}
		if i&1 != 0 {
			d.Write(c)
		} else {
			d.Write(pBytes)
		}
		c = d.Sum(c[:0])
	}
	return shaCryptEncode(c, size)
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shaCryptEncode writes the digest in the specification's byte order and crypt base64.
func shaCryptEncode(c []byte, size int) string {
	var out strings.Builder
	put := func(b2, b1, b0 byte, n int) {
		w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
		for range n {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	if size == 64 {
		for k := range 21 {
			x, y, z := c[k], c[k+21], c[k+42]
			switch k % 3 {
			case 0:
				put(x, y, z, 4)
			case 1:
				put(y, z, x, 4)
			case 2:
				put(z, x, y, 4)
			}
		}
		put(0, 0, c[63], 2)
		return out.String()
	}
	for k := range 10 {
		x, y, z := c[k], c[k+10], c[k+20]
		switch k % 3 {
		case 0:
			put(x, y, z, 4)
		case 1:
			put(z, x, y, 4)
		case 2:
			put(y, z, x, 4)
		}
	}
	put(0, c[31], c[30], 3)
	return out.String()
}

func sha512New() hash.Hash { return sha512.New() }
func sha256New() hash.Hash { return sha256.New() }
