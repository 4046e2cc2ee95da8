package client

import (
	"context"
	"net/http"
	"time"
)

// Team is a team as the caller sees it.
type Team struct {
	ID          ID     `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Role is the caller's role in the team ("owner", "admin", "member", "viewer"); empty for
	// a global admin who is not a member.
	Role      string    `json:"role,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ETag is the entity tag the service sent with the team (single reads and changes only),
	// for IfMatch.
	ETag string `json:"-"`
}

// TeamInput is a new team.
type TeamInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// TeamPatch changes a team: nil members stay as they are.
type TeamPatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Member is a team membership.
type Member struct {
	UserID    ID        `json:"user_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// ETag is the entity tag the service sent with the member (single reads and changes only).
	ETag string `json:"-"`
}

// Invitation is an invitation to a team. Its secrets exist only in the email.
type Invitation struct {
	ID     ID     `json:"id"`
	TeamID ID     `json:"team_id"`
	Email  string `json:"email"`
	Role   string `json:"role"`
	// Status is "pending", "accepted", "revoked" or "expired".
	Status string `json:"status"`
	// InvitedBy is nil once the inviter's account is deleted.
	InvitedBy *ID       `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// ETag is the entity tag the service sent with the invitation (single reads and changes).
	ETag string `json:"-"`
}

// InvitationInput invites an address to a team with a role.
type InvitationInput struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func teamPath(id ID) string { return "/teams/" + id.String() }

// ListTeams returns a page of the caller's teams (every team for a global admin).
func (c *Client) ListTeams(ctx context.Context, opts ListOptions) (*Page[Team], error) {
	return list[Team](ctx, c, "/teams", opts)
}

// CreateTeam creates a team; the caller becomes its owner.
func (c *Client) CreateTeam(ctx context.Context, in TeamInput) (*Team, error) {
	return resource[Team](ctx, c, http.MethodPost, "/teams", in, nil, func(t *Team, tag string) { t.ETag = tag })
}

// Team returns one team.
func (c *Client) Team(ctx context.Context, id ID) (*Team, error) {
	return resource[Team](ctx, c, http.MethodGet, teamPath(id), noBody, nil, func(t *Team, tag string) { t.ETag = tag })
}

// UpdateTeam changes a team's name or description (IfMatch makes it conditional).
func (c *Client) UpdateTeam(ctx context.Context, id ID, patch TeamPatch, opts ...RequestOption) (*Team, error) {
	return resource[Team](ctx, c, http.MethodPatch, teamPath(id), patch, opts, func(t *Team, tag string) { t.ETag = tag })
}

// DeleteTeam deletes a team with its members, projects and invitations.
func (c *Client) DeleteTeam(ctx context.Context, id ID, opts ...RequestOption) error {
	_, err := c.call(ctx, http.MethodDelete, teamPath(id), nil, noBody, nil, opts...)
	return err
}

// LeaveTeam takes the caller out of a team (refused for its last owner).
func (c *Client) LeaveTeam(ctx context.Context, id ID) error {
	_, err := c.call(ctx, http.MethodPost, teamPath(id)+"/leave", nil, noBody, nil)
	return err
}

// Members returns a page of a team's members.
func (c *Client) Members(ctx context.Context, teamID ID, opts ListOptions) (*Page[Member], error) {
	return list[Member](ctx, c, teamPath(teamID)+"/members", opts)
}

// Member returns one member of a team (a *Error "not_found" for a user who is not one).
func (c *Client) Member(ctx context.Context, teamID, userID ID) (*Member, error) {
	return resource[Member](ctx, c, http.MethodGet, teamPath(teamID)+"/members/"+userID.String(), noBody, nil, func(m *Member, tag string) { m.ETag = tag })
}

// SetMember adds a user to a team with a role, or changes the role of a member; created
// reports which happened.
func (c *Client) SetMember(ctx context.Context, teamID, userID ID, role string, opts ...RequestOption) (m *Member, created bool, err error) {
	var out Member
	res, err := c.call(ctx, http.MethodPut, teamPath(teamID)+"/members/"+userID.String(), nil, map[string]string{"role": role}, &out, opts...)
	if err != nil {
		return nil, false, err
	}
	out.ETag = res.header.Get("ETag")
	return &out, res.status == http.StatusCreated, nil
}

// RemoveMember takes a user out of a team (refused for its last owner).
func (c *Client) RemoveMember(ctx context.Context, teamID, userID ID, opts ...RequestOption) error {
	_, err := c.call(ctx, http.MethodDelete, teamPath(teamID)+"/members/"+userID.String(), nil, noBody, nil, opts...)
	return err
}

// Invitations returns a page of a team's pending invitations, oldest first.
func (c *Client) Invitations(ctx context.Context, teamID ID, opts ListOptions) (*Page[Invitation], error) {
	return list[Invitation](ctx, c, teamPath(teamID)+"/invitations", opts)
}

// CreateInvitation invites an address; the service mails it a link and a code (it needs
// SMTP: a *Error "feature_disabled" without).
func (c *Client) CreateInvitation(ctx context.Context, teamID ID, in InvitationInput) (*Invitation, error) {
	return resource[Invitation](ctx, c, http.MethodPost, teamPath(teamID)+"/invitations", in, nil, func(i *Invitation, tag string) { i.ETag = tag })
}

// Invitation returns one invitation of a team, in any state.
func (c *Client) Invitation(ctx context.Context, teamID, invitationID ID) (*Invitation, error) {
	return resource[Invitation](ctx, c, http.MethodGet, teamPath(teamID)+"/invitations/"+invitationID.String(), noBody, nil, func(i *Invitation, tag string) { i.ETag = tag })
}

// RevokeInvitation revokes a pending (or expired) invitation and returns it.
func (c *Client) RevokeInvitation(ctx context.Context, teamID, invitationID ID, opts ...RequestOption) (*Invitation, error) {
	return resource[Invitation](ctx, c, http.MethodDelete, teamPath(teamID)+"/invitations/"+invitationID.String(), noBody, opts, func(i *Invitation, tag string) { i.ETag = tag })
}

// AcceptInvitation joins the team of an invitation sent to the caller's address, with the
// link's token or the emailed code; the answer is the team with the caller's new role.
func (c *Client) AcceptInvitation(ctx context.Context, token string) (*Team, error) {
	var t Team
	if _, err := c.call(ctx, http.MethodPost, "/invitations/accept", nil, map[string]string{"token": token}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// resource sends a request whose answer is one resource, and records its ETag with setTag.
func resource[T any](ctx context.Context, c *Client, method, path string, body any, opts []RequestOption, setTag func(*T, string)) (*T, error) {
	var out T
	res, err := c.call(ctx, method, path, nil, body, &out, opts...)
	if err != nil {
		return nil, err
	}
	setTag(&out, res.header.Get("ETag"))
	return &out, nil
}
