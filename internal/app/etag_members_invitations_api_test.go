package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestMemberETags: a membership has an ETag (the same from PUT and GET), and PUT and DELETE
// honour If-Match like the team's own endpoints: a stale tag is 412 and changes nothing.
func TestMemberETags(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("owner@example.com", strongPassword, "maintainer")
		e.createUser("member@example.com", strongPassword, "viewer")
		e.createUser("outsider@example.com", strongPassword, "maintainer")
		owner := e.login("owner@example.com", strongPassword).AccessToken
		outsider := e.login("outsider@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		mp := fmt.Sprintf("/api/v1/teams/%d/members/%d", team.ID, e.userID("member@example.com"))
		role := func() string {
			t.Helper()
			return e.memberRole(fmt.Sprintf("/api/v1/teams/%d", team.ID), owner, "member@example.com")
		}

		put := e.do("PUT", mp, owner, map[string]string{"role": "viewer"})
		e.expect(put, http.StatusCreated, "")
		got := e.do("GET", mp, owner, nil)
		e.expect(got, http.StatusOK, "")
		var m struct {
			UserID int64  `json:"user_id"`
			Email  string `json:"email"`
			Role   string `json:"role"`
		}
		got.data(t, &m)
		tag := got.Header.Get("ETag")
		if tag == "" || put.Header.Get("ETag") != tag || m.Role != "viewer" || m.Email != "member@example.com" {
			t.Fatalf("member = %+v, ETag %q (PUT's %q)", m, tag, put.Header.Get("ETag"))
		}
		e.expect(e.do("GET", mp, outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", fmt.Sprintf("/api/v1/teams/%d/members/%d", team.ID, e.userID("outsider@example.com")), owner, nil), http.StatusNotFound, "not_found")

		// The current tag works once; the old one is then stale, for PUT and DELETE alike.
		r = e.doWithHeader("PUT", mp, owner, map[string]string{"role": "member"}, "If-Match", tag)
		e.expect(r, http.StatusOK, "")
		if next := r.Header.Get("ETag"); next == "" || next == tag {
			t.Fatalf("ETag after the change = %q, before %q", next, tag)
		}
		e.expect(e.doWithHeader("PUT", mp, owner, map[string]string{"role": "admin"}, "If-Match", tag), http.StatusPreconditionFailed, "precondition_failed")
		e.expect(e.doWithHeader("DELETE", mp, owner, nil, "If-Match", tag), http.StatusPreconditionFailed, "precondition_failed")
		if got := role(); got != "member" {
			t.Fatalf("after the refused changes the role is %q, want member", got)
		}

		// DELETE with the current tag removes the member; the tag of the gone membership then
		// matches nothing, so a PUT with it does not bring the member back.
		tag = e.do("GET", mp, owner, nil).Header.Get("ETag")
		e.expect(e.doWithHeader("DELETE", mp, owner, nil, "If-Match", tag), http.StatusOK, "")
		e.expect(e.do("GET", mp, owner, nil), http.StatusNotFound, "not_found")
		e.expect(e.doWithHeader("PUT", mp, owner, map[string]string{"role": "member"}, "If-Match", tag), http.StatusPreconditionFailed, "precondition_failed")
		if got := role(); got != "" {
			t.Fatalf("the refused PUT made the user a %q", got)
		}

		// Without If-Match both still work.
		e.expect(e.do("PUT", mp, owner, map[string]string{"role": "member"}), http.StatusCreated, "")
		e.expect(e.do("PUT", mp, owner, map[string]string{"role": "viewer"}), http.StatusOK, "")
		e.expect(e.do("DELETE", mp, owner, nil), http.StatusOK, "")
		if got := role(); got != "" {
			t.Fatalf("after DELETE the user is a %q", got)
		}
	})
}

// TestInvitationETags: an invitation has an ETag (the same from POST and GET), and revoking it
// honours If-Match: a stale tag (here, of an invitation that has expired since) is 412 and
// revokes nothing.
func TestInvitationETags(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("owner@example.com", strongPassword, "maintainer")
		e.createUser("member@example.com", strongPassword, "viewer")
		e.createUser("outsider@example.com", strongPassword, "maintainer")
		owner := e.login("owner@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, e.userID("member@example.com")), owner, map[string]string{"role": "member"}), http.StatusCreated, "")
		member := e.login("member@example.com", strongPassword).AccessToken
		outsider := e.login("outsider@example.com", strongPassword).AccessToken
		read := func(id int64) (invitationData, string) {
			t.Helper()
			r := e.do("GET", fmt.Sprintf("%s/invitations/%d", tp, id), owner, nil)
			e.expect(r, http.StatusOK, "")
			var inv invitationData
			r.data(t, &inv)
			return inv, r.Header.Get("ETag")
		}

		created := e.do("POST", tp+"/invitations", owner, map[string]string{"email": "first@example.com", "role": "member"})
		e.expect(created, http.StatusCreated, "")
		var first invitationData
		created.data(t, &first)
		e.smtp.WaitFor(t, "first@example.com", 20*time.Second)
		inv, tag := read(first.ID)
		if tag == "" || created.Header.Get("ETag") != tag || inv.Status != "pending" {
			t.Fatalf("invitation = %+v, ETag %q (POST's %q)", inv, tag, created.Header.Get("ETag"))
		}
		ip := fmt.Sprintf("%s/invitations/%d", tp, first.ID)
		e.expect(e.do("GET", ip, member, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("GET", ip, outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", tp+"/invitations/999999", owner, nil), http.StatusNotFound, "not_found")

		// A matching tag revokes; the response carries the revoked invitation's new tag.
		r = e.doWithHeader("DELETE", ip, owner, nil, "If-Match", tag)
		e.expect(r, http.StatusOK, "")
		if inv, now := read(first.ID); inv.Status != "revoked" || r.Header.Get("ETag") != now || now == tag {
			t.Fatalf("after revoking: %+v, ETag %q (DELETE's %q, before %q)", inv, now, r.Header.Get("ETag"), tag)
		}

		// Read, then the invitation expires: the tag read is stale and revokes nothing.
		second, _, _ := e.invite(tp, owner, "second@example.com", "member")
		third, _, _ := e.invite(tp, owner, "third@example.com", "viewer")
		_, stale := read(second.ID)
		e.clock.Advance(8 * 24 * time.Hour)
		owner = e.login("owner@example.com", strongPassword).AccessToken
		sp := fmt.Sprintf("%s/invitations/%d", tp, second.ID)
		e.expect(e.doWithHeader("DELETE", sp, owner, nil, "If-Match", stale), http.StatusPreconditionFailed, "precondition_failed")
		if inv, _ := read(second.ID); inv.Status != "expired" {
			t.Fatalf("after the refused revocation the invitation is %q, want expired", inv.Status)
		}

		// Without If-Match revoking still works.
		e.expect(e.do("DELETE", sp, owner, nil), http.StatusOK, "")
		e.expect(e.do("DELETE", fmt.Sprintf("%s/invitations/%d", tp, third.ID), owner, nil), http.StatusOK, "")
		for _, id := range []int64{second.ID, third.ID} {
			if inv, _ := read(id); inv.Status != "revoked" {
				t.Fatalf("invitation %d is %q, want revoked", id, inv.Status)
			}
		}
	})
}
