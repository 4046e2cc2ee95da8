package web

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// The administration console (/admin): server-rendered pages for global admins over the same
// users.Service as the API's /api/v1/users, so every page and action is decided by the one
// authorization table and writes the same audit events. Anyone else gets the 404 for every
// /admin address, signed in or not, so the console does not announce itself. Actions that can
// lock people out or widen rights ask for a fresh sign-in (SECURITY_FRESHNESS) and say what
// they do next to their button; each form carries the version of the user it was shown with,
// so a change another admin made in between is reported instead of overwritten.

const adminUsersPath = "/admin/users"

// adminOnly serves h to global admins; everyone else gets the 404.
func (w *Web) adminOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if w.users == nil || principal(r) == nil || w.users.Console(principal(r)) != nil {
			w.notFound(rw, r)
			return
		}
		noStore(rw)
		h(rw, r)
	}
}

func (w *Web) handleAdminHome(rw http.ResponseWriter, r *http.Request) {
	http.Redirect(rw, r, adminUsersPath, http.StatusSeeOther)
}

// adminUsersData is the user list with its filters as given.
type adminUsersData struct {
	Query, Role, Active, Confirmed, Locked, TwoFactor, SSOOnly, Sort string
	Users                                                            []*gatehouse.User
	Next                                                             string // the address of the next page; "" on the last
	Roles                                                            []gatehouse.Role
	Sorts                                                            []gatehouse.UserSort
}

// adminListLimit is the size of a page of the user list.
const adminListLimit = 50

// userCursor is the position after the last user of a page, as the list's cursor carries it.
type userCursor struct {
	Sort      string    `json:"s"`
	ID        int64     `json:"id"`
	Email     string    `json:"e,omitzero"`
	CreatedAt time.Time `json:"t,omitzero"`
}

// adminUsersQuery reads the list's filters. A bad value is a problem of the field it names,
// shown with the form (the list stays empty).
func adminUsersQuery(r *http.Request, d *adminUsersData) (gatehouse.UserQuery, error) {
	page, err := rest.ParsePage(r, "q", "role", "active", "confirmed", "locked", "two_factor", "sso_only", "sort")
	if err != nil {
		return gatehouse.UserQuery{}, err
	}
	v := r.URL.Query()
	d.Query, d.Role, d.Active, d.Sort = strings.TrimSpace(v.Get("q")), v.Get("role"), v.Get("active"), v.Get("sort")
	d.Confirmed, d.Locked, d.TwoFactor, d.SSOOnly = v.Get("confirmed"), v.Get("locked"), v.Get("two_factor"), v.Get("sso_only")
	q := gatehouse.UserQuery{EmailContains: d.Query, Limit: min(page.Limit, adminListLimit), Sort: gatehouse.DefaultUserSort}
	var p rest.Problems
	p.Check(utf8.RuneCountInString(d.Query) <= 320, "q", "must be at most 320 characters")
	if d.Role != "" {
		q.Role = gatehouse.Role(d.Role)
		p.Check(q.Role.Valid(), "role", "must be admin, maintainer or viewer")
	}
	for _, f := range []struct {
		name, value string
		dst         **bool
	}{{"active", d.Active, &q.Active}, {"confirmed", d.Confirmed, &q.Confirmed}, {"locked", d.Locked, &q.Locked}, {"two_factor", d.TwoFactor, &q.TwoFactor}, {"sso_only", d.SSOOnly, &q.SSOOnly}} {
		switch f.value {
		case "":
		case "true", "false":
			b := f.value == "true"
			*f.dst = &b
		default:
			p.Add(f.name, "must be true or false")
		}
	}
	if d.Sort != "" {
		q.Sort = gatehouse.UserSort(d.Sort)
		p.Check(q.Sort.Valid(), "sort", "is not a sort of this list")
	}
	if err := p.Err(); err != nil {
		return q, err
	}
	if page.Cursor != nil {
		var c userCursor
		if err := page.DecodeCursor(&c); err != nil || c.ID < 1 || c.Sort != string(q.Sort) {
			return q, gatehouse.FieldError("cursor", "is not a cursor of this list; start again from the first page")
		}
		q.After = &gatehouse.UserPosition{ID: c.ID, Email: c.Email, CreatedAt: c.CreatedAt}
	}
	return q, nil
}

func (w *Web) handleAdminUsers(rw http.ResponseWriter, r *http.Request) {
	d := adminUsersData{Roles: gatehouse.Roles, Sorts: gatehouse.UserSorts}
	p := &page{Title: "Users", Data: &d}
	q, invalid := adminUsersQuery(r, &d)
	invalid = outsideForm(invalid, "q", "role", "active", "confirmed", "locked", "two_factor", "sso_only", "sort")
	list, err := w.users.List(r.Context(), principal(r), users.Query{UserQuery: q, Invalid: invalid})
	if err != nil {
		w.fail(rw, r, "admin_users", p, err)
		return
	}
	list, next := rest.Paginate(list, q.Limit, func(u *gatehouse.User) any {
		at := q.Sort.PositionOf(u)
		return userCursor{Sort: string(q.Sort), ID: at.ID, Email: at.Email, CreatedAt: at.CreatedAt}
	})
	for _, u := range list {
		forgetExpiredLock(u, w.now())
	}
	d.Users = list
	if next != "" {
		more := r.URL.Query()
		more.Set("cursor", next)
		d.Next = adminUsersPath + "?" + more.Encode()
	}
	w.render(rw, r, http.StatusOK, "admin_users", p)
}

// forgetExpiredLock drops a lockout that has ended from u, so that the pages show only a
// running one ("locked until ...").
func forgetExpiredLock(u *gatehouse.User, now time.Time) {
	if !u.Locked(now) {
		u.LockedUntil = nil
	}
}

// outsideForm makes a problem with a query parameter the form has no field for (an unknown one,
// a cursor) a message of the page, which would otherwise point at a field that is not there.
func outsideForm(err error, fields ...string) error {
	for f, problem := range gatehouse.ErrorFields(err) {
		if !slices.Contains(fields, f) {
			return gatehouse.Errorf(gatehouse.EInvalid, "this address is not one the list makes (%s: %s); start again from the list", f, problem)
		}
	}
	return err
}

// adminUserData is one user's page.
type adminUserData struct {
	U       *gatehouse.User
	Version string // the version of U the forms were made with
	Roles   []gatehouse.Role
	Events  []gatehouse.AuditEvent
	Self    bool // the admin's own account

	Sessions []*gatehouse.Session
	APIKeys  []*gatehouse.APIKey
	// SSO is the user's single sign-on state: SSO-only, and the linked identities; Providers
	// the configured providers an identity can be linked from.
	SSO       *auth.SSOAccount
	Providers []SSOProviderState
	// LinkProvider and LinkSubject are the link form as sent, after a refusal.
	LinkProvider, LinkSubject string
}

// userVersion is a version of everything the user page shows and its forms change: a form sent
// with another version was made before someone else's change.
func userVersion(u *gatehouse.User) string {
	return strings.Trim(rest.ETag(struct {
		Email                    string
		Roles                    []gatehouse.Role
		Active, Confirmed, MustC bool
		Updated                  time.Time
	}{u.Email, u.Roles, u.Active, u.ConfirmedAt != nil, u.MustChangePassword, u.UpdatedAt}), `"`)
}

// adminUserID reads {id}: anything but a positive number names no user (0, which the service
// answers with not found).
func adminUserID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

func adminUserPath(id int64) string { return adminUsersPath + "/" + strconv.FormatInt(id, 10) }

// adminUserPage loads the user page's data; a missing user is the 404.
func (w *Web) adminUserPage(rw http.ResponseWriter, r *http.Request, id int64) (*page, bool) {
	pr := principal(r)
	u, err := w.users.Get(r.Context(), pr, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			w.notFound(rw, r)
		} else {
			w.serverError(rw, r, err)
		}
		return nil, false
	}
	evs, err := w.users.Audit(r.Context(), pr, users.AuditQuery{AuditQuery: gatehouse.AuditQuery{SubjectID: u.ID, Limit: 20}})
	if err != nil {
		w.serverError(rw, r, err)
		return nil, false
	}
	if len(evs) > 20 {
		evs = evs[:20]
	}
	sessions, err := w.users.Sessions(r.Context(), pr, u.ID)
	if err != nil {
		w.serverError(rw, r, err)
		return nil, false
	}
	keys, err := w.users.APIKeys(r.Context(), pr, u.ID)
	if err != nil {
		w.serverError(rw, r, err)
		return nil, false
	}
	sso, err := w.auth.AdminSSOAccount(r.Context(), pr, u.ID)
	if err != nil {
		w.serverError(rw, r, err)
		return nil, false
	}
	forgetExpiredLock(u, w.now())
	d := &adminUserData{U: u, Version: userVersion(u), Roles: gatehouse.Roles, Events: evs,
		Self: u.ID == pr.User.ID, Sessions: sessions, APIKeys: keys, SSO: sso}
	if w.system != nil {
		d.Providers = w.system.SSOProviders(r.Context())
	}
	return &page{Title: u.Email, Data: d}, true
}

func (w *Web) handleAdminUser(rw http.ResponseWriter, r *http.Request) {
	if p, ok := w.adminUserPage(rw, r, adminUserID(r)); ok {
		w.render(rw, r, http.StatusOK, "admin_user", p)
	}
}

// sameVersion refuses a change of a user whose version moved since the form was shown.
func sameVersion(r *http.Request) gatehouse.Precondition {
	sent := r.PostFormValue("version")
	return func(u *gatehouse.User) error {
		if subtle.ConstantTimeCompare([]byte(sent), []byte(userVersion(u))) != 1 {
			return gatehouse.Errorf(gatehouse.EPrecondition, "someone changed this user while you were looking at it; check the page as it is now and try again")
		}
		return nil
	}
}

// adminAction is one of the user page's buttons.
type adminAction struct {
	fresh bool // locks people out or widens rights: a fresh sign-in first
	do    func(w *Web, r *http.Request, id int64) (done string, err error)
}

var adminActions = map[string]adminAction{
	"roles": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		roles := []gatehouse.Role{}
		for _, name := range r.PostForm["roles"] {
			role := gatehouse.Role(name)
			if !role.Valid() {
				return "", gatehouse.FieldError("roles", "must be admin, maintainer or viewer")
			}
			roles = append(roles, role)
		}
		_, err := w.users.Update(r.Context(), principal(r), id, users.Change{UserChange: gatehouse.UserChange{Roles: &roles},
			IfMatch: sameVersion(r)}, w.client(r))
		return "The roles have been changed.", err
	}},
	"deactivate": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		return "The account has been deactivated and every session of it ended.", w.setActive(r, id, false)
	}},
	"activate": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		return "The account has been reactivated.", w.setActive(r, id, true)
	}},
	"confirm": {do: func(w *Web, r *http.Request, id int64) (string, error) {
		yes := true
		_, err := w.users.Update(r.Context(), principal(r), id, users.Change{UserChange: gatehouse.UserChange{Confirmed: &yes},
			IfMatch: sameVersion(r)}, w.client(r))
		return "The email address is marked confirmed.", err
	}},
	"unlock": {do: func(w *Web, r *http.Request, id int64) (string, error) {
		return "The account is unlocked: failed sign-ins no longer hold it back.", w.users.Unlock(r.Context(), principal(r), id, w.client(r))
	}},
	"reset-access": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		return "Every session and token of the account has ended.", w.users.ResetAccess(r.Context(), principal(r), id, w.client(r))
	}},
	"sso-only": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		_, err := w.auth.AdminSetSSOOnly(r.Context(), principal(r), id, true, w.client(r))
		return "The account now signs in only through single sign-on; its password no longer works.", err
	}},
	"not-sso-only": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		_, err := w.auth.AdminSetSSOOnly(r.Context(), principal(r), id, false, w.client(r))
		return "The account may sign in with its password again.", err
	}},
	"reset-2fa": {fresh: true, do: func(w *Web, r *http.Request, id int64) (string, error) {
		return "Every second factor of the account has been removed, and its sessions ended.",
			w.users.ResetTwoFactor(r.Context(), principal(r), id, w.client(r))
	}},
}

func (w *Web) setActive(r *http.Request, id int64, active bool) error {
	_, err := w.users.Update(r.Context(), principal(r), id, users.Change{UserChange: gatehouse.UserChange{Active: &active},
		IfMatch: sameVersion(r)}, w.client(r))
	return err
}

// handleAdminUserAction runs one action of the user page and comes back to it.
func (w *Web) handleAdminUserAction(rw http.ResponseWriter, r *http.Request) {
	id := adminUserID(r)
	a, ok := adminActions[r.PathValue("action")]
	if !ok || id == 0 {
		w.notFound(rw, r)
		return
	}
	back := adminUserPath(id)
	if a.fresh && !w.requireFresh(rw, r, back) {
		return
	}
	done, err := a.do(w, r, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			w.notFound(rw, r)
			return
		}
		p, ok := w.adminUserPage(rw, r, id)
		if ok {
			p.Form = r.PathValue("action")
			w.fail(rw, r, "admin_user", p, err)
		}
		return
	}
	w.flash(r, flashSuccess, done)
	http.Redirect(rw, r, back, http.StatusSeeOther)
}

// sortLabel names an order of the user list for its menu.
func sortLabel(s gatehouse.UserSort) string {
	switch s {
	case gatehouse.SortIDAsc:
		return "Oldest first"
	case gatehouse.SortIDDesc:
		return "Newest first"
	case gatehouse.SortEmailAsc:
		return "Email A–Z"
	case gatehouse.SortEmailDesc:
		return "Email Z–A"
	case gatehouse.SortCreatedAsc:
		return "Created, oldest first"
	case gatehouse.SortCreatedDesc:
		return "Created, newest first"
	}
	return string(s)
}
