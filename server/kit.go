package server

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/rest"
)

// Kit is what Gatehouse lends a resource's handlers: transactions on its database with its
// conflict retries, audit events and outbox mail written in them, and the authorization decision
// for resources that belong to a team. Each resource gets its own Kit (Resource.Routes); it is
// ready once New returns, and safe for concurrent use.
//
// The decision of a route's Action is taken before its handler runs (CallerOf returns what it
// found); TeamAccess and DecideTeam are for a handler that must decide something else too.
type Kit struct {
	resource string
	log      *slog.Logger
	trusted  []netip.Prefix
	store    *store.Store // set by New once the database is open
}

// Logger returns the resource's logger (Gatehouse's, with resource=<name>).
func (k *Kit) Logger() *slog.Logger { return k.log }

// InTx runs fn in one write transaction and commits it when fn returns nil. When the engine
// reports a conflict known not to have committed (a deadlock, a serialization failure, a Galera
// certification conflict, a connection lost before COMMIT), the whole of fn runs again, a few
// times with backoff: fn must do nothing outside the transaction that cannot be repeated (no
// HTTP calls, no email but through tx.EnqueueMail). fn must use the ctx it is given. Errors come
// back as *gatehouse.Error with a code (unavailable when the database cannot serve).
func (k *Kit) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return k.store.ExtInTx(ctx, func(ctx context.Context, t *store.ExtTx) error { return fn(ctx, &Tx{t: t}) })
}

// ReadTx is InTx for transactions that only read: on SQLite they run beside a writer instead of
// waiting for the write lock.
func (k *Kit) ReadTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return k.store.ExtReadTx(ctx, func(ctx context.Context, t *store.ExtTx) error { return fn(ctx, &Tx{t: t}) })
}

// Caller is the caller of a request on a team's resource, once allowed.
type Caller struct {
	Principal *gatehouse.Principal
	// Action is the action decided.
	Action authz.Action
	// TeamID is the team that owns the resource.
	TeamID int64
	// TeamRole is the caller's role in it; "" for a global admin who is not a member.
	TeamRole gatehouse.TeamRole
}

// UserID is the caller's account id.
func (c Caller) UserID() int64 { return c.Principal.User.ID }

// TeamAccess decides a request on a resource that belongs to a team, whose id is the path value
// {id} (as in /api/v1/teams/{id}/notes): it finds the caller's role in the team and asks
// authz.Decide, once. A team that does not exist, or that the caller may not see, is not_found
// "team not found"; the other refusals are Decide's (forbidden, insufficient_scope).
func (k *Kit) TeamAccess(r *http.Request, act authz.Action) (Caller, error) {
	teamID, err := rest.PathID(r, "id", "team")
	if err != nil {
		return Caller{}, err
	}
	return k.DecideTeam(r.Context(), act, teamID)
}

// DecideTeam is TeamAccess for a team id found elsewhere than in the path.
func (k *Kit) DecideTeam(ctx context.Context, act authz.Action, teamID int64) (Caller, error) {
	p := gatehouse.PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return Caller{}, gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")
	}
	role, err := k.store.TeamRole(ctx, teamID, p.User.ID)
	if err != nil {
		return Caller{}, err
	}
	if err := authz.Decide(p, act, role); err != nil {
		return Caller{}, err
	}
	if role == "" {
		// Allowed by a global role without being a member: the team may not exist at all.
		if _, err := k.store.TeamByID(ctx, teamID); err != nil {
			return Caller{}, err
		}
	}
	return Caller{Principal: p, Action: act, TeamID: teamID, TeamRole: role}, nil
}

// Event starts an audit event about request r, named after the action the route decided
// ("notes.create"): the acting account, the client's address (behind TRUSTED_PROXIES) and user
// agent, and detail. Record it with tx.Audit in the transaction that makes the change; set its
// Event to name it otherwise, and SubjectID when it concerns an account.
func (k *Kit) Event(r *http.Request, detail string) gatehouse.AuditEvent {
	c := CallerOf(r)
	ev := gatehouse.AuditEvent{Event: string(c.Action), Detail: detail, IP: rest.ClientIP(r, k.trusted), UserAgent: r.UserAgent()}
	if p := gatehouse.PrincipalFrom(r.Context()); p != nil && p.User != nil {
		id := p.User.ID
		ev.ActorID = &id
	}
	return ev
}

// Tx is one attempt of a transaction (Kit.InTx). It is valid only inside the function it is
// given to.
//
// Statements are SQL with ? placeholders on every engine; each argument is quoted for the engine
// by the same query layer as Gatehouse's own statements (so ? is always a placeholder, never an
// operator). Errors are *gatehouse.Error with the store's codes: a unique violation is conflict,
// no row (QueryRowContext) is not_found, an engine that cannot serve is unavailable.
type Tx struct{ t *store.ExtTx }

// Now is the transaction's time: from Gatehouse's clock, in UTC to the microsecond (what every
// engine stores), the same for every statement and every retry.
func (tx *Tx) Now() time.Time { return tx.t.Now() }

// Dialect is the engine family, "postgres", "mysql" or "sqlite", for the rare statement that
// must differ.
func (tx *Tx) Dialect() string { return tx.t.Family() }

// ExecContext runs a statement.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.t.ExecContext(ctx, query, args...)
}

// QueryContext runs a query that returns rows. Close them, and check Err.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.t.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	return &Row{r: tx.t.QueryRowContext(ctx, query, args...)}
}

// Row is the result of QueryRowContext.
type Row struct{ r *store.ExtRow }

// Scan copies the row's columns into dest; no row is a not_found error. Times come back in UTC
// on every engine (see QueryAll).
func (r *Row) Scan(dest ...any) error { return inUTC(r.r.Scan(dest...), dest) }

// InsertID runs an INSERT into a table whose primary key is an auto-increment column named id,
// and returns the new row's id, on every engine.
func (tx *Tx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	return tx.t.InsertID(ctx, query, args...)
}

// Audit records ev (see Kit.Event) in the transaction, so that the event commits or rolls back
// with the change it describes. ev.At defaults to Now.
func (tx *Tx) Audit(ctx context.Context, ev gatehouse.AuditEvent) error { return tx.t.Audit(ctx, ev) }

// EnqueueMail queues m in Gatehouse's outbox in the transaction: the mail dispatcher (with SMTP
// configured) delivers it, with retries, once the transaction has committed, and never when it
// rolls back. m needs To, Subject and a Text or HTML body; the rest is filled in.
func (tx *Tx) EnqueueMail(ctx context.Context, m *gatehouse.OutboxMail) error {
	return tx.t.EnqueueMail(ctx, m)
}

// NotFound gives a not_found error the resource's own message, "<what> not found" (a row the
// caller asked for by id); other errors, and nil, pass unchanged.
func NotFound(err error, what string) error {
	var e *gatehouse.Error
	if errors.As(err, &e) && e.Code == gatehouse.ENotFound {
		return gatehouse.Wrap(gatehouse.ENotFound, err, "%s not found", what)
	}
	return err
}

// Scanner is one row to scan: a row of QueryAll, or a *Row.
type Scanner interface{ Scan(dest ...any) error }

// utcRows scans like *sql.Rows, with times in UTC.
type utcRows struct{ *sql.Rows }

func (r utcRows) Scan(dest ...any) error { return inUTC(r.Rows.Scan(dest...), dest) }

// inUTC puts the times scanned into dest in UTC: engines and drivers return them in UTC, in the
// session's zone or in a fixed +00:00 zone, which are the same instant but not the same JSON (nor
// the same ETag).
func inUTC(err error, dest []any) error {
	if err != nil {
		return err
	}
	for _, d := range dest {
		switch t := d.(type) {
		case *time.Time:
			*t = t.UTC()
		case **time.Time:
			if *t != nil {
				u := (*t).UTC()
				*t = &u
			}
		}
	}
	return nil
}

// QueryAll runs a query in tx and scans each row with scan, in order, times in UTC. The slice is
// empty, not nil, when no row matches (a list answers [], not null).
func QueryAll[T any](ctx context.Context, tx *Tx, scan func(Scanner, *T) error, query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := []T{}
	for rows.Next() {
		var v T
		if err := scan(utcRows{rows}, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ListByID answers a list request with one page of items ordered by their numeric id, the way
// every Gatehouse list pages: it reads the page parameters (limit, cursor; any other query
// parameter is a 400), runs query in a read transaction with args followed by the id the page
// starts after and the limit plus one, so query ends with "id > ? ORDER BY id LIMIT ?", and
// answers the items with a cursor to the next page only when there is one.
func ListByID[T any](w http.ResponseWriter, r *http.Request, k *Kit, scan func(Scanner, *T) error, id func(T) int64, query string, args ...any) error {
	page, after, err := rest.IDPage(r)
	if err != nil {
		return err
	}
	var items []T
	err = k.ReadTx(r.Context(), func(ctx context.Context, tx *Tx) (err error) {
		// One row more than the page tells whether another page follows.
		items, err = QueryAll(ctx, tx, scan, query, append(args, after, page.Limit+1)...)
		return err
	})
	if err != nil {
		return err
	}
	items, next := rest.Paginate(items, page.Limit, func(v T) any { return id(v) })
	return rest.RespondPage(w, r, items, page.Limit, next)
}
