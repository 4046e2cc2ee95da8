package token

import (
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is the number of verified tokens a Manager remembers when Options.CacheSize is
// zero. An entry costs about 300 bytes, so the default bounds the cache near 3 MB; it holds the
// live tokens of that many recently active clients.
const DefaultCacheSize = 10000

// cacheShards spreads the cache over independently locked maps, so that verifications on many
// cores do not queue on one mutex.
const cacheShards = 16

// verifyCache remembers access tokens whose signature and claims were verified, so that the
// signature check (an Ed25519 or ECDSA verification, the largest CPU cost of an authenticated
// request) runs once per token rather than once per request.
//
// What it remembers is only what the token itself proves; it changes no decision:
//   - An entry is keyed by the SHA-256 of the exact token text, so a token that differs in any
//     byte (another signature, a changed claim) is a different key and is verified in full. The
//     hash rather than the token is kept, so the cache holds no bearer credentials.
//   - An entry is used only while the key set that verified it is the current one: SetKeys
//     (rotation, a key withdrawn) makes every entry stale at once.
//   - exp, nbf and iat are checked again, with the same leeway, at every use, so a cached token
//     expires exactly when an uncached one would; an entry that fails them is dropped and the
//     token is verified again in full (so the caller sees the same error as without the cache).
//   - The account-side checks (security stamp, session not revoked, account active, roles) are
//     not part of verification: auth.Authenticate makes them against the database on every
//     request, cached token or not, so logout, logout-all, a password change and a role change
//     take effect at once.
//
// Only successful verifications are stored, so an attacker cannot fill the cache with tokens of
// their own making: each entry needs a token signed by one of our keys.
type verifyCache struct {
	perShard int
	shards   [cacheShards]cacheShard
	hits     atomic.Int64
	misses   atomic.Int64
}

type cacheShard struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	claims Claims // never handed out: callers get a copy
	keys   *keySet
	// The registered times as the token states them (iat is also required).
	notBefore, issuedAt, expiresAt time.Time
}

// newVerifyCache returns a cache of about size entries, or nil (no caching) when size < 0.
func newVerifyCache(size int) *verifyCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	c := &verifyCache{perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

func (c *verifyCache) shard(key *[sha256.Size]byte) *cacheShard {
	return &c.shards[key[0]%cacheShards]
}

// get returns a copy of the claims of a token verified with ks that is still within its times at
// now (with leeway), and whether there was one. A stale entry is removed.
func (c *verifyCache) get(key *[sha256.Size]byte, ks *keySet, now time.Time, leeway time.Duration) (*Claims, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[*key]
	if ok && (e.keys != ks || !e.timesValid(now, leeway)) {
		delete(sh.m, *key)
		ok = false
	}
	sh.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	cl := e.claims
	cl.Scope = slices.Clone(cl.Scope)
	return &cl, true
}

// timesValid repeats the jwt library's time checks (see jwt.Validator): valid when
// now < exp+leeway, now >= nbf-leeway and now >= iat-leeway.
func (e *cacheEntry) timesValid(now time.Time, leeway time.Duration) bool {
	return now.Before(e.expiresAt.Add(leeway)) && !now.Before(e.notBefore.Add(-leeway)) &&
		!now.Before(e.issuedAt.Add(-leeway))
}

// put remembers a verified token. When the shard is full it first drops the entries that have
// expired, then, if that freed nothing, an arbitrary eighth of the shard (Go's map iteration
// order is unspecified, which makes this a cheap random eviction).
func (c *verifyCache) put(key *[sha256.Size]byte, e cacheEntry, now time.Time, leeway time.Duration) {
	e.claims.Scope = slices.Clone(e.claims.Scope)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, present := sh.m[*key]; !present && len(sh.m) >= c.perShard {
		for k, old := range sh.m {
			if !old.timesValid(now, leeway) {
				delete(sh.m, k)
			}
		}
		if len(sh.m) >= c.perShard {
			drop := max(1, c.perShard/8)
			for k := range sh.m {
				delete(sh.m, k)
				if drop--; drop == 0 {
					break
				}
			}
		}
	}
	sh.m[*key] = e
}

// len counts the entries (for tests and statistics).
func (c *verifyCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// CacheStats are the verification cache's counters since the Manager was made.
type CacheStats struct {
	Hits, Misses int64
	Entries      int
}

// CacheStats reports how often Verify was answered from the cache. All zero when the cache is off.
func (m *Manager) CacheStats() CacheStats {
	if m.cache == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: m.cache.hits.Load(), Misses: m.cache.misses.Load(), Entries: m.cache.len()}
}
