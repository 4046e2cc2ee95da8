package app_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// queuedTo counts the outbox messages to addr: they are queued inside the request, so this
// tells at once (no waiting on delivery) whether a flow mailed someone.
func (e *env) queuedTo(addr string) int {
	e.t.Helper()
	ms, err := e.app.Store.ListMail(context.Background(), "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if strings.EqualFold(m.To, addr) {
			n++
		}
	}
	return n
}

var changeCode = regexp.MustCompile(`confirmation page: ([A-Z0-9-]+)`)

func TestEmailChange(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const alice, next = "alice@example.com", "Alice.New@example.org"
		e.createUser(alice, strongPassword, "viewer")
		tk := e.login(alice, strongPassword)
		other := e.login(alice, strongPassword)

		r := e.do("POST", "/api/v1/me/email", tk.AccessToken, map[string]string{"new_email": next, "password": strongPassword})
		e.expect(r, http.StatusAccepted, "")
		notice := e.waitMail(alice, "email address was requested")
		if !strings.Contains(notice, next) {
			t.Fatalf("the notice to the old address does not name the new one:\n%s", notice)
		}
		path, tok, msg := e.mailedToken(next)
		if path != "/confirm-email" || !strings.Contains(msg.Subject, "Confirm your new email address") {
			t.Fatalf("link path %q, subject %q", path, msg.Subject)
		}
		// Until it is confirmed nothing changes.
		e.login(alice, strongPassword)

		r = e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": tok})
		e.expect(r, http.StatusOK, "")
		var out struct{ Email string }
		r.data(t, &out)
		if out.Email != next {
			t.Fatalf("confirm answered email %q", out.Email)
		}
		// Every session and token ended.
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", other.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": other.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		// The old address no longer signs in; the new one does (in any case), confirmed.
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": alice, "password": strongPassword}), http.StatusUnauthorized, "unauthenticated")
		fresh := e.login(strings.ToLower(next), strongPassword)
		me := e.do("GET", "/api/v1/me", fresh.AccessToken, nil)
		e.expect(me, http.StatusOK, "")
		var m struct {
			Email       string     `json:"email"`
			ConfirmedAt *time.Time `json:"confirmed_at"`
		}
		me.data(t, &m)
		if m.Email != next || m.ConfirmedAt == nil {
			t.Fatalf("me after the change: %s", me.Raw)
		}
		// The token works once.
		r = e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": tok})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["token"] == "" {
			t.Fatalf("reused token: %s", r.Raw)
		}
		if e.auditCount(next, gatehouse.AuditEmailChangeRequested) != 1 || e.auditCount(next, gatehouse.AuditEmailChanged) != 1 {
			t.Fatal("audit events missing")
		}

		// The short code works as well as the link, and back to the first address.
		r = e.do("POST", "/api/v1/me/email", fresh.AccessToken, map[string]string{"new_email": alice, "password": strongPassword})
		e.expect(r, http.StatusAccepted, "")
		text := e.waitMail(alice, "Confirm your new email address")
		c := changeCode.FindStringSubmatch(text)
		if c == nil {
			t.Fatalf("no code in:\n%s", text)
		}
		e.expect(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": strings.ToLower(c[1])}), http.StatusOK, "")
		e.login(alice, strongPassword)
	})
}

func TestEmailChangeRefusals(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const alice, bob = "alice@example.com", "bob@example.com"
		e.createUser(alice, strongPassword, "viewer")
		e.createUser(bob, strongPassword, "viewer")
		tk := e.login(alice, strongPassword)
		ask := func(body any) *response {
			t.Helper()
			return e.do("POST", "/api/v1/me/email", tk.AccessToken, body)
		}
		before := e.queuedTo(alice)

		// Bad input names the field and mails nobody.
		e.expectNamed(ask(map[string]string{"new_email": "not an address", "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expectNamed(ask(map[string]string{"new_email": "", "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expectNamed(ask(map[string]string{"new_email": " ALICE@example.com", "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expectNamed(ask(map[string]string{"new_email": "a2@example.com"}), http.StatusBadRequest, "invalid", "password")
		e.expectNamed(ask(map[string]string{"new_email": "a2@example.com", "password": "wrong password!"}), http.StatusForbidden, "forbidden", "password")
		e.expectNamed(ask(map[string]any{"new_email": "a2@example.com", "password": strongPassword, "email": "x@example.com"}), http.StatusBadRequest, "invalid", "email")
		e.expect(e.do("POST", "/api/v1/me/email", "", map[string]string{"new_email": "a2@example.com", "password": strongPassword}), http.StatusUnauthorized, "unauthenticated")
		if n := e.queuedTo(alice) + e.queuedTo("a2@example.com"); n != before {
			t.Fatalf("refused requests mailed %d messages", n-before)
		}

		// A taken address answers like a free one; its owner gets nothing, the account's owner
		// gets the notice, and there is no token to confirm.
		bobBefore := e.queuedTo(bob)
		e.expect(ask(map[string]string{"new_email": "BOB@example.com", "password": strongPassword}), http.StatusAccepted, "")
		if e.queuedTo(bob) != bobBefore || e.queuedTo(alice) != before+1 {
			t.Fatalf("taken address: %d to bob, %d to alice", e.queuedTo(bob)-bobBefore, e.queuedTo(alice)-before)
		}

		// Taken between the request and the confirmation: 409 naming new_email, nothing changes.
		e.expect(ask(map[string]string{"new_email": "carol@example.com", "password": strongPassword}), http.StatusAccepted, "")
		_, tok, _ := e.mailedToken("carol@example.com")
		e.createUser("carol@example.com", strongPassword)
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": tok}), http.StatusConflict, "conflict", "new_email")
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusOK, "")

		// Expired after an hour.
		e.expect(ask(map[string]string{"new_email": "dave@example.com", "password": strongPassword}), http.StatusAccepted, "")
		_, tok, _ = e.mailedToken("dave@example.com")
		e.clock.Advance(time.Hour + time.Second)
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": tok}), http.StatusBadRequest, "invalid", "token")

		// A password change kills a pending link (its security stamp is gone).
		tk = e.login(alice, strongPassword)
		e.expect(ask(map[string]string{"new_email": "erin@example.com", "password": strongPassword}), http.StatusAccepted, "")
		_, tok, _ = e.mailedToken("erin@example.com")
		const newPassword = "another correct horse battery"
		e.expect(e.do("POST", "/api/v1/auth/password/change", tk.AccessToken,
			map[string]string{"current_password": strongPassword, "new_password": newPassword}), http.StatusOK, "")
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": tok}), http.StatusBadRequest, "invalid", "token")
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{}), http.StatusBadRequest, "invalid", "token")
		e.login(alice, newPassword)
	})
}

func TestEmailChangeWithoutSMTP(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("alice@example.com", strongPassword)
		tk := e.login("alice@example.com", strongPassword)
		r := e.do("POST", "/api/v1/me/email", tk.AccessToken, map[string]string{"new_email": "a2@example.com", "password": strongPassword})
		e.expect(r, http.StatusForbidden, "feature_disabled")
		e.expect(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]string{"token": "X"}), http.StatusForbidden, "feature_disabled")
	})
}

// Hostile input to both endpoints: wrong types, oversized and huge values, and an API key as
// the bearer. Each is a 4xx envelope (naming the field where there is one) and mails nobody.
func TestEmailChangeHostileInput(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const alice = "alice@example.com"
		e.createUser(alice, strongPassword, "admin")
		tk := e.login(alice, strongPassword)
		before := e.queuedTo(alice)
		ask := func(body any) *response {
			t.Helper()
			return e.do("POST", "/api/v1/me/email", tk.AccessToken, body)
		}

		e.expectNamed(ask(map[string]any{"new_email": 42, "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expectNamed(ask(map[string]any{"new_email": "a2@example.com", "password": []string{"x"}}), http.StatusBadRequest, "invalid", "password")
		e.expectNamed(ask(map[string]any{"new_email": strings.Repeat("a", 330) + "@example.com", "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expectNamed(ask(map[string]any{"new_email": "ålice\u202e@exämple.com\x00", "password": strongPassword}), http.StatusBadRequest, "invalid", "new_email")
		e.expect(ask(`{"new_email":`), http.StatusBadRequest, "invalid")
		e.expect(ask(`{"new_email":"a2@example.com","password":"`+strings.Repeat("x", 20<<10)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]any{"token": 7}), http.StatusBadRequest, "invalid", "token")
		e.expect(e.do("POST", "/api/v1/auth/email/confirm", "", `{"token":"`+strings.Repeat("A", 20<<10)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
		e.expectNamed(e.do("POST", "/api/v1/auth/email/confirm", "", map[string]any{"token": strings.Repeat("Ä", 4000)}), http.StatusBadRequest, "invalid", "token")

		// An API key cannot move its owner's account, even with the password.
		k := e.createKey(tk.AccessToken, map[string]any{"name": "ci", "scopes": []string{"read", "write"}})
		r := e.do("POST", "/api/v1/me/email", k.Secret, map[string]string{"new_email": "a2@example.com", "password": strongPassword})
		e.expect(r, http.StatusForbidden, "session_required")
		if !strings.Contains(r.Body.Error.Message, "signed-in session") {
			t.Fatalf("API key refused for another reason: %s", r.Raw)
		}

		if n := e.queuedTo(alice) + e.queuedTo("a2@example.com"); n != before {
			t.Fatalf("refused requests mailed %d messages", n-before)
		}
		me := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		e.expect(me, http.StatusOK, "")
		if !strings.Contains(string(me.Raw), alice) {
			t.Fatalf("address changed: %s", me.Raw)
		}
	})
}
