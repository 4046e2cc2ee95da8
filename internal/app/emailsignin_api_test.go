package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// emailSignInConfig turns sign-in by email on (the tests start the app with SMTP).
func emailSignInConfig(db config.DB) *config.Config {
	cfg := testConfig(db)
	cfg.Security.PasswordlessEmail = true
	cfg.Security.TokenHMACKey = testTokenKey
	return cfg
}

type emailTicket struct {
	Message   string    `json:"message"`
	Binding   string    `json:"binding"`
	ExpiresAt time.Time `json:"expires_at"`
}

// askEmailCode asks for a sign-in code and link for email and returns the answer.
func (e *env) askEmailCode(email string) emailTicket {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": email})
	e.expect(r, http.StatusAccepted, "")
	var t emailTicket
	r.data(e.t, &t)
	if t.Binding == "" || t.ExpiresAt.IsZero() {
		e.t.Fatalf("no binding in the answer: %s", r.Raw)
	}
	return t
}

var signInLink = regexp.MustCompile(`https://gatehouse\.test/login/email/link\?token=([A-Z2-7]+)`)

// signInMail waits for the next sign-in mail to `to` and returns its code and link token.
func (e *env) signInMail(to string) (code, tok string) {
	e.t.Helper()
	text := e.waitMail(to, "Sign in to")
	c, l := sixDigits.FindStringSubmatch(text), signInLink.FindStringSubmatch(text)
	if c == nil || l == nil {
		e.t.Fatalf("no code or link in the sign-in mail:\n%s", text)
	}
	return c[1], l[1]
}

// verifyEmailCode finishes a sign-in by email; more are extra body members, in pairs.
func (e *env) verifyEmailCode(email, binding, code string, more ...any) *response {
	e.t.Helper()
	body := map[string]any{"email": email, "binding": binding}
	if code != "" {
		body["code"] = code
	}
	for i := 0; i+1 < len(more); i += 2 {
		body[more[i].(string)] = more[i+1]
	}
	return e.do("POST", "/api/v1/auth/login/email-code/verify", "", body)
}

// signedInTokens expects a token pair and checks that the access token works.
func (e *env) signedInTokens(r *response) tokens {
	e.t.Helper()
	e.expect(r, http.StatusOK, "")
	var tk tokens
	r.data(e.t, &tk)
	if tk.AccessToken == "" || tk.RefreshToken == "" {
		e.t.Fatalf("no token pair: %s", r.Raw)
	}
	e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusOK, "")
	return tk
}

// The code: it signs in the client that asked, once, within SECURITY_PASSWORDLESS_WITHIN; the
// mail alone (another client's binding) does not; it is stored as an HMAC keyed by the binding;
// every step is audited.
func TestEmailSignInCode(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, emailSignInConfig(db), true)
		e.createUser("alice@example.com", strongPassword, "maintainer")

		ticket := e.askEmailCode("Alice@Example.com")
		if !ticket.ExpiresAt.Equal(e.clock.Now().Add(10 * time.Minute)) {
			t.Fatalf("expires_at %s, want now + 10 minutes", ticket.ExpiresAt)
		}
		code, tok := e.signInMail("alice@example.com")
		e.expectKeyed("sign-in link", "email_signins", "token_hash", tok)
		stored := e.storedHashes("email_signins", "code_hash")
		if want := auth.HMACHex([]byte(testTokenKey), "email-signin:"+sha256Hex(ticket.Binding)+":"+code); !slices.Contains(stored, want) {
			t.Fatalf("code_hash is not HMAC(key, binding and code): %v", stored)
		}
		if slices.Contains(e.storedHashes("email_signins", "binding_hash"), ticket.Binding) {
			t.Fatal("the binding is stored in clear")
		}

		// Someone with the mail but another client's binding (their own request's) gets nowhere.
		other := e.askEmailCode("alice@example.com")
		_, _ = e.signInMail("alice@example.com")
		e.expectNamed(e.verifyEmailCode("alice@example.com", other.Binding, code), http.StatusUnauthorized, "unauthenticated", "code")
		e.expectNamed(e.verifyEmailCode("alice@example.com", "made-up", code), http.StatusUnauthorized, "unauthenticated", "code")
		// Nor with the binding and another address.
		e.createUser("bob@example.com", strongPassword)
		e.expectNamed(e.verifyEmailCode("bob@example.com", ticket.Binding, code), http.StatusUnauthorized, "unauthenticated", "code")

		// The client that asked signs in, with spaces in the code; the code works once.
		tk := e.signedInTokens(e.verifyEmailCode("alice@example.com", ticket.Binding, code[:3]+" "+code[3:], "scope", "read"))
		if tk.Scope != "read" {
			t.Fatalf("scope %q, want read", tk.Scope)
		}
		e.expectNamed(e.verifyEmailCode("alice@example.com", ticket.Binding, code), http.StatusUnauthorized, "unauthenticated", "code")
		if n := e.auditCount("alice@example.com", "email_signin_requested"); n != 2 {
			t.Fatalf("%d email_signin_requested events, want 2", n)
		}
		if !e.hasAudit("alice@example.com", "login_success", "email code") || !e.hasAudit("alice@example.com", "login_failure", "email code: wrong code") {
			t.Fatal("the sign-in and the failures are not audited")
		}

		// Expiry: a code is good for SECURITY_PASSWORDLESS_WITHIN, not longer.
		late := e.askEmailCode("alice@example.com")
		code, _ = e.signInMail("alice@example.com")
		e.clock.Advance(10*time.Minute + time.Second)
		e.expectNamed(e.verifyEmailCode("alice@example.com", late.Binding, code), http.StatusUnauthorized, "unauthenticated", "code")
		soon := e.askEmailCode("alice@example.com")
		code, _ = e.signInMail("alice@example.com")
		e.clock.Advance(9 * time.Minute)
		e.signedInTokens(e.verifyEmailCode("alice@example.com", soon.Binding, code))

		// Input errors depend on the input only.
		e.expectNamed(e.verifyEmailCode("alice@example.com", "", "123456"), http.StatusBadRequest, "invalid", "binding")
		e.expectNamed(e.verifyEmailCode("alice@example.com", soon.Binding, "12345"), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.verifyEmailCode("not an address", soon.Binding, "123456"), http.StatusBadRequest, "invalid", "email")
		e.expectNamed(e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": ""}), http.StatusBadRequest, "invalid", "email")
		e.expect(e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": "a@example.com", "password": "x"}), http.StatusBadRequest, "invalid")
	})
}

// Unknown addresses get the same answers as known ones, and no mail goes out.
func TestEmailSignInUnknownAddress(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, emailSignInConfig(db), true)
		e.createUser("alice@example.com", strongPassword)
		known := e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": "alice@example.com"})
		unknown := e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": "nobody@example.com"})
		e.expect(unknown, http.StatusAccepted, "")
		var k, u emailTicket
		known.data(t, &k)
		unknown.data(t, &u)
		if k.Message != u.Message || u.Binding == "" || len(k.Binding) != len(u.Binding) || !k.ExpiresAt.Equal(u.ExpiresAt) {
			t.Fatalf("known %+v, unknown %+v", k, u)
		}
		if keysOf(t, known.Body.Data) != keysOf(t, unknown.Body.Data) {
			t.Fatalf("answers differ in shape: %s / %s", known.Raw, unknown.Raw)
		}
		// A wrong code and no code are answered alike for both.
		wk, wu := e.verifyEmailCode("alice@example.com", k.Binding, "000000"), e.verifyEmailCode("nobody@example.com", u.Binding, "000000")
		if wk.Status != wu.Status || wk.Body.Error.Message != wu.Body.Error.Message {
			t.Fatalf("wrong code: %s / %s", wk.Raw, wu.Raw)
		}
		pk, pu := e.verifyEmailCode("alice@example.com", k.Binding, ""), e.verifyEmailCode("nobody@example.com", u.Binding, "")
		e.expect(pk, http.StatusForbidden, auth.ReasonEmailSignInPending)
		if pk.Status != pu.Status || pk.Body.Error.Message != pu.Body.Error.Message {
			t.Fatalf("no code: %s / %s", pk.Raw, pu.Raw)
		}
		// Only the known address got mail; the outbox holds nothing for the other.
		e.signInMail("alice@example.com")
		if n := e.queuedTo("nobody@example.com"); n != 0 {
			t.Fatalf("%d mails queued for an unknown address", n)
		}
		// Inactive and SSO-only accounts get nothing either, with the same answer.
		e.createUser("carol@example.com", strongPassword)
		if err := e.app.Store.SetActive(t.Context(), e.userOf("carol@example.com").ID, false); err != nil {
			t.Fatal(err)
		}
		e.askEmailCode("carol@example.com")
		if n := e.queuedTo("carol@example.com"); n != 0 {
			t.Fatalf("%d mails queued for an inactive account", n)
		}
	})
}

// userOf returns the account with this address.
func (e *env) userOf(email string) *gatehouse.User {
	e.t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// hasAudit reports whether the account has an audit event of this kind with this detail.
func (e *env) hasAudit(email, event, detail string) bool {
	e.t.Helper()
	evs, err := e.app.Store.AuditEvents(context.Background(), e.userOf(email).ID, event, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Detail == detail {
			return true
		}
	}
	return false
}

// keysOf lists the member names of a JSON object, sorted and joined.
func keysOf(t *testing.T, raw []byte) string {
	t.Helper()
	var m map[string]any
	r := &response{}
	r.Body.Data = raw
	r.data(t, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// pageForm posts a form to a page, as a browser without cookies would.
func (e *env) pageForm(path string, form url.Values) *response {
	e.t.Helper()
	return e.doWithHeader("POST", path, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// The mailed link, for an API client: opened in a browser (which did not ask), its page
// changes nothing on GET and cannot sign that browser in; confirmed there, the client that
// asked finishes with its binding and no code. The approval is audited; a link works once.
func TestEmailSignInLinkForAPIClient(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, emailSignInConfig(db), true)
		e.createUser("alice@example.com", strongPassword)
		ticket := e.askEmailCode("alice@example.com")
		_, tok := e.signInMail("alice@example.com")
		link := "/login/email/link?token=" + tok

		for range 2 { // a mail scanner opening the link uses nothing up
			if r := e.do("GET", link, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Raw), "email-link-approve") {
				t.Fatalf("link page: %d\n%s", r.Status, r.Raw)
			}
		}
		e.expect(e.verifyEmailCode("alice@example.com", ticket.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)
		// "Sign in" from the browser that did not ask: not signed in, asked to confirm instead.
		r := e.pageForm("/login/email/link", url.Values{"token": {tok}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Raw), "email-link-approve") {
			t.Fatalf("the link signed in another browser: %d %v", r.Status, r.Header)
		}
		e.expect(e.verifyEmailCode("alice@example.com", ticket.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)

		r = e.pageForm("/login/email/link", url.Values{"token": {tok}, "action": {"approve"}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Raw), "email-link-done") {
			t.Fatalf("approve: %d\n%s", r.Status, r.Raw)
		}
		if n := e.auditCount("alice@example.com", "email_signin_approved"); n != 1 {
			t.Fatalf("%d approval events", n)
		}
		// Another client's binding gets nothing from the approval, nor does another address.
		stranger := e.askEmailCode("alice@example.com")
		e.signInMail("alice@example.com")
		e.expect(e.verifyEmailCode("alice@example.com", stranger.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)
		e.expect(e.verifyEmailCode("bob@example.com", ticket.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)

		e.signedInTokens(e.verifyEmailCode("alice@example.com", ticket.Binding, ""))
		if !e.hasAudit("alice@example.com", "login_success", "email link") {
			t.Fatal("the sign-in is not audited as by email link")
		}
		// Used: neither the binding nor the link works again.
		e.expect(e.verifyEmailCode("alice@example.com", ticket.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)
		if r := e.do("GET", link, "", nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Raw), "email-link-invalid") {
			t.Fatalf("a used link: %d\n%s", r.Status, r.Raw)
		}
		// A link expires with its code.
		late := e.askEmailCode("alice@example.com")
		_, tok = e.signInMail("alice@example.com")
		e.clock.Advance(10*time.Minute + time.Second)
		if r := e.pageForm("/login/email/link", url.Values{"token": {tok}, "action": {"approve"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("an expired link approved: %d", r.Status)
		}
		e.expect(e.verifyEmailCode("alice@example.com", late.Binding, ""), http.StatusForbidden, auth.ReasonEmailSignInPending)
	})
}
