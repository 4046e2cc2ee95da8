package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// BenchmarkLoginUsernameKnownVsUnknown times a failed sign-in with a username that an account
// has (wrong password) and with one nobody has, and with an unknown address for comparison, at
// bcrypt cost 10: all three must do the same work (one account lookup, the counters, one bcrypt
// comparison, the counter updates and the audit event), so that neither the answer nor its time
// tells which names exist.
//
//	go test -run '^$' -bench 'LoginUsernameKnownVsUnknown' -benchtime 200x -count 5 ./internal/app/
func BenchmarkLoginUsernameKnownVsUnknown(b *testing.B) {
	for _, engine := range benchEngines(b) {
		b.Run(engine, func(b *testing.B) {
			cfg := config.Defaults()
			cfg.DB = testdb.New(b, engine)
			cfg.Security.BcryptCost = 10
			cfg.Security.Username.Enable = true
			cfg.PublicURL = "https://gatehouse.test"
			cfg.JWT.Issuer = cfg.PublicURL
			clock := testclock.New(time.Now().UTC().Truncate(time.Second))
			a, err := app.New(context.Background(), cfg, app.Options{Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = a.Close() })
			ctx := context.Background()
			for i := range benchKnown {
				u, err := a.Auth.CreateUser(ctx, fmt.Sprintf("known-%d@example.com", i), "correct horse battery staple 42", nil, true)
				if err != nil {
					b.Fatal(err)
				}
				name := fmt.Sprintf("known-%d", i)
				if _, _, err := a.Store.UpdateUser(ctx, u.ID, userChangeUsername(name), nil); err != nil {
					b.Fatal(err)
				}
			}
			login := func(b *testing.B, kind string, i int) {
				clock.Advance(25 * time.Hour) // no backoff: every kind pays the same counter updates
				in := auth.LoginInput{Password: "not the password 123", Client: auth.Client{IP: "192.0.2.1"}}
				switch kind {
				case "known", "unknown":
					in.Username = fmt.Sprintf("%s-%d", kind, i%benchKnown)
				default:
					in.Email = fmt.Sprintf("unknown-%d@example.com", i%benchKnown)
				}
				if _, err := a.Auth.Login(ctx, in); err == nil {
					b.Fatal("signed in with a wrong password")
				}
			}
			kinds := []string{"known", "unknown", "unknown-email"}
			for i := range 2 * benchKnown {
				for _, k := range kinds {
					login(b, k, i)
				}
			}
			for _, kind := range kinds {
				b.Run(kind, func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						b.StopTimer()
						for _, k := range kinds {
							if k != kind {
								login(b, k, i)
							}
						}
						b.StartTimer()
						login(b, kind, i)
					}
				})
			}
		})
	}
}

func userChangeUsername(name string) gatehouse.UserChange {
	return gatehouse.UserChange{Username: &name}
}
