package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The team lists (teams, members, invitations, projects) say when they are over: a page that
// holds the last items carries no next_cursor, even when it is exactly full, so that a client
// never fetches an empty page to find out. Pages of 2 over exactly 2 items, and of 1 over the
// same 2 (the second page is exactly full and the last).
func TestTeamListsEndOnAFullPage(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("owner@example.com", strongPassword, "maintainer")
		e.createUser("member@example.com", strongPassword, "viewer")
		owner := e.login("owner@example.com", strongPassword).AccessToken
		var ids []int64
		for _, name := range []string{"Platform", "Other"} {
			r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": name})
			e.expect(r, http.StatusCreated, "")
			var team teamData
			r.data(t, &team)
			ids = append(ids, team.ID)
		}
		tp := fmt.Sprintf("/api/v1/teams/%d", ids[0])
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, e.userID("member@example.com")), owner, map[string]string{"role": "member"}), http.StatusCreated, "")
		for _, name := range []string{"A", "B"} {
			e.expect(e.do("POST", tp+"/projects", owner, map[string]string{"name": name}), http.StatusCreated, "")
		}
		for _, email := range []string{"guest1@example.com", "guest2@example.com"} {
			e.invite(tp, owner, email, "member")
		}

		for _, list := range []string{"/api/v1/teams", tp + "/members", tp + "/invitations", tp + "/projects"} {
			t.Run(path.Base(list), func(t *testing.T) {
				e := *e
				e.t = t
				// One page of 2: both items, and the list ends there.
				r := e.do("GET", list+"?limit=2", owner, nil)
				e.expect(r, http.StatusOK, "")
				if n := listLen(t, r); n != 2 || hasNextCursor(t, r) {
					t.Fatalf("limit=2 over 2 items: %d items, next_cursor present: %v\n%s", n, hasNextCursor(t, r), r.Raw)
				}
				// Pages of 1: the first says more follow, the second (exactly full) that none do.
				r = e.do("GET", list+"?limit=1", owner, nil)
				e.expect(r, http.StatusOK, "")
				if n := listLen(t, r); n != 1 || r.Body.Meta.NextCursor == "" {
					t.Fatalf("limit=1, first page: %d items, next_cursor %q\n%s", n, r.Body.Meta.NextCursor, r.Raw)
				}
				r = e.do("GET", list+"?limit=1&cursor="+r.Body.Meta.NextCursor, owner, nil)
				e.expect(r, http.StatusOK, "")
				if n := listLen(t, r); n != 1 || hasNextCursor(t, r) {
					t.Fatalf("limit=1, last page: %d items, next_cursor present: %v\n%s", n, hasNextCursor(t, r), r.Raw)
				}
			})
		}
	})
}

func listLen(t *testing.T, r *response) int {
	t.Helper()
	var items []json.RawMessage
	r.data(t, &items)
	return len(items)
}

// hasNextCursor reports whether the envelope's meta has a next_cursor member at all.
func hasNextCursor(t *testing.T, r *response) bool {
	t.Helper()
	var env struct {
		Meta map[string]json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(r.Raw, &env); err != nil {
		t.Fatal(err)
	}
	_, ok := env.Meta["next_cursor"]
	return ok
}

// Every 201 of the team endpoints names the new resource in Location, and that URL serves it
// with the ETag the 201 carried.
func TestTeamCreatedLocations(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("owner@example.com", strongPassword, "maintainer")
		e.createUser("member@example.com", strongPassword, "viewer")
		owner := e.login("owner@example.com", strongPassword).AccessToken
		created := func(r *response, want string) {
			t.Helper()
			e.expect(r, http.StatusCreated, "")
			if got := r.Header.Get("Location"); got != want {
				t.Fatalf("Location = %q, want %q\n%s", got, want, r.Raw)
			}
			back := e.do("GET", want, owner, nil)
			e.expect(back, http.StatusOK, "")
			if tag := r.Header.Get("ETag"); tag == "" || back.Header.Get("ETag") != tag {
				t.Fatalf("%s: ETag %q, the 201's %q", want, back.Header.Get("ETag"), tag)
			}
		}

		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
		var team teamData
		r.data(t, &team)
		tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		created(r, tp)

		mid := e.userID("member@example.com")
		mp := fmt.Sprintf("%s/members/%d", tp, mid)
		created(e.do("PUT", mp, owner, map[string]string{"role": "member"}), mp)
		// A change of an existing member is a 200, without Location.
		r = e.do("PUT", mp, owner, map[string]string{"role": "viewer"})
		e.expect(r, http.StatusOK, "")
		if loc := r.Header.Get("Location"); loc != "" {
			t.Fatalf("a changed member has Location %q", loc)
		}

		r = e.do("POST", tp+"/projects", owner, map[string]string{"name": "Gatehouse"})
		var proj struct {
			ID int64 `json:"id"`
		}
		r.data(t, &proj)
		created(r, fmt.Sprintf("%s/projects/%d", tp, proj.ID))

		r = e.do("POST", tp+"/invitations", owner, map[string]string{"email": "guest@example.com", "role": "member"})
		var inv invitationData
		r.data(t, &inv)
		created(r, fmt.Sprintf("%s/invitations/%d", tp, inv.ID))
	})
}
