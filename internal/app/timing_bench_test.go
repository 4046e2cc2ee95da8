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

// Issue 12 item 6: forgot-password and registration must answer in the same time for known
// and unknown addresses. These benchmarks time the service call (what the HTTP answer waits
// for) for each, on SQLite and, when GATEHOUSE_TEST_POSTGRES is set, PostgreSQL. Compare the
// known and unknown sub-benchmarks of one engine (docs/performance.md has the figures):
//
//	go test -run '^$' -bench 'KnownVsUnknown' -benchtime 400x -count 5 ./internal/app/
//
// The mail dispatcher is not running: what is measured is the work before the answer; the
// delivery happens later, from the outbox. The clock moves a day between calls, so that the
// per-account and per-address counters (every request counts) never start a backoff, whose
// 429 would be a different, faster path; both kinds pay the same counter updates.

// benchApp boots Gatehouse on a fresh database of engine, with SMTP configured (recovery and
// confirmation on; nothing is delivered) and self-registration on.
func benchApp(b *testing.B, engine string, bcryptCost int) (*app.App, *testclock.Clock) {
	b.Helper()
	cfg := config.Defaults()
	cfg.DB = testdb.New(b, engine)
	cfg.Security.BcryptCost = bcryptCost
	cfg.Security.Registerable = true
	cfg.PublicURL = "https://gatehouse.test"
	cfg.JWT.Issuer = cfg.PublicURL
	cfg.SMTP = config.SMTP{Host: "127.0.0.1", Port: 9, From: "Gatehouse <no-reply@gatehouse.test>", TLS: "none"}
	clock := testclock.New(time.Now().UTC().Truncate(time.Second))
	a, err := app.New(context.Background(), cfg, app.Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	return a, clock
}

// benchEngines are SQLite and, when configured, PostgreSQL.
func benchEngines(b *testing.B) []string {
	var out []string
	for _, e := range testdb.Engines(b) {
		if e == testdb.SQLite || e == "postgres" {
			out = append(out, e)
		}
	}
	return out
}

const benchKnown = 32 // accounts the "known" sub-benchmarks cycle through

func BenchmarkForgotPasswordKnownVsUnknown(b *testing.B) {
	for _, engine := range benchEngines(b) {
		b.Run(engine, func(b *testing.B) {
			a, clock := benchApp(b, engine, 4)
			ctx := context.Background()
			for i := range benchKnown {
				if _, err := a.Auth.CreateUser(ctx, fmt.Sprintf("known-%d@example.com", i), "correct horse battery staple 42", nil, true); err != nil {
					b.Fatal(err)
				}
			}
			forgot := func(b *testing.B, kind string, i int) {
				clock.Advance(25 * time.Hour)
				if err := a.Auth.ForgotPassword(ctx, fmt.Sprintf("%s-%d@example.com", kind, i%benchKnown), auth.Client{IP: "192.0.2.1"}); err != nil {
					b.Fatal(err)
				}
			}
			// Warm up: the first request per address creates its counter rows; later ones
			// update them, as in a running service.
			for i := range 4 * benchKnown {
				forgot(b, "known", i)
				forgot(b, "unknown", i)
			}
			for _, kind := range []string{"known", "unknown"} {
				other := map[string]string{"known": "unknown", "unknown": "known"}[kind]
				b.Run(kind, func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						// The other kind runs in between, untimed, so that both sub-benchmarks
						// see the same database growth and the same machine load.
						b.StopTimer()
						forgot(b, other, i)
						b.StartTimer()
						forgot(b, kind, i)
					}
				})
			}
		})
	}
}

// BenchmarkRegisterKnownVsUnknown runs at bcrypt cost 10, the lowest SECURITY_BCRYPT_COST
// accepts: both paths hash the password, and the lower the cost the more the database work
// shows.
func BenchmarkRegisterKnownVsUnknown(b *testing.B) {
	for _, engine := range benchEngines(b) {
		b.Run(engine, func(b *testing.B) {
			a, clock := benchApp(b, engine, 10)
			ctx := context.Background()
			for i := range benchKnown {
				if _, err := a.Auth.CreateUser(ctx, fmt.Sprintf("taken-%d@example.com", i), "correct horse battery staple 42",
					[]gatehouse.Role{gatehouse.RoleViewer}, true); err != nil {
					b.Fatal(err)
				}
			}
			fresh := 0
			register := func(b *testing.B, kind string, i int) {
				clock.Advance(25 * time.Hour)
				email := fmt.Sprintf("taken-%d@example.com", i%benchKnown)
				if kind == "unknown" {
					fresh++
					email = fmt.Sprintf("new-%d@example.com", fresh)
				}
				if err := a.Auth.Register(ctx, email, "vivid otter quantum marmalade 47", auth.Client{IP: "192.0.2.1"}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range 4 {
				register(b, "known", i)
				register(b, "unknown", i)
			}
			for _, kind := range []string{"known", "unknown"} {
				other := map[string]string{"known": "unknown", "unknown": "known"}[kind]
				b.Run(kind, func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						b.StopTimer() // the other kind in between, untimed (see above)
						register(b, other, i)
						b.StartTimer()
						register(b, kind, i)
					}
				})
			}
		})
	}
}
