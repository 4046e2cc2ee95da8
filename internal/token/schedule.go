package token

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Rotation timing. A key is published in the JWKS (which relying parties may cache for
// JWKSMaxAge) when it is added, and signs only from its ActivatesAt; a key that stopped signing
// keeps verifying until every token it signed has expired.
const (
	// JWKSMaxAge is the Cache-Control max-age of the published JWKS.
	JWKSMaxAge = 5 * time.Minute
	// DefaultPublishDelay is how long `gatehouse keys rotate` waits by default between publishing
	// a key and signing with it: JWKSMaxAge plus every instance's reload interval, with margin.
	DefaultPublishDelay = 10 * time.Minute
)

// activation is when k may start signing.
func (k Key) activation() time.Time {
	if k.ActivatesAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActivatesAt
}

// Arrange orders keys for SetKeys at now: the signing key first, then the rest (which verify and
// are published). The signing key is the one activated most recently at or before now (ties:
// newest CreatedAt, then highest ID, so every instance picks the same key); if no key is active
// yet, the one activating first signs, because something must.
func Arrange(keys []Key, now time.Time) []Key {
	if len(keys) == 0 {
		return nil
	}
	var best Key
	found := false
	for _, k := range keys {
		if k.activation().After(now) {
			continue
		}
		if !found || later(k, best) {
			best, found = k, true
		}
	}
	if !found { // nothing active yet: the first to activate
		best = keys[0]
		for _, k := range keys[1:] {
			if later(best, k) {
				best = k
			}
		}
	}
	out := make([]Key, 0, len(keys))
	out = append(out, best)
	for _, k := range keys {
		if k.ID != best.ID {
			out = append(out, k)
		}
	}
	return out
}

// later orders keys by activation, then CreatedAt, then ID.
func later(a, b Key) bool {
	if !a.activation().Equal(b.activation()) {
		return a.activation().After(b.activation())
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// ErrStillSigning is returned by RetirableAt for the key that signs now or will sign later.
var ErrStillSigning = errors.New("token: the key signs now or has not signed yet")

// RetirableAt returns when the key kid may be retired without rejecting a token it signed: hold
// after the key stopped signing, which is the activation of the first key that replaced it.
// hold must cover the longest access-token lifetime plus the clock-skew leeway plus the
// instances' reload interval (a late instance may sign with the old key that much longer).
func RetirableAt(keys []Key, kid string, now time.Time, hold time.Duration) (time.Time, error) {
	i := slices.IndexFunc(keys, func(k Key) bool { return k.ID == kid })
	if i < 0 {
		return time.Time{}, fmt.Errorf("token: no active key %q", kid)
	}
	arranged := Arrange(keys, now)
	if arranged[0].ID == kid {
		return time.Time{}, ErrStillSigning
	}
	k := keys[i]
	if k.activation().After(now) { // published but never signed: withdrawing it is safe now
		return now, nil
	}
	var stopped time.Time
	for _, o := range keys {
		if o.ID == kid || !later(o, k) || o.activation().After(now) {
			continue
		}
		if stopped.IsZero() || o.activation().Before(stopped) {
			stopped = o.activation()
		}
	}
	return stopped.Add(hold), nil
}
