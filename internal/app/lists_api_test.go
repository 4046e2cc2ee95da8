package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// listPage fetches one page of a list and returns how many items it had and its next cursor.
func (e *env) listPage(bearer, path string) (int, string) {
	e.t.Helper()
	r := e.do("GET", path, bearer, nil)
	e.expect(r, http.StatusOK, "")
	var items []json.RawMessage
	r.data(e.t, &items)
	return len(items), nextCursor(e.t, r)
}

// expectPagesEnd checks a list whose items all fit one page of 100: a page exactly as long as
// the list says it is the last (no next_cursor, so no client fetches an empty page), and a page
// one shorter has a cursor to a last page of one item, which says it is the last.
func (e *env) expectPagesEnd(bearer, path string) {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	n, next := e.listPage(bearer, path+sep+"limit=100")
	if next != "" || n < 2 {
		e.t.Fatalf("%s: the whole list (%d items) should fit one page and be at least 2 long; next_cursor %q", path, n, next)
	}
	if got, next := e.listPage(bearer, fmt.Sprintf("%s%slimit=%d", path, sep, n)); got != n || next != "" {
		e.t.Errorf("%s with limit=%d (exactly full): %d items, next_cursor %q; want %d and none", path, n, got, next, n)
	}
	got, next := e.listPage(bearer, fmt.Sprintf("%s%slimit=%d", path, sep, n-1))
	if got != n-1 || next == "" {
		e.t.Fatalf("%s with limit=%d: %d items, next_cursor %q; want %d and a cursor", path, n-1, got, next, n-1)
	}
	if got, last := e.listPage(bearer, fmt.Sprintf("%s%slimit=%d&cursor=%s", path, sep, n-1, next)); got != 1 || last != "" {
		e.t.Errorf("%s, second page of %d: %d items, next_cursor %q; want 1 and none", path, n-1, got, last)
	}
}

// Every list of the user administration, the admin views and the API keys: the last page says
// it is the last even when it is exactly full (the store is asked for limit+1 rows).
func TestListsLastPageExactlyFull(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		for _, email := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
			e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": email, "password": strongPassword2, "confirmed": true}), http.StatusCreated, "")
		}
		ctx := context.Background()
		for i := range 3 {
			if err := e.app.Store.EnqueueMail(ctx, &gatehouse.OutboxMail{To: fmt.Sprintf("m%d@example.com", i), Subject: "hello", Text: "hi"}, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		rootRW := e.loginScoped("root@example.com", strongPassword, "read write")
		for _, name := range []string{"one", "two", "three"} {
			e.createKey(rootRW, map[string]any{"name": name, "scopes": []string{"read"}})
		}

		for _, path := range []string{
			"/api/v1/users",
			"/api/v1/users?sort=-email",
			"/api/v1/users?sort=created_at",
			"/api/v1/admin/audit?event=" + gatehouse.AuditUserCreated,
			"/api/v1/admin/outbox",
			"/api/v1/admin/outbox?status=pending",
		} {
			e.expectPagesEnd(root, path)
		}
		e.expectPagesEnd(rootRW, "/api/v1/api-keys")
	})
}
