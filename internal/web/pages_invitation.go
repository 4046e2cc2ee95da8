package web

import (
	"net/http"
	"strconv"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// The team invitation page. The mailed link (PUBLIC_URL/invitations/accept?token=…) opens a page
// with a button, as the API's POST /api/v1/invitations/accept would: the token is consumed only
// by the POST, so a mail scanner that follows the link accepts nothing. The invitation is
// bound to the invited address, so the signed-in account must be that one.

func (w *Web) handleInvitationForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "invitation", &page{Title: "Join a team", Data: linkData{Token: r.URL.Query().Get("token")}})
}

func (w *Web) handleInvitationAccept(rw http.ResponseWriter, r *http.Request) {
	p := principal(r)
	ctx := r.Context()
	tok := postedToken(r)
	pg := &page{Title: "Join a team", Data: linkData{Token: r.PostFormValue("token")}}
	if err := rbac.Decide(p, rbac.ActInvitationAccept, ""); err != nil {
		w.fail(rw, r, "invitation", pg, err)
		return
	}
	if tok == "" {
		w.fail(rw, r, "invitation", pg, gatehouse.FieldError("code", "is required"))
		return
	}
	inv, err := w.store.AcceptInvitation(ctx, w.auth.HashOneTimeSecret(tok), p.User.ID)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			pg.Data = linkData{}
			err = gatehouse.Errorf(gatehouse.ENotFound, "this invitation is not valid: it may have expired, been used or revoked, or been sent to another email address than the one you are signed in with")
		}
		w.fail(rw, r, "invitation", pg, err)
		return
	}
	c := w.client(r)
	uid := p.User.ID
	if err := w.store.RecordAudit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationAccepted, SubjectID: &uid, ActorID: &uid,
		Email: inv.Email, IP: c.IP, UserAgent: c.UserAgent,
		Detail: "team " + strconv.FormatInt(inv.TeamID, 10) + ": invitation " + strconv.FormatInt(inv.ID, 10) + ", joined as " + string(inv.Role)}); err != nil {
		w.log.Error("audit event not recorded", "event", gatehouse.AuditInvitationAccepted, "error", err)
	}
	name := "the team"
	if t, err := w.store.TeamByID(ctx, inv.TeamID); err == nil {
		name = "the team “" + t.Name + "”"
	}
	w.flash(r, flashSuccess, "You have joined "+name+" as "+string(inv.Role)+".")
	http.Redirect(rw, r, "/profile#teams", http.StatusSeeOther)
}
