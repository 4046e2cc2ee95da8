package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/store/dialect"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestOpenFailsAtOnceOnPermanentErrors: a database that answers and refuses the credentials or
// the database name stops Open at once with a message naming the settings to check, instead of
// retrying until DB_CONNECT_TIMEOUT (here an hour; the test's own context would end the wait
// with a different error if Open kept retrying).
func TestOpenFailsAtOnceOnPermanentErrors(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		if db.Type == config.DBSQLite {
			t.Skip("SQLite has no server to refuse a connection")
		}
		cases := []struct {
			name   string
			change func(*config.DB)
			hint   string
		}{
			{"unknown database", func(d *config.DB) { d.Name = "gatehouse_no_such_database" }, "DB_NAME"},
			{"unknown user", func(d *config.DB) { d.User = "gatehouse_no_such_user" }, "DB_USER"},
		}
		if db.Type != config.DBPostgres { // the test PostgreSQL trusts every local connection
			cases = append(cases, struct {
				name   string
				change func(*config.DB)
				hint   string
			}{"wrong password", func(d *config.DB) { d.Pass = "not-the-password" }, "DB_PASS"})
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				bad := db
				bad.ConnectTimeout = time.Hour
				c.change(&bad)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				s, err := store.Open(ctx, bad)
				if err == nil {
					_ = s.Close()
					t.Fatal("Open succeeded")
				}
				if !dialect.IsPermanent(err) || !strings.Contains(err.Error(), "not retrying") || !strings.Contains(err.Error(), c.hint) {
					t.Fatalf("Open: %v\nwant a permanent error naming %s", err, c.hint)
				}
				if ctx.Err() != nil {
					t.Fatalf("Open kept retrying until the test's deadline: %v", err)
				}
			})
		}
	})
}
