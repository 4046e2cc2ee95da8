package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func TestAPIKeys(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		alice := &gatehouse.User{Email: "alice@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleMaintainer}}
		bob := &gatehouse.User{Email: "bob@example.com", Active: true}
		for _, u := range []*gatehouse.User{alice, bob} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}

		expires := clk.Now().Add(30 * 24 * time.Hour)
		k := &gatehouse.APIKey{UserID: alice.ID, Name: `deploy "bot" 🦫`, Prefix: "ghk_ABCDEFGH",
			Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}, Stamp: alice.SecurityStamp, ExpiresAt: &expires}
		if err := s.CreateAPIKey(ctx, k, "hash-1"); err != nil {
			t.Fatal(err)
		}
		if k.ID == 0 || !k.CreatedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("created key = %+v", k)
		}
		got, owner, err := s.APIKeyBySecret(ctx, "hash-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || got.UserID != alice.ID || got.Name != k.Name || got.Prefix != k.Prefix ||
			gatehouse.FormatScopes(got.Scopes) != "read write" || got.Stamp != alice.SecurityStamp ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) ||
			got.LastUsedAt != nil || got.RevokedAt != nil || !got.CreatedAt.Equal(k.CreatedAt) {
			t.Fatalf("APIKeyBySecret = %+v, want %+v", got, k)
		}
		if owner.ID != alice.ID || len(owner.Roles) != 1 || owner.Roles[0] != gatehouse.RoleMaintainer {
			t.Fatalf("owner = %+v", owner)
		}
		if _, _, err := s.APIKeyBySecret(ctx, "hash-unknown"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unknown hash: %v, want not_found", err)
		}
		// The secret hash is unique.
		if err := s.CreateAPIKey(ctx, &gatehouse.APIKey{UserID: bob.ID, Name: "x", Prefix: "ghk_X", Scopes: []gatehouse.Scope{"read"},
			Stamp: bob.SecurityStamp}, "hash-1"); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("duplicate hash: %v, want conflict", err)
		}

		// last_used_at is written at most once per interval.
		for i, want := range []bool{true, false} {
			if touched, err := s.TouchAPIKey(ctx, k.ID, time.Minute); err != nil || touched != want {
				t.Fatalf("touch %d = %v, %v; want %v", i, touched, err, want)
			}
		}
		clk.Advance(59 * time.Second)
		if touched, _ := s.TouchAPIKey(ctx, k.ID, time.Minute); touched {
			t.Fatal("touched again within the minute")
		}
		clk.Advance(2 * time.Second)
		if touched, err := s.TouchAPIKey(ctx, k.ID, time.Minute); err != nil || !touched {
			t.Fatalf("touch after a minute = %v, %v", touched, err)
		}
		if got, _, _ := s.APIKeyBySecret(ctx, "hash-1"); got.LastUsedAt == nil || !got.LastUsedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("last_used_at = %v, want %v", got.LastUsedAt, clk.Now())
		}

		// Listing: newest first, paged by (created_at, id); two keys share a created_at.
		var ids []int64
		for i := range 4 {
			if i != 2 {
				clk.Advance(time.Second)
			}
			nk := &gatehouse.APIKey{UserID: alice.ID, Name: "key " + strconv.Itoa(i), Prefix: "ghk_K" + strconv.Itoa(i),
				Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: alice.SecurityStamp}
			if err := s.CreateAPIKey(ctx, nk, "hash-list-"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, nk.ID)
		}
		want := []int64{ids[3], ids[2], ids[1], ids[0], k.ID}
		var seen []int64
		var after *store.APIKeyCursor
		for page := 0; page < 5; page++ {
			keys, err := s.APIKeys(ctx, alice.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range keys {
				seen = append(seen, x.ID)
			}
			if len(keys) < 2 {
				break
			}
			last := keys[len(keys)-1]
			after = &store.APIKeyCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("listed %v, want %v", seen, want)
		}
		if keys, err := s.APIKeys(ctx, bob.ID, nil, 10); err != nil || len(keys) != 0 {
			t.Fatalf("bob's keys = %v, %v", keys, err)
		}

		// Revocation: only by the owner, once; a revoked key is no longer listed.
		if _, err := s.RevokeAPIKey(ctx, bob.ID, k.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("revoke by another user: %v, want not_found", err)
		}
		rk, err := s.RevokeAPIKey(ctx, alice.ID, k.ID)
		if err != nil || rk.RevokedAt == nil || rk.Name != k.Name {
			t.Fatalf("revoke = %+v, %v", rk, err)
		}
		if _, err := s.RevokeAPIKey(ctx, alice.ID, k.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("second revoke: %v, want not_found", err)
		}
		if got, _, _ := s.APIKeyBySecret(ctx, "hash-1"); got.RevokedAt == nil {
			t.Fatal("revoked_at not stored")
		}
		if keys, _ := s.APIKeys(ctx, alice.ID, nil, 10); len(keys) != 4 {
			t.Fatalf("after revoking, %d keys listed, want 4", len(keys))
		}

		// Revoking every key of a user leaves the other users' keys alone.
		bk := &gatehouse.APIKey{UserID: bob.ID, Name: "b", Prefix: "ghk_B", Scopes: []gatehouse.Scope{"read"}, Stamp: bob.SecurityStamp}
		if err := s.CreateAPIKey(ctx, bk, "hash-bob"); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RevokeUserAPIKeys(ctx, alice.ID); err != nil || n != 4 {
			t.Fatalf("RevokeUserAPIKeys = %d, %v; want 4", n, err)
		}
		if keys, _ := s.APIKeys(ctx, alice.ID, nil, 10); len(keys) != 0 {
			t.Fatalf("%d keys left", len(keys))
		}
		if got, _, err := s.APIKeyBySecret(ctx, "hash-bob"); err != nil || got.RevokedAt != nil {
			t.Fatalf("bob's key = %+v, %v", got, err)
		}

		// Deleting the owner deletes the keys.
		if _, err := s.DB().ExecContext(ctx, "DELETE FROM users WHERE id = "+strconv.FormatInt(alice.ID, 10)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.APIKeyBySecret(ctx, "hash-list-0"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("key of a deleted user: %v, want not_found", err)
		}
	})
}
