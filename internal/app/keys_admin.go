package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehousehq/gatehouse/internal/token"
)

// Key states as `gatehouse keys list` shows them.
const (
	KeySigning   = "signing"   // signs new tokens
	KeyNext      = "next"      // published, signs from its activation time
	KeyVerifying = "verifying" // stopped signing; verifies tokens it signed until retired
	KeyRetired   = "retired"   // neither published nor trusted
)

// KeyInfo describes one stored signing key.
type KeyInfo struct {
	KID         string
	Alg         string
	State       string
	CreatedAt   time.Time
	ActivatesAt time.Time
	RetiredAt   *time.Time
	// RetirableAt is, for a verifying key, when `keys retire` accepts it without --force.
	RetirableAt time.Time
}

// errKeyFile refuses key commands when the keys come from a file.
var errKeyFile = errors.New("the signing keys come from JWT_SIGNING_KEY_FILE: rotate by editing that file (see docs/authentication.md); every instance re-reads it within 30s")

// retireHold is how long a key keeps verifying after it stopped signing: the access-token
// lifetime, the verifier's clock-skew leeway, and one reload interval (an instance may sign with
// the old key until its next reload).
func (a *App) retireHold() time.Duration {
	return a.Config.JWT.AccessTTL + token.DefaultLeeway + KeyReloadInterval
}

// storedKeys returns the active keys (retired ones excluded) without their private halves.
func (a *App) storedKeys(ctx context.Context) ([]token.Key, error) {
	stored, err := a.Store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]token.Key, len(stored))
	for i, sk := range stored {
		keys[i] = token.Key{ID: sk.KID, Alg: sk.Alg, CreatedAt: sk.CreatedAt, ActivatesAt: sk.ActivatesAt}
	}
	return keys, nil
}

// Keys lists every stored key, newest first, with its state at now.
func (a *App) Keys(ctx context.Context) ([]KeyInfo, error) {
	if a.Config.JWT.SigningKeyFile != "" {
		return nil, errKeyFile
	}
	all, err := a.Store.AllSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	active, err := a.storedKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	signing := ""
	if arranged := token.Arrange(active, now); len(arranged) > 0 {
		signing = arranged[0].ID
	}
	out := make([]KeyInfo, len(all))
	for i, sk := range all {
		info := KeyInfo{KID: sk.KID, Alg: sk.Alg, CreatedAt: sk.CreatedAt, ActivatesAt: sk.ActivatesAt, RetiredAt: sk.RetiredAt}
		if info.ActivatesAt.IsZero() {
			info.ActivatesAt = sk.CreatedAt
		}
		switch {
		case sk.RetiredAt != nil:
			info.State = KeyRetired
		case sk.KID == signing:
			info.State = KeySigning
		case info.ActivatesAt.After(now):
			info.State = KeyNext
		default:
			info.State = KeyVerifying
			info.RetirableAt, _ = token.RetirableAt(active, sk.KID, now, a.retireHold())
		}
		out[i] = info
	}
	return out, nil
}

// RotateKey adds a new key (alg, or JWT_SIGNING_ALG when empty). It is published in the JWKS by
// every instance within KeyReloadInterval and signs from now+activateIn; activateIn should be at
// least token.DefaultPublishDelay unless the current key is compromised.
func (a *App) RotateKey(ctx context.Context, alg string, activateIn time.Duration) (token.Key, error) {
	if a.Config.JWT.SigningKeyFile != "" {
		return token.Key{}, errKeyFile
	}
	if alg == "" {
		alg = a.Config.JWT.SigningAlg
	}
	if activateIn < 0 {
		return token.Key{}, fmt.Errorf("activation delay %s is negative", activateIn)
	}
	now := a.now()
	k, err := token.GenerateKey(alg, now)
	if err != nil {
		return token.Key{}, err
	}
	k.ActivatesAt = now.Add(activateIn)
	if err := a.storeKey(ctx, k); err != nil {
		return token.Key{}, err
	}
	a.log.Info("added a JWT signing key", "kid", k.ID, "alg", k.Alg, "activates_at", k.ActivatesAt)
	return k, nil
}

// RetireKey stops kid from verifying. It refuses the key that signs, a key whose tokens may still
// be valid, and the last key; force overrides the first two (tokens it signed are then refused,
// which is the point when a key leaked).
func (a *App) RetireKey(ctx context.Context, kid string, force bool) error {
	if a.Config.JWT.SigningKeyFile != "" {
		return errKeyFile
	}
	active, err := a.storedKeys(ctx)
	if err != nil {
		return err
	}
	known := false
	for _, k := range active {
		known = known || k.ID == kid
	}
	if !known {
		return fmt.Errorf("no active signing key %q (see gatehouse keys list)", kid)
	}
	if len(active) == 1 {
		return fmt.Errorf("key %s is the only one; rotate first", kid)
	}
	now := a.now()
	at, err := token.RetirableAt(active, kid, now, a.retireHold())
	switch {
	case errors.Is(err, token.ErrStillSigning) && !force:
		return fmt.Errorf("key %s signs new tokens; rotate first, or use --force (its tokens are then refused)", kid)
	case err != nil && !errors.Is(err, token.ErrStillSigning):
		return err
	case err == nil && now.Before(at) && !force:
		return fmt.Errorf("tokens signed by key %s may be valid until %s; retire it then, or use --force (they are then refused)",
			kid, at.UTC().Format(time.RFC3339))
	}
	if err := a.Store.RetireSigningKey(ctx, kid); err != nil {
		return err
	}
	a.log.Info("retired a JWT signing key", "kid", kid, "forced", force)
	return nil
}
