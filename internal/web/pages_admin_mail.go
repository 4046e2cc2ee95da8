package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// The console's mail outbox: queued, sent and failed messages, newest first, without their
// bodies (they hold confirmation and reset links), and a failed one put back in the queue.

const adminMailPath = "/admin/mail"

// adminMailData is the outbox page.
type adminMailData struct {
	Status   string
	Statuses []gatehouse.MailStatus
	Mail     []gatehouse.OutboxMail
	Next     string
}

func (w *Web) handleAdminMail(rw http.ResponseWriter, r *http.Request) {
	d := &adminMailData{Statuses: []gatehouse.MailStatus{gatehouse.MailPending, gatehouse.MailSent, gatehouse.MailFailed}}
	p := &page{Title: "Mail", Data: d}
	q, invalid := adminMailQuery(r, d)
	ms, err := w.users.Outbox(r.Context(), principal(r), users.OutboxQuery{MailQuery: q, Invalid: invalid})
	if err != nil {
		w.fail(rw, r, "admin_mail", p, err)
		return
	}
	ms, next := rest.Paginate(ms, q.Limit, func(m gatehouse.OutboxMail) any { return map[string]int64{"id": m.ID} })
	d.Mail = ms
	if next != "" {
		v := url.Values{"cursor": {next}}
		if d.Status != "" {
			v.Set("status", d.Status)
		}
		d.Next = adminMailPath + "?" + v.Encode()
	}
	w.render(rw, r, http.StatusOK, "admin_mail", p)
}

// adminMailQuery reads the status filter and the page.
func adminMailQuery(r *http.Request, d *adminMailData) (gatehouse.MailQuery, error) {
	page, err := rest.ParsePage(r, "status")
	if err != nil {
		return gatehouse.MailQuery{}, outsideForm(err)
	}
	d.Status = strings.TrimSpace(r.URL.Query().Get("status"))
	q := gatehouse.MailQuery{Status: gatehouse.MailStatus(d.Status), Limit: adminListLimit}
	if q.Status != "" && !q.Status.Valid() {
		return q, gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	var c struct {
		ID int64 `json:"id"`
	}
	if page.Cursor != nil {
		if err := page.DecodeCursor(&c); err != nil || c.ID < 1 {
			return q, outsideForm(gatehouse.FieldError("cursor", "is not a cursor of this list"))
		}
		q.BeforeID = c.ID
	}
	return q, nil
}

func (w *Web) handleAdminMailRetry(rw http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		w.notFound(rw, r)
		return
	}
	m, err := w.users.RetryMail(r.Context(), principal(r), id, w.client(r))
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENotFound:
		w.notFound(rw, r)
		return
	case gatehouse.ErrorCode(err) == gatehouse.EConflict:
		w.flash(r, flashError, sentence(gatehouse.ErrorMessage(err)))
	case err != nil:
		w.serverError(rw, r, err)
		return
	default:
		w.flash(r, flashSuccess, "The mail to "+m.To+" is queued again and goes out shortly.")
	}
	http.Redirect(rw, r, adminMailPath+"?status=failed", http.StatusSeeOther)
}
