package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// oathCode returns the TOTP code of a base32 secret at t as Debian's oathtool computes it: an
// implementation independent of ours. Without oathtool the test is skipped, unless
// GATEHOUSE_TEST_REQUIRE is set (scripts/test installs it): then the test fails.
func oathCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	bin, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv(testdb.EnvRequire) != "" {
			t.Fatalf("oathtool is not installed (apt-get install oathtool), and %s is set: the TOTP tests need it", testdb.EnvRequire)
		}
		t.Skip("oathtool not installed; the TOTP tests check our codes against it")
	}
	out, err := exec.CommandContext(context.Background(), bin, "--totp", "-b",
		"--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("oathtool: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

type loginAnswer struct {
	tokens
	TwoFactorRequired   bool     `json:"two_factor_required"`
	Challenge           string   `json:"challenge"`
	Methods             []string `json:"methods"`
	RememberDeviceToken string   `json:"remember_device_token"`
}

// passwordStep logs in with email and password and expects the second-factor challenge.
func (e *env) passwordStep(email, password string, extra ...string) loginAnswer {
	e.t.Helper()
	body := map[string]any{"email": email, "password": password}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	r := e.do("POST", "/api/v1/auth/login", "", body)
	e.expect(r, http.StatusOK, "")
	var a loginAnswer
	r.data(e.t, &a)
	if !a.TwoFactorRequired || a.Challenge == "" || a.AccessToken != "" || a.RefreshToken != "" {
		e.t.Fatalf("password step did not ask for a second factor: %s", r.Raw)
	}
	return a
}

// secondStep sends the second login step.
func (e *env) secondStep(challenge, method, code string, more ...any) *response {
	e.t.Helper()
	body := map[string]any{"challenge": challenge, "method": method, "code": code}
	for i := 0; i+1 < len(more); i += 2 {
		body[more[i].(string)] = more[i+1]
	}
	return e.do("POST", "/api/v1/auth/login/2fa", "", body)
}

// expectNamed is expect plus the field the error must name, in its fields and its message.
func (e *env) expectNamed(r *response, status int, code, field string) {
	e.t.Helper()
	e.expect(r, status, code)
	if r.Body.Error.Fields[field] == "" || !strings.Contains(r.Body.Error.Message, field) {
		e.t.Fatalf("error does not name %q: %s", field, r.Raw)
	}
}

type twoFactorState struct {
	TOTP              bool `json:"totp"`
	Email             bool `json:"email"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	Required          bool `json:"required"`
	SetupRequired     bool `json:"setup_required"`
}

func (e *env) twoFactorState(bearer string) twoFactorState {
	e.t.Helper()
	r := e.do("GET", "/api/v1/me/2fa", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var st twoFactorState
	r.data(e.t, &st)
	return st
}

type enrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      string `json:"qr_png"`
	QRSVG      string `json:"qr_svg"`
}

// enrolTOTP sets up an authenticator app for the bearer's account with oathtool's code and
// returns the secret and the recovery codes.
func (e *env) enrolTOTP(bearer string) (secret string, codes []string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/me/2fa/totp", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var en enrolment
	r.data(e.t, &en)
	r = e.do("POST", "/api/v1/me/2fa/totp/confirm", bearer, map[string]string{"code": oathCode(e.t, en.Secret, e.clock.Now())})
	e.expect(r, http.StatusOK, "")
	var rc struct {
		Codes []string `json:"codes"`
	}
	r.data(e.t, &rc)
	return en.Secret, rc.Codes
}

// auditCount counts the user's audit events of one kind.
func (e *env) auditCount(email, event string) int {
	e.t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.app.Store.AuditEvents(context.Background(), u.ID, event, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

// waitMail returns the next message to `to` whose subject contains subject, skipping others.
func (e *env) waitMail(to, subject string) string {
	e.t.Helper()
	for range 10 {
		m := e.smtp.WaitFor(e.t, to, 20*time.Second)
		if strings.Contains(m.Subject, subject) {
			return m.Text
		}
	}
	e.t.Fatalf("no message to %s about %q", to, subject)
	return ""
}

var sixDigits = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)

func (e *env) mailedCode(to string) string {
	e.t.Helper()
	text := e.waitMail(to, "sign-in code")
	m := sixDigits.FindStringSubmatch(text)
	if m == nil {
		e.t.Fatalf("no code in the message:\n%s", text)
	}
	return m[1]
}

// The "done means": a user enrols an authenticator app with a code from an independent
// implementation, signs out, signs in with password and a fresh code, cannot reuse that code,
// signs in once with a recovery code (which then stops working). Around it, the bad inputs.
func TestTwoFactorTOTPLogin(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const alice = "alice@example.com"
		e.createUser(alice, strongPassword, "maintainer")
		tk := e.login(alice, strongPassword)
		if st := e.twoFactorState(tk.AccessToken); st.TOTP || st.RecoveryCodesLeft != 0 || st.Required || st.SetupRequired {
			t.Fatalf("state before = %+v", st)
		}

		// Enrolment answers the secret, the otpauth URI and the QR code as PNG and SVG.
		r := e.do("POST", "/api/v1/me/2fa/totp", tk.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		var en enrolment
		r.data(t, &en)
		if len(en.Secret) != 32 || !strings.HasPrefix(en.OTPAuthURI, "otpauth://totp/") || !strings.Contains(en.OTPAuthURI, "secret="+en.Secret) ||
			!strings.HasPrefix(en.QRSVG, "<svg") || !strings.HasSuffix(en.QRSVG, "</svg>") {
			t.Fatalf("enrolment = %+v", en)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(en.QRPNG, "data:image/png;base64,"))
		if err != nil || !strings.HasPrefix(en.QRPNG, "data:image/png;base64,") {
			t.Fatalf("qr_png is no PNG data URI: %v", err)
		}
		if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("qr_png does not decode: %v", err)
		}
		// The secret is stored encrypted, never in plain text, under a key generated at the first
		// start when SECURITY_TOTP_SECRETS_KEY is not set.
		if stored, err := e.app.Store.EnsureSetting(context.Background(), "totp_secrets_key", "unused"); err != nil || len(stored) != 44 {
			t.Fatalf("generated TOTP secrets key = %q, %v", stored, err)
		}
		u, _ := e.app.Store.UserByEmail(context.Background(), alice)
		tf, err := e.app.Store.TwoFactorOf(context.Background(), u.ID)
		if err != nil || !strings.HasPrefix(tf.TOTPPending, "v1.") || strings.Contains(tf.TOTPPending, en.Secret) || tf.TOTPSecret != "" {
			t.Fatalf("stored pending secret = %q, %v", tf.TOTPPending, err)
		}

		// Bad confirmations enable nothing.
		good := oathCode(t, en.Secret, e.clock.Now())
		wrong := []byte(good)
		wrong[0] = '0' + (wrong[0]-'0'+1)%10
		confirm := func(code string) *response {
			return e.do("POST", "/api/v1/me/2fa/totp/confirm", tk.AccessToken, map[string]string{"code": code})
		}
		e.expectNamed(confirm(string(wrong)), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(confirm("12ab56"), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(confirm(""), http.StatusBadRequest, "invalid", "code")
		e.expect(e.do("POST", "/api/v1/me/2fa/totp/confirm", tk.AccessToken, map[string]any{"code": 123456}), http.StatusBadRequest, "invalid")
		if st := e.twoFactorState(tk.AccessToken); st.TOTP || st.RecoveryCodesLeft != 0 {
			t.Fatalf("a wrong confirmation changed the state: %+v", st)
		}
		// A session opened meanwhile ends when the factor is enabled; the enrolling one stays.
		other := e.login(alice, strongPassword)

		r = confirm(good[:3] + " " + good[3:]) // spaces inside the code are fine
		e.expect(r, http.StatusOK, "")
		var rc struct {
			Codes []string `json:"codes"`
		}
		r.data(t, &rc)
		if len(rc.Codes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(rc.Codes)))) != 10 {
			t.Fatalf("recovery codes = %v", rc.Codes)
		}
		if st := e.twoFactorState(tk.AccessToken); !st.TOTP || st.RecoveryCodesLeft != 10 {
			t.Fatalf("state after = %+v", st)
		}
		e.expect(e.do("GET", "/api/v1/me", other.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/me/2fa/totp", tk.AccessToken, nil), http.StatusConflict, "conflict")
		if n := e.auditCount(alice, gatehouse.AuditTwoFactorEnabled); n != 1 {
			t.Fatalf("%d enrolment audit events", n)
		}
		if text := e.waitMail(alice, "Two-factor authentication changed"); !strings.Contains(text, "an authenticator app was added") {
			t.Fatalf("notice:\n%s", text)
		}

		// Sign out; the password alone no longer gives tokens.
		e.expect(e.do("POST", "/api/v1/auth/logout", tk.AccessToken, map[string]string{"refresh_token": tk.RefreshToken}), http.StatusOK, "")
		ch := e.passwordStep(alice, strongPassword)
		if !slices.Equal(ch.Methods, []string{"totp", "recovery_code"}) {
			t.Fatalf("methods = %v", ch.Methods)
		}
		// The code that confirmed the enrolment cannot sign in (replay), nor can a wrong one.
		e.expectNamed(e.secondStep(ch.Challenge, "totp", good), http.StatusUnauthorized, "unauthenticated", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "totp", string(wrong)), http.StatusUnauthorized, "unauthenticated", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "totp", "1234567"), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "sms", "123456"), http.StatusBadRequest, "invalid", "method")
		e.expectNamed(e.secondStep(ch.Challenge, "email", "123456"), http.StatusBadRequest, "invalid", "method")
		e.expectNamed(e.secondStep("", "totp", "123456"), http.StatusBadRequest, "invalid", "challenge")
		e.expectNamed(e.secondStep("not-a-challenge", "totp", "123456"), http.StatusUnauthorized, "unauthenticated", "challenge")

		// A fresh code (next time step) signs in, once.
		e.clock.Advance(30 * time.Second)
		fresh := oathCode(t, en.Secret, e.clock.Now())
		r = e.secondStep(ch.Challenge, "totp", fresh)
		e.expect(r, http.StatusOK, "")
		var signed loginAnswer
		r.data(t, &signed)
		if signed.AccessToken == "" || signed.RefreshToken == "" || signed.TwoFactorRequired || signed.Scope != "read write" {
			t.Fatalf("second step answer: %s", r.Raw)
		}
		e.expect(e.do("GET", "/api/v1/auth/sessions", signed.AccessToken, nil), http.StatusOK, "")
		// The challenge is spent; the code cannot be used again with a new challenge either.
		e.expectNamed(e.secondStep(ch.Challenge, "totp", fresh), http.StatusUnauthorized, "unauthenticated", "challenge")
		ch = e.passwordStep(alice, strongPassword)
		e.expectNamed(e.secondStep(ch.Challenge, "totp", fresh), http.StatusUnauthorized, "unauthenticated", "code")

		// A recovery code signs in once (any case, with or without the dash), then never again.
		r = e.secondStep(ch.Challenge, "recovery_code", strings.ToLower(strings.ReplaceAll(rc.Codes[0], "-", "")))
		e.expect(r, http.StatusOK, "")
		if n := e.auditCount(alice, gatehouse.AuditRecoveryCodeUsed); n != 1 {
			t.Fatalf("%d recovery-code audit events", n)
		}
		ch = e.passwordStep(alice, strongPassword)
		e.expectNamed(e.secondStep(ch.Challenge, "recovery_code", rc.Codes[0]), http.StatusUnauthorized, "unauthenticated", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "recovery_code", "not a code"), http.StatusBadRequest, "invalid", "code")
		r = e.secondStep(ch.Challenge, "recovery_code", rc.Codes[1])
		e.expect(r, http.StatusOK, "")
		r.data(t, &signed)
		if st := e.twoFactorState(signed.AccessToken); st.RecoveryCodesLeft != 8 {
			t.Fatalf("recovery codes left = %d, want 8", st.RecoveryCodesLeft)
		}

		// A challenge is bound to its user: bob's valid code does not answer alice's challenge.
		e.createUser("bob@example.com", strongPassword, "viewer")
		bob := e.login("bob@example.com", strongPassword)
		bobSecret, _ := e.enrolTOTP(bob.AccessToken)
		e.clock.Advance(30 * time.Second)
		ch = e.passwordStep(alice, strongPassword)
		e.expectNamed(e.secondStep(ch.Challenge, "totp", oathCode(t, bobSecret, e.clock.Now())), http.StatusUnauthorized, "unauthenticated", "code")

		// A challenge expires.
		ch = e.passwordStep(alice, strongPassword)
		e.clock.Advance(11 * time.Minute)
		e.expectNamed(e.secondStep(ch.Challenge, "totp", oathCode(t, en.Secret, e.clock.Now())), http.StatusUnauthorized, "unauthenticated", "challenge")
		if n := e.auditCount(alice, gatehouse.AuditTwoFactorFailure); n < 5 {
			t.Fatalf("%d failed second steps audited, want at least 5", n)
		}
	})
}

// Wrong codes share the login's brute-force protection: they slow down the password step too,
// and a challenge dies after five.
func TestTwoFactorCodesThrottled(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		const carol = "carol@example.com"
		e.createUser(carol, strongPassword, "viewer")
		secret, _ := e.enrolTOTP(e.login(carol, strongPassword).AccessToken)
		e.clock.Advance(30 * time.Second)

		ch := e.passwordStep(carol, strongPassword)
		for i := range 5 {
			r := e.secondStep(ch.Challenge, "totp", "000000")
			if i < 4 {
				e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "code")
			} else {
				e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "challenge") // the fifth ends it
			}
		}
		// Five failures put the account into backoff (SECURITY_LOGIN_BACKOFF_AFTER=5): the password
		// step waits too, although the password is right.
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": carol, "password": strongPassword})
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		e.clock.Advance(2 * time.Second)
		// The dead challenge stays dead even with the right code.
		e.expectNamed(e.secondStep(ch.Challenge, "totp", oathCode(t, secret, e.clock.Now())), http.StatusUnauthorized, "unauthenticated", "challenge")
		ch = e.passwordStep(carol, strongPassword)
		e.expect(e.secondStep(ch.Challenge, "totp", oathCode(t, secret, e.clock.Now())), http.StatusOK, "")
		// Success clears the count: a wrong code now does not block.
		ch = e.passwordStep(carol, strongPassword)
		e.expect(e.secondStep(ch.Challenge, "totp", "000000"), http.StatusUnauthorized, "unauthenticated")

		// Two instances racing with the same code on two challenges: exactly one wins.
		e.clock.Advance(30 * time.Second)
		code := oathCode(t, secret, e.clock.Now())
		a, b := e.passwordStep(carol, strongPassword), e.passwordStep(carol, strongPassword)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, c := range []string{a.Challenge, b.Challenge} {
			wg.Go(func() { statuses[i] = e.secondStep(c, "totp", code).Status })
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusUnauthorized {
			t.Fatalf("racing second steps = %v, want one 200 and one 401", statuses)
		}
	})
}

// Emailed codes: enabled only with SMTP, sent at the password step when they are the only
// factor, six digits, five minutes, single use; a resend replaces the code.
func TestTwoFactorEmailCodes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const dave = "dave@example.com"
		e.createUser(dave, strongPassword, "viewer")
		tk := e.login(dave, strongPassword)
		r := e.do("POST", "/api/v1/me/2fa/email", tk.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		var rc struct {
			Codes []string `json:"codes"`
		}
		r.data(t, &rc)
		if len(rc.Codes) != 10 {
			t.Fatalf("first factor gave %d recovery codes", len(rc.Codes))
		}
		e.expect(e.do("POST", "/api/v1/me/2fa/email", tk.AccessToken, nil), http.StatusConflict, "conflict")
		e.waitMail(dave, "Two-factor authentication changed")

		ch := e.passwordStep(dave, strongPassword)
		if !slices.Equal(ch.Methods, []string{"email", "recovery_code"}) {
			t.Fatalf("methods = %v", ch.Methods)
		}
		code := e.mailedCode(dave)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		e.expectNamed(e.secondStep(ch.Challenge, "email", wrong), http.StatusUnauthorized, "unauthenticated", "code")
		e.expect(e.secondStep(ch.Challenge, "email", code), http.StatusOK, "")
		e.expectNamed(e.secondStep(ch.Challenge, "email", code), http.StatusUnauthorized, "unauthenticated", "challenge")

		// A resend waits 30 s, then replaces the code; the old one stops working.
		ch = e.passwordStep(dave, strongPassword)
		first := e.mailedCode(dave)
		e.expect(e.do("POST", "/api/v1/auth/login/2fa/email-code", "", map[string]string{"challenge": ch.Challenge}), http.StatusTooManyRequests, "rate_limited")
		e.clock.Advance(31 * time.Second)
		e.expect(e.do("POST", "/api/v1/auth/login/2fa/email-code", "", map[string]string{"challenge": ch.Challenge}), http.StatusAccepted, "")
		second := e.mailedCode(dave)
		if first != second {
			e.expectNamed(e.secondStep(ch.Challenge, "email", first), http.StatusUnauthorized, "unauthenticated", "code")
		}
		// Codes last five minutes.
		e.clock.Advance(5*time.Minute + time.Second)
		e.expectNamed(e.secondStep(ch.Challenge, "email", second), http.StatusUnauthorized, "unauthenticated", "code")
		e.expectNamed(e.do("POST", "/api/v1/auth/login/2fa/email-code", "", map[string]string{}), http.StatusBadRequest, "invalid", "challenge")

		// Turning it off needs the password; with no factor left, the recovery codes go too.
		del := func(body any) *response { return e.do("DELETE", "/api/v1/me/2fa/email", tk.AccessToken, body) }
		e.expectNamed(del(map[string]string{}), http.StatusBadRequest, "invalid", "password")
		e.expectNamed(del(map[string]string{"password": "wrong password"}), http.StatusForbidden, "forbidden", "password")
		if st := e.twoFactorState(tk.AccessToken); !st.Email {
			t.Fatal("a wrong password turned email codes off")
		}
		e.expect(del(map[string]string{"password": strongPassword}), http.StatusOK, "")
		if st := e.twoFactorState(tk.AccessToken); st.Email || st.RecoveryCodesLeft != 0 {
			t.Fatalf("state after disabling = %+v", st)
		}
		if again := e.login(dave, strongPassword); again.AccessToken == "" {
			t.Fatal("a second step without a factor")
		}
		if n := e.auditCount(dave, gatehouse.AuditTwoFactorDisabled); n != 1 {
			t.Fatalf("%d removal audit events", n)
		}
	})
}
