package teams_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/teams"
)

// The rules of the service, on a store in memory (fake_test.go).

const (
	teamID    = 7
	ownerID   = 1
	adminID   = 2 // team admin
	memberID  = 3 // team member
	viewerID  = 4 // team viewer
	outsideID = 5 // a global maintainer outside the team
	rootID    = 6 // a global admin outside the team
	inviteeID = 8 // no team
)

var (
	rw   = []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}
	read = []gatehouse.Scope{gatehouse.ScopeRead}
	now  = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	ctx  = context.Background()
	from = teams.Client{IP: "192.0.2.7", UserAgent: "test"}
)

type fakeSecrets struct{}

func (fakeSecrets) HashOneTimeSecret(s string) string { return "h:" + s }

type wakes struct{ n int }

func (w *wakes) Wake() { w.n++ }

type world struct {
	t     *testing.T
	store *fakeStore
	svc   *teams.Service
	wakes *wakes
}

// newWorld is team 7 ("Platform") with an owner, a team admin, a member and a viewer, and
// accounts outside it; mail is on when withMail is set.
func newWorld(t *testing.T, withMail bool) *world {
	f := newFakeStore(now)
	f.addTeam(teamID, "Platform")
	for id, email := range map[int64]string{ownerID: "owner@example.com", adminID: "admin@example.com", memberID: "member@example.com",
		viewerID: "viewer@example.com", outsideID: "outside@example.com", rootID: "root@example.com", inviteeID: "invitee@example.com"} {
		f.users[id] = email
	}
	f.setRole(teamID, ownerID, gatehouse.TeamOwner)
	f.setRole(teamID, adminID, gatehouse.TeamAdmin)
	f.setRole(teamID, memberID, gatehouse.TeamMember)
	f.setRole(teamID, viewerID, gatehouse.TeamViewer)
	w := &world{t: t, store: f, wakes: &wakes{}}
	o := teams.Options{PublicURL: "https://gatehouse.test/", BrandName: "Gatehouse", Now: func() time.Time { return now }}
	if withMail {
		o.Mailer = w.wakes
	}
	w.svc = teams.New(f, fakeSecrets{}, o)
	return w
}

// who is account id with a global role (or none) and a token with scopes.
func (w *world) who(id int64, global gatehouse.Role, scopes []gatehouse.Scope) *gatehouse.Principal {
	u := &gatehouse.User{ID: id, Email: w.store.users[id]}
	if global != "" {
		u.Roles = []gatehouse.Role{global}
	}
	return &gatehouse.Principal{User: u, Scopes: scopes}
}

// want fails unless err has the code (and, when reason is set, the reason).
func want(t *testing.T, what string, err error, code gatehouse.Code, reason string) {
	t.Helper()
	e, _ := errors.AsType[*gatehouse.Error](err)
	switch {
	case code == "" && err != nil:
		t.Fatalf("%s: %v, want success", what, err)
	case code != "" && (e == nil || e.Code != code || e.Reason != reason):
		t.Fatalf("%s: %v, want %s %s", what, err, code, reason)
	}
}

// probe is an operation's input that records being read.
type probe struct{ read bool }

func input[T any](pr *probe, v T) teams.Input[T] {
	return func() (T, error) { pr.read = true; return v, nil }
}

func name(s string) *string { return &s }

// A caller whose roles do not let it act hears 404 outside the team and 403 inside, before its
// input is read and before anything is written, whatever the exact action would have been.
func TestRefusedCallersLearnNothing(t *testing.T) {
	type op func(w *world, p *gatehouse.Principal, pr *probe) error
	ops := map[string]op{
		"teams.update": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, err := w.svc.UpdateTeam(ctx, p, teamID, input(pr, gatehouse.TeamPatch{Name: name("x")}), nil)
			return err
		},
		"members.set": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, _, err := w.svc.SetMember(ctx, p, from, teamID, inviteeID, input(pr, gatehouse.TeamOwner), nil)
			return err
		},
		"members.set (bad user id)": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, _, err := w.svc.SetMember(ctx, p, from, teamID, 0, input(pr, gatehouse.TeamMember), nil)
			return err
		},
		"members.remove": func(w *world, p *gatehouse.Principal, _ *probe) error {
			return w.svc.RemoveMember(ctx, p, from, teamID, ownerID, nil)
		},
		"invitations.create": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, err := w.svc.CreateInvitation(ctx, p, from, teamID, input(pr, teams.InvitationInput{Email: "x@example.com", Role: gatehouse.TeamOwner}))
			return err
		},
		"invitations.list": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, err := w.svc.Invitations(ctx, p, teamID, input(pr, teams.Page{Limit: 10}))
			return err
		},
		"projects.create": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, err := w.svc.CreateProject(ctx, p, teamID, input(pr, gatehouse.ProjectPatch{Name: name("x")}))
			return err
		},
		"projects.update (bad id)": func(w *world, p *gatehouse.Principal, pr *probe) error {
			_, err := w.svc.UpdateProject(ctx, p, teamID, 0, input(pr, gatehouse.ProjectPatch{Name: name("x")}), nil)
			return err
		},
		"teams.delete": func(w *world, p *gatehouse.Principal, _ *probe) error {
			return w.svc.DeleteTeam(ctx, p, from, teamID, nil)
		},
	}
	for _, mail := range []bool{true, false} {
		for opName, run := range ops {
			w := newWorld(t, mail)
			for _, c := range []struct {
				who  *gatehouse.Principal
				code gatehouse.Code
			}{
				{w.who(outsideID, gatehouse.RoleMaintainer, rw), gatehouse.ENotFound},
				{w.who(viewerID, gatehouse.RoleViewer, rw), gatehouse.EForbidden},
				{w.who(viewerID, gatehouse.RoleViewer, read), gatehouse.EForbidden}, // never insufficient_scope
			} {
				var pr probe
				err := run(w, c.who, &pr)
				want(t, opName, err, c.code, "")
				if c.code == gatehouse.ENotFound && gatehouse.ErrorMessage(err) != "team not found" {
					t.Fatalf("%s: %q, want the team's not_found", opName, gatehouse.ErrorMessage(err))
				}
				if pr.read || w.store.writes != 0 || len(w.store.audits) != 0 || len(w.store.limits) != 0 {
					t.Fatalf("%s refused (%v), yet input read %v, %d writes, %d events, lists %v",
						opName, err, pr.read, w.store.writes, len(w.store.audits), w.store.limits)
				}
			}
		}
	}
}

// Member changes: the lesser action by roles first, the exact one (scope included) in the
// transaction on the member's role as it is there.
func TestMemberChangesDecideOnTheCurrentRole(t *testing.T) {
	w := newWorld(t, false)
	admin, adminRead := w.who(adminID, gatehouse.RoleViewer, rw), w.who(adminID, gatehouse.RoleViewer, read)
	set := func(p *gatehouse.Principal, user int64, role gatehouse.TeamRole) (*gatehouse.Member, bool, error) {
		var pr probe
		m, created, err := w.svc.SetMember(ctx, p, from, teamID, user, input(&pr, role), nil)
		if !pr.read {
			t.Fatalf("set %d to %s: the role was never read", user, role)
		}
		return m, created, err
	}

	m, created, err := set(admin, inviteeID, gatehouse.TeamViewer)
	want(t, "team admin adds a viewer", err, "", "")
	if !created || m.Role != gatehouse.TeamViewer || m.Email != "invitee@example.com" {
		t.Fatalf("added %+v, created %v", m, created)
	}
	_, created, err = set(admin, inviteeID, gatehouse.TeamMember)
	want(t, "team admin makes the viewer a member", err, "", "")
	if created {
		t.Fatal("a change reported as created")
	}
	// Roles grant members.set but only owners the privileged change: forbidden, not a scope.
	_, _, err = set(admin, memberID, gatehouse.TeamOwner)
	want(t, "team admin makes an owner", err, gatehouse.EForbidden, "")
	_, _, err = set(adminRead, memberID, gatehouse.TeamOwner)
	want(t, "team admin with a read token makes an owner", err, gatehouse.EForbidden, "")
	// Roles grant the exact action; the token lacks write.
	_, _, err = set(adminRead, memberID, gatehouse.TeamViewer)
	want(t, "team admin with a read token demotes a member", err, gatehouse.EForbidden, rbac.ReasonInsufficientScope)
	// A global admin outside the team may do anything in it.
	_, _, err = set(w.who(rootID, gatehouse.RoleAdmin, []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite, gatehouse.ScopeAdmin}), memberID, gatehouse.TeamAdmin)
	want(t, "global admin makes an admin", err, "", "")

	want(t, "team admin removes an admin", w.svc.RemoveMember(ctx, admin, from, teamID, memberID, nil), gatehouse.EForbidden, "")
	want(t, "team admin removes the viewer", w.svc.RemoveMember(ctx, admin, from, teamID, viewerID, nil), "", "")
	err = w.svc.RemoveMember(ctx, admin, from, teamID, outsideID, nil)
	want(t, "team admin removes a non-member", err, gatehouse.ENotFound, "")
	if gatehouse.ErrorMessage(err) != "not a member of this team" {
		t.Fatalf("removing a non-member: %q", gatehouse.ErrorMessage(err))
	}

	// Every change is in the audit trail, with who, from where and what.
	var details []string
	for _, ev := range w.store.audits {
		if ev.ActorID == nil || ev.SubjectID == nil || ev.IP != from.IP || ev.UserAgent != from.UserAgent {
			t.Fatalf("event %+v lacks its actor, subject or origin", ev)
		}
		details = append(details, ev.Event+" "+ev.Detail)
	}
	wantDetails := "member_changed team 7: none -> viewer|member_changed team 7: viewer -> member|" +
		"member_changed team 7: member -> admin|member_removed team 7: was viewer"
	if strings.Join(details, "|") != wantDetails {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(details, "|"), wantDetails)
	}
}

// The precondition of a member change runs after the decision: a caller without the right
// learns nothing from it.
func TestMemberPreconditionAfterTheDecision(t *testing.T) {
	w := newWorld(t, false)
	called := false
	pre := func(*gatehouse.Member) error { called = true; return nil }
	var pr probe
	_, _, err := w.svc.SetMember(ctx, w.who(adminID, "", rw), from, teamID, ownerID, input(&pr, gatehouse.TeamMember), pre)
	want(t, "team admin demotes the owner", err, gatehouse.EForbidden, "")
	if called {
		t.Fatal("the precondition ran for a refused change")
	}
	err = w.svc.RemoveMember(ctx, w.who(ownerID, "", rw), from, teamID, memberID, func(m *gatehouse.Member) error {
		if m == nil || m.UserID != memberID {
			t.Fatalf("precondition on %+v", m)
		}
		return gatehouse.Errorf(gatehouse.EPrecondition, "stale")
	})
	want(t, "stale removal", err, gatehouse.EPrecondition, "")
	if r := w.store.roles[[2]int64{teamID, memberID}]; r != gatehouse.TeamMember {
		t.Fatalf("the refused removal left role %q", r)
	}
}

var (
	linkRe = regexp.MustCompile(`https://gatehouse\.test/invitations/accept\?token=([A-Z2-7]+)`)
	codeRe = regexp.MustCompile(`\b([A-Z2-9]{5}-[A-Z2-9]{5})\b`)
)

// An invitation is decided on the role it offers, then stored with the hashes of the secrets it
// mails, its audit event and its email together; accepting it joins the team.
func TestInvitationLifecycle(t *testing.T) {
	off := newWorld(t, false)
	var pr probe
	_, err := off.svc.CreateInvitation(ctx, off.who(adminID, "", rw), from, teamID, input(&pr, teams.InvitationInput{Email: "x@example.com", Role: gatehouse.TeamMember}))
	if !errors.Is(err, teams.ErrInvitationsDisabled) || pr.read {
		t.Fatalf("without mail: %v (input read: %v)", err, pr.read)
	}

	w := newWorld(t, true)
	invite := func(p *gatehouse.Principal, role gatehouse.TeamRole) (*gatehouse.Invitation, error) {
		return w.svc.CreateInvitation(ctx, p, from, teamID, input(&probe{}, teams.InvitationInput{Email: "invitee@example.com", Role: role}))
	}
	_, err = invite(w.who(adminID, "", rw), gatehouse.TeamAdmin)
	want(t, "team admin invites an admin", err, gatehouse.EForbidden, "")
	_, err = invite(w.who(adminID, "", read), gatehouse.TeamMember)
	want(t, "team admin with a read token invites a member", err, gatehouse.EForbidden, rbac.ReasonInsufficientScope)
	if w.store.writes != 0 || len(w.store.mails) != 0 || w.wakes.n != 0 {
		t.Fatal("a refused invitation wrote something")
	}

	inv, err := invite(w.who(ownerID, gatehouse.RoleMaintainer, rw), gatehouse.TeamAdmin)
	want(t, "owner invites an admin", err, "", "")
	if inv.Role != gatehouse.TeamAdmin || !inv.ExpiresAt.Equal(now.Add(teams.InvitationValidity)) || *inv.InvitedBy != ownerID {
		t.Fatalf("invitation = %+v", inv)
	}
	if len(w.store.mails) != 1 || w.wakes.n != 1 {
		t.Fatalf("%d mails queued, dispatcher woken %d times", len(w.store.mails), w.wakes.n)
	}
	msg := w.store.mails[0]
	link, code := linkRe.FindStringSubmatch(msg.Text), codeRe.FindStringSubmatch(msg.Text)
	if msg.To != "invitee@example.com" || link == nil || code == nil || !strings.Contains(msg.Subject, "Platform") ||
		!strings.Contains(msg.Text, "owner@example.com") || !strings.Contains(msg.HTML, link[0]) {
		t.Fatalf("invitation mail to %s: %s\n%s", msg.To, msg.Subject, msg.Text)
	}
	stored := w.store.invs[0]
	if stored.tokenHash != "h:"+link[1] || stored.codeHash != "h:"+code[1] {
		t.Fatalf("stored hashes %q, %q; mailed %q, %q", stored.tokenHash, stored.codeHash, link[1], code[1])
	}
	ev := w.store.audits[0]
	if ev.Event != gatehouse.AuditInvitationCreated || *ev.ActorID != ownerID || ev.Email != "invitee@example.com" ||
		ev.Detail != "team 7: invitation 1 as admin" || ev.IP != from.IP {
		t.Fatalf("created event = %+v", ev)
	}

	// Accepting: the secret is read after the decision and looked up by its hash.
	invitee := w.who(inviteeID, "", read)
	pr = probe{}
	_, _, err = w.svc.AcceptInvitation(ctx, w.who(inviteeID, "", nil), from, input(&pr, code[1]))
	want(t, "accept with a token without scopes", err, gatehouse.EForbidden, rbac.ReasonInsufficientScope)
	if pr.read {
		t.Fatal("the secret was read before the decision")
	}
	_, _, err = w.svc.AcceptInvitation(ctx, invitee, from, input(&pr, ""))
	want(t, "accept without a secret", err, gatehouse.EInvalid, "")
	_, _, err = w.svc.AcceptInvitation(ctx, w.who(outsideID, "", read), from, input(&pr, link[1]))
	want(t, "someone else accepts", err, gatehouse.ENotFound, "")
	got, team, err := w.svc.AcceptInvitation(ctx, invitee, from, input(&pr, code[1]))
	want(t, "invitee accepts", err, "", "")
	if got.ID != inv.ID || team.ID != teamID || team.Name != "Platform" || w.store.roles[[2]int64{teamID, inviteeID}] != gatehouse.TeamAdmin {
		t.Fatalf("accepted %+v into %+v", got, team)
	}
	ev = w.store.audits[len(w.store.audits)-1]
	if ev.Event != gatehouse.AuditInvitationAccepted || *ev.ActorID != inviteeID || *ev.SubjectID != inviteeID ||
		ev.Detail != "team 7: invitation 1, joined as admin" {
		t.Fatalf("accepted event = %+v", ev)
	}

	// Revoking another: with its event.
	second, err := w.svc.CreateInvitation(ctx, w.who(adminID, "", rw), from, teamID, input(&probe{}, teams.InvitationInput{Email: "later@example.com", Role: gatehouse.TeamViewer}))
	want(t, "team admin invites a viewer", err, "", "")
	revoked, err := w.svc.RevokeInvitation(ctx, w.who(adminID, "", rw), from, teamID, second.ID, nil)
	want(t, "team admin revokes", err, "", "")
	if revoked.Status(now) != gatehouse.InvitationRevoked {
		t.Fatalf("revoked = %+v", revoked)
	}
	ev = w.store.audits[len(w.store.audits)-1]
	if ev.Event != gatehouse.AuditInvitationRevoked || ev.Email != "later@example.com" || ev.Detail != "team 7: invitation 2 as viewer" {
		t.Fatalf("revoked event = %+v", ev)
	}
}

// Lists ask the store for one item more than the page, so that the transport can tell whether
// another page follows; a global admin lists every team, everyone else their own.
func TestListsAskForOneMore(t *testing.T) {
	w := newWorld(t, true)
	w.store.addTeam(9, "Elsewhere")
	owner := w.who(ownerID, "", rw)
	page := teams.Page{Limit: 2}
	ts, err := w.svc.ListTeams(ctx, owner, input(&probe{}, page))
	want(t, "owner lists teams", err, "", "")
	if len(ts) != 1 || ts[0].ID != teamID || ts[0].Role != gatehouse.TeamOwner {
		t.Fatalf("owner's teams = %+v", ts)
	}
	ts, err = w.svc.ListTeams(ctx, w.who(rootID, gatehouse.RoleAdmin, read), input(&probe{}, page))
	want(t, "global admin lists teams", err, "", "")
	if len(ts) != 2 || ts[0].Role != "" {
		t.Fatalf("admin's teams = %+v", ts)
	}
	ms, err := w.svc.Members(ctx, owner, teamID, input(&probe{}, page))
	want(t, "members", err, "", "")
	if len(ms) != 3 {
		t.Fatalf("asked for a page of 2, got %d members: the store must be asked for 3", len(ms))
	}
	_, err = w.svc.Invitations(ctx, owner, teamID, input(&probe{}, page))
	want(t, "invitations", err, "", "")
	_, err = w.svc.Projects(ctx, owner, teamID, input(&probe{}, page))
	want(t, "projects", err, "", "")
	for i, l := range w.store.limits {
		if l != 3 {
			t.Fatalf("list %d asked the store for %d rows, want 3 (limits %v)", i, l, w.store.limits)
		}
	}
}

// An id of a resource inside the team that is not a number (0) is that resource's not_found,
// answered after the decision; outside the team it is the team's.
func TestInnerIDsAfterTheDecision(t *testing.T) {
	w := newWorld(t, true)
	member, outsider := w.who(memberID, "", rw), w.who(outsideID, gatehouse.RoleMaintainer, rw)
	for _, c := range []struct {
		who *gatehouse.Principal
		msg string
		run func(p *gatehouse.Principal) error
	}{
		{member, "user not found", func(p *gatehouse.Principal) error { _, err := w.svc.Member(ctx, p, teamID, 0); return err }},
		{member, "project not found", func(p *gatehouse.Principal) error { _, err := w.svc.Project(ctx, p, teamID, 0); return err }},
		{w.who(ownerID, "", rw), "invitation not found", func(p *gatehouse.Principal) error { _, err := w.svc.Invitation(ctx, p, teamID, 0); return err }},
		{w.who(ownerID, "", rw), "invitation not found", func(p *gatehouse.Principal) error {
			_, err := w.svc.RevokeInvitation(ctx, p, from, teamID, 0, nil)
			return err
		}},
		{member, "project not found", func(p *gatehouse.Principal) error { return w.svc.DeleteProject(ctx, p, teamID, 0, nil) }},
		{w.who(ownerID, "", rw), "user not found", func(p *gatehouse.Principal) error { return w.svc.RemoveMember(ctx, p, from, teamID, 0, nil) }},
	} {
		if err := c.run(c.who); gatehouse.ErrorCode(err) != gatehouse.ENotFound || gatehouse.ErrorMessage(err) != c.msg {
			t.Fatalf("inside: %v, want not_found %q", err, c.msg)
		}
		if err := c.run(outsider); gatehouse.ErrorMessage(err) != "team not found" {
			t.Fatalf("outside: %v, want the team's not_found", err)
		}
	}
}

// Team changes: the creator owns the team; creating, deleting and leaving are audited with the
// team; the precondition of a team sees it with the caller's role, as the API shows it.
func TestTeamChanges(t *testing.T) {
	w := newWorld(t, false)
	maint := w.who(outsideID, gatehouse.RoleMaintainer, rw)
	created, err := w.svc.CreateTeam(ctx, maint, from, input(&probe{}, gatehouse.TeamPatch{Name: name("New")}))
	want(t, "maintainer creates a team", err, "", "")
	if created.Role != gatehouse.TeamOwner || created.Name != "New" || w.store.roles[[2]int64{created.ID, outsideID}] != gatehouse.TeamOwner {
		t.Fatalf("created %+v", created)
	}
	var pr probe
	_, err = w.svc.CreateTeam(ctx, w.who(viewerID, gatehouse.RoleViewer, rw), from, input(&pr, gatehouse.TeamPatch{Name: name("No")}))
	want(t, "viewer creates a team", err, gatehouse.EForbidden, "")
	if pr.read {
		t.Fatal("a refused creation read its body")
	}

	var seen gatehouse.TeamRole
	_, err = w.svc.UpdateTeam(ctx, w.who(adminID, "", rw), teamID, input(&probe{}, gatehouse.TeamPatch{Description: name("d")}),
		func(cur *gatehouse.TeamWithRole) error { seen = cur.Role; return nil })
	want(t, "team admin updates", err, "", "")
	if seen != gatehouse.TeamAdmin {
		t.Fatalf("the precondition saw role %q", seen)
	}
	want(t, "member leaves", w.svc.LeaveTeam(ctx, w.who(memberID, "", read), from, teamID), "", "")
	want(t, "owner deletes", w.svc.DeleteTeam(ctx, w.who(ownerID, "", rw), from, teamID, nil), "", "")

	var details []string
	for _, ev := range w.store.audits {
		details = append(details, ev.Event+" "+ev.Detail)
	}
	wantDetails := "team_created team 101|member_removed team 7: left, was member|team_deleted team 7 (Platform)"
	if strings.Join(details, "|") != wantDetails {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(details, "|"), wantDetails)
	}
}
