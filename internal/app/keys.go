package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/token"
)

// KeyReloadInterval is how often every instance re-reads the signing keys, so that a key added
// by `gatehouse keys rotate` (or by another instance) is published everywhere, starts signing at
// its activation time and stops verifying once retired, without a restart.
const KeyReloadInterval = 30 * time.Second

// keyReloadOnMissEvery rate-limits the extra reload done when a token names an unknown kid: the
// kid is not authenticated, so a stream of made-up kids must not become a stream of queries.
const keyReloadOnMissEvery = 5 * time.Second

// tokenManager loads the signing keys: from JWT_SIGNING_KEY_FILE, or from the database, where
// the first instance to start generates one.
func (a *App) tokenManager(ctx context.Context) (*token.Manager, error) {
	keys, err := a.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	cacheSize := a.Config.JWT.VerifyCacheSize // JWT_VERIFY_CACHE_SIZE: 0 turns the cache off
	if cacheSize == 0 {
		cacheSize = -1
	}
	return token.NewManager(token.Options{
		Issuer: a.Config.JWT.Issuer, Audience: a.Config.JWT.Audience, TTL: a.Config.JWT.AccessTTL, Now: a.now,
		CacheSize: cacheSize, Reload: a.reloadOnMiss,
	}, keys[0], keys[1:]...)
}

// loadKeys returns the keys in SetKeys order (the signing key first).
func (a *App) loadKeys(ctx context.Context) ([]token.Key, error) {
	if f := a.Config.JWT.SigningKeyFile; f != "" {
		b, err := os.ReadFile(f) // #nosec G304 -- the operator names the key file
		if err != nil {
			return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE: %w", err)
		}
		keys, err := token.ParseKeys(b)
		if err != nil {
			return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE: %w", err)
		}
		return keys, nil // ParseKeys finds at least one; the first signs
	}
	stored, err := a.Store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		k, err := token.GenerateKey(a.Config.JWT.SigningAlg, a.now())
		if err != nil {
			return nil, err
		}
		if err := a.storeKey(ctx, k); err != nil {
			return nil, err
		}
		a.log.Info("generated a JWT signing key", "kid", k.ID, "alg", k.Alg)
		// Read back: an instance starting at the same moment may have added its own; every
		// instance then verifies with both and signs with the same one (token.Arrange).
		if stored, err = a.Store.SigningKeys(ctx); err != nil {
			return nil, err
		}
	}
	keys := make([]token.Key, 0, len(stored))
	for _, sk := range stored {
		k, err := token.ParseKey([]byte(sk.PrivatePEM))
		if err != nil {
			return nil, fmt.Errorf("signing key %s in the database: %w", sk.KID, err)
		}
		k.CreatedAt, k.ActivatesAt = sk.CreatedAt, sk.ActivatesAt
		keys = append(keys, k)
	}
	return token.Arrange(keys, a.now()), nil
}

func (a *App) storeKey(ctx context.Context, k token.Key) error {
	pem, err := token.MarshalKey(k)
	if err != nil {
		return err
	}
	return a.Store.AddSigningKey(ctx, store.SigningKey{KID: k.ID, Alg: k.Alg, PrivatePEM: string(pem), CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt})
}

// ReloadKeys re-reads the signing keys and makes them current.
func (a *App) ReloadKeys(ctx context.Context) error {
	keys, err := a.loadKeys(ctx)
	if err != nil {
		return err
	}
	before := a.Tokens.SigningKeyID()
	if err := a.Tokens.SetKeys(keys[0], keys[1:]...); err != nil {
		return err
	}
	if after := a.Tokens.SigningKeyID(); after != before {
		a.log.Info("JWT signing key changed", "kid", after, "previous", before)
	}
	return nil
}

func (a *App) reloadKeysEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("signing keys not reloaded", "error", err)
			}
		}
	}
}

// reloadOnMiss is token.Options.Reload: at most one reload per keyReloadOnMissEvery (wall
// clock). A caller that waited while another reloaded uses that reload.
func (a *App) reloadOnMiss() bool {
	start := time.Now()
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.lastReload.After(start) {
		return true
	}
	if !a.lastReload.IsZero() && start.Sub(a.lastReload) < keyReloadOnMissEvery {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := a.ReloadKeys(ctx)
	a.lastReload = time.Now()
	if err != nil {
		a.log.Warn("signing keys not reloaded after an unknown kid", "error", err)
		return false
	}
	return true
}
