package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// The console's teams: search, a team's members (add by address, change role, remove, the last
// owner kept with the reason shown), its invitations (revoke) and projects.
func TestAdminTeams(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	alice := s.createUser("alice@example.com", strongPassword, gatehouse.RoleMaintainer)
	bob := s.createUser("bob@example.com", strongPassword, gatehouse.RoleViewer)
	s.createUser("carol@example.com", strongPassword, gatehouse.RoleViewer)
	ctx := context.Background()
	team := &gatehouse.Team{Name: "Platform"}
	if err := s.app.Store.CreateTeam(ctx, team, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.app.Store.CreateTeam(ctx, &gatehouse.Team{Name: "Billing"}, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Store.ChangeMember(ctx, gatehouse.MemberChange{TeamID: team.ID, UserID: bob.ID, Role: gatehouse.TeamMember}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.Store.CreateProject(ctx, &gatehouse.Project{TeamID: team.ID, Name: "Web site"}); err != nil {
		t.Fatal(err)
	}
	inv, err := s.app.Store.CreateInvitation(ctx, gatehouse.NewInvitation{TeamID: team.ID, Email: "dave@example.com", Role: gatehouse.TeamViewer,
		InvitedBy: alice.ID, TokenHash: "tok", CodeHash: "code", ExpiresAt: s.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/admin/teams/%d", team.ID)

	nb := s.browser()
	nb.login("alice@example.com", strongPassword, "/profile")
	nb.expect(nb.get("/admin/teams"), http.StatusNotFound, "")
	nb.expect(nb.get(path), http.StatusNotFound, "")
	nb.expect(nb.post(path+"/members", url.Values{"email": {"carol@example.com"}, "role": {"owner"}}), http.StatusNotFound, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	if list := b.expect(b.get("/admin/teams?q=PLAT"), http.StatusOK, "").body; !strings.Contains(list, "<strong>Platform</strong>") || strings.Contains(list, "Billing") {
		t.Fatalf("team search:\n%s", excerpt(list))
	}
	page := b.expect(b.get(path), http.StatusOK, "").body
	for _, want := range []string{"alice@example.com", "bob@example.com", "dave@example.com", "<strong>Web site</strong>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("team page without %q:\n%s", want, excerpt(page))
		}
	}

	b.expect(b.post(path+"/members", url.Values{"email": {"Carol@Example.com"}, "role": {"viewer"}}), http.StatusSeeOther, path+"#members")
	for name, f := range map[string]url.Values{
		"unknown address": {"email": {"nobody@example.com"}, "role": {"viewer"}},
		"bad role":        {"email": {"carol@example.com"}, "role": {"boss"}},
	} {
		r := b.post(path+"/members", f)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "field-error") {
			t.Fatalf("%s: %d\n%s", name, r.status, excerpt(r.body))
		}
	}
	b.expect(b.post(fmt.Sprintf("%s/members/%d/role", path, bob.ID), url.Values{"role": {"admin"}}), http.StatusSeeOther, path+"#members")
	if m, err := s.app.Store.Member(ctx, team.ID, bob.ID); err != nil || m.Role != gatehouse.TeamAdmin {
		t.Fatalf("bob after the change: %+v, %v", m, err)
	}
	// The last owner stays, and the page says why.
	b.expect(b.post(fmt.Sprintf("%s/members/%d/remove", path, alice.ID), nil), http.StatusSeeOther, path+"#members")
	if page := b.get(path).body; !strings.Contains(page, "A team must keep at least one owner") {
		t.Fatalf("removing the last owner:\n%s", excerpt(page))
	}
	b.expect(b.post(fmt.Sprintf("%s/members/%d/role", path, bob.ID), url.Values{"role": {"owner"}}), http.StatusSeeOther, path+"#members")
	b.expect(b.post(fmt.Sprintf("%s/members/%d/remove", path, alice.ID), nil), http.StatusSeeOther, path+"#members")
	if m, err := s.app.Store.Member(ctx, team.ID, alice.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Fatalf("alice after removal: %+v, %v", m, err)
	}
	// A role change for someone who is not a member does not add them.
	b.expect(b.post(fmt.Sprintf("%s/members/%d/role", path, alice.ID), url.Values{"role": {"owner"}}), http.StatusSeeOther, path+"#members")
	if _, err := s.app.Store.Member(ctx, team.ID, alice.ID); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Fatalf("a role change re-added alice: %v", err)
	}

	b.expect(b.post(fmt.Sprintf("%s/invitations/%d/revoke", path, inv.ID), nil), http.StatusSeeOther, path+"#members")
	if page := b.get(path).body; strings.Contains(page, "dave@example.com") {
		t.Fatalf("revoked invitation still listed:\n%s", excerpt(page))
	}
	b.expect(b.get("/admin/teams/999999"), http.StatusNotFound, "")
}

// Resending an invitation from the console mails a new link and code; the old one stops
// working. Without email there is nothing to resend with, and the page says so.
func TestAdminResendInvitation(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	alice := s.createUser("alice@example.com", strongPassword, gatehouse.RoleMaintainer)
	ctx := context.Background()
	team := &gatehouse.Team{Name: "Platform"}
	if err := s.app.Store.CreateTeam(ctx, team, alice.ID); err != nil {
		t.Fatal(err)
	}
	inv, err := s.app.Store.CreateInvitation(ctx, gatehouse.NewInvitation{TeamID: team.ID, Email: "dave@example.com", Role: gatehouse.TeamAdmin,
		InvitedBy: alice.ID, TokenHash: "tok", CodeHash: "code", ExpiresAt: s.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	path := fmt.Sprintf("/admin/teams/%d", team.ID)
	b.expect(b.post(fmt.Sprintf("%s/invitations/%d/resend", path, inv.ID), nil), http.StatusSeeOther, path+"#members")
	if page := b.get(path).body; !strings.Contains(page, "sent again with a new link") {
		t.Fatalf("after resending:\n%s", excerpt(page))
	}
	msg := s.smtp.WaitFor(t, "dave@example.com", 20*time.Second)
	if !strings.Contains(msg.Text, "/invitations/accept?token=") || !strings.Contains(msg.Text, "Platform") {
		t.Fatalf("resent invitation mail:\n%s", msg.Text)
	}
	if _, _, err := s.app.Store.AcceptInvitationAudited(ctx, "tok", 0, nil); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Fatalf("the old link after resending: %v", err)
	}
}
