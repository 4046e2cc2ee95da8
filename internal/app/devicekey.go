package app

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/gatehousehq/gatehouse/internal/auth"
)

// deviceKey returns the key that signs device tokens: generated at the first start and stored
// in the database (shared by every instance), like the password salt. Deleting the setting
// (settings device_token_key) makes every device token untrusted.
func (a *App) deviceKey(ctx context.Context) ([]byte, error) {
	fresh, err := auth.NewDeviceKey()
	if err != nil {
		return nil, err
	}
	stored, err := a.Store.EnsureSetting(ctx, "device_token_key", fresh)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("the device token key stored in the database (settings device_token_key) is not base64 of 32 bytes")
	}
	return key, nil
}
