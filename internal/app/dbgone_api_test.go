package app_test

import (
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// A database that became unusable under a running instance — its pool closed, or the database
// dropped — answers 503 unavailable with Retry-After, as a database that restarts does, not 500
// internal: the request was fine, the dependency is not (docs/api.md's error table).
func TestUnusableDatabaseIs503(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, e *env, db config.DB)
	}{
		{"pool closed", func(t *testing.T, e *env, _ config.DB) {
			if err := e.app.Store.DB().Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"database dropped", func(t *testing.T, e *env, db config.DB) {
			testdb.Drop(t, db)
			// SQLite: the pool's open connections keep the removed file; close them so that the
			// next request opens the path again and finds a database without tables.
			e.app.Store.DB().SetMaxIdleConns(0)
			e.app.Store.DB().SetMaxIdleConns(4)
		}},
	}
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				db := testdb.New(t, db.Type) // a database of its own per case
				e := start(t, testConfig(db), false)
				e.createUser("ann@example.com", strongPassword, "viewer")
				e.login("ann@example.com", strongPassword)
				tc.spoil(t, e, db)
				for _, attempt := range []string{"first", "second"} {
					r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "ann@example.com", "password": strongPassword})
					if r.Status != http.StatusServiceUnavailable || r.code() != "unavailable" || r.Header.Get("Retry-After") == "" {
						t.Fatalf("%s login after the database became unusable: %d %q (Retry-After %q), want 503 unavailable with Retry-After\n%s",
							attempt, r.Status, r.code(), r.Header.Get("Retry-After"), r.Raw)
					}
				}
			})
		}
	})
}
