package web

import (
	"net/http"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/teams"
)

// The team invitation page. The mailed link (PUBLIC_URL/invitations/accept?token=…) opens a page
// with a button, as the API's POST /api/v1/invitations/accept would: the token is consumed only
// by the POST, so a mail scanner that follows the link accepts nothing. The invitation is
// bound to the invited address, so the signed-in account must be that one. Accepting is the
// teams service's, as for the API.

func (w *Web) handleInvitationForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "invitation", &page{Title: "Join a team", Data: linkData{Token: r.URL.Query().Get("token")}})
}

func (w *Web) handleInvitationAccept(rw http.ResponseWriter, r *http.Request) {
	pg := &page{Title: "Join a team", Data: linkData{Token: r.PostFormValue("token")}}
	c := w.client(r)
	inv, team, err := w.teams.AcceptInvitation(r.Context(), principal(r), teams.Client(c), func() (string, error) {
		if tok := postedToken(r); tok != "" {
			return tok, nil
		}
		return "", gatehouse.FieldError("code", "is required")
	})
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			pg.Data = linkData{}
			err = gatehouse.Errorf(gatehouse.ENotFound, "this invitation is not valid: it may have expired, been used or revoked, or been sent to another email address than the one you are signed in with")
		}
		w.fail(rw, r, "invitation", pg, err)
		return
	}
	w.flash(r, flashSuccess, "You have joined the team “"+team.Name+"” as "+string(inv.Role)+".")
	http.Redirect(rw, r, "/profile#teams", http.StatusSeeOther)
}
