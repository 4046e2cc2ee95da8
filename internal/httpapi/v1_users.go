package httpapi

import (
	"encoding/json/jsontext"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// userRoutes are the caller's own profile (PATCH; GET is in authRoutes), user administration and
// the admin views of the outbox and the audit trail. Each handler asks rbac before it reads the
// body or the database, so a caller who may not act learns nothing, not even whether an id exists.
func (s *server) userRoutes() []Route {
	const small = 16 << 10 // a user is a handful of short fields
	return []Route{
		{Pattern: "PATCH /api/v1/me", Handler: s.handleUpdateMe, BodyLimit: small, Auth: Authenticated},

		{Pattern: "GET /api/v1/users", Handler: s.handleListUsers, Auth: Authenticated},
		{Pattern: "POST /api/v1/users", Handler: s.handleCreateUser, BodyLimit: small, Auth: Authenticated},
		{Pattern: "GET /api/v1/users/{user_id}", Handler: s.handleGetUser, Auth: Authenticated},
		{Pattern: "PATCH /api/v1/users/{user_id}", Handler: s.handleUpdateUser, BodyLimit: small, Auth: Authenticated},
		{Pattern: "DELETE /api/v1/users/{user_id}", Handler: s.handleDeleteUser, Auth: Authenticated},
		{Pattern: "POST /api/v1/users/{user_id}/reset-access", Handler: s.handleResetUserAccess, BodyLimit: small, Auth: Authenticated},
		{Pattern: "POST /api/v1/users/{user_id}/unlock", Handler: s.handleUnlockUser, BodyLimit: small, Auth: Authenticated},

		{Pattern: "GET /api/v1/admin/outbox", Handler: s.handleAdminOutbox, Auth: Authenticated},
		{Pattern: "GET /api/v1/admin/audit", Handler: s.handleAdminAudit, Auth: Authenticated},
	}
}

// userResource is a user as administrators see it. The password hash, its scheme, the security
// stamp and the login addresses never leave the server.
type userResource struct {
	ID                 int64      `json:"id"`
	Email              string     `json:"email"`
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

func userResourceOf(u *gatehouse.User) userResource {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	return userResource{
		ID: u.ID, Email: u.Email, Roles: roles, Active: u.Active, ConfirmedAt: u.ConfirmedAt,
		MustChangePassword: u.MustChangePassword, PasswordSet: u.PasswordSet(), LastLoginAt: u.LastLoginAt, CurrentLoginAt: u.CurrentLoginAt,
		LoginCount: u.LoginCount, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// userIfMatch is the precondition of a change to a user: If-Match, when sent, must name the
// ETag of the user as it is inside the changing transaction, so a change made between a
// client's read and its write is never overwritten.
func userIfMatch(r *http.Request) store.Precondition {
	if h := r.Header.Get("If-Match"); h == "" || h == "*" {
		return nil
	}
	return func(u *gatehouse.User) error { return CheckIfMatch(r, ETag(userResourceOf(u))) }
}

// userIDParam reads {user_id}; anything but a positive integer names no user.
func userIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil || id < 1 {
		return 0, gatehouse.Errorf(gatehouse.ENotFound, "user not found")
	}
	return id, nil
}

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
	Password           string    `json:"password"`
	Roles              *[]string `json:"roles"`
	Confirmed          bool      `json:"confirmed"`
	MustChangePassword bool      `json:"must_change_password"`

	roles []gatehouse.Role
	// passwordOptional: accounts may be made without a password here (PasswordlessSignIn).
	passwordOptional bool
}

func (req *createUserRequest) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(req.Email) != "", "email", "is required")
	p.Check(req.Password != "" || req.passwordOptional, "password", "is required")
	req.roles = []gatehouse.Role{gatehouse.RoleViewer}
	if req.Roles != nil {
		req.roles = parseGlobalRoles(&p, "roles", *req.Roles)
	}
	return p.Err()
}

// updateUserRequest is PATCH /api/v1/users/{id}: absent (or null) fields stay as they are.
type updateUserRequest struct {
	Email              *string   `json:"email"`
	Roles              *[]string `json:"roles"`
	Active             *bool     `json:"active"`
	Confirmed          *bool     `json:"confirmed"`
	MustChangePassword *bool     `json:"must_change_password"`

	change store.UserChange
}

func (req *updateUserRequest) Validate() error {
	var p Problems
	req.change = store.UserChange{Email: req.Email, Active: req.Active, Confirmed: req.Confirmed, MustChangePassword: req.MustChangePassword}
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
	if err := rbac.Decide(p, rbac.ActUserUpdateSelf, ""); err != nil {
		return err
	}
	var req updateMeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if _, err := s.auth.UpdateMe(r.Context(), p); err != nil {
		return err
	}
	return s.handleMe(w, r)
}

// userCursor is the position after the last user of a page: the sort it was made for, the sort
// key of that user and its id (the tie-breaker).
type userCursor struct {
	Sort      string    `json:"s"`
	ID        int64     `json:"id"`
	Email     string    `json:"e,omitzero"`
	CreatedAt time.Time `json:"t,omitzero"`
}

// userListQuery reads the filters, sort and page of GET /api/v1/users.
func userListQuery(r *http.Request) (store.UserQuery, Page, error) {
	page, err := ParsePage(r, "email", "role", "active", "sort")
	if err != nil {
		return store.UserQuery{}, page, err
	}
	q := store.UserQuery{Limit: page.Limit, Sort: store.DefaultUserSort}
	var p Problems
	v, err := singleParams(r, "email", "role", "active", "sort")
	if err != nil {
		return q, page, err
	}
	q.EmailContains = v["email"]
	p.Check(utf8.RuneCountInString(q.EmailContains) <= 320, "email", "must be at most 320 characters")
	if name := v["role"]; name != "" {
		role, problem := parseGlobalRole(name)
		p.Check(problem == "", "role", problem)
		q.Role = role
	}
	switch v["active"] {
	case "":
	case "true", "false":
		active := v["active"] == "true"
		q.Active = &active
	default:
		p.Add("active", "must be true or false")
	}
	if sort := v["sort"]; sort != "" {
		q.Sort = store.UserSort(sort)
		if !q.Sort.Valid() {
			names := make([]string, len(store.UserSorts))
			for i, x := range store.UserSorts {
				names[i] = string(x)
			}
			p.Add("sort", "must be one of "+strings.Join(names, ", "))
		}
	}
	if err := p.Err(); err != nil {
		return q, page, err
	}
	if page.Cursor != nil {
		var c userCursor
		if err := page.DecodeCursor(&c); err != nil {
			return q, page, err
		}
		if c.ID < 1 {
			return q, page, gatehouse.FieldError("cursor", "is not a cursor this API returned")
		}
		if c.Sort != string(q.Sort) {
			return q, page, gatehouse.FieldError("cursor", fmt.Sprintf("was made for sort=%s; keep the sort while paging, or start again without a cursor", c.Sort))
		}
		q.After = &store.UserPosition{ID: c.ID, Email: c.Email, CreatedAt: c.CreatedAt}
	}
	return q, page, nil
}

// singleParams returns the values of the named query parameters, refusing any given twice: it
// is unclear which one the client meant.
func singleParams(r *http.Request, names ...string) (map[string]string, error) {
	q := r.URL.Query()
	out := make(map[string]string, len(names))
	for _, n := range names {
		vs := q[n]
		if len(vs) > 1 {
			return nil, gatehouse.FieldError(n, "must be given at most once")
		}
		if len(vs) == 1 {
			out[n] = strings.TrimSpace(vs[0])
		}
	}
	return out, nil
}

func (s *server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersList, ""); err != nil {
		return err
	}
	q, page, err := userListQuery(r)
	if err != nil {
		return err
	}
	users, more, err := s.auth.AdminListUsers(r.Context(), p, q)
	if err != nil {
		return err
	}
	out := make([]userResource, len(users))
	for i, u := range users {
		out[i] = userResourceOf(u)
	}
	next := ""
	if more && len(users) > 0 {
		last := users[len(users)-1]
		c := userCursor{Sort: string(q.Sort), ID: last.ID}
		switch q.Sort {
		case store.SortEmailAsc, store.SortEmailDesc:
			c.Email = store.NormalizeEmail(last.Email)
		case store.SortCreatedAsc, store.SortCreatedDesc:
			c.CreatedAt = last.CreatedAt
		}
		next = EncodeCursor(c)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func (s *server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersCreate, ""); err != nil {
		return err
	}
	req := createUserRequest{passwordOptional: s.auth.PasswordlessSignIn()}
	if err := Decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.AdminCreateUser(r.Context(), p, auth.NewUser{
		Email: req.Email, Password: req.Password, Roles: req.roles, Confirmed: req.Confirmed,
		MustChangePassword: req.MustChangePassword,
	}, s.client(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	return RespondResource(w, r, http.StatusCreated, userResourceOf(u))
}

func (s *server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return err
	}
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	u, err := s.auth.AdminUser(r.Context(), p, id)
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, userResourceOf(u))
}

func (s *server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return err
	}
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.AdminUpdateUser(r.Context(), p, id, req.change, userIfMatch(r), s.client(r))
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, userResourceOf(u))
}

func (s *server) handleDeleteUser(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersDelete, ""); err != nil {
		return err
	}
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := s.auth.AdminDeleteUser(r.Context(), p, id, userIfMatch(r), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "user deleted"})
}

func (s *server) handleResetUserAccess(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersResetAccess, ""); err != nil {
		return err
	}
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := s.auth.AdminResetAccess(r.Context(), p, id, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "every session and token of the user has ended"})
}

func (s *server) handleUnlockUser(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActUsersUnlock, ""); err != nil {
		return err
	}
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := s.auth.AdminUnlock(r.Context(), p, id, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "the account is unlocked"})
}

// adminViewCursor is the position of the id-ordered admin views: the id of the last item returned.
type adminViewCursor struct {
	ID int64 `json:"id"`
}

func adminViewBefore(page Page) (int64, error) {
	if page.Cursor == nil {
		return 0, nil
	}
	var c adminViewCursor
	if err := page.DecodeCursor(&c); err != nil {
		return 0, err
	}
	if c.ID < 1 {
		return 0, gatehouse.FieldError("cursor", "is not a cursor this API returned")
	}
	return c.ID, nil
}

// outboxItem is an outbox message in the admin view. The bodies are left out: they hold
// confirmation and password reset links, which would let whoever reads the view act as the
// recipient.
type outboxItem struct {
	ID            int64      `json:"id"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LockedUntil   *time.Time `json:"locked_until"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
}

func (s *server) handleAdminOutbox(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActOutboxRead, ""); err != nil {
		return err
	}
	page, err := ParsePage(r, "status")
	if err != nil {
		return err
	}
	v, err := singleParams(r, "status")
	if err != nil {
		return err
	}
	q := store.MailQuery{Status: gatehouse.MailStatus(v["status"]), Limit: page.Limit}
	if q.Status != "" && !q.Status.Valid() {
		return gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	if q.BeforeID, err = adminViewBefore(page); err != nil {
		return err
	}
	ms, more, err := s.auth.AdminOutbox(r.Context(), p, q)
	if err != nil {
		return err
	}
	out := make([]outboxItem, len(ms))
	for i, m := range ms {
		out[i] = outboxItem{
			ID: m.ID, To: m.To, Subject: m.Subject, Status: string(m.Status), Attempts: m.Attempts,
			NextAttemptAt: m.NextAttemptAt, LockedUntil: m.LockedUntil, LastError: m.LastError,
			CreatedAt: m.CreatedAt, SentAt: m.SentAt,
		}
	}
	next := ""
	if more && len(ms) > 0 {
		next = EncodeCursor(adminViewCursor{ID: ms[len(ms)-1].ID})
	}
	return RespondPage(w, r, out, page.Limit, next)
}

// auditItem is an audit event in the admin view.
type auditItem struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Event     string    `json:"event"`
	ActorID   *int64    `json:"actor_id"`
	SubjectID *int64    `json:"subject_id"`
	Email     string    `json:"email"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail"`
}

func (s *server) handleAdminAudit(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActAuditRead, ""); err != nil {
		return err
	}
	page, err := ParsePage(r, "subject_id", "event")
	if err != nil {
		return err
	}
	v, err := singleParams(r, "subject_id", "event")
	if err != nil {
		return err
	}
	q := store.AuditQuery{Event: v["event"], Limit: page.Limit}
	var problems Problems
	if sid := v["subject_id"]; sid != "" {
		id, err := strconv.ParseInt(sid, 10, 64)
		problems.Check(err == nil && id > 0, "subject_id", "must be a user id (a positive integer)")
		q.SubjectID = id
	}
	problems.Check(len(q.Event) <= 64, "event", "must be at most 64 characters")
	if err := problems.Err(); err != nil {
		return err
	}
	if q.BeforeID, err = adminViewBefore(page); err != nil {
		return err
	}
	evs, more, err := s.auth.AdminAudit(r.Context(), p, q)
	if err != nil {
		return err
	}
	out := make([]auditItem, len(evs))
	for i, e := range evs {
		out[i] = auditItem{ID: e.ID, At: e.At, Event: e.Event, ActorID: e.ActorID, SubjectID: e.SubjectID,
			Email: e.Email, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	}
	next := ""
	if more && len(evs) > 0 {
		next = EncodeCursor(adminViewCursor{ID: evs[len(evs)-1].ID})
	}
	return RespondPage(w, r, out, page.Limit, next)
}
