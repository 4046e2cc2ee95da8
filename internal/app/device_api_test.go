package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// loginFrom signs in from client address ip (the test server is a trusted proxy, so
// X-Forwarded-For is the client) with an optional device token.
func (e *env) loginFrom(ip, email, password, deviceToken string) *response {
	e.t.Helper()
	body := map[string]any{"email": email, "password": password}
	if deviceToken != "" {
		body["device_token"] = deviceToken
	}
	return e.doWithHeader("POST", "/api/v1/auth/login", "", body, "X-Forwarded-For", ip)
}

type deviceAnswer struct {
	AccessToken string `json:"access_token"`
	DeviceToken string `json:"device_token"`
}

// Issue 12 item 4: failures from many addresses slow down and lock the account for unknown
// clients only; the owner's trusted device signs in at once, and has its own failure budget.
func TestDeviceCookieOwnerNotLockedOut(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		cfg.Security.LockoutAfter = 15 // the lock, not only the backoff, must spare the device
		e := start(t, cfg, false)
		const owner = "owner@example.com"
		e.createUser(owner, strongPassword)

		// The owner signs in once from home and keeps the device token.
		r := e.loginFrom("198.51.100.1", owner, strongPassword, "")
		e.expect(r, http.StatusOK, "")
		var first deviceAnswer
		r.data(t, &first)
		if first.DeviceToken == "" {
			t.Fatalf("no device_token in the login answer: %s", r.Raw)
		}

		// 50 failures spread over 10 addresses: 5 each, below the per-address threshold (20).
		// Once the account's backoff runs, attempts are answered 429 without being counted;
		// the clock moves past each wait so that every one of the 50 is a real failure.
		failures := 0
		for i := 0; failures < 50; i++ {
			ip := fmt.Sprintf("203.0.113.%d", 10+i%10)
			r := e.loginFrom(ip, owner, fmt.Sprintf("wrong guess number %d", i), "")
			switch r.Status {
			case http.StatusUnauthorized:
				failures++
			case http.StatusTooManyRequests:
				e.clock.Advance(16 * time.Minute) // past the longest backoff (15 min)
			default:
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Raw)
			}
		}
		// The attack is still running: the last failure started a 15-minute backoff and the lock.

		// The owner, from the trusted device at a new address, signs in at once.
		r = e.loginFrom("198.51.100.2", owner, strongPassword, first.DeviceToken)
		e.expect(r, http.StatusOK, "")
		var again deviceAnswer
		r.data(t, &again)
		if again.AccessToken == "" || again.DeviceToken == "" {
			t.Fatalf("trusted sign-in answer: %s", r.Raw)
		}
		// A new address without a device token is still slowed down, even with the password.
		r = e.loginFrom("198.51.100.3", owner, strongPassword, "")
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
		// The owner's success did not reset the attacker's count: still 429 from elsewhere.
		r = e.loginFrom("203.0.113.99", owner, "yet another guess", "")
		e.expect(r, http.StatusTooManyRequests, "rate_limited")

		// A token is good for its own account only.
		const other = "other@example.com"
		e.createUser(other, strongPassword2)
		r = e.loginFrom("198.51.100.4", owner, strongPassword, e.deviceTokenOf(other, strongPassword2))
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		// A forged or altered token is just no token.
		r = e.loginFrom("198.51.100.4", owner, strongPassword, again.DeviceToken+"A")
		e.expect(r, http.StatusTooManyRequests, "rate_limited")

		// Failures with a device token count against that token: after 5 (the budget) it is
		// no longer trusted, and the right password from it meets the account's backoff.
		stolen := again.DeviceToken
		for i := range 5 {
			r := e.loginFrom("198.51.100.5", owner, fmt.Sprintf("device guess %d", i), stolen)
			e.expect(r, http.StatusUnauthorized, "unauthenticated")
		}
		r = e.loginFrom("198.51.100.6", owner, strongPassword, stolen)
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		// The owner's first token still works: each token has its own budget.
		r = e.loginFrom("198.51.100.7", owner, strongPassword, first.DeviceToken)
		e.expect(r, http.StatusOK, "")
		// Those failures did not count against the account's unknown clients either way,
		// nor against the address beyond its own counter.
		evs, err := e.app.Store.AuditEvents(context.Background(), 0, "login_failure", 200)
		if err != nil {
			t.Fatal(err)
		}
		spent := false
		for _, ev := range evs {
			if ev.Email == owner && len(ev.Detail) > 12 && ev.Detail[:13] == "device token " {
				spent = true
			}
		}
		if !spent {
			t.Fatal("no audit event says the device token was spent")
		}
	})
}

// deviceTokenOf signs in as email and returns the device token.
func (e *env) deviceTokenOf(email, password string) string {
	e.t.Helper()
	r := e.loginFrom("192.0.2.200", email, password, "")
	e.expect(r, http.StatusOK, "")
	var a deviceAnswer
	r.data(e.t, &a)
	return a.DeviceToken
}

// With a second factor, the device token comes with the answer of the second step, and the
// second step honours it too (sent in its body).
func TestDeviceTokenTwoFactor(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		e := start(t, cfg, false)
		const owner = "tf-owner@example.com"
		e.createUser(owner, strongPassword)
		secret, _ := e.enrolTOTP(e.login(owner, strongPassword).AccessToken)
		e.clock.Advance(time.Minute)

		challenge := func(r *response) string {
			t.Helper()
			e.expect(r, http.StatusOK, "")
			var a loginAnswer
			r.data(t, &a)
			if a.Challenge == "" {
				t.Fatalf("no challenge: %s", r.Raw)
			}
			return a.Challenge
		}
		ch := challenge(e.loginFrom("198.51.100.1", owner, strongPassword, ""))
		r := e.secondStep(ch, "totp", oathCode(t, secret, e.clock.Now()))
		e.expect(r, http.StatusOK, "")
		var tf deviceAnswer
		r.data(t, &tf)
		if tf.AccessToken == "" || tf.DeviceToken == "" {
			t.Fatalf("second step answer without device_token: %s", r.Raw)
		}

		// Failures from elsewhere start the account's backoff.
		for i, failures := 0, 0; failures < 20; i++ {
			r := e.loginFrom(fmt.Sprintf("203.0.113.%d", i%10), owner, fmt.Sprintf("wrong %d", i), "")
			switch r.Status {
			case http.StatusUnauthorized:
				failures++
			case http.StatusTooManyRequests:
				e.clock.Advance(16 * time.Minute)
			default:
				t.Fatalf("guess %d: %s", i, r.Raw)
			}
		}
		ch = challenge(e.loginFrom("198.51.100.2", owner, strongPassword, tf.DeviceToken))
		// Without the token the second step meets the account's backoff ...
		e.expect(e.secondStep(ch, "totp", oathCode(t, secret, e.clock.Now())), http.StatusTooManyRequests, "rate_limited")
		// ... with it, it passes.
		r = e.secondStep(ch, "totp", oathCode(t, secret, e.clock.Now()), "device_token", tf.DeviceToken)
		e.expect(r, http.StatusOK, "")
	})
}
