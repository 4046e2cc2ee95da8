package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

type teamResponse struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Role        string    `json:"role,omitzero"` // the caller's role in the team
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func teamData(t *gatehouse.Team, role gatehouse.TeamRole) teamResponse {
	return teamResponse{ID: t.ID, Name: t.Name, Description: t.Description, Role: string(role), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type teamRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// pathID reads a numeric path parameter; anything else names no resource (404).
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, gatehouse.Errorf(gatehouse.ENotFound, "%s not found", what)
	}
	return id, nil
}

// teamAccess resolves the team of the path and the caller's role in it, and asks rbac whether
// the caller may perform act. A team the caller may not see is 404, like one that does not exist.
func (s *server) teamAccess(r *http.Request, act rbac.Action) (p *gatehouse.Principal, teamID int64, role gatehouse.TeamRole, err error) {
	return s.teamAccessWith(r, act, rbac.Decide)
}

// teamRolesAccess is teamAccess for a request whose exact action is known only later (from the
// body, or from the member's role inside the transaction): act is the lesser of the candidate
// actions, and only the roles half of the decision is taken here. A caller whose roles grant
// none of the candidates learns nothing more (404 outside the team, 403 inside); the scope is
// left to the exact decision, so that a caller whose roles do not grant the exact action hears
// forbidden rather than that a token with another scope would do (insufficient_scope).
func (s *server) teamRolesAccess(r *http.Request, act rbac.Action) (p *gatehouse.Principal, teamID int64, role gatehouse.TeamRole, err error) {
	return s.teamAccessWith(r, act, rolesGrant)
}

func (s *server) teamAccessWith(r *http.Request, act rbac.Action, decide func(*gatehouse.Principal, rbac.Action, gatehouse.TeamRole) error) (p *gatehouse.Principal, teamID int64, role gatehouse.TeamRole, err error) {
	p = gatehouse.PrincipalFrom(r.Context())
	if teamID, err = pathID(r, "id", "team"); err != nil {
		return nil, 0, "", err
	}
	if role, err = s.store.TeamRole(r.Context(), teamID, p.User.ID); err != nil {
		return nil, 0, "", err
	}
	if err = decide(p, act, role); err != nil {
		return nil, 0, "", err
	}
	return p, teamID, role, nil
}

// rolesGrant is rbac.Decide without the scope half: nil when p's roles grant act, whatever the
// token's scopes.
func rolesGrant(p *gatehouse.Principal, act rbac.Action, teamRole gatehouse.TeamRole) error {
	err := rbac.Decide(p, act, teamRole)
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && e.Reason == rbac.ReasonInsufficientScope {
		return nil
	}
	return err
}

func (s *server) audit(ctx context.Context, r *http.Request, ev gatehouse.AuditEvent) {
	c := s.client(r)
	ev.IP, ev.UserAgent = c.IP, c.UserAgent
	if p := gatehouse.PrincipalFrom(ctx); p != nil {
		id := p.User.ID
		ev.ActorID = &id
	}
	if err := s.store.RecordAudit(ctx, ev); err != nil {
		s.logger.Error("audit event not recorded", "event", ev.Event, "error", err)
	}
}

func (s *server) handleTeamCreate(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActTeamCreate, ""); err != nil {
		return err
	}
	var req teamRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	t := &gatehouse.Team{}
	if req.Name != nil {
		t.Name = *req.Name
	}
	if req.Description != nil {
		t.Description = *req.Description
	}
	if err := s.store.CreateTeam(r.Context(), t, p.User.ID); err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditTeamCreated, Detail: "team " + strconv.FormatInt(t.ID, 10)})
	return RespondResource(w, r, http.StatusCreated, teamData(t, gatehouse.TeamOwner))
}

func (s *server) handleTeamList(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	all := rbac.Decide(p, rbac.ActTeamListAll, "") == nil
	if !all {
		if err := rbac.Decide(p, rbac.ActTeamList, ""); err != nil {
			return err
		}
	}
	page, after, err := IDPage(r)
	if err != nil {
		return err
	}
	teams, err := s.store.ListTeams(r.Context(), p.User.ID, all, after, page.Limit)
	if err != nil {
		return err
	}
	out := make([]teamResponse, len(teams))
	for i, t := range teams {
		out[i] = teamData(&t.Team, t.Role)
	}
	next := ""
	if len(teams) > 0 {
		next = NextIDCursor(len(teams), page.Limit, teams[len(teams)-1].ID)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func (s *server) handleTeamGet(w http.ResponseWriter, r *http.Request) error {
	_, id, role, err := s.teamAccess(r, rbac.ActTeamRead)
	if err != nil {
		return err
	}
	t, err := s.store.TeamByID(r.Context(), id)
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, teamData(t, role))
}

func (s *server) handleTeamPatch(w http.ResponseWriter, r *http.Request) error {
	_, id, role, err := s.teamAccess(r, rbac.ActTeamUpdate)
	if err != nil {
		return err
	}
	var req teamRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	t, err := s.store.UpdateTeam(r.Context(), id, store.TeamPatch{Name: req.Name, Description: req.Description}, teamIfMatch(r, role))
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, teamData(t, role))
}

// teamIfMatch checks If-Match against the team as the transaction sees it.
func teamIfMatch(r *http.Request, role gatehouse.TeamRole) func(*gatehouse.Team) error {
	return func(cur *gatehouse.Team) error { return CheckIfMatch(r, ETag(teamData(cur, role))) }
}

func (s *server) handleTeamDelete(w http.ResponseWriter, r *http.Request) error {
	_, id, role, err := s.teamAccess(r, rbac.ActTeamDelete)
	if err != nil {
		return err
	}
	var name string
	check := teamIfMatch(r, role)
	if err := s.store.DeleteTeam(r.Context(), id, func(cur *gatehouse.Team) error {
		name = cur.Name
		return check(cur)
	}); err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditTeamDeleted, Detail: "team " + strconv.FormatInt(id, 10) + " (" + name + ")"})
	return Respond(w, r, http.StatusOK, messageResponse{Message: "team deleted"})
}

type memberResponse struct {
	UserID    int64     `json:"user_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *server) handleMembers(w http.ResponseWriter, r *http.Request) error {
	_, id, _, err := s.teamAccess(r, rbac.ActMembersList)
	if err != nil {
		return err
	}
	page, after, err := IDPage(r)
	if err != nil {
		return err
	}
	ms, err := s.store.Members(r.Context(), id, after, page.Limit)
	if err != nil {
		return err
	}
	out := make([]memberResponse, len(ms))
	for i := range ms {
		out[i] = memberData(&ms[i])
	}
	next := ""
	if len(ms) > 0 {
		next = NextIDCursor(len(ms), page.Limit, ms[len(ms)-1].UserID)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func memberData(m *store.Member) memberResponse {
	return memberResponse{UserID: m.UserID, Email: m.Email, Role: string(m.Role), CreatedAt: m.CreatedAt}
}

func (s *server) handleMemberGet(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActMemberRead)
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id", "user")
	if err != nil {
		return err
	}
	m, err := s.store.Member(r.Context(), teamID, userID)
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, memberData(m))
}

// memberIfMatch checks If-Match against the membership as the transaction sees it; nil (no
// check, and no extra read) without the header. A membership that no longer exists matches no
// ETag, not even *: the client read a member that has since left.
func memberIfMatch(r *http.Request) func(*store.Member) error {
	if r.Header.Get("If-Match") == "" {
		return nil
	}
	return func(cur *store.Member) error {
		if cur == nil {
			return &gatehouse.Error{Code: gatehouse.EPrecondition, Message: "the member left the team since you read it (If-Match names a membership that no longer exists); read it again"}
		}
		return CheckIfMatch(r, ETag(memberData(cur)))
	}
}

type memberRequest struct {
	Role string `json:"role"`
}

// changeMember applies a membership change whose permission depends on the member's current
// role: the decision is taken again inside the transaction, on the role as it is there.
// If-Match is compared after that decision, so that a caller without the right learns nothing
// from it. result, when set, receives the membership after the change.
func (s *server) changeMember(r *http.Request, teamID, userID int64, callerRole, next gatehouse.TeamRole, result *store.Member) (gatehouse.TeamRole, error) {
	p := gatehouse.PrincipalFrom(r.Context())
	return s.store.ChangeMember(r.Context(), store.MemberChange{
		TeamID: teamID, UserID: userID, Role: next, IfMatch: memberIfMatch(r), Result: result,
		Check: func(cur gatehouse.TeamRole) error {
			if next == "" {
				if cur == "" {
					return gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")
				}
				return rbac.Decide(p, rbac.MemberRemoveAction(cur), callerRole)
			}
			return rbac.Decide(p, rbac.MemberSetAction(cur, next), callerRole)
		},
	})
}

func (s *server) handleMemberPut(w http.ResponseWriter, r *http.Request) error {
	// Which action this is depends on the member's role, known inside the transaction, where
	// changeMember decides it (scope included); members.set is the lesser of the two.
	_, teamID, callerRole, err := s.teamRolesAccess(r, rbac.ActMemberSet)
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id", "user")
	if err != nil {
		return err
	}
	var req memberRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	role := gatehouse.TeamRole(req.Role)
	if !role.Valid() {
		msg := "must be owner, admin, member or viewer"
		if gatehouse.Role(req.Role) == gatehouse.RoleMaintainer {
			msg += " (maintainer is a global role, not a team role)"
		}
		return gatehouse.FieldError("role", msg)
	}
	var after store.Member
	prev, err := s.changeMember(r, teamID, userID, callerRole, role, &after)
	if err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditMemberChanged, SubjectID: &userID,
		Detail: "team " + strconv.FormatInt(teamID, 10) + ": " + roleOrNone(prev) + " -> " + string(role)})
	status := http.StatusOK
	if prev == "" {
		status = http.StatusCreated
	}
	return RespondResource(w, r, status, memberData(&after))
}

func roleOrNone(r gatehouse.TeamRole) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

func (s *server) handleMemberDelete(w http.ResponseWriter, r *http.Request) error {
	// As for handleMemberPut: members.remove is the lesser action, the exact one is decided in
	// the transaction.
	_, teamID, callerRole, err := s.teamRolesAccess(r, rbac.ActMemberRemove)
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id", "user")
	if err != nil {
		return err
	}
	prev, err := s.changeMember(r, teamID, userID, callerRole, "", nil)
	if err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditMemberRemoved, SubjectID: &userID,
		Detail: "team " + strconv.FormatInt(teamID, 10) + ": was " + string(prev)})
	return Respond(w, r, http.StatusOK, messageResponse{Message: "member removed"})
}

func (s *server) handleTeamLeave(w http.ResponseWriter, r *http.Request) error {
	p, teamID, _, err := s.teamAccess(r, rbac.ActTeamLeave)
	if err != nil {
		return err
	}
	uid := p.User.ID
	prev, err := s.store.ChangeMember(r.Context(), store.MemberChange{TeamID: teamID, UserID: uid})
	if err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditMemberRemoved, SubjectID: &uid,
		Detail: "team " + strconv.FormatInt(teamID, 10) + ": left, was " + string(prev)})
	return Respond(w, r, http.StatusOK, messageResponse{Message: "you left the team"})
}
