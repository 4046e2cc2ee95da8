package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func TestAPIKeySecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := newAPIKeySecret()
		if len(k) != 63 || !strings.HasPrefix(k, "ghk_") || !IsAPIKey(k) || !wellFormedAPIKey(k) {
			t.Fatalf("secret %q: len %d, well formed %v", k, len(k), wellFormedAPIKey(k))
		}
		if seen[k] {
			t.Fatalf("secret %q made twice", k)
		}
		seen[k] = true
	}
	k := newAPIKeySecret()
	flip := func(i int) string {
		b := []byte(k)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"empty":          "",
		"prefix only":    "ghk_",
		"body changed":   flip(10),
		"check changed":  flip(len(k) - 1),
		"lower case":     "ghk_" + strings.ToLower(k[4:]),
		"too long":       k + "A",
		"too short":      k[:len(k)-1],
		"other prefix":   "ghp_" + k[4:],
		"not base32":     k[:20] + "1" + k[21:],
		"trailing space": k[:len(k)-1] + " ",
	} {
		if wellFormedAPIKey(bad) {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
}

func TestKeyScopes(t *testing.T) {
	rw := []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}
	all := gatehouse.AllScopes
	for _, tc := range []struct {
		names            []string
		allowed, carried []gatehouse.Scope
		want, problem    string
	}{
		{names: []string{"write", "read", "read"}, allowed: rw, carried: rw, want: "read write"},
		{names: []string{"admin"}, allowed: all, carried: all, want: "admin"},
		{names: nil, allowed: rw, carried: rw, problem: "at least one"},
		{names: []string{"root"}, allowed: rw, carried: rw, problem: `unknown scope "root"`},
		{names: []string{"read write"}, allowed: rw, carried: rw, problem: "unknown scope"},
		{names: []string{""}, allowed: rw, carried: rw, problem: "unknown scope"},
		{names: []string{"read", "admin"}, allowed: rw, carried: rw, problem: `may not have the "admin" scope`},
		// An admin whose token carries only read write cannot give a key admin.
		{names: []string{"admin"}, allowed: all, carried: rw, problem: `does not carry the "admin" scope`},
	} {
		got, problem := keyScopes(tc.names, tc.allowed, tc.carried)
		if tc.problem != "" {
			if !strings.Contains(problem, tc.problem) || got != nil {
				t.Errorf("%q: %v, %q; want a problem with %q", tc.names, got, problem, tc.problem)
			}
			continue
		}
		if problem != "" || gatehouse.FormatScopes(got) != tc.want {
			t.Errorf("%q: %v, %q; want %q", tc.names, got, problem, tc.want)
		}
	}
}

// newKeyService is a Service on a fresh database with a movable clock; it has no token manager,
// so only API keys can be authenticated with it.
func newKeyService(t *testing.T, db config.DB) (*Service, *store.Store, *testclock.Clock) {
	t.Helper()
	ctx := context.Background()
	clk := testclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	st, err := store.Open(ctx, db, store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return New(st, Hasher{Cost: 4}, nil, nil, Options{}, nil, clk.Now), st, clk
}

func TestAPIKeyAuthenticate(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s, st, clk := newKeyService(t, db)
		// alice has no global role: she may write only while she is a member of some team.
		alice := &gatehouse.User{Email: "alice@example.com", Active: true}
		bob := &gatehouse.User{Email: "bob@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleMaintainer}}
		for _, u := range []*gatehouse.User{alice, bob} {
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		team := &gatehouse.Team{Name: "T"}
		if err := st.CreateTeam(ctx, team, bob.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMembership(ctx, &gatehouse.Membership{TeamID: team.ID, UserID: alice.ID, Role: gatehouse.TeamMember}); err != nil {
			t.Fatal(err)
		}
		rw := []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}
		p := &gatehouse.Principal{User: alice, SessionID: "s1", Scopes: rw, AuthTime: clk.Now()}

		k, secret, err := s.CreateAPIKey(ctx, p, APIKeyInput{Name: "  ci  ", Scopes: []string{"write", "read"}}, Client{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if k.Name != "ci" || k.Prefix != secret[:12] || gatehouse.FormatScopes(k.Scopes) != "read write" || k.Stamp != alice.SecurityStamp {
			t.Fatalf("key = %+v (secret %q)", k, secret)
		}
		evs, err := st.AuditEvents(ctx, alice.ID, gatehouse.AuditAPIKeyCreated, 10)
		if err != nil || len(evs) != 1 || strings.Contains(evs[0].Detail, secret) || !strings.Contains(evs[0].Detail, k.Prefix) {
			t.Fatalf("audit = %+v, %v", evs, err)
		}

		got, err := s.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if got.User.ID != alice.ID || got.APIKeyID != k.ID || got.SessionID != "" || gatehouse.FormatScopes(got.Scopes) != "read write" {
			t.Fatalf("principal = %+v", got)
		}
		if keys, _ := st.APIKeys(ctx, alice.ID, nil, 10); keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("last_used_at = %v, want %v", keys[0].LastUsedAt, clk.Now())
		}
		// Within the minute, use does not write again; after it, it does.
		clk.Advance(30 * time.Second)
		if _, err := s.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if keys, _ := st.APIKeys(ctx, alice.ID, nil, 10); !keys[0].LastUsedAt.Equal(clk.Now().Add(-30 * time.Second)) {
			t.Fatalf("last_used_at moved within the minute: %v", keys[0].LastUsedAt)
		}
		clk.Advance(31 * time.Second)
		if _, err := s.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if keys, _ := st.APIKeys(ctx, alice.ID, nil, 10); !keys[0].LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("last_used_at = %v, want %v", keys[0].LastUsedAt, clk.Now())
		}

		// Demoted to a team viewer, alice may only read: her key loses write at once.
		if err := st.SetMembership(ctx, &gatehouse.Membership{TeamID: team.ID, UserID: alice.ID, Role: gatehouse.TeamViewer}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Authenticate(ctx, secret); err != nil || gatehouse.FormatScopes(got.Scopes) != "read" {
			t.Fatalf("after demotion: %+v, %v; want scope read", got, err)
		}

		// Garbage, a look-alike and an unknown well-formed key all get the same answer.
		for _, bad := range []string{"ghk_", "ghk_" + strings.Repeat("A", 59), newAPIKeySecret()} {
			if _, err := s.Authenticate(ctx, bad); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
				t.Fatalf("%q: %v, want unauthenticated", bad, err)
			}
		}

		// Expiry: the key works until the moment it expires.
		exp := clk.Now().Add(time.Hour)
		_, short, err := s.CreateAPIKey(ctx, &gatehouse.Principal{User: bob, SessionID: "s2", Scopes: rw, AuthTime: clk.Now()}, APIKeyInput{Name: "short", Scopes: []string{"read"}, ExpiresAt: &exp}, Client{})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour - time.Second)
		if _, err := s.Authenticate(ctx, short); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := s.Authenticate(ctx, short); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("at expiry: %v, want unauthenticated", err)
		}

		// A deactivated owner's keys die for good: reactivating the owner does not revive them.
		if err := st.SetActive(ctx, alice.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("inactive owner: %v, want unauthenticated", err)
		}
		if err := st.SetActive(ctx, alice.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("reactivated owner's old key: %v, want unauthenticated", err)
		}
		if alice, err = st.UserByID(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, secret, err = s.CreateAPIKey(ctx, &gatehouse.Principal{User: alice, SessionID: "s3", Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}, AuthTime: clk.Now()}, APIKeyInput{Name: "after", Scopes: []string{"read"}}, Client{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); err != nil {
			t.Fatalf("new key after reactivation: %v", err)
		}
		// A new security stamp (reset access, logout-all, password change) ends every key for good.
		if err := st.ResetAccess(ctx, alice.ID, store.NewSecurityStamp(), "reset_access"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("after reset access: %v, want unauthenticated", err)
		}
		fresh, _ := st.UserByID(ctx, alice.ID)
		if keys, _ := st.APIKeys(ctx, alice.ID, nil, 10); len(keys) != 1 || s.APIKeyStatus(fresh, keys[0]) != APIKeyInvalidated { // revoked keys are not listed
			t.Fatalf("listed after reset access: %+v", keys)
		}
	})
}

func TestCreateAPIKeyRefuses(t *testing.T) {
	ctx := context.Background()
	s, st, clk := newKeyService(t, testdb.New(t, testdb.SQLite))
	viewer := &gatehouse.User{Email: "viewer@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
	flagged := &gatehouse.User{Email: "flagged@example.com", Active: true, MustChangePassword: true, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}
	for _, u := range []*gatehouse.User{viewer, flagged} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	all := gatehouse.AllScopes
	past, tooFar, yearAhead := clk.Now().Add(-time.Second), clk.Now().Add(APIKeyMaxLifetime+time.Second), clk.Now().Add(APIKeyMaxLifetime)

	// A viewer's token carries read only: creating needs write, whatever the body says.
	_, _, err := s.CreateAPIKey(ctx, &gatehouse.Principal{User: viewer, Scopes: []gatehouse.Scope{gatehouse.ScopeRead}}, APIKeyInput{Name: "x", Scopes: []string{"read"}}, Client{})
	if e, ok := errors.AsType[*gatehouse.Error](err); !ok || e.Reason != "insufficient_scope" {
		t.Fatalf("viewer with a read token: %v, want insufficient_scope", err)
	}
	_, _, err = s.CreateAPIKey(ctx, &gatehouse.Principal{User: flagged, SessionID: "s", Scopes: all, AuthTime: clk.Now()}, APIKeyInput{Name: "x", Scopes: []string{"read"}}, Client{})
	if !errors.Is(err, ErrPasswordChangeRequired) {
		t.Fatalf("must-change-password account: %v", err)
	}

	// Even with a write token (roles changed since it was issued), a viewer cannot give a key write.
	p := &gatehouse.Principal{User: viewer, SessionID: "s", Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}, AuthTime: clk.Now()}
	for _, tc := range []struct {
		in    APIKeyInput
		field string
	}{
		{APIKeyInput{Name: "", Scopes: []string{"read"}}, "name"},
		{APIKeyInput{Name: "   ", Scopes: []string{"read"}}, "name"},
		{APIKeyInput{Name: strings.Repeat("é", 101), Scopes: []string{"read"}}, "name"},
		{APIKeyInput{Name: "a\nb", Scopes: []string{"read"}}, "name"},
		{APIKeyInput{Name: "x"}, "scopes"},
		{APIKeyInput{Name: "x", Scopes: []string{"write"}}, "scopes"},
		{APIKeyInput{Name: "x", Scopes: []string{"delete"}}, "scopes"},
		{APIKeyInput{Name: "x", Scopes: []string{"read"}, ExpiresAt: &past}, "expires_at"},
		{APIKeyInput{Name: "x", Scopes: []string{"read"}, ExpiresAt: &tooFar}, "expires_at"},
	} {
		_, _, err := s.CreateAPIKey(ctx, p, tc.in, Client{})
		if gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)[tc.field] == "" {
			t.Errorf("%+v: %v, want invalid naming %s", tc.in, err, tc.field)
		}
	}
	// All problems are reported at once.
	_, _, err = s.CreateAPIKey(ctx, p, APIKeyInput{ExpiresAt: &past}, Client{})
	if f := gatehouse.ErrorFields(err); len(f) != 3 {
		t.Fatalf("fields = %v, want name, scopes and expires_at", f)
	}
	if keys, _ := st.APIKeys(ctx, viewer.ID, nil, 10); len(keys) != 0 {
		t.Fatalf("refused creations stored %d keys", len(keys))
	}
	// The limits themselves are accepted.
	if _, _, err := s.CreateAPIKey(ctx, p, APIKeyInput{Name: strings.Repeat("é", 100), Scopes: []string{"read"}, ExpiresAt: &yearAhead}, Client{}); err != nil {
		t.Fatal(err)
	}
}
