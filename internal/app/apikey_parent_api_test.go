package app_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

type apiKeyWithParent struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ParentKeyID *int64 `json:"parent_key_id"`
}

// migrationUp returns the Up statement of one migration file of the engine's family.
func migrationUp(t *testing.T, db config.DB, file string) string {
	t.Helper()
	family := map[string]string{testdb.SQLite: "sqlite", testdb.Postgres: "postgres"}[db.Type]
	if family == "" {
		family = "mysql"
	}
	fsys, err := store.Migrations(family)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		t.Fatal(err)
	}
	up, _, _ := strings.Cut(string(b), "-- +goose Down")
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(up), "-- +goose Up"))
}

// TestAPIKeyCannotCreateKeys: a key cannot make keys (a leaked key must not mint a
// longer-lived or never-expiring copy of itself); keys made by a key before this rule are
// listed with their parent, found from the audit trail by migration 00036.
func TestAPIKeyCannotCreateKeys(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		e := start(t, testConfig(db), false)
		e.createUser("maint@example.com", strongPassword, "maintainer")
		e.createUser("other@example.com", strongPassword, "maintainer")
		tk := e.login("maint@example.com", strongPassword)
		parent := e.createKey(tk.AccessToken, map[string]any{"name": "ci", "scopes": []string{"read", "write"}, "expires_at": e.clock.Now().Add(24 * time.Hour)})

		// The key asks for a never-expiring key with its own scopes: refused, nothing stored.
		r := e.do("POST", "/api/v1/api-keys", parent.Secret, map[string]any{"name": "forever", "scopes": []string{"read", "write"}})
		e.expect(r, http.StatusForbidden, "session_required")
		r = e.do("POST", "/api/v1/api-keys", parent.Secret, map[string]any{"name": "forever", "scopes": []string{"read"}, "current_password": strongPassword})
		e.expect(r, http.StatusForbidden, "session_required")
		if keys, _ := e.listKeys(tk.AccessToken, ""); len(keys) != 1 {
			t.Fatalf("keys after the refusals: %+v", keys)
		}

		// Keys made before the rule: one by the parent key (the audit trail says so at the end of
		// the detail), one by a session whose name imitates that text, one whose audit names a
		// key of another account. Migration 00036 runs again over them.
		owner, other := e.keyOwnerID("maint@example.com"), e.keyOwnerID("other@example.com")
		foreign := &gatehouse.APIKey{UserID: other, Name: "theirs", Prefix: "ghk_FOREIGN", Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: "s"}
		if err := e.app.Store.CreateAPIKey(ctx, foreign, "hash-foreign"); err != nil {
			t.Fatal(err)
		}
		mk := func(name, via string) int64 {
			k := &gatehouse.APIKey{UserID: owner, Name: name, Prefix: "ghk_" + strings.ToUpper(name[:3]), Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: "s"}
			if err := e.app.Store.CreateAPIKey(ctx, k, "hash-"+name); err != nil {
				t.Fatal(err)
			}
			// The detail exactly as CreateAPIKey wrote it before keys lost the right.
			detail := fmt.Sprintf("key %d %s %q, scopes %q, %s%s", k.ID, k.Prefix, k.Name, "read", "never expires", via)
			if err := e.app.Store.RecordAudit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditAPIKeyCreated, SubjectID: &owner, ActorID: &owner, Detail: detail}); err != nil {
				t.Fatal(err)
			}
			return k.ID
		}
		child := mk("child", fmt.Sprintf(" (with API key %d)", parent.ID))
		decoy := mk("decoy (with API key "+fmt.Sprint(parent.ID)+")", "")
		stolen := mk("stolen", fmt.Sprintf(" (with API key %d)", foreign.ID))
		if _, err := e.app.Store.DB().ExecContext(ctx, migrationUp(t, db, "00036_api_keys_parent_backfill.sql")); err != nil {
			t.Fatal(err)
		}

		r = e.do("GET", "/api/v1/api-keys", tk.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		if !strings.Contains(string(r.Raw), `"parent_key_id":null`) {
			t.Fatalf("parent_key_id is not written as null: %s", r.Raw)
		}
		var keys []apiKeyWithParent
		r.data(t, &keys)
		want := map[int64]int64{parent.ID: 0, child: parent.ID, decoy: 0, stolen: 0}
		if len(keys) != len(want) {
			t.Fatalf("listed %d keys, want %d: %s", len(keys), len(want), r.Raw)
		}
		for _, k := range keys {
			got := int64(0)
			if k.ParentKeyID != nil {
				got = *k.ParentKeyID
			}
			if got != want[k.ID] {
				t.Errorf("key %d %q: parent %d, want %d", k.ID, k.Name, got, want[k.ID])
			}
		}
	})
}
