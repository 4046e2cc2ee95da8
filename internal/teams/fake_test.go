package teams_test

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// fakeStore is the service's store in memory, enough to test the rules without a database: the
// store's own behaviour (locking, conflicts, one transaction per change) is tested on every
// engine by internal/store's conformance suite and the API tests. Callbacks run as the store
// runs them, inside the "transaction", in the same order.
type fakeStore struct {
	now   time.Time
	users map[int64]string // id → email
	teams map[int64]*gatehouse.Team
	roles map[[2]int64]gatehouse.TeamRole // {team, user} → role
	invs  []*fakeInvitation
	projs []*gatehouse.Project

	audits []gatehouse.AuditEvent
	mails  []gatehouse.OutboxMail
	writes int   // changes committed
	limits []int // the limits lists were asked for
}

type fakeInvitation struct {
	gatehouse.Invitation
	tokenHash, codeHash string
}

func newFakeStore(now time.Time) *fakeStore {
	return &fakeStore{now: now, users: map[int64]string{}, teams: map[int64]*gatehouse.Team{}, roles: map[[2]int64]gatehouse.TeamRole{}}
}

func (f *fakeStore) addTeam(id int64, name string) { f.teams[id] = &gatehouse.Team{ID: id, Name: name} }

func (f *fakeStore) setRole(team, user int64, r gatehouse.TeamRole) {
	if r == "" {
		delete(f.roles, [2]int64{team, user})
		return
	}
	f.roles[[2]int64{team, user}] = r
}

func (f *fakeStore) record(ev gatehouse.AuditEvent) {
	if ev.At.IsZero() {
		ev.At = f.now
	}
	f.audits = append(f.audits, ev)
}

var errTeamNotFound = gatehouse.Errorf(gatehouse.ENotFound, "team not found")

func (f *fakeStore) TeamRole(_ context.Context, teamID, userID int64) (gatehouse.TeamRole, error) {
	return f.roles[[2]int64{teamID, userID}], nil
}

func (f *fakeStore) ListTeams(_ context.Context, userID int64, all bool, after int64, limit int) ([]gatehouse.TeamWithRole, error) {
	f.limits = append(f.limits, limit)
	var out []gatehouse.TeamWithRole
	for _, id := range slices.Sorted(maps.Keys(f.teams)) {
		role := f.roles[[2]int64{id, userID}]
		if id > after && (all || role != "") && len(out) < limit {
			out = append(out, gatehouse.TeamWithRole{Team: *f.teams[id], Role: role})
		}
	}
	return out, nil
}

func (f *fakeStore) TeamByID(_ context.Context, id int64) (*gatehouse.Team, error) {
	t, ok := f.teams[id]
	if !ok {
		return nil, errTeamNotFound
	}
	c := *t
	return &c, nil
}

func (f *fakeStore) CreateTeamAudited(_ context.Context, t *gatehouse.Team, owner int64, audit func(*gatehouse.Team) gatehouse.AuditEvent) error {
	t.ID = int64(len(f.teams) + 100)
	t.CreatedAt, t.UpdatedAt = f.now, f.now
	c := *t
	f.teams[t.ID] = &c
	f.setRole(t.ID, owner, gatehouse.TeamOwner)
	f.record(audit(t))
	f.writes++
	return nil
}

func (f *fakeStore) UpdateTeam(_ context.Context, id int64, p gatehouse.TeamPatch, check func(*gatehouse.Team) error) (*gatehouse.Team, error) {
	t, ok := f.teams[id]
	if !ok {
		return nil, errTeamNotFound
	}
	if check != nil {
		if err := check(t); err != nil {
			return nil, err
		}
	}
	if p.Name != nil {
		t.Name = *p.Name
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	f.writes++
	c := *t
	return &c, nil
}

func (f *fakeStore) DeleteTeam(_ context.Context, id int64, check func(*gatehouse.Team) error, audit func(*gatehouse.Team) gatehouse.AuditEvent) error {
	t, ok := f.teams[id]
	if !ok {
		return errTeamNotFound
	}
	if check != nil {
		if err := check(t); err != nil {
			return err
		}
	}
	delete(f.teams, id)
	f.record(audit(t))
	f.writes++
	return nil
}

func (f *fakeStore) member(teamID, userID int64) *gatehouse.Member {
	r, ok := f.roles[[2]int64{teamID, userID}]
	if !ok {
		return nil
	}
	return &gatehouse.Member{UserID: userID, Email: f.users[userID], Role: r}
}

func (f *fakeStore) Members(_ context.Context, teamID, after int64, limit int) ([]gatehouse.Member, error) {
	f.limits = append(f.limits, limit)
	var out []gatehouse.Member
	for _, uid := range slices.Sorted(maps.Keys(f.users)) {
		if m := f.member(teamID, uid); m != nil && uid > after && len(out) < limit {
			out = append(out, *m)
		}
	}
	return out, nil
}

func (f *fakeStore) Member(_ context.Context, teamID, userID int64) (*gatehouse.Member, error) {
	if m := f.member(teamID, userID); m != nil {
		return m, nil
	}
	return nil, gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")
}

func (f *fakeStore) ChangeMember(_ context.Context, c gatehouse.MemberChange) (gatehouse.TeamRole, error) {
	if _, ok := f.teams[c.TeamID]; !ok {
		return "", errTeamNotFound
	}
	cur := f.roles[[2]int64{c.TeamID, c.UserID}]
	if c.Check != nil {
		if err := c.Check(cur); err != nil {
			return "", err
		}
	}
	if c.IfMatch != nil {
		if err := c.IfMatch(f.member(c.TeamID, c.UserID)); err != nil {
			return "", err
		}
	}
	if c.Role == "" && cur == "" {
		return "", gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")
	}
	f.setRole(c.TeamID, c.UserID, c.Role)
	if c.Audit != nil {
		f.record(c.Audit(cur))
	}
	if c.Result != nil && c.Role != "" {
		*c.Result = *f.member(c.TeamID, c.UserID)
	}
	f.writes++
	return cur, nil
}

func (f *fakeStore) PendingInvitations(_ context.Context, teamID, after int64, limit int) ([]*gatehouse.Invitation, error) {
	f.limits = append(f.limits, limit)
	var out []*gatehouse.Invitation
	for _, inv := range f.invs {
		if inv.TeamID == teamID && inv.ID > after && inv.Pending(f.now) && len(out) < limit {
			c := inv.Invitation
			out = append(out, &c)
		}
	}
	return out, nil
}

var errNoInvitation = gatehouse.Errorf(gatehouse.ENotFound, "invitation not found")

func (f *fakeStore) InvitationByID(_ context.Context, teamID, id int64) (*gatehouse.Invitation, error) {
	for _, inv := range f.invs {
		if inv.TeamID == teamID && inv.ID == id {
			c := inv.Invitation
			return &c, nil
		}
	}
	return nil, errNoInvitation
}

func (f *fakeStore) CreateInvitation(_ context.Context, in gatehouse.NewInvitation) (*gatehouse.Invitation, error) {
	if _, ok := f.teams[in.TeamID]; !ok {
		return nil, errTeamNotFound
	}
	by := in.InvitedBy
	inv := &fakeInvitation{Invitation: gatehouse.Invitation{ID: int64(len(f.invs) + 1), TeamID: in.TeamID, Email: in.Email, Role: in.Role,
		InvitedBy: &by, CreatedAt: f.now, ExpiresAt: in.ExpiresAt}, tokenHash: in.TokenHash, codeHash: in.CodeHash}
	f.invs = append(f.invs, inv)
	if in.Audit != nil {
		f.record(in.Audit(&inv.Invitation))
	}
	if in.Mail != nil {
		m := *in.Mail
		m.To = in.Email
		f.mails = append(f.mails, m)
	}
	f.writes++
	c := inv.Invitation
	return &c, nil
}

func (f *fakeStore) RevokeInvitationIf(_ context.Context, teamID, id int64, check func(*gatehouse.Invitation) error,
	audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, error) {
	for _, inv := range f.invs {
		if inv.TeamID != teamID || inv.ID != id {
			continue
		}
		if check != nil {
			if err := check(&inv.Invitation); err != nil {
				return nil, err
			}
		}
		now := f.now
		inv.RevokedAt = &now
		f.record(audit(&inv.Invitation))
		f.writes++
		c := inv.Invitation
		return &c, nil
	}
	return nil, errNoInvitation
}

func (f *fakeStore) AcceptInvitationAudited(_ context.Context, hash string, userID int64,
	audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, *gatehouse.Team, error) {
	for _, inv := range f.invs {
		if inv.Email != f.users[userID] || (inv.tokenHash != hash && inv.codeHash != hash) || !inv.Pending(f.now) {
			continue
		}
		now, uid := f.now, userID
		inv.AcceptedAt, inv.AcceptedBy = &now, &uid
		f.setRole(inv.TeamID, userID, inv.Role)
		f.record(audit(&inv.Invitation))
		f.writes++
		c, t := inv.Invitation, *f.teams[inv.TeamID]
		return &c, &t, nil
	}
	return nil, nil, errNoInvitation
}

var errNoProject = gatehouse.Errorf(gatehouse.ENotFound, "project not found")

func (f *fakeStore) Projects(_ context.Context, teamID, after int64, limit int) ([]*gatehouse.Project, error) {
	f.limits = append(f.limits, limit)
	var out []*gatehouse.Project
	for _, p := range f.projs {
		if p.TeamID == teamID && p.ID > after && len(out) < limit {
			c := *p
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeStore) project(teamID, id int64) *gatehouse.Project {
	for _, p := range f.projs {
		if p.TeamID == teamID && p.ID == id {
			return p
		}
	}
	return nil
}

func (f *fakeStore) ProjectByID(_ context.Context, teamID, id int64) (*gatehouse.Project, error) {
	if p := f.project(teamID, id); p != nil {
		c := *p
		return &c, nil
	}
	return nil, errNoProject
}

func (f *fakeStore) CreateProject(_ context.Context, p *gatehouse.Project) error {
	p.ID, p.CreatedAt, p.UpdatedAt = int64(len(f.projs)+1), f.now, f.now
	c := *p
	f.projs = append(f.projs, &c)
	f.writes++
	return nil
}

func (f *fakeStore) UpdateProject(_ context.Context, teamID, id int64, patch gatehouse.ProjectPatch, check func(*gatehouse.Project) error) (*gatehouse.Project, error) {
	p := f.project(teamID, id)
	if p == nil {
		return nil, errNoProject
	}
	if check != nil {
		if err := check(p); err != nil {
			return nil, err
		}
	}
	if patch.Name != nil {
		p.Name = *patch.Name
	}
	if patch.Description != nil {
		p.Description = *patch.Description
	}
	f.writes++
	c := *p
	return &c, nil
}

func (f *fakeStore) DeleteProject(_ context.Context, teamID, id int64, check func(*gatehouse.Project) error) error {
	p := f.project(teamID, id)
	if p == nil {
		return errNoProject
	}
	if check != nil {
		if err := check(p); err != nil {
			return err
		}
	}
	f.projs = slices.DeleteFunc(f.projs, func(x *gatehouse.Project) bool { return x == p })
	f.writes++
	return nil
}

func (f *fakeStore) SearchTeams(context.Context, string, int64, int) ([]*gatehouse.Team, error) {
	return nil, nil
}

func (f *fakeStore) RenewInvitation(_ context.Context, teamID, id int64, _, _ string, expiresAt time.Time, _ *gatehouse.OutboxMail,
	audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, error) {
	inv := &gatehouse.Invitation{ID: id, TeamID: teamID, ExpiresAt: expiresAt}
	audit(inv)
	return inv, nil
}
