package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The list: every sort, paged, with every filter; hostile filters match literally; unknown or bad
// parameters are 400.
func TestUsersAPIList(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		// Created one second apart, two at a time, so created_at has ties for the id to break.
		for i, spec := range []struct {
			email string
			roles []string
		}{
			{"carol@list.test", []string{"admin"}},
			{"Alice@List.test", []string{"viewer"}},
			{"erin@list.test", []string{"maintainer", "viewer"}},
			{"bob@list.test", nil},
			{"dave@list.test", []string{"maintainer"}},
			{"per%cent@hostile.test", nil},
			{"perxcent@hostile.test", nil},
			{"und_er@hostile.test", nil},
			{"undxer@hostile.test", nil},
			{"bang!x@hostile.test", nil},
		} {
			if i%2 == 0 {
				e.clock.Advance(time.Second)
			}
			e.createUser(spec.email, strongPassword, spec.roles...)
		}
		e.expect(e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", e.idOf("erin@list.test")), root, map[string]any{"active": false}), http.StatusOK, "")

		byID := []string{"carol@list.test", "Alice@List.test", "erin@list.test", "bob@list.test", "dave@list.test"}
		byEmail := []string{"Alice@List.test", "bob@list.test", "carol@list.test", "dave@list.test", "erin@list.test"}
		rev := func(s []string) []string { r := slices.Clone(s); slices.Reverse(r); return r }
		for _, tc := range []struct {
			sort string
			want []string
		}{
			{"", byID}, {"id", byID}, {"-id", rev(byID)}, {"email", byEmail}, {"-email", rev(byEmail)},
			{"created_at", byID}, {"-created_at", rev(byID)},
		} {
			for _, limit := range []int{1, 2, 3, 100} {
				q := "email=LIST.test"
				if tc.sort != "" {
					q += "&sort=" + tc.sort
				}
				if got := e.listUsers(root, q, limit); !slices.Equal(got, tc.want) {
					t.Errorf("sort %q, limit %d: %v, want %v", tc.sort, limit, got, tc.want)
				}
			}
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"email=%25", []string{"per%cent@hostile.test"}},
			{"email=_", []string{"und_er@hostile.test"}},
			{"email=d_e", []string{"und_er@hostile.test"}},
			{"email=!", []string{"bang!x@hostile.test"}},
			{"email=%5C", nil}, // a backslash
			{"email='", nil},
			{"email=PER", []string{"per%cent@hostile.test", "perxcent@hostile.test"}},
			{"role=maintainer", []string{"erin@list.test", "dave@list.test"}},
			{"role=maintainer&active=true", []string{"dave@list.test"}},
			{"active=false", []string{"erin@list.test"}},
			{"role=admin&email=list&sort=-email", []string{"carol@list.test"}},
			{"role=viewer&active=true&email=list.test&sort=email", []string{"Alice@List.test"}},
			{"email=list.test&two_factor=true", nil},
			{"email=list.test&sso_only=false&role=admin", []string{"carol@list.test"}},
		} {
			for _, limit := range []int{1, 2} {
				if got := e.listUsers(root, tc.query, limit); !slices.Equal(got, tc.want) {
					t.Errorf("%s (limit %d): %v, want %v", tc.query, limit, got, tc.want)
				}
			}
		}

		// Bad queries, each naming the parameter.
		first := e.do("GET", "/api/v1/users?limit=1&sort=email", root, nil)
		e.expect(first, http.StatusOK, "")
		emailCursor := nextCursor(t, first)
		for _, tc := range []struct{ query, field string }{
			{"name=alice", "name"},
			{"role=owner", "role"},
			{"role=root", "role"},
			{"active=yes", "active"},
			{"two_factor=1", "two_factor"},
			{"sso_only=maybe", "sso_only"},
			{"confirmed=yes", "confirmed"},
			{"sort=name", "sort"},
			{"sort=email&sort=id", "sort"},
			{"limit=0", "limit"},
			{"limit=101", "limit"},
			{"cursor=!!!", "cursor"},
			{"cursor=" + emailCursor, "cursor"}, // made for sort=email, used with the default sort
			{"cursor=" + emailCursor + "&sort=-email", "cursor"},
		} {
			r := e.do("GET", "/api/v1/users?"+tc.query, root, nil)
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields[tc.field] == "" {
				t.Errorf("%s: fields = %v, want %s", tc.query, r.Body.Error.Fields, tc.field)
			}
		}
		e.expect(e.do("GET", "/api/v1/users?sort=email&cursor="+emailCursor, root, nil), http.StatusOK, "")
	})
}

// The last active admin cannot be deleted, deactivated or demoted.
func TestLastAdmin(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		rootPath := fmt.Sprintf("/api/v1/users/%d", e.idOf("root@example.com"))
		// The default admin goes; root is then the only admin.
		e.expect(e.do("DELETE", fmt.Sprintf("/api/v1/users/%d", e.idOf("admin@localhost.local")), root, nil), http.StatusOK, "")
		for _, c := range []struct {
			method string
			body   any
		}{
			{"DELETE", nil},
			{"PATCH", map[string]any{"active": false}},
			{"PATCH", map[string]any{"roles": []string{"maintainer"}}},
			{"PATCH", map[string]any{"roles": []string{}}},
		} {
			r := e.do(c.method, rootPath, root, c.body)
			e.expect(r, http.StatusConflict, "conflict")
			if !strings.Contains(r.Body.Error.Message, "last active admin") {
				t.Errorf("%s %v: message %q", c.method, c.body, r.Body.Error.Message)
			}
		}
		// Changes that keep root an active admin are fine.
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"admin", "viewer"}, "active": true}), http.StatusOK, "")
		// An inactive admin does not count: with one, root is still the last active admin.
		e.createUser("sleeper@example.com", strongPassword, "admin")
		sleeper := fmt.Sprintf("/api/v1/users/%d", e.idOf("sleeper@example.com"))
		e.expect(e.do("PATCH", sleeper, root, map[string]any{"active": false}), http.StatusOK, "")
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"viewer"}}), http.StatusConflict, "conflict")
		// With a second active admin, root may step down; the other may not follow it.
		e.expect(e.do("PATCH", sleeper, root, map[string]any{"active": true}), http.StatusOK, "")
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
		sleeperTok := e.login("sleeper@example.com", strongPassword).AccessToken
		e.expect(e.do("DELETE", sleeper, sleeperTok, nil), http.StatusConflict, "conflict")
		if n, err := e.app.Store.CountActiveAdmins(context.Background()); err != nil || n != 1 {
			t.Fatalf("active admins = %d, %v", n, err)
		}
	})
}

// hostsFrom makes a Galera host list prefer node i, so that two instances write through
// different nodes; other engines are unchanged.
func hostsFrom(db config.DB, i int) config.DB {
	if len(db.Hosts) > 1 {
		i %= len(db.Hosts)
		db.Hosts = append(slices.Clone(db.Hosts[i:]), db.Hosts[:i]...)
	}
	return db
}

// Two admins remove each other at the same moment through two instances (on Galera, through two
// nodes): one change wins, the other is 409, and an active admin always remains.
func TestLastAdminConcurrentAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e1 := start(t, testConfig(hostsFrom(db, 0)), false)
		e2 := start(t, testConfig(hostsFrom(db, 1)), false)
		root := e1.rootAdmin()
		e1.expect(e1.do("DELETE", fmt.Sprintf("/api/v1/users/%d", e1.idOf("admin@localhost.local")), root, nil), http.StatusOK, "")
		rounds := []struct{ name, method string }{{"demote", "PATCH"}, {"deactivate", "PATCH"}, {"delete", "DELETE"}}
		for round, op := range rounds {
			// Two fresh admins; root steps down so that they are the only active ones.
			a, b := fmt.Sprintf("a%d@example.com", round), fmt.Sprintf("b%d@example.com", round)
			for _, email := range []string{a, b} {
				r := e1.do("POST", "/api/v1/users", root, map[string]any{"email": email, "password": strongPassword, "roles": []string{"admin"}})
				e1.expect(r, http.StatusCreated, "")
			}
			ta, tb := e1.login(a, strongPassword).AccessToken, e2.login(b, strongPassword).AccessToken
			e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", e1.idOf("root@example.com")), ta, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
			var body any
			switch op.name {
			case "demote":
				body = map[string]any{"roles": []string{"viewer"}}
			case "deactivate":
				body = map[string]any{"active": false}
			}
			var wg sync.WaitGroup
			codes := make([]int, 2)
			gate := make(chan struct{})
			pathA, pathB := fmt.Sprintf("/api/v1/users/%d", e1.idOf(a)), fmt.Sprintf("/api/v1/users/%d", e1.idOf(b))
			wg.Go(func() { <-gate; codes[0] = e1.do(op.method, pathB, ta, body).Status })
			wg.Go(func() { <-gate; codes[1] = e2.do(op.method, pathA, tb, body).Status })
			close(gate)
			wg.Wait()
			n, err := e1.app.Store.CountActiveAdmins(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// The loser answers 409 when both requests got past authentication before either
			// change committed; when the winner committed first, the loser is already no admin
			// (403) or no longer signed in (401). Never two 200s.
			slices.Sort(codes)
			if n != 1 || codes[0] != http.StatusOK || !slices.Contains([]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict}, codes[1]) {
				t.Fatalf("round %d (%s each other): %d active admins, answers %v; want 1 admin, one 200 and one 401, 403 or 409", round, op.name, n, codes)
			}
			t.Logf("round %d (%s each other): answers %v", round, op.name, codes)
			// The survivor makes way for the next round's pair: it promotes root back, and root
			// demotes it.
			survivor := ta
			if codes := e1.do("GET", "/api/v1/users", ta, nil); codes.Status != http.StatusOK {
				survivor = tb
			}
			rootID := e1.idOf("root@example.com")
			e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", rootID), survivor, map[string]any{"roles": []string{"admin"}}), http.StatusOK, "")
			root = e1.login("root@example.com", strongPassword).AccessToken
			for _, email := range []string{a, b} {
				u, err := e1.app.Store.UserByEmail(context.Background(), email)
				if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
			}
		}
	})
}

// The admin views: the outbox without message bodies, and the audit trail, each filtered and
// paged newest first.
func TestAdminViews(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		ctx := context.Background()
		for i := range 5 {
			m := &gatehouse.OutboxMail{To: fmt.Sprintf("u%d@example.com", i), Subject: fmt.Sprintf("message %d", i),
				Text: "secret link https://gatehouse.test/reset?token=SECRET"}
			if err := e.app.Store.EnqueueMail(ctx, m, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		var subjects []string
		cursor := ""
		for range 10 {
			q := "/api/v1/admin/outbox?status=pending&limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.do("GET", q, root, nil)
			e.expect(r, http.StatusOK, "")
			if strings.Contains(string(r.Raw), "SECRET") || strings.Contains(string(r.Raw), `"text"`) {
				t.Fatalf("the outbox view shows a body: %s", r.Raw)
			}
			var page []struct {
				Subject string `json:"subject"`
				Status  string `json:"status"`
				To      string `json:"to"`
			}
			r.data(t, &page)
			for _, m := range page {
				if m.Status != "pending" || m.To == "" {
					t.Errorf("item = %+v", m)
				}
				subjects = append(subjects, m.Subject)
			}
			if cursor = nextCursor(t, r); cursor == "" {
				break
			}
		}
		if want := []string{"message 4", "message 3", "message 2", "message 1", "message 0"}; !slices.Equal(subjects, want) {
			t.Fatalf("outbox pages = %v, want %v", subjects, want)
		}
		r := e.do("GET", "/api/v1/admin/outbox?status=failed", root, nil)
		e.expect(r, http.StatusOK, "")
		if string(r.Body.Data) != "[]" {
			t.Errorf("failed = %s", r.Body.Data)
		}
		for _, q := range []string{"status=lost", "state=pending", "status=sent&status=failed", "cursor=e30"} {
			e.expect(e.do("GET", "/api/v1/admin/outbox?"+q, root, nil), http.StatusBadRequest, "invalid")
		}

		// Audit: three users created by root, paged one at a time, filtered by event and subject.
		for i := range 3 {
			e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": fmt.Sprintf("a%d@example.com", i), "password": strongPassword}), http.StatusCreated, "")
		}
		var got []string
		cursor = ""
		for range 10 {
			q := "/api/v1/admin/audit?event=user_created&limit=1"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.do("GET", q, root, nil)
			e.expect(r, http.StatusOK, "")
			var page []struct {
				Event string `json:"event"`
				Email string `json:"email"`
			}
			r.data(t, &page)
			for _, ev := range page {
				if ev.Event != "user_created" {
					t.Errorf("event %q in a user_created filter", ev.Event)
				}
				got = append(got, ev.Email)
			}
			if cursor = nextCursor(t, r); cursor == "" {
				break
			}
		}
		// root itself was created through the service (no actor), before the three.
		if want := []string{"a2@example.com", "a1@example.com", "a0@example.com", "root@example.com"}; !slices.Equal(got, want) {
			t.Fatalf("user_created events = %v, want %v", got, want)
		}
		if evs := e.auditEvents(root, fmt.Sprintf("subject_id=%d", e.idOf("a1@example.com"))); !slices.Equal(evs, []string{"user_created"}) {
			t.Errorf("events about a1 = %v", evs)
		}
		// By actor and time: the three creations are root's, all of them now; none before.
		rootID := e.idOf("root@example.com")
		now := e.clock.Now().UTC()
		if evs := e.auditEvents(root, fmt.Sprintf("actor_id=%d&event=user_created&since=%s&until=%s", rootID,
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339))); len(evs) != 3 {
			t.Errorf("root's user_created events in the last minute = %v", evs)
		}
		if evs := e.auditEvents(root, "until="+now.Add(-time.Hour).Format(time.RFC3339)); len(evs) != 0 {
			t.Errorf("events an hour ago = %v", evs)
		}
		for _, q := range []string{"subject_id=x", "subject_id=-1", "actor_id=0", "actor_id=x", "colour=red", "since=yesterday",
			"until=2026-13-01T00:00:00Z", "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "event=" + strings.Repeat("x", 65)} {
			e.expect(e.do("GET", "/api/v1/admin/audit?"+q, root, nil), http.StatusBadRequest, "invalid")
		}
	})
}

// Deleting the only owner of a team is refused (a team always keeps an owner); with a second
// owner it goes through.
func TestDeleteLastTeamOwner(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("root@example.com", strongPassword, "admin")
		e.createUser("solo@example.com", strongPassword, "maintainer")
		e.createUser("second@example.com", strongPassword, "maintainer")
		root := e.login("root@example.com", strongPassword).AccessToken
		solo, _ := e.app.Store.UserByEmail(t.Context(), "solo@example.com")
		second, _ := e.app.Store.UserByEmail(t.Context(), "second@example.com")
		team := &gatehouse.Team{Name: "owned"}
		if err := e.app.Store.CreateTeam(t.Context(), team, solo.ID); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/users/%d", solo.ID)
		e.expect(e.do("DELETE", path, root, nil), http.StatusConflict, "last_owner")
		if err := e.app.Store.SetMembership(t.Context(), &gatehouse.Membership{TeamID: team.ID, UserID: second.ID, Role: gatehouse.TeamOwner}); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("DELETE", path, root, nil), http.StatusOK, "")
	})
}
