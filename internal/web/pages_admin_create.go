package web

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
)

// Creating a user from the console: the address, the roles, and whether the address is known to
// be the user's. Where password recovery by email is on, the admin may instead invite the user:
// the account has no password and its owner is mailed a link to choose one (which also confirms
// the address). Otherwise the account gets a one-time password, drawn here and shown once to the
// admin, which the user must change at the first sign-in (as the default admin must); where
// email is on and the address is not marked confirmed, the user is also sent the confirmation
// link.

const adminNewUserPath = "/admin/users/new"

// adminNewUserData is the creation form, and after it the one-time password.
type adminNewUserData struct {
	Email     string
	Roles     []gatehouse.Role
	Checked   map[gatehouse.Role]bool
	Confirmed bool
	Mail      bool // confirmation mail can be sent
	// CanInvite: the user can be invited to choose the password by email; Invite is the choice.
	CanInvite, Invite bool

	Created  *gatehouse.User
	Password string // the one-time password, shown once
}

func (w *Web) newUserData() *adminNewUserData {
	can := w.auth.RecoveryEnabled()
	return &adminNewUserData{Roles: gatehouse.Roles, Checked: map[gatehouse.Role]bool{gatehouse.RoleViewer: true}, Confirmed: true, Mail: w.mail,
		CanInvite: can, Invite: can}
}

func (w *Web) handleAdminNewUserForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "admin_user_new", &page{Title: "New user", Data: w.newUserData()})
}

// oneTimePasswordAlphabet leaves out letters and digits that are easily confused.
const oneTimePasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// oneTimePassword draws 20 characters (about 99 bits) in groups of five, easy to read out.
func oneTimePassword() string {
	var b strings.Builder
	for i := range 20 {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(oneTimePasswordAlphabet[randIndex(len(oneTimePasswordAlphabet))])
	}
	return b.String()
}

// randIndex draws an index below n without bias (rejection sampling).
func randIndex(n int) int {
	limit := 256 - 256%n
	var c [1]byte
	for {
		_, _ = rand.Read(c[:]) // crypto/rand.Read never fails
		if int(c[0]) < limit {
			return int(c[0]) % n
		}
	}
}

func (w *Web) handleAdminNewUser(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, adminNewUserPath) {
		return
	}
	d := w.newUserData()
	d.Email, d.Confirmed = strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("confirmed") != ""
	d.Checked = map[gatehouse.Role]bool{}
	d.Invite = d.CanInvite && r.PostFormValue("access") == "invite"
	in := users.NewUser{Email: d.Email, Confirmed: d.Confirmed || !w.mail, MustChangePassword: true, Password: oneTimePassword()}
	if d.Invite {
		// The link the owner is mailed proves the address when it is used.
		in = users.NewUser{Email: d.Email, Invite: true}
	}
	for _, name := range r.PostForm["roles"] {
		role := gatehouse.Role(name)
		if !role.Valid() {
			in.Invalid = gatehouse.FieldError("roles", "must be admin, maintainer or viewer")
			break
		}
		d.Checked[role] = true
		in.Roles = append(in.Roles, role)
	}
	u, err := w.users.Create(r.Context(), principal(r), in, w.client(r))
	if err != nil {
		w.fail(rw, r, "admin_user_new", &page{Title: "New user", Data: d}, err)
		return
	}
	d.Created, d.Password = u, in.Password
	w.render(rw, r, http.StatusOK, "admin_user_new", &page{Title: "New user", Data: d})
}
