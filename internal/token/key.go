package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// The signature algorithms a Key may use, as they appear in a JWT's "alg" header and a JWK's "alg".
// Only asymmetric algorithms exist here: a verifier never holds a secret that can also sign.
const (
	AlgEdDSA = "EdDSA" // Ed25519 (RFC 8037); the default: small keys, fast, deterministic signatures
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256, for clients whose JOSE library lacks EdDSA
)

// Key is one signing key pair. Its private half never leaves the server; its public half is
// published in the JWKS under ID.
type Key struct {
	// ID is the JWT "kid". Keys made by GenerateKey or read by ParseKey use the RFC 7638
	// thumbprint, so the same key material always has the same ID on every instance.
	ID string
	// Alg is AlgEdDSA or AlgES256 and must match the key type.
	Alg string
	// Private is an ed25519.PrivateKey (EdDSA) or an *ecdsa.PrivateKey on P-256 (ES256).
	Private crypto.Signer
	// CreatedAt records when the key was made, to drive rotation. It is not stored in the PEM
	// encoding: keep it beside the PEM (ParseKey leaves it zero).
	CreatedAt time.Time
	// ActivatesAt is when the key may start signing (see Arrange); zero means CreatedAt. Like
	// CreatedAt it is kept beside the PEM.
	ActivatesAt time.Time
}

// GenerateKey makes a new key for alg (AlgEdDSA or AlgES256) whose ID is its RFC 7638 thumbprint.
func GenerateKey(alg string, now time.Time) (Key, error) {
	var priv crypto.Signer
	switch alg {
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Key{}, fmt.Errorf("token: generate %s key: %w", alg, err)
		}
		priv = k
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Key{}, fmt.Errorf("token: generate %s key: %w", alg, err)
		}
		priv = k
	default:
		return Key{}, fmt.Errorf("token: generate key: unsupported algorithm %q (want %s or %s)", alg, AlgEdDSA, AlgES256)
	}
	return newKey(priv, now)
}

// newKey completes a Key around priv: the algorithm follows from the key type and the ID is the
// thumbprint.
func newKey(priv crypto.Signer, createdAt time.Time) (Key, error) {
	alg, err := algFor(priv.Public())
	if err != nil {
		return Key{}, err
	}
	kid, err := Thumbprint(priv.Public())
	if err != nil {
		return Key{}, err
	}
	return Key{ID: kid, Alg: alg, Private: priv, CreatedAt: createdAt}, nil
}

// algFor returns the one algorithm a public key is used with. Tying the algorithm to the key, not
// to the token, is what defeats algorithm-confusion attacks.
func algFor(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", errors.New("token: malformed Ed25519 public key")
		}
		return AlgEdDSA, nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", fmt.Errorf("token: unsupported ECDSA curve %s (only P-256 for ES256)", p.Curve.Params().Name)
		}
		return AlgES256, nil
	default:
		return "", fmt.Errorf("token: unsupported key type %T (want Ed25519 or ECDSA P-256)", pub)
	}
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of an
// Ed25519 or P-256 public key. It serves as a "kid" that every instance derives alike.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var canonical string
	// The members must be in lexicographic order with no whitespace (RFC 7638 §3.2).
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", errors.New("token: thumbprint: malformed Ed25519 public key")
		}
		canonical = `{"crv":"Ed25519","kty":"OKP","x":"` + b64(p) + `"}`
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", errors.New("token: thumbprint: only P-256 ECDSA keys are supported")
		}
		// The uncompressed point is 0x04 || X || Y with fixed-size coordinates (RFC 7518 §6.2.1.2).
		point, err := p.Bytes()
		if err != nil {
			return "", fmt.Errorf("token: thumbprint: %w", err)
		}
		x, y := point[1:33], point[33:65]
		canonical = `{"crv":"P-256","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`
	default:
		return "", fmt.Errorf("token: thumbprint: unsupported key type %T", pub)
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64(sum[:]), nil
}

// pemPrivateKey is the PKCS#8 PEM block type; openssl genpkey writes it too.
const pemPrivateKey = "PRIVATE KEY"

// MarshalKey encodes k's private key as one PEM block of unencrypted PKCS#8 ("PRIVATE KEY"), the
// form openssl genpkey writes. The PEM holds only the key material: ID follows from it again on
// ParseKey (when it is the thumbprint), and CreatedAt must be stored separately. The result is
// a secret.
func MarshalKey(k Key) ([]byte, error) {
	if k.Private == nil {
		return nil, fmt.Errorf("token: marshal key %q: no private key", k.ID)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("token: marshal key %q: %w", k.ID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParseKey decodes exactly one private key from PEM: PKCS#8 ("PRIVATE KEY") holding an Ed25519
// or P-256 key, or SEC 1 ("EC PRIVATE KEY", what openssl ecparam -genkey writes). The ID is the
// RFC 7638 thumbprint, Alg follows from the key type, and CreatedAt is zero.
func ParseKey(pemBytes []byte) (Key, error) {
	keys, err := ParseKeys(pemBytes)
	if err != nil {
		return Key{}, err
	}
	if len(keys) != 1 {
		return Key{}, fmt.Errorf("token: parse key: found %d private keys, want exactly 1", len(keys))
	}
	return keys[0], nil
}

// ParseKeys decodes every private key in a PEM file (for example JWT_SIGNING_KEY_FILE, which may
// list the current key and the keys still honoured for verification), in file order. Text around
// the blocks is ignored, and so are "EC PARAMETERS" blocks; any other block, an encrypted or
// public key, or the same key twice is an error naming the block, as is finding no key at all.
func ParseKeys(pemBytes []byte) ([]Key, error) {
	var keys []Key
	seen := make(map[string]int)
	rest := pemBytes
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		k, err := parseBlock(block)
		if err != nil {
			return nil, fmt.Errorf("token: parse keys: PEM block %d (%s): %w", n, block.Type, err)
		}
		if first, dup := seen[k.ID]; dup {
			return nil, fmt.Errorf("token: parse keys: PEM block %d repeats the key of block %d (kid %s)", n, first, k.ID)
		}
		seen[k.ID] = n
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("token: parse keys: no private key found (want PEM blocks of type \"PRIVATE KEY\")")
	}
	return keys, nil
}

// parseBlock decodes one PEM block into a Key.
func parseBlock(block *pem.Block) (Key, error) {
	if _, encrypted := block.Headers["DEK-Info"]; encrypted {
		return Key{}, errors.New("encrypted PEM is not supported; store the key unencrypted and protect the file")
	}
	var parsed any
	var err error
	switch block.Type {
	case pemPrivateKey:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return Key{}, errors.New("encrypted PKCS#8 is not supported; store the key unencrypted and protect the file")
	case "PUBLIC KEY", "CERTIFICATE":
		return Key{}, errors.New("a private key is needed to sign; this block holds only a public key")
	default:
		return Key{}, errors.New(`unsupported PEM block type (want "PRIVATE KEY")`)
	}
	if err != nil {
		return Key{}, err
	}
	switch p := parsed.(type) {
	case ed25519.PrivateKey:
		return newKey(p, time.Time{})
	case *ecdsa.PrivateKey:
		return newKey(p, time.Time{})
	default:
		return Key{}, fmt.Errorf("unsupported private key type %T (want Ed25519 or ECDSA P-256)", parsed)
	}
}
