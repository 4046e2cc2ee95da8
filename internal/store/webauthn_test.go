package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func TestWebAuthnCredentials(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		alice := &gatehouse.User{Email: "alice@example.com", Active: true}
		bob := &gatehouse.User{Email: "bob@example.com", Active: true}
		for _, u := range []*gatehouse.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}

		// No pending registration yet.
		if _, err := s.WebAuthnRegistration(ctx, alice.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("no registration: %v, want not_found", err)
		}
		// A newer registration replaces the older one; only its challenge completes.
		if err := s.SaveWebAuthnRegistration(ctx, alice.ID, "chal-1", `{"challenge":"chal-1"}`, clk.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveWebAuthnRegistration(ctx, alice.ID, "chal-2", `{"challenge":"chal-2"}`, clk.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if data, err := s.WebAuthnRegistration(ctx, alice.ID); err != nil || data != `{"challenge":"chal-2"}` {
			t.Fatalf("registration = %q, %v", data, err)
		}

		// A credential id of the maximum length (1023 bytes) with every byte value, and a public
		// key with NUL and high bytes, round-trip exactly.
		longID := make([]byte, 1023)
		for i := range longID {
			longID[i] = byte(i)
		}
		pk := []byte{0xa5, 0x00, 0x01, 0xff, 0x27, 0x5c, 0x22}
		c1 := &store.WebAuthnCredential{
			UserID: alice.ID, CredentialID: longID, PublicKey: pk, AttestationType: "none", AttestationFormat: "none",
			Transports: []string{"usb", "nfc"}, AAGUID: "00000000-0000-0000-0000-000000000000", SignCount: 7,
			UserPresent: true, UserVerified: false, BackupEligible: true, BackupState: true, Name: `Key "1" 🔑'; --`,
		}
		if err := s.CompleteWebAuthnRegistration(ctx, "chal-1", c1, 3); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("replaced challenge: %v, want not_found", err)
		}
		if err := s.CompleteWebAuthnRegistration(ctx, "chal-2", c1, 3); err != nil {
			t.Fatal(err)
		}
		if c1.ID == 0 || !c1.CreatedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("created = %+v", c1)
		}
		// The registration was consumed.
		if _, err := s.WebAuthnRegistration(ctx, alice.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("consumed registration: %v, want not_found", err)
		}
		if err := s.CompleteWebAuthnRegistration(ctx, "chal-2", &store.WebAuthnCredential{UserID: alice.ID, CredentialID: []byte{1}, PublicKey: pk, Name: "x"}, 3); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("second completion: %v, want not_found", err)
		}

		list, err := s.WebAuthnCredentials(ctx, alice.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		got := list[0]
		if got.ID != c1.ID || got.UserID != alice.ID || !bytes.Equal(got.CredentialID, longID) || !bytes.Equal(got.PublicKey, pk) ||
			got.AttestationType != "none" || got.AttestationFormat != "none" || strings.Join(got.Transports, ",") != "usb,nfc" ||
			got.AAGUID != c1.AAGUID || got.SignCount != 7 || !got.UserPresent || got.UserVerified || !got.BackupEligible ||
			!got.BackupState || got.Name != c1.Name || !got.CreatedAt.Equal(c1.CreatedAt) || got.LastUsedAt != nil {
			t.Fatalf("stored = %+v\nwant %+v", got, c1)
		}

		// The same credential id cannot be registered twice, not even by another user.
		if err := s.SaveWebAuthnRegistration(ctx, bob.ID, "chal-b", "{}", clk.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		dup := &store.WebAuthnCredential{UserID: bob.ID, CredentialID: longID, PublicKey: pk, Name: "copy"}
		if err := s.CompleteWebAuthnRegistration(ctx, "chal-b", dup, 3); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("duplicate credential id: %v, want conflict", err)
		}
		// Nothing changed for bob: the pending registration survived the failed attempt.
		if _, err := s.WebAuthnRegistration(ctx, bob.ID); err != nil {
			t.Fatalf("bob's registration after the conflict: %v", err)
		}
		if l, _ := s.WebAuthnCredentials(ctx, bob.ID); len(l) != 0 {
			t.Fatalf("bob has %d credentials", len(l))
		}
		// An expired registration no longer completes.
		clk.Advance(2 * time.Minute)
		if err := s.CompleteWebAuthnRegistration(ctx, "chal-b", &store.WebAuthnCredential{UserID: bob.ID, CredentialID: []byte("b1"), PublicKey: pk, Name: "b"}, 3); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("expired registration: %v, want not_found", err)
		}

		// The per-user limit.
		for i, id := range []string{"k2", "k3", "k4"} {
			if err := s.SaveWebAuthnRegistration(ctx, alice.ID, "c-"+id, "{}", clk.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			err := s.CompleteWebAuthnRegistration(ctx, "c-"+id, &store.WebAuthnCredential{UserID: alice.ID, CredentialID: []byte(id), PublicKey: pk, Name: id}, 3)
			if i < 2 && err != nil {
				t.Fatalf("credential %s: %v", id, err)
			}
			if i == 2 && gatehouse.ErrorCode(err) != gatehouse.EConflict {
				t.Fatalf("over the limit: %v, want conflict", err)
			}
		}

		// A use advances the counter only from the counter it was verified against.
		clk.Advance(time.Minute)
		use := store.WebAuthnUse{UserID: alice.ID, CredentialID: longID, PrevSignCount: 7, SignCount: 9, UserPresent: true, UserVerified: true, BackupState: false}
		if err := s.RecordWebAuthnUse(ctx, use); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordWebAuthnUse(ctx, use); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("stale counter: %v, want conflict", err)
		}
		// Another user's credential is not touched.
		if err := s.RecordWebAuthnUse(ctx, store.WebAuthnUse{UserID: bob.ID, CredentialID: longID, PrevSignCount: 9, SignCount: 10}); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("other user's use: %v, want conflict", err)
		}
		list, _ = s.WebAuthnCredentials(ctx, alice.ID)
		if g := list[0]; g.SignCount != 9 || !g.UserVerified || g.BackupState || !g.BackupEligible || g.LastUsedAt == nil ||
			!g.LastUsedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("after use = %+v", g)
		}
		if len(list) != 3 || list[1].Name != "k2" || list[2].Name != "k3" {
			t.Fatalf("list order = %+v", list)
		}

		// Rename and delete only reach the owner's credentials.
		if _, err := s.RenameWebAuthnCredential(ctx, bob.ID, []byte("k2"), "mine"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("rename by another user: %v, want not_found", err)
		}
		if c, err := s.RenameWebAuthnCredential(ctx, alice.ID, []byte("k2"), "Phone"); err != nil || c.Name != "Phone" {
			t.Fatalf("rename = %+v, %v", c, err)
		}
		if _, err := s.DeleteWebAuthnCredential(ctx, bob.ID, []byte("k2")); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("delete by another user: %v, want not_found", err)
		}
		if c, err := s.DeleteWebAuthnCredential(ctx, alice.ID, []byte("k2")); err != nil || c.Name != "Phone" {
			t.Fatalf("delete = %+v, %v", c, err)
		}
		if _, err := s.DeleteWebAuthnCredential(ctx, alice.ID, []byte("k2")); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("second delete: %v, want not_found", err)
		}
		if n, err := s.DeleteUserWebAuthnCredentials(ctx, alice.ID); err != nil || n != 2 {
			t.Fatalf("delete all = %d, %v", n, err)
		}
		if l, _ := s.WebAuthnCredentials(ctx, alice.ID); len(l) != 0 {
			t.Fatalf("left after delete all: %d", len(l))
		}
	})
}
