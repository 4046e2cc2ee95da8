package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// The console's audit log: the trail filtered by actor, subject, event and a range of days,
// newest first in pages, and the filtered set exported as JSON lines or CSV. The export is
// streamed a page at a time, so its size is bounded by nothing but the trail and its memory by
// one page.

const adminAuditPath = "/admin/audit"

// adminAuditData is the audit page: the filters as given, and a page of events.
type adminAuditData struct {
	Actor, Subject, Event, From, To string
	Events                          []gatehouse.AuditEvent
	Next                            string // the address of the next page; "" on the last
	// ExportJSONL and ExportCSV are the export links of the filters as given.
	ExportJSONL, ExportCSV string
}

// dayLayout is the form of the date fields (an HTML date input's value).
const dayLayout = "2006-01-02"

// adminAuditQuery reads the filters: ids of the actor and subject, an event name, and a range
// of whole days in UTC (from the start of From to the end of To).
func adminAuditQuery(r *http.Request, d *adminAuditData, limit int) (gatehouse.AuditQuery, error) {
	page, err := rest.ParsePage(r, "actor", "subject", "event", "from", "to", "format")
	if err != nil {
		return gatehouse.AuditQuery{}, outsideForm(err)
	}
	v := r.URL.Query()
	d.Actor, d.Subject, d.Event = strings.TrimSpace(v.Get("actor")), strings.TrimSpace(v.Get("subject")), strings.TrimSpace(v.Get("event"))
	d.From, d.To = strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	q := gatehouse.AuditQuery{Event: d.Event, Limit: limit}
	var p rest.Problems
	for name, f := range map[string]struct {
		in  string
		out *int64
	}{"actor": {d.Actor, &q.ActorID}, "subject": {d.Subject, &q.SubjectID}} {
		if f.in != "" {
			id, err := strconv.ParseInt(strings.TrimPrefix(f.in, "#"), 10, 64)
			p.Check(err == nil && id > 0, name, "must be a user id (the number on the user's page)")
			*f.out = id
		}
	}
	p.Check(len(d.Event) <= 64, "event", "must be at most 64 characters")
	if d.From != "" {
		day, err := time.Parse(dayLayout, d.From)
		p.Check(err == nil, "from", "must be a date (YYYY-MM-DD)")
		q.Since = day
	}
	if d.To != "" {
		day, err := time.Parse(dayLayout, d.To)
		p.Check(err == nil, "to", "must be a date (YYYY-MM-DD)")
		q.Until = day.AddDate(0, 0, 1)
	}
	p.Check(q.Since.IsZero() || q.Until.IsZero() || q.Until.After(q.Since), "to", "must not be before the first day")
	if err := p.Err(); err != nil {
		return q, err
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

// filterQuery is the query of the filters alone (no page, no format).
func (d *adminAuditData) filterQuery() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": d.Actor, "subject": d.Subject, "event": d.Event, "from": d.From, "to": d.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (w *Web) handleAdminAudit(rw http.ResponseWriter, r *http.Request) {
	d := &adminAuditData{}
	p := &page{Title: "Audit log", Data: d}
	q, invalid := adminAuditQuery(r, d, adminListLimit)
	evs, err := w.users.Audit(r.Context(), principal(r), users.AuditQuery{AuditQuery: q, Invalid: invalid})
	if err != nil {
		w.fail(rw, r, "admin_audit", p, err)
		return
	}
	evs, next := rest.Paginate(evs, q.Limit, func(e gatehouse.AuditEvent) any { return map[string]int64{"id": e.ID} })
	d.Events = evs
	filters := d.filterQuery()
	for format, dst := range map[string]*string{"jsonl": &d.ExportJSONL, "csv": &d.ExportCSV} {
		v := d.filterQuery()
		v.Set("format", format)
		*dst = adminAuditPath + "/export?" + v.Encode()
	}
	if next != "" {
		filters.Set("cursor", next)
		d.Next = adminAuditPath + "?" + filters.Encode()
	}
	w.render(rw, r, http.StatusOK, "admin_audit", p)
}

// exportPage is how many events the export reads at a time.
const exportPage = 500

// auditRecord is an exported event.
type auditRecord struct {
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

// handleAdminAuditExport streams the filtered trail, newest first: format=jsonl (one JSON
// object per line) or format=csv (a header row, then one row per event).
func (w *Web) handleAdminAuditExport(rw http.ResponseWriter, r *http.Request) {
	d := &adminAuditData{}
	q, invalid := adminAuditQuery(r, d, exportPage)
	format := r.URL.Query().Get("format")
	if invalid == nil && format != "jsonl" && format != "csv" {
		invalid = outsideForm(gatehouse.FieldError("format", "must be jsonl or csv"))
	}
	first, err := w.users.Audit(r.Context(), principal(r), users.AuditQuery{AuditQuery: q, Invalid: invalid})
	if err != nil {
		w.fail(rw, r, "admin_audit", &page{Title: "Audit log", Data: d}, err)
		return
	}
	name := "audit-" + w.now().UTC().Format("20060102-150405")
	var write func(gatehouse.AuditEvent) error
	var flush func() error
	if format == "csv" {
		rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
		cw := csv.NewWriter(rw)
		_ = cw.Write([]string{"id", "at", "event", "actor_id", "subject_id", "email", "ip", "user_agent", "detail"})
		write = func(e gatehouse.AuditEvent) error {
			return cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), cell(e.Event), idCell(e.ActorID),
				idCell(e.SubjectID), cell(e.Email), cell(e.IP), cell(e.UserAgent), cell(e.Detail)})
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	} else {
		rw.Header().Set("Content-Type", "application/x-ndjson")
		name += ".jsonl"
		enc := json.NewEncoder(rw)
		write = func(e gatehouse.AuditEvent) error {
			return enc.Encode(auditRecord{ID: e.ID, At: e.At.UTC(), Event: e.Event, ActorID: e.ActorID, SubjectID: e.SubjectID,
				Email: e.Email, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail})
		}
		flush = func() error { return nil }
	}
	rw.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	rw.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(rw)
	for evs := first; ; {
		more := len(evs) > q.Limit
		evs = evs[:min(len(evs), q.Limit)]
		for _, e := range evs {
			if err := write(e); err != nil {
				return // the client went away
			}
		}
		if err := flush(); err != nil {
			return
		}
		_ = rc.Flush()
		if !more || len(evs) == 0 {
			return
		}
		q.BeforeID = evs[len(evs)-1].ID
		var err error
		if evs, err = w.users.Audit(r.Context(), principal(r), users.AuditQuery{AuditQuery: q}); err != nil {
			// The status is sent: the export ends short, and the cause is logged.
			w.logFailure(r, err)
			return
		}
	}
}

// cell keeps a CSV field from being read as a formula by a spreadsheet (CSV injection): a
// value starting with =, +, -, @, a tab or a carriage return gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func idCell(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}
