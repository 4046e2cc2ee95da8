package token

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestCacheAnswersRepeatedVerify(t *testing.T) {
	c := newClock(testNow)
	m := newTestManager(t, c, mustKey(t, AlgEdDSA))
	tok, issued, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	first, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if st := m.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 {
		t.Errorf("stats = %+v, want 1 hit, 1 miss, 1 entry", st)
	}
	for _, got := range []*Claims{first, second} {
		if got.Subject != issued.Subject || got.Stamp != issued.Stamp || got.SessionID != issued.SessionID ||
			got.ID != issued.ID || !got.ExpiresAt.Equal(issued.ExpiresAt) || len(got.Scope) != 3 {
			t.Errorf("claims = %+v, want %+v", got, issued)
		}
	}
	// Each caller gets its own copy: changing one must not change what the next caller sees.
	second.Scope[0] = "changed"
	second.Subject = "changed"
	third, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if third.Scope[0] != "read" || third.Subject != issued.Subject {
		t.Errorf("cached claims were changed through a returned copy: %+v", third)
	}
}

func TestCacheKeepsTimeChecks(t *testing.T) {
	c := newClock(testNow)
	m, err := NewManager(Options{Issuer: testIssuer, Audience: testAudience, Now: c.Now, TTL: time.Minute, Leeway: 5 * time.Second}, mustKey(t, AlgEdDSA))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
	// A clock set back before iat - leeway: the cached entry must not vouch for the token.
	c.add(-10 * time.Second)
	_, err = m.Verify(tok)
	assertUnauthenticated(t, err)
	if !errors.Is(err, jwt.ErrTokenUsedBeforeIssued) && !errors.Is(err, jwt.ErrTokenNotValidYet) {
		t.Errorf("before iat: err = %v, want used before issued / not valid yet", err)
	}
	c.set(testNow)
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
	c.add(time.Minute + 4*time.Second) // within the leeway after exp: still good, from the cache
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	c.add(2 * time.Second)
	_, err = m.Verify(tok)
	assertUnauthenticated(t, err)
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("after exp + leeway: err = %v, want expired (the same error as without the cache)", err)
	}
	if st := m.CacheStats(); st.Entries != 0 {
		t.Errorf("expired token still cached: %+v", st)
	}
}

func TestCacheDroppedOnKeyChange(t *testing.T) {
	c := newClock(testNow)
	old, next := mustKey(t, AlgEdDSA), mustKey(t, AlgEdDSA)
	m := newTestManager(t, c, old)
	tok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
	// Rotation that keeps the old key for verification: the token is still good (checked again).
	if err := m.SetKeys(next, old); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("old key still in the set: %v", err)
	}
	// The old key withdrawn: a token it signed must fail at once, cached or not.
	if err := m.SetKeys(next); err != nil {
		t.Fatal(err)
	}
	_, err = m.Verify(tok)
	assertUnauthenticated(t, err)
	if !errors.Is(err, errUnknownKID) {
		t.Errorf("err = %v, want unknown kid", err)
	}
}

func TestCacheRefusesAlteredToken(t *testing.T) {
	c := newClock(testNow)
	m := newTestManager(t, c, mustKey(t, AlgEdDSA))
	tok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"other signature": segment(tok, 2, func(b []byte) []byte { b[0] ^= 1; return b }),
		"other claims":    segment(tok, 1, func(b []byte) []byte { return []byte(string(b[:len(b)-1]) + `,"x":1}`) }),
		"trailing byte":   tok + "A",
	} {
		if _, err := m.Verify(bad); err == nil {
			t.Errorf("%s: verified although only the original token is cached", name)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	c := newClock(testNow)
	opts := c.opts()
	opts.CacheSize = 64
	m, err := NewManager(opts, mustKey(t, AlgEdDSA))
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		tok, _, err := m.Issue(testClaims())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	// Each shard holds at most ceil(64/16) = 4 entries.
	if n := m.CacheStats().Entries; n > 64 || n == 0 {
		t.Errorf("entries = %d, want 1..64", n)
	}
}

func TestCacheOff(t *testing.T) {
	c := newClock(testNow)
	opts := c.opts()
	opts.CacheSize = -1
	m, err := NewManager(opts, mustKey(t, AlgEdDSA))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := m.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if st := m.CacheStats(); st != (CacheStats{}) {
		t.Errorf("cache off, stats = %+v", st)
	}
}

// TestCacheConcurrent is for the race detector: verifications, evictions and key changes at once.
func TestCacheConcurrent(t *testing.T) {
	c := newClock(testNow)
	key := mustKey(t, AlgEdDSA)
	opts := c.opts()
	opts.CacheSize = 32
	m, err := NewManager(opts, key)
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]string, 100)
	for i := range toks {
		if toks[i], _, err = m.Issue(testClaims()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				if _, err := m.Verify(toks[(g*31+i)%len(toks)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := m.SetKeys(key); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
}
