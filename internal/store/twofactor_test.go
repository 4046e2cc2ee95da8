package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func TestTwoFactorFactors(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		u := &gatehouse.User{Email: "alice@example.com", Active: true}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tf, err := s.TwoFactorOf(ctx, u.ID)
		if err != nil || tf.TOTPSecret != "" || tf.TOTPPending != "" || tf.EmailEnabledAt != nil || tf.RecoveryCodesLeft != 0 {
			t.Fatalf("never enrolled = %+v, %v", tf, err)
		}

		// Pending, then confirmed; confirming a secret that is no longer pending is a conflict.
		if err := s.SetPendingTOTP(ctx, u.ID, "v1.k.first"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPendingTOTP(ctx, u.ID, "v1.k.second"); err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmTOTP(ctx, u.ID, "v1.k.first", 100); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("confirming a replaced secret: %v", err)
		}
		if err := s.ConfirmTOTP(ctx, u.ID, "v1.k.second", 100); err != nil {
			t.Fatal(err)
		}
		if tf, _ = s.TwoFactorOf(ctx, u.ID); tf.TOTPSecret != "v1.k.second" || tf.TOTPPending != "" || tf.TOTPLastStep != 100 || tf.TOTPEnabledAt == nil {
			t.Fatalf("confirmed = %+v", tf)
		}

		// A step is accepted once, and never one at or before the last.
		for _, c := range []struct {
			step int64
			ok   bool
		}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
			if ok, err := s.UseTOTPStep(ctx, u.ID, c.step); err != nil || ok != c.ok {
				t.Fatalf("UseTOTPStep(%d) = %v, %v; want %v", c.step, ok, err, c.ok)
			}
		}
		// Racing uses of one step: exactly one wins, on every engine.
		var wg sync.WaitGroup
		wins := make(chan bool, 8)
		for range 8 {
			wg.Go(func() {
				ok, err := s.UseTOTPStep(ctx, u.ID, 200)
				if err != nil {
					t.Error(err)
				}
				wins <- ok
			})
		}
		wg.Wait()
		close(wins)
		n := 0
		for ok := range wins {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d racing uses of one step won, want 1", n)
		}

		// Email codes on and off, reported only when the state changes.
		for _, c := range []struct{ on, changed bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
			if changed, err := s.SetEmailTwoFactor(ctx, u.ID, c.on); err != nil || changed != c.changed {
				t.Fatalf("SetEmailTwoFactor(%v) = %v, %v", c.on, changed, err)
			}
		}

		// Recovery codes: added only when none is left; replaced wholesale.
		if added, err := s.AddRecoveryCodesIfNone(ctx, u.ID, []string{"h1", "h2"}); err != nil || !added {
			t.Fatalf("first codes: %v, %v", added, err)
		}
		if added, err := s.AddRecoveryCodesIfNone(ctx, u.ID, []string{"h3"}); err != nil || added {
			t.Fatalf("codes while some are left: %v, %v", added, err)
		}
		if tf, _ = s.TwoFactorOf(ctx, u.ID); tf.RecoveryCodesLeft != 2 {
			t.Fatalf("left = %d", tf.RecoveryCodesLeft)
		}

		if removed, err := s.DisableTOTP(ctx, u.ID); err != nil || !removed {
			t.Fatalf("DisableTOTP = %v, %v", removed, err)
		}
		if removed, err := s.DisableTOTP(ctx, u.ID); err != nil || removed {
			t.Fatalf("DisableTOTP again = %v, %v", removed, err)
		}
		if ok, _ := s.UseTOTPStep(ctx, u.ID, 500); ok {
			t.Fatal("a step was accepted without an authenticator")
		}
		if err := s.ResetTwoFactor(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if tf, _ = s.TwoFactorOf(ctx, u.ID); tf.RecoveryCodesLeft != 0 || tf.TOTPSecret != "" {
			t.Fatalf("after reset = %+v", tf)
		}
	})
}

func TestTwoFactorChallenges(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		alice := &gatehouse.User{Email: "alice@example.com", Active: true}
		bob := &gatehouse.User{Email: "bob@example.com", Active: true}
		for _, u := range []*gatehouse.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetPendingTOTP(ctx, alice.ID, "enc"); err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmTOTP(ctx, alice.ID, "enc", 10); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, alice.ID, []string{"r1", "r2"}); err != nil {
			t.Fatal(err)
		}
		newChallenge := func(id string) {
			t.Helper()
			if err := s.CreateChallenge(ctx, &store.Challenge{IDHash: id, UserID: alice.ID, Stamp: alice.SecurityStamp,
				Scope: "read write", Remember: true, ExpiresAt: clk.Now().Add(10 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		consume := func(id string, user int64, use store.FactorUse, want store.ChallengeOutcome) {
			t.Helper()
			out, err := s.ConsumeChallenge(ctx, id, user, 5, use)
			if err != nil || out != want {
				t.Fatalf("ConsumeChallenge(%s, %+v) = %v, %v; want %v", id, use, out, err, want)
			}
		}
		newChallenge("c1")
		c, err := s.ChallengeByHash(ctx, "c1")
		if err != nil || c.UserID != alice.ID || c.Scope != "read write" || !c.Remember || c.UsedAt != nil || c.Failures != 0 {
			t.Fatalf("ChallengeByHash = %+v, %v", c, err)
		}
		if _, err := s.ChallengeByHash(ctx, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unknown challenge: %v", err)
		}

		// A replayed step or a spent code leaves the challenge live; another user cannot use it.
		consume("c1", alice.ID, store.FactorUse{TOTPStep: 10}, store.ChallengeBadProof)
		consume("c1", alice.ID, store.FactorUse{RecoveryHash: "unknown"}, store.ChallengeBadProof)
		consume("c1", bob.ID, store.FactorUse{TOTPStep: 11}, store.ChallengeGone)
		consume("c1", alice.ID, store.FactorUse{RecoveryHash: "r1"}, store.ChallengeConsumed)
		consume("c1", alice.ID, store.FactorUse{RecoveryHash: "r2"}, store.ChallengeGone) // used
		if tf, _ := s.TwoFactorOf(ctx, alice.ID); tf.RecoveryCodesLeft != 1 {
			t.Fatalf("recovery codes left = %d, want 1 (the refused uses spent nothing)", tf.RecoveryCodesLeft)
		}
		newChallenge("c2")
		consume("c2", alice.ID, store.FactorUse{RecoveryHash: "r1"}, store.ChallengeBadProof) // spent
		consume("c2", alice.ID, store.FactorUse{TOTPStep: 11}, store.ChallengeConsumed)

		// Email codes: bound to the challenge, expiring; failures end the challenge.
		newChallenge("c3")
		consume("c3", alice.ID, store.FactorUse{EmailCodeHash: "e1"}, store.ChallengeBadProof) // none sent
		if err := s.SetChallengeEmailCode(ctx, "c3", "e1", clk.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		consume("c3", alice.ID, store.FactorUse{EmailCodeHash: "e2"}, store.ChallengeBadProof)
		clk.Advance(6 * time.Minute)
		consume("c3", alice.ID, store.FactorUse{EmailCodeHash: "e1"}, store.ChallengeBadProof) // expired
		for want := 1; want <= 5; want++ {
			if n, err := s.ChallengeFailed(ctx, "c3"); err != nil || n != want {
				t.Fatalf("ChallengeFailed = %d, %v; want %d", n, err, want)
			}
		}
		if err := s.SetChallengeEmailCode(ctx, "c3", "e3", clk.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		consume("c3", alice.ID, store.FactorUse{EmailCodeHash: "e3"}, store.ChallengeGone) // too many failures

		// WebAuthn session data round-trips; an expired challenge takes none and cannot be used.
		newChallenge("c4")
		if err := s.SetChallengeWebAuthn(ctx, "c4", []byte(`{"challenge":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.ChallengeByHash(ctx, "c4"); string(c.WebAuthnSession) != `{"challenge":"x"}` {
			t.Fatalf("session data = %q", c.WebAuthnSession)
		}
		clk.Advance(11 * time.Minute)
		if err := s.SetChallengeWebAuthn(ctx, "c4", []byte("y")); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("expired challenge took session data: %v", err)
		}
		consume("c4", alice.ID, store.FactorUse{}, store.ChallengeGone)

		// Remembered devices: bound to user and stamp, expiring, forgotten on demand.
		if err := s.AddRememberedDevice(ctx, "d1", alice.ID, alice.SecurityStamp, clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			user  int64
			stamp string
			ok    bool
		}{{alice.ID, alice.SecurityStamp, true}, {bob.ID, alice.SecurityStamp, false}, {alice.ID, "other", false}} {
			if ok, err := s.RememberedDevice(ctx, "d1", c.user, c.stamp); err != nil || ok != c.ok {
				t.Fatalf("RememberedDevice(%d, %s) = %v, %v", c.user, c.stamp, ok, err)
			}
		}
		clk.Advance(2 * time.Hour)
		if ok, _ := s.RememberedDevice(ctx, "d1", alice.ID, alice.SecurityStamp); ok {
			t.Fatal("an expired device is remembered")
		}
		if err := s.AddRememberedDevice(ctx, "d2", alice.ID, alice.SecurityStamp, clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.ForgetDevices(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.RememberedDevice(ctx, "d2", alice.ID, alice.SecurityStamp); ok {
			t.Fatal("a forgotten device is remembered")
		}
	})
}
