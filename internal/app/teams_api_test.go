package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

type teamData struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

func (e *env) userID(email string) int64 {
	e.t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func TestTeamsMembersProjects(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		for _, u := range []struct{ email, role string }{
			{"owner@example.com", "maintainer"}, {"teamadmin@example.com", "viewer"}, {"member@example.com", "viewer"},
			{"outsider@example.com", "maintainer"}, {"root@example.com", "admin"},
		} {
			e.createUser(u.email, strongPassword, u.role)
		}
		owner := e.login("owner@example.com", strongPassword).AccessToken
		tadmin := e.login("teamadmin@example.com", strongPassword).AccessToken
		outsider := e.login("outsider@example.com", strongPassword).AccessToken
		root := e.login("root@example.com", strongPassword).AccessToken

		// A viewer cannot create teams; a maintainer can and becomes owner.
		e.expect(e.do("POST", "/api/v1/teams", tadmin, map[string]string{"name": "nope"}), http.StatusForbidden, "forbidden")
		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform", "description": "the platform team"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		if team.Role != "owner" || r.Header.Get("ETag") == "" {
			t.Fatalf("created team = %+v", team)
		}
		tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		e.expect(e.do("POST", "/api/v1/teams", owner, map[string]string{"name": ""}), http.StatusBadRequest, "invalid")
		// PATCH with If-Match: the current ETag works once; the old one is then stale (412).
		tag := e.do("GET", tp, owner, nil).Header.Get("ETag")
		e.expect(e.doWithHeader("PATCH", tp, owner, map[string]string{"description": "renamed"}, "If-Match", tag), http.StatusOK, "")
		e.expect(e.doWithHeader("PATCH", tp, owner, map[string]string{"description": "again"}, "If-Match", tag), http.StatusPreconditionFailed, "precondition_failed")
		e.expect(e.doWithHeader("DELETE", tp, owner, nil, "If-Match", tag), http.StatusPreconditionFailed, "precondition_failed")

		// Members: the owner adds a team admin and a member.
		mid, aid := e.userID("member@example.com"), e.userID("teamadmin@example.com")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, aid), owner, map[string]string{"role": "admin"}), http.StatusCreated, "")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, mid), owner, map[string]string{"role": "viewer"}), http.StatusCreated, "")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, mid), owner, map[string]string{"role": "maintainer"}), http.StatusBadRequest, "invalid")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, 999999), owner, map[string]string{"role": "member"}), http.StatusNotFound, "not_found")
		// A team admin (a global viewer) needs a write token: its scopes now include write.
		tadmin = e.login("teamadmin@example.com", strongPassword).AccessToken
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, mid), tadmin, map[string]string{"role": "member"}), http.StatusOK, "")
		// ... but cannot make owners or touch the owner.
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, mid), tadmin, map[string]string{"role": "owner"}), http.StatusForbidden, "forbidden")
		e.expect(e.do("DELETE", fmt.Sprintf("%s/members/%d", tp, e.userID("owner@example.com")), tadmin, nil), http.StatusForbidden, "forbidden")

		r = e.do("GET", tp+"/members", owner, nil)
		e.expect(r, http.StatusOK, "")
		var members []struct {
			UserID int64  `json:"user_id"`
			Email  string `json:"email"`
			Role   string `json:"role"`
		}
		r.data(t, &members)
		if len(members) != 3 {
			t.Fatalf("members = %+v", members)
		}

		// Outsiders see nothing: 404, as for a team that does not exist. Global admins see all.
		e.expect(e.do("GET", tp, outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", tp+"/projects", outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", "/api/v1/teams/999999", owner, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", "/api/v1/teams/abc", owner, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", tp, root, nil), http.StatusOK, "")
		var list []teamData
		r = e.do("GET", "/api/v1/teams", outsider, nil)
		r.data(t, &list)
		if len(list) != 0 {
			t.Fatalf("outsider's teams = %+v", list)
		}
		r = e.do("GET", "/api/v1/teams", root, nil)
		r.data(t, &list)
		if len(list) != 1 {
			t.Fatalf("admin's teams = %+v", list)
		}
		e.expect(e.do("GET", "/api/v1/teams?colour=red", owner, nil), http.StatusBadRequest, "invalid")

		// Projects: members write, viewers read, If-Match guards concurrent edits.
		member := e.login("member@example.com", strongPassword).AccessToken
		r = e.do("POST", tp+"/projects", member, map[string]string{"name": "Gatehouse"})
		e.expect(r, http.StatusCreated, "")
		var proj struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		r.data(t, &proj)
		pp := fmt.Sprintf("%s/projects/%d", tp, proj.ID)
		got := e.do("GET", pp, member, nil)
		e.expect(got, http.StatusOK, "")
		etag := got.Header.Get("ETag")
		upd := func(tag, name string) *response {
			req := map[string]string{"name": name}
			return e.doWithHeader("PATCH", pp, member, req, "If-Match", tag)
		}
		e.expect(upd(etag, "Renamed"), http.StatusOK, "")
		e.expect(upd(etag, "Again"), http.StatusPreconditionFailed, "precondition_failed")
		e.expect(e.do("GET", pp, outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("PATCH", pp, member, `{"name":"x","owner":"me"}`), http.StatusBadRequest, "invalid")

		// Pagination: pages of 2 with an opaque cursor, every project exactly once.
		for _, n := range []string{"B", "C"} {
			e.expect(e.do("POST", tp+"/projects", member, map[string]string{"name": n}), http.StatusCreated, "")
		}
		seen := map[int64]bool{}
		next := ""
		for pages := 0; ; pages++ {
			q := tp + "/projects?limit=2"
			if next != "" {
				q += "&cursor=" + next
			}
			r := e.do("GET", q, member, nil)
			e.expect(r, http.StatusOK, "")
			var items []struct {
				ID int64 `json:"id"`
			}
			r.data(t, &items)
			for _, it := range items {
				if seen[it.ID] {
					t.Fatalf("project %d listed twice", it.ID)
				}
				seen[it.ID] = true
			}
			if next = r.Body.Meta.NextCursor; next == "" || pages > 5 {
				break
			}
		}
		if len(seen) != 3 {
			t.Fatalf("paged through %d projects, want 3", len(seen))
		}
		e.expect(e.do("GET", tp+"/projects?cursor=!!", member, nil), http.StatusBadRequest, "invalid")
		e.expect(e.do("GET", tp+"/projects?limit=1000", member, nil), http.StatusBadRequest, "invalid")
		// Member demoted to viewer: read yes, write no, at the very next request.
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, mid), owner, map[string]string{"role": "viewer"}), http.StatusOK, "")
		e.expect(e.do("GET", pp, member, nil), http.StatusOK, "")
		e.expect(e.do("DELETE", pp, member, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("DELETE", pp, owner, nil), http.StatusOK, "")
		e.expect(e.do("GET", pp, owner, nil), http.StatusNotFound, "not_found")

		// The last owner can neither leave nor be demoted; with a second owner it can.
		oid := e.userID("owner@example.com")
		e.expect(e.do("POST", tp+"/leave", owner, nil), http.StatusConflict, "last_owner")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, oid), owner, map[string]string{"role": "member"}), http.StatusConflict, "last_owner")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, aid), owner, map[string]string{"role": "owner"}), http.StatusOK, "")
		e.expect(e.do("POST", tp+"/leave", owner, nil), http.StatusOK, "")
		e.expect(e.do("GET", tp, owner, nil), http.StatusNotFound, "not_found")

		// Deleting the team (owner only) removes it.
		e.expect(e.do("DELETE", tp, member, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("DELETE", tp, tadmin, nil), http.StatusOK, "")
		e.expect(e.do("GET", tp, root, nil), http.StatusNotFound, "not_found")
	})
}

// Concurrent demotions and removals of a team's last two owners, through different instances
// (on Galera: different nodes): afterwards exactly one owner remains, never zero.
func TestLastOwnerRace(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e1 := start(t, testConfig(rotate(db, 0)), false)
		e2 := start(t, testConfig(rotate(db, 1)), false)
		for i := range 2 {
			e1.createUser(fmt.Sprintf("o%d@example.com", i), strongPassword, "maintainer")
		}
		for round := range 6 {
			ctx := context.Background()
			a, b := e1.userID("o0@example.com"), e1.userID("o1@example.com")
			team := &gatehouse.Team{Name: fmt.Sprintf("race %d", round)}
			if err := e1.app.Store.CreateTeam(ctx, team, a); err != nil {
				t.Fatal(err)
			}
			if err := e1.app.Store.SetMembership(ctx, &gatehouse.Membership{TeamID: team.ID, UserID: b, Role: gatehouse.TeamOwner}); err != nil {
				t.Fatal(err)
			}
			ta, tb := e1.login("o0@example.com", strongPassword).AccessToken, e2.login("o1@example.com", strongPassword).AccessToken
			tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
			var wg sync.WaitGroup
			codes := make([]int, 2)
			// Each owner demotes (even rounds) or removes (odd rounds) the other, at once.
			wg.Go(func() {
				if round%2 == 0 {
					codes[0] = e1.do("PUT", fmt.Sprintf("%s/members/%d", tp, b), ta, map[string]string{"role": "member"}).Status
				} else {
					codes[0] = e1.do("DELETE", fmt.Sprintf("%s/members/%d", tp, b), ta, nil).Status
				}
			})
			wg.Go(func() {
				if round%2 == 0 {
					codes[1] = e2.do("PUT", fmt.Sprintf("%s/members/%d", tp, a), tb, map[string]string{"role": "member"}).Status
				} else {
					codes[1] = e2.do("POST", tp+"/leave", tb, nil).Status
				}
			})
			wg.Wait()
			owners := 0
			ms, err := e1.app.Store.Members(ctx, team.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Role == gatehouse.TeamOwner {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("round %d: %d owners after concurrent changes (answers %v), want exactly 1", round, owners, codes)
			}
		}
	})
}

// rotate makes a Galera host list prefer node i, so two instances write through different
// nodes; other engines are unchanged.
func rotate(db config.DB, i int) config.DB {
	if len(db.Hosts) > 1 {
		i %= len(db.Hosts)
		hosts := append([]string{}, db.Hosts[i:]...)
		db.Hosts = append(hosts, db.Hosts[:i]...)
	}
	return db
}
