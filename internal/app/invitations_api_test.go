package app_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

type invitationData struct {
	ID        int64     `json:"id"`
	TeamID    int64     `json:"team_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	InvitedBy *int64    `json:"invited_by"`
	ExpiresAt time.Time `json:"expires_at"`
}

var (
	invitationLink = regexp.MustCompile(`https://gatehouse\.test/invitations/accept\?token=([A-Z2-7]+)`)
	invitationCode = regexp.MustCompile(`\b([A-Z2-9]{5}-[A-Z2-9]{5})\b`)
)

// invite posts an invitation and, when it is created, returns it with the link token and code
// of the email that follows.
func (e *env) invite(teamPath, bearer, email, role string) (inv invitationData, tok, code string) {
	e.t.Helper()
	r := e.do("POST", teamPath+"/invitations", bearer, map[string]string{"email": email, "role": role})
	e.expect(r, http.StatusCreated, "")
	r.data(e.t, &inv)
	if strings.Contains(strings.ToLower(string(r.Raw)), "token") || strings.Contains(string(r.Raw), "code") {
		e.t.Fatalf("the invitation response carries a secret:\n%s", r.Raw)
	}
	msg := e.smtp.WaitFor(e.t, email, 20*time.Second)
	link := invitationLink.FindStringSubmatch(msg.Text)
	m := invitationCode.FindStringSubmatch(msg.Text)
	if link == nil || m == nil || !strings.Contains(msg.HTML, link[0]) || !strings.Contains(msg.Subject, "Platform") {
		e.t.Fatalf("invitation mail lacks its link, code or team:\n%s\n%s", msg.Subject, msg.Text)
	}
	return inv, link[1], m[1]
}

func (e *env) accept(bearer, secret string) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/invitations/accept", bearer, map[string]string{"token": secret})
}

func (e *env) pendingInvitations(teamPath, bearer string) []invitationData {
	e.t.Helper()
	r := e.do("GET", teamPath+"/invitations", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var out []invitationData
	r.data(e.t, &out)
	return out
}

func (e *env) memberRole(teamPath, bearer, email string) string {
	e.t.Helper()
	r := e.do("GET", teamPath+"/members", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var ms []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	r.data(e.t, &ms)
	for _, m := range ms {
		if strings.EqualFold(m.Email, email) {
			return m.Role
		}
	}
	return ""
}

func TestInvitations(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		ctx := context.Background()
		for _, u := range []struct{ email, role string }{
			{"owner@example.com", "maintainer"}, {"teamadmin@example.com", "viewer"}, {"member@example.com", "viewer"},
			{"outsider@example.com", "maintainer"}, {"Invitee@Example.COM", "viewer"}, {"second@example.com", "viewer"},
			{"late@example.com", "viewer"}, {"stranger@example.com", "viewer"}, {"already@example.com", "viewer"},
		} {
			e.createUser(u.email, strongPassword, u.role)
		}
		owner := e.login("owner@example.com", strongPassword).AccessToken
		outsider := e.login("outsider@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team teamData
		r.data(t, &team)
		tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		r = e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Other"})
		e.expect(r, http.StatusCreated, "")
		var other teamData
		r.data(t, &other)
		op := fmt.Sprintf("/api/v1/teams/%d", other.ID)
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, e.userID("teamadmin@example.com")), owner, map[string]string{"role": "admin"}), http.StatusCreated, "")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, e.userID("member@example.com")), owner, map[string]string{"role": "member"}), http.StatusCreated, "")
		tadmin := e.login("teamadmin@example.com", strongPassword).AccessToken
		member := e.login("member@example.com", strongPassword).AccessToken
		post := func(bearer, email, role string) *response {
			return e.do("POST", tp+"/invitations", bearer, map[string]string{"email": email, "role": role})
		}

		// Who may invite: outsiders learn nothing, members may not, team admins only to member
		// and viewer.
		e.expect(post(outsider, "x@example.com", "member"), http.StatusNotFound, "not_found")
		e.expect(post(member, "x@example.com", "member"), http.StatusForbidden, "forbidden")
		e.expect(post(tadmin, "x@example.com", "owner"), http.StatusForbidden, "forbidden")
		e.expect(post(tadmin, "x@example.com", "admin"), http.StatusForbidden, "forbidden")
		e.expect(e.do("POST", "/api/v1/teams/999999/invitations", owner, map[string]string{"email": "x@example.com", "role": "member"}),
			http.StatusNotFound, "not_found")
		e.expect(e.do("GET", tp+"/invitations", outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", tp+"/invitations", member, nil), http.StatusForbidden, "forbidden")

		// Bad input names its field; hostile addresses never reach the mailer.
		for _, bad := range []string{"", "not an address", "a@example.com\r\nBcc: victim@example.com", "Name <a@example.com>",
			"a@example.com, b@example.com", "<script>alert(1)</script>@example.com", "a@", strings.Repeat("a", 320) + "@example.com"} {
			r := post(owner, bad, "member")
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields["email"] == "" {
				t.Fatalf("email %q: %s", bad, r.Raw)
			}
		}
		for _, bad := range []string{"", "maintainer", "god", "Owner"} {
			r := post(owner, "x@example.com", bad)
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields["role"] == "" {
				t.Fatalf("role %q: %s", bad, r.Raw)
			}
		}
		r = post(owner, "nope", "maintainer")
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["email"] == "" || !strings.Contains(r.Body.Error.Fields["role"], "global role") {
			t.Fatalf("both fields: %s", r.Raw)
		}
		e.expect(e.do("POST", tp+"/invitations", owner, `{"email":"x@example.com","role":"member","token":"mine"}`), http.StatusBadRequest, "invalid")

		// A team admin invites as member: a link and a code are mailed, valid 7 days.
		inv, tok, code := e.invite(tp, tadmin, "invitee@example.com", "member")
		if inv.Role != "member" || inv.Status != "pending" || inv.TeamID != team.ID || inv.InvitedBy == nil ||
			*inv.InvitedBy != e.userID("teamadmin@example.com") || !inv.ExpiresAt.Equal(e.clock.Now().Add(7*24*time.Hour)) {
			t.Fatalf("invitation = %+v", inv)
		}
		// One pending invitation per address (compared case-insensitively); none for members.
		e.expect(post(owner, "INVITEE@example.com", "viewer"), http.StatusConflict, "already_invited")
		e.expect(post(owner, "Member@Example.com", "viewer"), http.StatusConflict, "already_member")
		e.expect(post(owner, "owner@example.com", "admin"), http.StatusConflict, "already_member")

		// The list shows pending invitations, never their secrets.
		r = e.do("GET", tp+"/invitations", tadmin, nil)
		e.expect(r, http.StatusOK, "")
		var list []invitationData
		r.data(t, &list)
		if len(list) != 1 || list[0].ID != inv.ID || list[0].Email != "invitee@example.com" || list[0].Status != "pending" {
			t.Fatalf("pending = %+v", list)
		}
		for _, secret := range []string{tok, code, "hash", "token"} {
			if strings.Contains(string(r.Raw), secret) {
				t.Fatalf("the list shows %q:\n%s", secret, r.Raw)
			}
		}
		e.expect(e.do("GET", tp+"/invitations?status=all", owner, nil), http.StatusBadRequest, "invalid")

		// Only the addressee may accept: anyone else gets 404, as for an unknown token.
		stranger := e.login("stranger@example.com", strongPassword).AccessToken
		e.expect(e.accept(stranger, tok), http.StatusNotFound, "not_found")
		e.expect(e.accept(stranger, code), http.StatusNotFound, "not_found")
		e.expect(e.accept(owner, tok), http.StatusNotFound, "not_found")
		e.expect(e.accept(stranger, "bogus"), http.StatusNotFound, "not_found")
		e.expect(e.accept("", tok), http.StatusUnauthorized, "unauthenticated")
		r = e.accept(stranger, "")
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["token"] == "" {
			t.Fatalf("empty token: %s", r.Raw)
		}

		// The invitee (a read-only account, whose address differs in case) accepts with the
		// link token and is a member with the role; the token is spent.
		invitee := e.login("invitee@example.com", strongPassword).AccessToken
		r = e.accept(invitee, tok)
		e.expect(r, http.StatusOK, "")
		var joined teamData
		r.data(t, &joined)
		if joined.ID != team.ID || joined.Role != "member" {
			t.Fatalf("joined = %+v", joined)
		}
		if got := e.memberRole(tp, owner, "invitee@example.com"); got != "member" {
			t.Fatalf("invitee's role = %q", got)
		}
		e.expect(e.accept(invitee, tok), http.StatusNotFound, "not_found")
		e.expect(e.accept(invitee, code), http.StatusNotFound, "not_found")
		if l := e.pendingInvitations(tp, owner); len(l) != 0 {
			t.Fatalf("after acceptance, pending = %+v", l)
		}
		e.expect(e.do("DELETE", fmt.Sprintf("%s/invitations/%d", tp, inv.ID), owner, nil), http.StatusConflict, "conflict")

		// The owner may invite as admin; the code works too, typed loosely.
		_, _, code2 := e.invite(tp, owner, "second@example.com", "admin")
		second := e.login("second@example.com", strongPassword).AccessToken
		loose := strings.ToLower(strings.ReplaceAll(code2, "-", " "))
		e.expect(e.accept(second, loose), http.StatusOK, "")
		if got := e.memberRole(tp, owner, "second@example.com"); got != "admin" {
			t.Fatalf("second's role = %q", got)
		}

		// Revoked: the secret dies; the id is then gone, and ids of other teams are not found.
		rev, revTok, _ := e.invite(tp, tadmin, "late@example.com", "viewer")
		revPath := fmt.Sprintf("%s/invitations/%d", tp, rev.ID)
		e.expect(e.do("DELETE", fmt.Sprintf("%s/invitations/%d", op, rev.ID), owner, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("DELETE", revPath, member, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("DELETE", revPath, outsider, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("DELETE", tp+"/invitations/999999", owner, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("DELETE", tp+"/invitations/abc", owner, nil), http.StatusNotFound, "not_found")
		r = e.do("DELETE", revPath, tadmin, nil)
		e.expect(r, http.StatusOK, "")
		var revoked invitationData
		r.data(t, &revoked)
		if revoked.Status != "revoked" {
			t.Fatalf("revoked = %+v", revoked)
		}
		e.expect(e.do("DELETE", revPath, tadmin, nil), http.StatusNotFound, "not_found")
		late := e.login("late@example.com", strongPassword).AccessToken
		e.expect(e.accept(late, revTok), http.StatusNotFound, "not_found")
		if got := e.memberRole(tp, owner, "late@example.com"); got != "" {
			t.Fatalf("revoked invitation joined: %q", got)
		}

		// Already a member when accepting: 409, and the invitation stays pending.
		pend, pendTok, _ := e.invite(tp, owner, "already@example.com", "viewer")
		e.expect(e.do("PUT", fmt.Sprintf("%s/members/%d", tp, e.userID("already@example.com")), owner, map[string]string{"role": "member"}), http.StatusCreated, "")
		already := e.login("already@example.com", strongPassword).AccessToken
		e.expect(e.accept(already, pendTok), http.StatusConflict, "already_member")
		if l := e.pendingInvitations(tp, owner); len(l) != 1 || l[0].ID != pend.ID {
			t.Fatalf("pending after a refused acceptance = %+v", l)
		}
		if got := e.memberRole(tp, owner, "already@example.com"); got != "member" {
			t.Fatalf("the refused acceptance changed the role to %q", got)
		}

		// Expired after 7 days: refused, no longer listed, and the address may be invited again.
		_, expTok, expCode := e.invite(tp, owner, "late@example.com", "member")
		e.clock.Advance(8 * 24 * time.Hour)
		owner = e.login("owner@example.com", strongPassword).AccessToken
		late = e.login("late@example.com", strongPassword).AccessToken
		e.expect(e.accept(late, expTok), http.StatusNotFound, "not_found")
		e.expect(e.accept(late, expCode), http.StatusNotFound, "not_found")
		if l := e.pendingInvitations(tp, owner); len(l) != 0 {
			t.Fatalf("pending after expiry = %+v", l)
		}
		_, freshTok, _ := e.invite(tp, owner, "late@example.com", "member")
		e.expect(e.accept(late, freshTok), http.StatusOK, "")

		// Every step is in the audit trail.
		for event, want := range map[string]int{
			gatehouse.AuditInvitationCreated: 6, gatehouse.AuditInvitationRevoked: 1, gatehouse.AuditInvitationAccepted: 3,
		} {
			evs, err := e.app.Store.AuditEvents(ctx, 0, event, 100)
			if err != nil || len(evs) != want {
				t.Fatalf("%s events = %d (%v), want %d", event, len(evs), err, want)
			}
		}
		evs, _ := e.app.Store.AuditEvents(ctx, e.userID("invitee@example.com"), gatehouse.AuditInvitationAccepted, 1)
		if len(evs) != 1 || evs[0].ActorID == nil || !strings.Contains(evs[0].Detail, fmt.Sprintf("team %d", team.ID)) {
			t.Fatalf("accept event = %+v", evs)
		}
	})
}

// Without SMTP an invitation could never reach anyone (its secrets are never returned), so
// creating one is refused; listing still works.
func TestInvitationsNeedMail(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, "sqlite")), false)
	e.createUser("owner@example.com", strongPassword, "maintainer")
	owner := e.login("owner@example.com", strongPassword).AccessToken
	r := e.do("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"})
	e.expect(r, http.StatusCreated, "")
	var team teamData
	r.data(t, &team)
	tp := fmt.Sprintf("/api/v1/teams/%d", team.ID)
	e.expect(e.do("POST", tp+"/invitations", owner, map[string]string{"email": "x@example.com", "role": "member"}),
		http.StatusForbidden, "feature_disabled")
	if l := e.pendingInvitations(tp, owner); len(l) != 0 {
		t.Fatalf("pending = %+v", l)
	}
}
