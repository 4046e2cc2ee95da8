package app_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// scrape reads /metrics into a map from series ("name{label="v",…}" as exposed, labels sorted
// by name) to value.
func (e *env) scrape() map[string]float64 {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET /metrics: %d\n%s", r.Status, r.Raw)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(r.Raw)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// delta returns how much each series grew between two scrapes.
func delta(before, after map[string]float64, series ...string) map[string]float64 {
	d := map[string]float64{}
	for _, s := range series {
		d[s] = after[s] - before[s]
	}
	return d
}

func logins(result, reason string) string {
	return `gatehouse_logins_total{reason="` + reason + `",result="` + result + `"}`
}

func verifications(cached, result string) string {
	return `gatehouse_token_verifications_total{cached="` + cached + `",result="` + result + `"}`
}

// Login outcomes by reason, lockouts and token verifications (cached or not) are counted.
func TestLoginAndTokenMetrics(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.LockoutAfter = 3
		cfg.Security.LoginBackoffAfter = 5
		e := start(t, cfg, false)
		e.createUser("ann@example.com", "correct horse battery staple")
		e.createUser("bob@example.com", "correct horse battery staple")
		series := []string{
			logins("success", "password"), logins("failure", "bad_credentials"), logins("failure", "locked"),
			logins("failure", "throttled"), logins("failure", "inactive"), "gatehouse_lockouts_total",
			verifications("true", "valid"), verifications("false", "valid"), verifications("false", "expired"),
			verifications("false", "invalid"),
		}
		before := e.scrape()
		for _, s := range series {
			if _, ok := before[s]; !ok {
				t.Fatalf("%s is not exported before its first event", s)
			}
		}

		tk := e.login("ann@example.com", "correct horse battery staple")
		login := func(email, password string, status int) {
			t.Helper()
			r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
			if r.Status != status {
				t.Fatalf("login %s: %d, want %d\n%s", email, r.Status, status, r.Raw)
			}
		}
		login("nobody@example.com", "whatever it is", http.StatusUnauthorized)
		for range 3 { // the third failure locks the account
			login("bob@example.com", "wrong password", http.StatusUnauthorized)
		}
		login("bob@example.com", "correct horse battery staple", http.StatusUnauthorized) // locked
		for range 2 {                                                                     // failures 4 and 5: backoff from now on
			login("bob@example.com", "wrong password", http.StatusUnauthorized)
		}
		login("bob@example.com", "wrong password", http.StatusTooManyRequests)

		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusOK, "") // verified in full
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusOK, "") // from the cache
		e.expect(e.do("GET", "/api/v1/me", "not-a-token", nil), http.StatusUnauthorized, "unauthenticated")
		e.clock.Advance(2 * time.Hour)
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		if err := e.app.Store.SetActive(context.Background(), mustUserID(t, e, "ann@example.com"), false); err != nil {
			t.Fatal(err)
		}
		login("ann@example.com", "correct horse battery staple", http.StatusUnauthorized) // inactive

		got := delta(before, e.scrape(), series...)
		want := map[string]float64{
			logins("success", "password"): 1, logins("failure", "bad_credentials"): 6, logins("failure", "locked"): 1,
			logins("failure", "throttled"): 1, logins("failure", "inactive"): 1, "gatehouse_lockouts_total": 1,
			verifications("true", "valid"): 1, verifications("false", "valid"): 1, verifications("false", "expired"): 1,
			verifications("false", "invalid"): 1,
		}
		for s, w := range want {
			if got[s] != w {
				t.Errorf("%s grew by %v, want %v", s, got[s], w)
			}
		}
	})
}

func mustUserID(t *testing.T, e *env, email string) int64 {
	t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
