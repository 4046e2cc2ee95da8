package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// A user's sessions and API keys on the user's page: listed, and ended one by one (reset access
// ends them all).

// handleAdminEndSession ends one session of the user.
func (w *Web) handleAdminEndSession(rw http.ResponseWriter, r *http.Request) {
	id := adminUserID(r)
	err := w.users.EndSession(r.Context(), principal(r), id, r.PathValue("session"), w.client(r))
	w.afterAccessChange(rw, r, id, err, "The session has ended.", "sessions")
}

// handleAdminRevokeKey revokes one API key of the user.
func (w *Web) handleAdminRevokeKey(rw http.ResponseWriter, r *http.Request) {
	id := adminUserID(r)
	key, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil || key < 1 {
		w.notFound(rw, r)
		return
	}
	err = w.users.RevokeAPIKey(r.Context(), principal(r), id, key, w.client(r))
	w.afterAccessChange(rw, r, id, err, "The API key has been revoked.", "api-keys")
}

// handleAdminUnlinkIdentity unlinks one single sign-on identity from the user.
func (w *Web) handleAdminUnlinkIdentity(rw http.ResponseWriter, r *http.Request) {
	id := adminUserID(r)
	identity, err := strconv.ParseInt(r.PathValue("identity"), 10, 64)
	if err != nil || identity < 1 {
		w.notFound(rw, r)
		return
	}
	if !w.requireFresh(rw, r, adminUserPath(id)) {
		return
	}
	err = w.auth.AdminUnlinkIdentity(r.Context(), principal(r), id, identity, w.client(r))
	w.afterAccessChange(rw, r, id, err, "The identity has been unlinked; it no longer signs in to this account.", "sso")
}

// handleAdminLinkIdentity links an identity provider's subject to the user, on the admin's word
// (as POST /api/v1/users/{id}/sso/identities does), after a fresh sign-in.
func (w *Web) handleAdminLinkIdentity(rw http.ResponseWriter, r *http.Request) {
	id := adminUserID(r)
	if id == 0 {
		w.notFound(rw, r)
		return
	}
	if !w.requireFresh(rw, r, adminUserPath(id)) {
		return
	}
	in := auth.IdentityLink{Provider: strings.TrimSpace(r.PostFormValue("provider")), Subject: strings.TrimSpace(r.PostFormValue("subject"))}
	if w.system != nil {
		for _, p := range w.system.SSOProviders(r.Context()) {
			in.Configured = in.Configured || p.ID == in.Provider
		}
	}
	switch {
	case in.Provider == "":
		in.Invalid = gatehouse.FieldError("provider", "is required")
	case in.Subject == "" || len(in.Subject) > 255:
		in.Invalid = gatehouse.FieldError("subject", "must be 1 to 255 bytes")
	}
	if _, err := w.auth.AdminLinkIdentity(r.Context(), principal(r), id, in, w.client(r)); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			w.notFound(rw, r)
			return
		}
		if p, ok := w.adminUserPage(rw, r, id); ok {
			d := p.Data.(*adminUserData)
			d.LinkProvider, d.LinkSubject = in.Provider, in.Subject
			p.Form = "link-identity"
			w.fail(rw, r, "admin_user", p, err)
		}
		return
	}
	w.flash(r, flashSuccess, "The identity is linked: it signs in to this account from now on.")
	http.Redirect(rw, r, adminUserPath(id)+"#sso", http.StatusSeeOther)
}

// afterAccessChange goes back to the user's page with the outcome. A session or key that has
// gone meanwhile (ended elsewhere, or another user's) is said so on the page.
func (w *Web) afterAccessChange(rw http.ResponseWriter, r *http.Request, id int64, err error, done, anchor string) {
	switch {
	case id == 0:
		w.notFound(rw, r)
		return
	case gatehouse.ErrorCode(err) == gatehouse.ENotFound:
		w.flash(r, flashError, "That has ended already, or belongs to no session or key of this user.")
	case err != nil:
		w.serverError(rw, r, err)
		return
	default:
		w.flash(r, flashSuccess, done)
	}
	http.Redirect(rw, r, adminUserPath(id)+"#"+anchor, http.StatusSeeOther)
}
