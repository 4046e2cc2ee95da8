package main

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/rest"
	"github.com/gatehousehq/gatehouse/server"
)

// The actions on notes, decided like Gatehouse's projects: every member of the team reads,
// owners, admins and members write (viewers only read), global admins do all of it everywhere.
const (
	actList, actCreate, actRead = "notes.list", "notes.create", "notes.read"
	actUpdate, actDelete        = "notes.update", "notes.delete"
)

//go:embed migrations
var migrations embed.FS

// Notes is the resource: a team's notes at /api/v1/teams/{id}/notes.
func Notes() server.Resource {
	return server.Resource{
		Name: "notes",
		Rules: []authz.Rule{
			authz.TeamRule("Notes", actList, gatehouse.ScopeRead, "list this team's notes", authz.AllTeamRoles),
			authz.TeamRule("Notes", actCreate, gatehouse.ScopeWrite, "create notes in this team", authz.TeamWriters),
			authz.TeamRule("Notes", actRead, gatehouse.ScopeRead, "read this team's notes", authz.AllTeamRoles),
			authz.TeamRule("Notes", actUpdate, gatehouse.ScopeWrite, "change this team's notes", authz.TeamWriters),
			authz.TeamRule("Notes", actDelete, gatehouse.ScopeWrite, "delete this team's notes", authz.TeamWriters),
		},
		Migrations: migrations,
		Routes: func(k *server.Kit) []rest.Route {
			h, notes, one := handlers{k}, "/api/v1/teams/{id}/notes", "/api/v1/teams/{id}/notes/{note_id}"
			return []rest.Route{
				{Pattern: "GET " + notes, Handler: h.list, Auth: rest.Authenticated, Action: actList, Doc: &rest.Operation{Summary: "List a team's notes", Response: note{}, List: true}},
				{Pattern: "POST " + notes, Handler: h.create, Auth: rest.Authenticated, Action: actCreate, Doc: &rest.Operation{Summary: "Create a note", Request: input{}, Response: note{}, Status: http.StatusCreated}},
				{Pattern: "GET " + one, Handler: h.item, Auth: rest.Authenticated, Action: actRead, Doc: &rest.Operation{Summary: "Read a note", Response: note{}}},
				{Pattern: "PATCH " + one, Handler: h.item, Auth: rest.Authenticated, Action: actUpdate, Doc: &rest.Operation{Summary: "Change a note", Request: input{}, Response: note{}, Errors: []int{http.StatusPreconditionFailed}}},
				{Pattern: "DELETE " + one, Handler: h.item, Auth: rest.Authenticated, Action: actDelete, Doc: &rest.Operation{Summary: "Delete a note", Response: map[string]string{}, Errors: []int{http.StatusPreconditionFailed}}},
			}
		},
	}
}

// note is a note on the wire; its ETag is computed from it.
type note struct {
	ID        int64     `json:"id"`
	TeamID    int64     `json:"team_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedBy *int64    `json:"created_by"` // null once the author's account is deleted
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const columns = "id, team_id, title, body, created_by, created_at, updated_at"

func scan(row server.Scanner, n *note) error {
	return row.Scan(&n.ID, &n.TeamID, &n.Title, &n.Body, &n.CreatedBy, &n.CreatedAt, &n.UpdatedAt)
}

// input is the body of POST and PATCH; on PATCH an absent field stays as it is.
type input struct {
	Title *string `json:"title"`
	Body  *string `json:"body"`
}

// Validate runs after rest.Decode; each problem names its field (400).
func (in input) Validate() error {
	var p rest.Problems
	p.Check(in.Title == nil || strings.TrimSpace(*in.Title) != "", "title", "must not be empty")
	p.Check(in.Title == nil || utf8.RuneCountInString(*in.Title) <= 200, "title", "must be at most 200 characters")
	p.Check(in.Body == nil || utf8.RuneCountInString(*in.Body) <= 20000, "body", "must be at most 20000 characters")
	return p.Err()
}

type handlers struct{ k *server.Kit }

func (h handlers) list(w http.ResponseWriter, r *http.Request) error {
	return server.ListByID(w, r, h.k, scan, func(n note) int64 { return n.ID },
		"SELECT "+columns+" FROM notes WHERE team_id = ? AND id > ? ORDER BY id LIMIT ?", server.CallerOf(r).TeamID)
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in input
	if err := rest.Decode(r, &in); err != nil {
		return err
	}
	if in.Title == nil {
		return gatehouse.FieldError("title", "is required")
	}
	c := server.CallerOf(r)
	n := note{TeamID: c.TeamID, Title: *in.Title, Body: *cmp.Or(in.Body, new("")), CreatedBy: new(c.UserID())}
	err := h.k.InTx(r.Context(), func(ctx context.Context, tx *server.Tx) (err error) {
		n.CreatedAt, n.UpdatedAt = tx.Now(), tx.Now()
		n.ID, err = tx.InsertID(ctx, "INSERT INTO notes (team_id, title, body, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			n.TeamID, n.Title, n.Body, n.CreatedBy, n.CreatedAt, n.UpdatedAt)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, h.k.Event(r, fmt.Sprintf("team %d, note %d", n.TeamID, n.ID)))
	})
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, fmt.Sprintf("/api/v1/teams/%d/notes/%d", n.TeamID, n.ID), n)
}

// item serves GET, PATCH and DELETE of one note. PATCH and DELETE check If-Match against the
// note as their transaction reads it (412 when it changed) and are audited in that transaction.
func (h handlers) item(w http.ResponseWriter, r *http.Request) error {
	id, err := rest.PathID(r, "note_id", "note")
	if err != nil {
		return err
	}
	var in input
	if r.Method == http.MethodPatch {
		if err := rest.Decode(r, &in); err != nil {
			return err
		}
	}
	c, n, run := server.CallerOf(r), note{}, h.k.InTx
	if r.Method == http.MethodGet {
		run = h.k.ReadTx
	}
	err = run(r.Context(), func(ctx context.Context, tx *server.Tx) error {
		row := tx.QueryRowContext(ctx, "SELECT "+columns+" FROM notes WHERE team_id = ? AND id = ?", c.TeamID, id)
		if err := server.NotFound(scan(row, &n), "note"); err != nil || r.Method == http.MethodGet {
			return err
		}
		if err := rest.CheckIfMatch(r, rest.ETag(n)); err != nil {
			return err
		}
		query, args := "DELETE FROM notes WHERE id = ?", []any{n.ID}
		if r.Method == http.MethodPatch {
			n.Title, n.Body, n.UpdatedAt = *cmp.Or(in.Title, &n.Title), *cmp.Or(in.Body, &n.Body), tx.Now()
			query, args = "UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?", []any{n.Title, n.Body, n.UpdatedAt, n.ID}
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		return tx.Audit(ctx, h.k.Event(r, fmt.Sprintf("team %d, note %d", n.TeamID, n.ID)))
	})
	switch {
	case err != nil:
		return err
	case r.Method == http.MethodDelete:
		return rest.Respond(w, r, http.StatusOK, map[string]string{"message": "note deleted"})
	}
	return rest.RespondResource(w, r, http.StatusOK, n)
}
