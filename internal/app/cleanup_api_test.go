package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The background clean-up deletes sessions that ended more than a week ago, and leaves the
// session in use alone.
func TestCleanupPurgesEndedSessions(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("ann@example.com", strongPassword)
		old := e.login("ann@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/auth/logout", old.AccessToken, map[string]string{"refresh_token": old.RefreshToken}), http.StatusOK, "")
		e.clock.Advance(8 * 24 * time.Hour)
		live := e.login("ann@example.com", strongPassword)

		ctx := context.Background()
		e.app.CleanOnce(ctx)
		var n int
		if err := e.app.Store.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM sessions").Scan(&n); err != nil || n != 1 {
			t.Fatalf("sessions after clean-up = %d, %v; want the live one", n, err)
		}
		e.expect(e.do("GET", "/api/v1/me", live.AccessToken, nil), http.StatusOK, "")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": old.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
	})
}
