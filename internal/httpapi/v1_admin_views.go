package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// The admin views of the mail outbox and the audit trail, newest first, paged by id.

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

// outboxQuery reads the filter and page of GET /api/v1/admin/outbox.
func outboxQuery(r *http.Request) (gatehouse.MailQuery, Page, error) {
	page, err := ParsePage(r, "status")
	if err != nil {
		return gatehouse.MailQuery{}, page, err
	}
	v, err := singleParams(r, "status")
	if err != nil {
		return gatehouse.MailQuery{}, page, err
	}
	q := gatehouse.MailQuery{Status: gatehouse.MailStatus(v["status"]), Limit: page.Limit}
	if q.Status != "" && !q.Status.Valid() {
		return q, page, gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	q.BeforeID, err = adminViewBefore(page)
	return q, page, err
}

func (s *server) handleAdminOutbox(w http.ResponseWriter, r *http.Request) error {
	q, page, err := outboxQuery(r)
	ms, err := s.users.Outbox(r.Context(), gatehouse.PrincipalFrom(r.Context()), users.OutboxQuery{MailQuery: q, Invalid: err})
	if err != nil {
		return err
	}
	ms, next := rest.Paginate(ms, page.Limit, func(m gatehouse.OutboxMail) any { return adminViewCursor{ID: m.ID} })
	out := make([]outboxItem, len(ms))
	for i := range ms {
		out[i] = outboxItemOf(&ms[i])
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func outboxItemOf(m *gatehouse.OutboxMail) outboxItem {
	return outboxItem{
		ID: m.ID, To: m.To, Subject: m.Subject, Status: string(m.Status), Attempts: m.Attempts,
		NextAttemptAt: m.NextAttemptAt, LockedUntil: m.LockedUntil, LastError: m.LastError,
		CreatedAt: m.CreatedAt, SentAt: m.SentAt,
	}
}

// handleAdminOutboxRetry queues a failed message again (409 mail_not_failed for any other).
func (s *server) handleAdminOutboxRetry(w http.ResponseWriter, r *http.Request) error {
	id, _ := rest.PathID(r, "id", "")
	m, err := s.users.RetryMail(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, outboxItemOf(m))
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

// auditQuery reads the filters and page of GET /api/v1/admin/audit.
func auditQuery(r *http.Request) (gatehouse.AuditQuery, Page, error) {
	page, err := ParsePage(r, "subject_id", "actor_id", "event", "since", "until")
	if err != nil {
		return gatehouse.AuditQuery{}, page, err
	}
	v, err := singleParams(r, "subject_id", "actor_id", "event", "since", "until")
	if err != nil {
		return gatehouse.AuditQuery{}, page, err
	}
	q := gatehouse.AuditQuery{Event: v["event"], Limit: page.Limit}
	var problems Problems
	for name, dst := range map[string]*int64{"subject_id": &q.SubjectID, "actor_id": &q.ActorID} {
		if s := v[name]; s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			problems.Check(err == nil && id > 0, name, "must be a user id (a positive integer)")
			*dst = id
		}
	}
	for name, dst := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if s := v[name]; s != "" {
			at, err := time.Parse(time.RFC3339, s)
			problems.Check(err == nil, name, "must be a time in RFC 3339 form, like 2026-01-02T15:04:05Z")
			*dst = at
		}
	}
	problems.Check(q.Since.IsZero() || q.Until.IsZero() || q.Until.After(q.Since), "until", "must be after since")
	problems.Check(len(q.Event) <= 64, "event", "must be at most 64 characters")
	if err := problems.Err(); err != nil {
		return q, page, err
	}
	q.BeforeID, err = adminViewBefore(page)
	return q, page, err
}

func (s *server) handleAdminAudit(w http.ResponseWriter, r *http.Request) error {
	q, page, err := auditQuery(r)
	evs, err := s.users.Audit(r.Context(), gatehouse.PrincipalFrom(r.Context()), users.AuditQuery{AuditQuery: q, Invalid: err})
	if err != nil {
		return err
	}
	evs, next := rest.Paginate(evs, page.Limit, func(e gatehouse.AuditEvent) any { return adminViewCursor{ID: e.ID} })
	out := make([]auditItem, len(evs))
	for i, e := range evs {
		out[i] = auditItem{ID: e.ID, At: e.At, Event: e.Event, ActorID: e.ActorID, SubjectID: e.SubjectID,
			Email: e.Email, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	}
	return RespondPage(w, r, out, page.Limit, next)
}
