package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults for Options.
const (
	DefaultTTL    = 15 * time.Minute
	DefaultLeeway = 30 * time.Second
	// MaxLeeway bounds Options.Leeway: clock skew between hosts is seconds, and a larger window
	// only extends the life of a stolen token.
	MaxLeeway = 5 * time.Minute
)

// Options configures a Manager.
type Options struct {
	// Issuer is the "iss" written and required, e.g. the service's public base URL.
	Issuer string
	// Audience is the "aud" written and required.
	Audience string
	// TTL is the access-token lifetime; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock-skew allowance applied to exp, nbf and iat; zero means DefaultLeeway,
	// and it may not exceed MaxLeeway.
	Leeway time.Duration
	// CacheSize bounds the cache of verified tokens (see verifyCache): zero means
	// DefaultCacheSize, a negative value turns the cache off.
	CacheSize int
	// Reload, when set, is called when a token names a kid the key set lacks (another instance
	// may have started signing with a key this one has not loaded yet). It should re-read the
	// keys and call SetKeys, rate-limited (the kid is not authenticated), and report whether the
	// set may have changed; Verify then tries once more.
	Reload func() bool
}

// Manager issues and verifies access tokens with a key set that can be replaced while it is in
// use (SetKeys), so keys rotate without logging anyone out. It is safe for concurrent use.
type Manager struct {
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	leeway   time.Duration
	parser   *jwt.Parser
	keys     atomic.Pointer[keySet]
	cache    *verifyCache // nil when off
	reload   func() bool  // nil when not set
	// verifyCounts count full verifications for the metrics (metrics.go).
	verifyCounts verifyCounts
}

// keySet is one immutable generation of keys; SetKeys swaps in a new one whole, so a request sees
// either the old set or the new set, never a mixture.
type keySet struct {
	signing *keyEntry
	byKID   map[string]*keyEntry
	jwks    []byte
}

// keyEntry is a Key prepared for use: its public half and its single signing method.
type keyEntry struct {
	Key
	public crypto.PublicKey
	method jwt.SigningMethod
}

// validMethods are the only "alg" values the parser accepts at all; the per-key check in keyFor
// then narrows it to the key's own algorithm. "none" and every HMAC algorithm are refused.
var validMethods = []string{AlgEdDSA, AlgES256}

// NewManager returns a Manager that signs with signing and verifies tokens signed by signing or
// by any of verifyOnly (keys being rotated in or out).
func NewManager(opts Options, signing Key, verifyOnly ...Key) (*Manager, error) {
	if opts.Issuer == "" {
		return nil, errors.New("token: new manager: Issuer is required")
	}
	if opts.Audience == "" {
		return nil, errors.New("token: new manager: Audience is required")
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < time.Second {
		return nil, fmt.Errorf("token: new manager: TTL %s is too short (at least 1s)", opts.TTL)
	}
	if opts.Leeway == 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.Leeway < 0 || opts.Leeway > MaxLeeway {
		return nil, fmt.Errorf("token: new manager: Leeway %s is outside 0..%s", opts.Leeway, MaxLeeway)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{
		issuer:   opts.Issuer,
		audience: opts.Audience,
		ttl:      opts.TTL,
		now:      opts.Now,
		leeway:   opts.Leeway,
		cache:    newVerifyCache(opts.CacheSize),
		reload:   opts.Reload,
		// The parser holds only configuration, so one instance serves every goroutine.
		parser: jwt.NewParser(
			jwt.WithValidMethods(validMethods),
			jwt.WithIssuer(opts.Issuer),
			jwt.WithAudience(opts.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithNotBeforeRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(opts.Leeway),
			jwt.WithTimeFunc(opts.Now),
			// Canonical base64 only, so one token has exactly one spelling (it may be a map key
			// or a revocation-list entry somewhere).
			jwt.WithStrictDecoding(),
		),
	}
	if err := m.SetKeys(signing, verifyOnly...); err != nil {
		return nil, err
	}
	return m, nil
}

// SetKeys replaces the key set atomically: signing signs every token issued from now on, and
// tokens signed by signing or by any of verifyOnly verify. To rotate, first publish the next key
// in verifyOnly (so relying parties caching the JWKS learn it), then make it the signing key and
// keep the old one in verifyOnly for at least the token TTL, then drop it. A key listed twice
// (for example the signing key again in verifyOnly) is fine; two different keys with one ID
// are not.
func (m *Manager) SetKeys(signing Key, verifyOnly ...Key) error {
	ks, err := newKeySet(signing, verifyOnly)
	if err != nil {
		return err
	}
	m.keys.Store(ks)
	return nil
}

// SigningKeyID returns the kid of the key that signs new tokens.
func (m *Manager) SigningKeyID() string {
	return m.keys.Load().signing.ID
}

// JWKS returns the public JSON Web Key Set, {"keys":[...]}, with each key's kid, alg and
// use "sig", signing key first. Serve it as application/json at /.well-known/jwks.json. The
// bytes are computed once per SetKeys; the caller gets its own copy.
func (m *Manager) JWKS() []byte {
	return bytes.Clone(m.keys.Load().jwks)
}

func newKeySet(signing Key, verifyOnly []Key) (*keySet, error) {
	ks := &keySet{byKID: make(map[string]*keyEntry, 1+len(verifyOnly))}
	order := make([]*keyEntry, 0, 1+len(verifyOnly))
	for i, k := range append([]Key{signing}, verifyOnly...) {
		e, err := prepareKey(k)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("token: signing key: %w", err)
			}
			return nil, fmt.Errorf("token: verification key %d: %w", i, err)
		}
		if prev, ok := ks.byKID[e.ID]; ok {
			if !samePublicKey(prev.public, e.public) {
				return nil, fmt.Errorf("token: two different keys share kid %q", e.ID)
			}
			continue
		}
		ks.byKID[e.ID] = e
		order = append(order, e)
	}
	ks.signing = order[0]
	jwks, err := marshalJWKS(order)
	if err != nil {
		return nil, err
	}
	ks.jwks = jwks
	return ks, nil
}

// prepareKey checks that k is complete and that its Alg is the one its key type implies.
func prepareKey(k Key) (*keyEntry, error) {
	if k.ID == "" {
		return nil, errors.New("kid is empty")
	}
	if k.Private == nil {
		return nil, fmt.Errorf("kid %q: no private key", k.ID)
	}
	pub := k.Private.Public()
	alg, err := algFor(pub)
	if err != nil {
		return nil, fmt.Errorf("kid %q: %w", k.ID, err)
	}
	if k.Alg != alg {
		return nil, fmt.Errorf("kid %q: Alg %q does not match the %s key", k.ID, k.Alg, alg)
	}
	// golang-jwt signs ES256 only with a concrete *ecdsa.PrivateKey (not any crypto.Signer).
	if _, ok := k.Private.(*ecdsa.PrivateKey); alg == AlgES256 && !ok {
		return nil, fmt.Errorf("kid %q: ES256 needs an *ecdsa.PrivateKey, got %T", k.ID, k.Private)
	}
	return &keyEntry{Key: k, public: pub, method: jwt.GetSigningMethod(alg)}, nil
}

// samePublicKey reports whether a and b are the same key.
func samePublicKey(a, b crypto.PublicKey) bool {
	ta, errA := Thumbprint(a)
	tb, errB := Thumbprint(b)
	return errA == nil && errB == nil && ta == tb
}
