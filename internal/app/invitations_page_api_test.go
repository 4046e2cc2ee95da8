package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The pending-invitation list pages by id like the team's other lists: a full page carries
// next_cursor, the last page none, and a malformed or repeated paging parameter is a 400 naming it.
func TestInvitationListPages(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("owner@example.com", strongPassword, "maintainer")
		owner := e.login("owner@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		var ids []int64
		for i := range 3 {
			inv, _, _ := e.invite(tp, owner, fmt.Sprintf("guest%d@example.com", i), "member")
			ids = append(ids, inv.ID)
		}

		var seen []int64
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatalf("paging does not end: %v", seen)
			}
			q := tp + "/invitations?limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.do("GET", q, owner, nil)
			e.expect(r, http.StatusOK, "")
			var page []invitationData
			r.data(t, &page)
			for _, inv := range page {
				seen = append(seen, inv.ID)
			}
			if cursor = r.Body.Meta.NextCursor; cursor == "" {
				break
			}
		}
		if fmt.Sprint(seen) != fmt.Sprint(ids) {
			t.Fatalf("paged ids %v, want %v", seen, ids)
		}

		for query, field := range map[string]string{
			"limit=0": "limit", "limit=x": "limit", "limit=1&limit=2": "limit",
			"cursor=!!": "cursor", "cursor=IngiCg": "cursor", "status=pending": "status",
		} {
			r := e.do("GET", tp+"/invitations?"+query, owner, nil)
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields[field] == "" {
				t.Errorf("%s: %s", query, r.Raw)
			}
		}
	})
}
