package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/rest"
)

// The console's teams: every team, searched by name; a team's page with its members (add,
// change role, remove; a team keeps at least one owner), its pending invitations (revoke) and
// its projects. Every change goes through the teams service, where a global admin may do in
// any team what the team's owner may, with the same audit events as the API.

const adminTeamsPath = "/admin/teams"

// teamRoles are the team roles, most powerful first, for the role menus.
var teamRoles = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer}

// adminTeamsData is the team list.
type adminTeamsData struct {
	Query string
	Teams []*gatehouse.Team
	Next  string
}

func (w *Web) handleAdminTeams(rw http.ResponseWriter, r *http.Request) {
	d := &adminTeamsData{}
	p := &page{Title: "Teams", Data: d}
	pg, err := rest.ParsePage(r, "q")
	err = outsideForm(err)
	d.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	var after int64
	if err == nil && pg.Cursor != nil {
		var c struct {
			ID int64 `json:"id"`
		}
		if pg.DecodeCursor(&c) != nil || c.ID < 1 {
			err = outsideForm(gatehouse.FieldError("cursor", "is not a cursor of this list"))
		}
		after = c.ID
	}
	list, err := w.teams.SearchTeams(r.Context(), principal(r), d.Query, func() (teams.Page, error) {
		return teams.Page{After: after, Limit: adminListLimit}, err
	})
	if err != nil {
		w.fail(rw, r, "admin_teams", p, err)
		return
	}
	list, next := rest.Paginate(list, adminListLimit, func(t *gatehouse.Team) any { return map[string]int64{"id": t.ID} })
	d.Teams = list
	if next != "" {
		v := url.Values{"cursor": {next}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		d.Next = adminTeamsPath + "?" + v.Encode()
	}
	w.render(rw, r, http.StatusOK, "admin_teams", p)
}

// adminTeamData is a team's page.
type adminTeamData struct {
	Team        *gatehouse.TeamWithRole
	Members     []gatehouse.Member
	Invitations []*gatehouse.Invitation
	Projects    []*gatehouse.Project
	Roles       []gatehouse.TeamRole
	// AddEmail and AddRole are the add-member form as sent, after a refusal.
	AddEmail string
	AddRole  gatehouse.TeamRole
}

// teamListed bounds the members, invitations and projects a team's page lists.
const teamListed = 200

func teamPathID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

func adminTeamPath(id int64) string { return adminTeamsPath + "/" + strconv.FormatInt(id, 10) }

// adminTeamPage loads a team's page; a missing team is the 404.
func (w *Web) adminTeamPage(rw http.ResponseWriter, r *http.Request, id int64) (*page, bool) {
	ctx, pr := r.Context(), principal(r)
	all := func() (teams.Page, error) { return teams.Page{Limit: teamListed}, nil }
	t, err := w.teams.Team(ctx, pr, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			w.notFound(rw, r)
		} else {
			w.serverError(rw, r, err)
		}
		return nil, false
	}
	d := &adminTeamData{Team: t, Roles: teamRoles, AddRole: gatehouse.TeamMember}
	if d.Members, err = w.teams.Members(ctx, pr, id, all); err == nil {
		if d.Invitations, err = w.teams.Invitations(ctx, pr, id, all); err == nil {
			d.Projects, err = w.teams.Projects(ctx, pr, id, all)
		}
	}
	if err != nil {
		w.serverError(rw, r, err)
		return nil, false
	}
	d.Members, d.Projects = d.Members[:min(len(d.Members), teamListed)], d.Projects[:min(len(d.Projects), teamListed)]
	pending := d.Invitations[:0]
	for _, inv := range d.Invitations[:min(len(d.Invitations), teamListed)] {
		if inv.Status(w.now()) == gatehouse.InvitationPending {
			pending = append(pending, inv)
		}
	}
	d.Invitations = pending
	return &page{Title: "Team " + t.Name, Data: d}, true
}

func (w *Web) handleAdminTeam(rw http.ResponseWriter, r *http.Request) {
	if p, ok := w.adminTeamPage(rw, r, teamPathID(r)); ok {
		w.render(rw, r, http.StatusOK, "admin_team", p)
	}
}

// teamRoleInput reads the role field of a member form.
func teamRoleInput(r *http.Request) (gatehouse.TeamRole, error) {
	role := gatehouse.TeamRole(r.PostFormValue("role"))
	if !role.Valid() {
		return "", gatehouse.FieldError("role", "must be owner, admin, member or viewer")
	}
	return role, nil
}

// handleAdminAddMember adds the account with the address to the team, with the role.
func (w *Web) handleAdminAddMember(rw http.ResponseWriter, r *http.Request) {
	id := teamPathID(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	var userID int64
	u, err := w.users.ByEmail(r.Context(), principal(r), email)
	switch {
	case err == nil:
		userID = u.ID
	case gatehouse.ErrorCode(err) == gatehouse.ENotFound:
		err = gatehouse.FieldError("email", "no account has this address; invite it from the API or the team's own pages instead")
	}
	if err == nil {
		_, _, err = w.teams.SetMember(r.Context(), principal(r), teams.Client(w.client(r)), id, userID,
			func() (gatehouse.TeamRole, error) { return teamRoleInput(r) }, nil)
	}
	if err != nil {
		if p, ok := w.adminTeamPage(rw, r, id); ok {
			d := p.Data.(*adminTeamData)
			d.AddEmail, d.AddRole = email, gatehouse.TeamRole(r.PostFormValue("role"))
			p.Form = "add-member"
			w.fail(rw, r, "admin_team", p, err)
		}
		return
	}
	w.flash(r, flashSuccess, email+" is a member of the team now.")
	http.Redirect(rw, r, adminTeamPath(id)+"#members", http.StatusSeeOther)
}

// handleAdminMemberRole changes a member's role.
func (w *Web) handleAdminMemberRole(rw http.ResponseWriter, r *http.Request) {
	id, user := teamPathID(r), memberPathID(r)
	_, _, err := w.teams.SetMember(r.Context(), principal(r), teams.Client(w.client(r)), id, user,
		func() (gatehouse.TeamRole, error) { return teamRoleInput(r) }, func(m *gatehouse.Member) error {
			if m == nil { // left the team since the page was shown: not re-added by a role change
				return gatehouse.Errorf(gatehouse.EPrecondition, "that account is no longer a member of the team")
			}
			return nil
		})
	w.afterTeamChange(rw, r, id, err, "The member's role has been changed.")
}

// handleAdminRemoveMember removes a member; the team's last owner stays.
func (w *Web) handleAdminRemoveMember(rw http.ResponseWriter, r *http.Request) {
	id := teamPathID(r)
	err := w.teams.RemoveMember(r.Context(), principal(r), teams.Client(w.client(r)), id, memberPathID(r), nil)
	w.afterTeamChange(rw, r, id, err, "The member has been removed from the team.")
}

// handleAdminRevokeInvitation revokes a pending invitation.
func (w *Web) handleAdminRevokeInvitation(rw http.ResponseWriter, r *http.Request) {
	id := teamPathID(r)
	inv, perr := strconv.ParseInt(r.PathValue("invitation"), 10, 64)
	if perr != nil || inv < 1 {
		w.notFound(rw, r)
		return
	}
	_, err := w.teams.RevokeInvitation(r.Context(), principal(r), teams.Client(w.client(r)), id, inv, nil)
	w.afterTeamChange(rw, r, id, err, "The invitation has been revoked; its link no longer works.")
}

// handleAdminResendInvitation mails a pending invitation again with a new link and code.
func (w *Web) handleAdminResendInvitation(rw http.ResponseWriter, r *http.Request) {
	id := teamPathID(r)
	inv, perr := strconv.ParseInt(r.PathValue("invitation"), 10, 64)
	if perr != nil || inv < 1 {
		w.notFound(rw, r)
		return
	}
	_, err := w.teams.ResendInvitation(r.Context(), principal(r), teams.Client(w.client(r)), id, inv)
	w.afterTeamChange(rw, r, id, err, "The invitation has been sent again with a new link; the old link no longer works.")
}

func memberPathID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

// afterTeamChange goes back to the team's page with the outcome: a refusal the service explains
// (the last owner, a member who left meanwhile, a bad role) is shown as its message.
func (w *Web) afterTeamChange(rw http.ResponseWriter, r *http.Request, id int64, err error, done string) {
	switch code := gatehouse.ErrorCode(err); {
	case err == nil:
		w.flash(r, flashSuccess, done)
	case id == 0 || (code == gatehouse.ENotFound && gatehouse.ErrorMessage(err) == "team not found"):
		w.notFound(rw, r)
		return
	case code == gatehouse.EInternal || code == gatehouse.EUnavailable:
		w.serverError(rw, r, err)
		return
	default:
		msg := gatehouse.ErrorMessage(err)
		for f, problem := range gatehouse.ErrorFields(err) {
			msg = fieldLabel(f) + " " + problem
		}
		w.flash(r, flashError, sentence(msg))
	}
	http.Redirect(rw, r, adminTeamPath(id)+"#members", http.StatusSeeOther)
}
