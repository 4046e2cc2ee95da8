package httpapi

import (
	"encoding/json/jsontext"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// userResource is a user as administrators see it. The password hash, its scheme, the security
// stamp and the login addresses never leave the server.
type userResource struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	// Username is null when the account has none, or usernames are off (SECURITY_USERNAME_ENABLE).
	Username           *string    `json:"username"`
	Roles              []string   `json:"roles"`
	Active             bool       `json:"active"`
	ConfirmedAt        *time.Time `json:"confirmed_at"`
	MustChangePassword bool       `json:"must_change_password"`
	PasswordSet        bool       `json:"password_set"` // false: the account has no password
	LastLoginAt        *time.Time `json:"last_login_at"`
	CurrentLoginAt     *time.Time `json:"current_login_at"`
	LoginCount         int64      `json:"login_count"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

func (s *server) userResourceOf(u *gatehouse.User) userResource {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	return userResource{
		ID: u.ID, Email: u.Email, Username: s.usernameOf(u), Roles: roles, Active: u.Active, ConfirmedAt: u.ConfirmedAt,
		MustChangePassword: u.MustChangePassword, PasswordSet: u.PasswordSet(), LastLoginAt: u.LastLoginAt, CurrentLoginAt: u.CurrentLoginAt,
		LoginCount: u.LoginCount, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// userIfMatch is the precondition of a change to a user: If-Match, when sent, must name the
// ETag of the user as it is inside the changing transaction, so a change made between a
// client's read and its write is never overwritten.
func (s *server) userIfMatch(r *http.Request) gatehouse.Precondition {
	if h := r.Header.Get("If-Match"); h == "" || h == "*" {
		return nil
	}
	return func(u *gatehouse.User) error { return CheckIfMatch(r, ETag(s.userResourceOf(u))) }
}

// usernameOf is the username of u on the wire: null when it has none or usernames are off (a
// name kept from when they were on is not shown, and signs nobody in).
func (s *server) usernameOf(u *gatehouse.User) *string {
	if u.Username == "" || !s.auth.UsernamesEnabled() {
		return nil
	}
	name := u.Username
	return &name
}

// userID reads {user_id}; anything but a positive integer is 0, which names no user (the
// service answers it as not found once it has decided that the caller may ask).
func userID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

// userLocation is the address of a user, for the Location of a 201.
func userLocation(id int64) string { return "/api/v1/users/" + strconv.FormatInt(id, 10) }

// parseGlobalRole turns a wire role name into a global role, explaining the usual mistakes.
func parseGlobalRole(name string) (gatehouse.Role, string) {
	r := gatehouse.Role(name)
	switch {
	case r.Valid():
		return r, ""
	case gatehouse.TeamRole(name).Valid():
		return "", fmt.Sprintf("%q is a team role, not a global role (global roles: admin, maintainer, viewer); team roles are given through /api/v1/teams/{id}/members", name)
	case gatehouse.Role(strings.ToLower(name)).Valid():
		return "", fmt.Sprintf("unknown role %q: role names are lower-case (%q)", name, strings.ToLower(name))
	}
	return "", fmt.Sprintf("unknown role %q (global roles: admin, maintainer, viewer)", name)
}

// parseGlobalRoles checks a list of global role names; the problem is reported on field.
func parseGlobalRoles(p *Problems, field string, names []string) []gatehouse.Role {
	roles := make([]gatehouse.Role, 0, len(names))
	for _, n := range names {
		r, problem := parseGlobalRole(n)
		if problem != "" {
			p.Add(field, problem)
			continue
		}
		roles = append(roles, r)
	}
	return roles
}

// createUserRequest is POST /api/v1/users. Roles absent (or null) means ["viewer"], as for a
// self-registered account; [] means no global role.
type createUserRequest struct {
	Email              string    `json:"email"`
	Username           string    `json:"username"`
	Password           string    `json:"password"`
	Roles              *[]string `json:"roles"`
	Confirmed          bool      `json:"confirmed"`
	MustChangePassword bool      `json:"must_change_password"`
	// Invite makes the account without a password and mails the owner a link to choose one.
	Invite bool `json:"invite"`

	roles []gatehouse.Role
	// passwordOptional: accounts may be made without a password here (PasswordlessSignIn).
	passwordOptional bool
}

func (req *createUserRequest) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(req.Email) != "", "email", "is required")
	p.Check(req.Password != "" || req.passwordOptional || req.Invite, "password", "is required")
	req.roles = []gatehouse.Role{gatehouse.RoleViewer}
	if req.Roles != nil {
		req.roles = parseGlobalRoles(&p, "roles", *req.Roles)
	}
	return p.Err()
}

// updateUserRequest is PATCH /api/v1/users/{id}: absent (or null) fields stay as they are.
type updateUserRequest struct {
	Email *string `json:"email"`
	// Username "" removes the account's username.
	Username           *string   `json:"username"`
	Roles              *[]string `json:"roles"`
	Active             *bool     `json:"active"`
	Confirmed          *bool     `json:"confirmed"`
	MustChangePassword *bool     `json:"must_change_password"`

	change gatehouse.UserChange
}

func (req *updateUserRequest) Validate() error {
	var p Problems
	req.change = gatehouse.UserChange{Email: req.Email, Username: req.Username, Active: req.Active, Confirmed: req.Confirmed, MustChangePassword: req.MustChangePassword}
	if req.Roles != nil {
		roles := parseGlobalRoles(&p, "roles", *req.Roles)
		req.change.Roles = &roles
	}
	return p.Err()
}

// updateMeRequest is PATCH /api/v1/me. No field of one's own account is editable yet; the
// fields of the account are listed so that sending one is refused with a reason (mass
// assignment), and anything else is refused as an unknown field by Decode.
type updateMeRequest struct {
	ID                 jsontext.Value `json:"id,omitzero"`
	Email              jsontext.Value `json:"email,omitzero"`
	Username           jsontext.Value `json:"username,omitzero"`
	Password           jsontext.Value `json:"password,omitzero"`
	Roles              jsontext.Value `json:"roles,omitzero"`
	Scopes             jsontext.Value `json:"scopes,omitzero"`
	Active             jsontext.Value `json:"active,omitzero"`
	Confirmed          jsontext.Value `json:"confirmed,omitzero"`
	ConfirmedAt        jsontext.Value `json:"confirmed_at,omitzero"`
	MustChangePassword jsontext.Value `json:"must_change_password,omitzero"`
	LastLoginAt        jsontext.Value `json:"last_login_at,omitzero"`
	LastLoginIP        jsontext.Value `json:"last_login_ip,omitzero"`
	CurrentLoginAt     jsontext.Value `json:"current_login_at,omitzero"`
	LoginCount         jsontext.Value `json:"login_count,omitzero"`
	CreatedAt          jsontext.Value `json:"created_at,omitzero"`
	UpdatedAt          jsontext.Value `json:"updated_at,omitzero"`
}

func (req *updateMeRequest) Validate() error {
	const (
		adminOnly = "cannot be changed on your own account; an administrator changes it"
		readOnly  = "is read-only"
	)
	var p Problems
	p.Check(req.ID == nil, "id", readOnly)
	p.Check(req.Email == nil, "email", "is changed with POST /api/v1/me/email (a confirmation link goes to the new address)")
	p.Check(req.Username == nil, "username", "is changed with POST /api/v1/me/username")
	p.Check(req.Password == nil, "password", "is changed with POST /api/v1/auth/password/change")
	p.Check(req.Roles == nil, "roles", adminOnly)
	p.Check(req.Scopes == nil, "scopes", "are those of the access token; log in again asking for other scopes")
	p.Check(req.Active == nil, "active", adminOnly)
	p.Check(req.Confirmed == nil, "confirmed", adminOnly)
	p.Check(req.ConfirmedAt == nil, "confirmed_at", adminOnly)
	p.Check(req.MustChangePassword == nil, "must_change_password", adminOnly)
	for name, v := range map[string]jsontext.Value{
		"last_login_at": req.LastLoginAt, "last_login_ip": req.LastLoginIP, "current_login_at": req.CurrentLoginAt,
		"login_count": req.LoginCount, "created_at": req.CreatedAt, "updated_at": req.UpdatedAt,
	} {
		p.Check(v == nil, name, readOnly)
	}
	return p.Err()
}

func (s *server) handleUpdateMe(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	var req updateMeRequest
	if _, err := s.auth.UpdateMe(r.Context(), p, Decode(r, &req)); err != nil {
		return err
	}
	return s.writeMe(w, r, p)
}

func (s *server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	req := createUserRequest{passwordOptional: s.auth.PasswordlessSignIn()}
	in := users.NewUser{Invalid: Decode(r, &req)}
	if in.Invalid == nil {
		in.Email, in.Username, in.Password, in.Roles = req.Email, req.Username, req.Password, req.roles
		in.Confirmed, in.MustChangePassword, in.Invite = req.Confirmed, req.MustChangePassword, req.Invite
	}
	u, err := s.users.Create(r.Context(), gatehouse.PrincipalFrom(r.Context()), in, s.client(r))
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, userLocation(u.ID), s.userResourceOf(u))
}

func (s *server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.users.Get(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r))
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, s.userResourceOf(u))
}

func (s *server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var req updateUserRequest
	ch := users.Change{Invalid: Decode(r, &req), IfMatch: s.userIfMatch(r)}
	if ch.Invalid == nil {
		ch.UserChange = req.change
	}
	u, err := s.users.Update(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r), ch, s.client(r))
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, s.userResourceOf(u))
}

func (s *server) handleDeleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.users.Delete(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r), s.userIfMatch(r), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "user deleted"})
}

func (s *server) handleResetUserAccess(w http.ResponseWriter, r *http.Request) error {
	if err := s.users.ResetAccess(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "every session and token of the user has ended"})
}

func (s *server) handleUnlockUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.users.Unlock(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "the account is unlocked"})
}
