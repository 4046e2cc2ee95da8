package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

const testTokenKey = "test-token-hmac-key-of-at-least-32-characters"

var emailCodeInMail = regexp.MustCompile(`\b(\d{6})\b`)

// storedHashes returns every value of column in table (one-time code hashes).
func (e *env) storedHashes(table, column string) []string {
	e.t.Helper()
	rows, err := e.app.Store.DB().QueryContext(context.Background(), "SELECT "+column+" FROM "+table+" WHERE "+column+" IS NOT NULL") // #nosec G202 -- test constants
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// expectKeyed fails unless the stored values hold HMAC(key, secret) and not SHA-256(secret).
func (e *env) expectKeyed(what, table, column, secret string) {
	e.t.Helper()
	stored := e.storedHashes(table, column)
	if slices.Contains(stored, sha256Hex(secret)) {
		e.t.Fatalf("%s: %s.%s holds the plain SHA-256 of the code", what, table, column)
	}
	if !slices.Contains(stored, auth.HMACHex([]byte(testTokenKey), secret)) {
		e.t.Fatalf("%s: %s.%s does not hold HMAC(key, code); stored %v", what, table, column, stored)
	}
}

// TestOneTimeCodesHMAC: every kind of one-time code (and the link token mailed with it) is
// stored as HMAC-SHA-256 under SECURITY_TOKEN_HMAC_KEY, not as a plain hash; the same database
// with another key cannot check a code; recovery codes stored the old way keep working.
func TestOneTimeCodesHMAC(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		cfg := testConfig(db)
		cfg.Security.Registerable = true
		cfg.Security.TokenHMACKey = testTokenKey
		e := start(t, cfg, true)

		// Confirmation (registration).
		e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "new@example.com", "password": strongPassword}), http.StatusAccepted, "")
		_, tok, msg := e.mailedToken("new@example.com")
		code := invitationCode.FindStringSubmatch(msg.Text)
		if code == nil {
			t.Fatalf("no code in the confirmation mail:\n%s", msg.Text)
		}
		e.expectKeyed("confirm link", "action_tokens", "token_hash", tok)
		e.expectKeyed("confirm code", "action_tokens", "code_hash", code[1])

		// Password reset.
		e.createUser("alice@example.com", strongPassword, "maintainer")
		e.expect(e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "alice@example.com"}), http.StatusAccepted, "")
		_, resetTok, msg := e.mailedToken("alice@example.com")
		resetCode := invitationCode.FindStringSubmatch(msg.Text)[1]
		e.expectKeyed("reset link", "action_tokens", "token_hash", resetTok)
		e.expectKeyed("reset code", "action_tokens", "code_hash", resetCode)

		// Email change.
		alice := e.login("alice@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/me/email", alice.AccessToken, map[string]string{"new_email": "alice2@example.com", "password": strongPassword}), http.StatusAccepted, "")
		_, changeTok, msg := e.mailedToken("alice2@example.com")
		e.expectKeyed("email change link", "action_tokens", "token_hash", changeTok)
		e.expectKeyed("email change code", "action_tokens", "code_hash", invitationCode.FindStringSubmatch(msg.Text)[1])

		// Invitation.
		r := e.do("POST", "/api/v1/teams", alice.AccessToken, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		_, invTok, invCode := e.invite(fmt.Sprintf("/api/v1/teams/%d", team.ID), alice.AccessToken, "bob@example.com", "member")
		e.expectKeyed("invitation link", "invitations", "token_hash", invTok)
		e.expectKeyed("invitation code", "invitations", "code_hash", invCode)

		// Recovery codes, and the emailed sign-in code (bound to its challenge).
		e.createUser("carol@example.com", strongPassword, "maintainer")
		carol := e.login("carol@example.com", strongPassword)
		r = e.do("POST", "/api/v1/me/2fa/email", carol.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		var rc struct {
			Codes []string `json:"codes"`
		}
		r.data(t, &rc)
		for _, c := range rc.Codes {
			e.expectKeyed("recovery code", "recovery_codes", "code_hash", c)
		}
		step := e.passwordStep("carol@example.com", strongPassword)
		mailed := emailCodeInMail.FindStringSubmatch(e.waitMail("carol@example.com", "code"))
		if mailed == nil {
			t.Fatal("no sign-in code mailed")
		}
		var challengeHash string
		if err := e.app.Store.DB().QueryRowContext(ctx, "SELECT id_hash FROM two_factor_challenges WHERE email_code_hash IS NOT NULL").Scan(&challengeHash); err != nil {
			t.Fatal(err)
		}
		e.expectKeyed("emailed sign-in code", "two_factor_challenges", "email_code_hash", "email:"+challengeHash+":"+mailed[1])

		// The same database under another key: no code checks out.
		other := testConfig(db)
		other.Security.TokenHMACKey = "another-key-of-at-least-32-characters-long"
		other.SMTP = cfg.SMTP
		b, err := app.New(ctx, other, app.Options{Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		if err := b.Auth.ResetPassword(ctx, resetCode, strongPassword2, auth.Client{}); err == nil {
			t.Fatal("a reset code checked out under another key")
		}
		if _, err := b.Auth.LoginTwoFactor(ctx, auth.TwoFactorInput{Challenge: step.Challenge, Method: "recovery_code", Code: rc.Codes[0]}); err == nil {
			t.Fatal("a recovery code checked out under another key")
		}
		// With the key, they do.
		e.expect(e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": resetCode, "new_password": strongPassword2}), http.StatusOK, "")
		e.expect(e.secondStep(step.Challenge, "recovery_code", rc.Codes[1]), http.StatusOK, "")

		// A recovery code stored the old way (plain SHA-256, before keyed codes) still works once.
		carolID := e.keyOwnerID("carol@example.com")
		const legacy = "ABCDE-FGHJK"
		if err := e.app.Store.ReplaceRecoveryCodes(ctx, carolID, []string{sha256Hex(legacy), sha256Hex("ZZZZZ-22222")}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		step = e.passwordStep("carol@example.com", strongPassword)
		e.expect(e.secondStep(step.Challenge, "recovery_code", "abcde fghjk"), http.StatusOK, "")
		step = e.passwordStep("carol@example.com", strongPassword)
		e.expect(e.secondStep(step.Challenge, "recovery_code", legacy), http.StatusUnauthorized, "unauthenticated")
	})
}
