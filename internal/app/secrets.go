package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// Secrets that are generated at the first start and stored in the settings table when no
// variable configures them (shared by every instance), each with a warning at start.

// totpKeys returns the keys of SECURITY_TOTP_SECRETS_KEY or, when it is not set, a key
// generated at the first start and stored in the database (shared by every instance). The
// stored key keeps authenticator apps working out of the box, but it sits beside the secrets
// it protects, so a warning says to configure one.
func (a *App) totpKeys(ctx context.Context) ([][]byte, error) {
	if keys := a.Config.Security.TOTPSecretsKeys; len(keys) > 0 {
		return keys, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	stored, err := a.Store.EnsureSetting(ctx, "totp_secrets_key", base64.StdEncoding.EncodeToString(fresh))
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("the TOTP secrets key stored in the database (settings totp_secrets_key) is not base64 of 32 bytes")
	}
	a.log.Warn("SECURITY_TOTP_SECRETS_KEY is not set: authenticator secrets are encrypted with a key stored in the database; set the variable (keeping this key in the list to read existing secrets) so that a database copy alone does not reveal them")
	return [][]byte{key}, nil
}

// tokenHMACKey returns SECURITY_TOKEN_HMAC_KEY or, when it is not set, a key generated at the
// first start and stored in the database (shared by every instance), as totpKeys does and with
// the same warning: a key beside the hashes it protects does not stop an attacker who has the
// whole database from checking guesses of a short code.
func (a *App) tokenHMACKey(ctx context.Context) ([]byte, error) {
	if k := a.Config.Security.TokenHMACKey; k != "" {
		return []byte(k), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	stored, err := a.Store.EnsureSetting(ctx, "token_hmac_key", base64.StdEncoding.EncodeToString(fresh))
	if err != nil {
		return nil, err
	}
	a.log.Warn("SECURITY_TOKEN_HMAC_KEY is not set: one-time codes are keyed with a key stored in the database; set the variable to this key's value (settings token_hmac_key) so that a database copy alone cannot check guesses of a code")
	return []byte(stored), nil
}
