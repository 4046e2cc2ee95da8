package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// Clients that give up on their requests mid-flight (a load generator stopping, closed tabs),
// many at once, on every engine: no pooled database connection is lost (on PostgreSQL and the
// MySQL family the drivers close a connection whose statement is cancelled, so before the store
// ran statements detached from the request, each such request could cost one), and no request
// is logged as a server failure (ERROR) or answered 5xx: an abandoned one is a 499 at INFO.
func TestAbandonedRequestsKeepPooledConnections(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		logs := &logBuffer{}
		a, err := app.New(context.Background(), testConfig(db), app.Options{
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(apidoctest.Handler(t, a.Handler(), apidoctest.FromServer(a)))
		t.Cleanup(func() { srv.Close(); _ = a.Close() })
		e := &env{t: t, app: a, srv: srv}
		e.createUser("owner@example.com", strongPassword, "maintainer")
		tok := e.login("owner@example.com", strongPassword).AccessToken

		// Reads (the prepared principal statement) and writes (a transaction per team), from 32
		// clients at once; each request is given up after timeout (0: never).
		var n int
		var nmu sync.Mutex
		burst := func(timeout func(i int) time.Duration) {
			var wg sync.WaitGroup
			for c := range 32 {
				wg.Go(func() {
					client := &http.Client{Transport: &http.Transport{}}
					defer client.CloseIdleConnections()
					for i := range 8 {
						ctx, cancel := context.Background(), context.CancelFunc(func() {})
						if d := timeout(c*8 + i); d > 0 {
							ctx, cancel = context.WithTimeout(ctx, d)
						}
						req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/me", nil)
						if i%2 == 1 {
							nmu.Lock()
							n++
							body := fmt.Sprintf(`{"name":"team %d"}`, n)
							nmu.Unlock()
							req, _ = http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/teams", strings.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
						}
						req.Header.Set("Authorization", "Bearer "+tok)
						if resp, err := client.Do(req); err == nil {
							_ = resp.Body.Close()
						}
						cancel()
					}
				})
			}
			wg.Wait()
		}
		never := func(int) time.Duration { return 0 }
		burst(never)
		// Given up after 0.1 to 3 ms: many while their statements run.
		burst(func(i int) time.Duration { return time.Duration(100+(i*397)%2900) * time.Microsecond })
		deadline := time.Now().Add(15 * time.Second)
		for a.Store.DB().Stats().InUse > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		burst(never)
		if lost := lostConnections(a.Store.ConnectionsOpened(), a.Store.DB().Stats()); lost != 0 {
			t.Errorf("%d pooled connections lost to abandoned requests (pool of %d)", lost, db.PoolSize)
		}

		abandoned := 0
		for line := range strings.Lines(logs.String()) {
			var rec struct {
				Level, Msg string
				Status     int
				Abandoned  bool
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			if rec.Level == "ERROR" || rec.Status >= 500 {
				t.Errorf("logged as a failure: %s", line)
			}
			if rec.Msg == "http request" && rec.Abandoned {
				abandoned++
			}
		}
		t.Logf("%s: %d requests logged as abandoned, %d connections opened in all", db.Type, abandoned, a.Store.ConnectionsOpened())
	})
}

// lostConnections is how many connections the pool closed for a reason of its own, neither
// idle nor old: the ones a driver declared broken.
func lostConnections(opened int64, st sql.DBStats) int64 {
	return opened - int64(st.OpenConnections) - st.MaxIdleClosed - st.MaxIdleTimeClosed - st.MaxLifetimeClosed
}
