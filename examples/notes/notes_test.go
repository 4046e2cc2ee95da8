package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/server"
	"github.com/gatehousehq/gatehouse/server/servertest"
)

// The tests run on every engine of the test command: SQLite alone with `go test ./...`, and
// PostgreSQL, MariaDB and Galera as well when GATEHOUSE_TEST_* name them (scripts/test does).

var resources = []server.Resource{Notes()}

type noteData struct {
	ID     int64  `json:"id"`
	TeamID int64  `json:"team_id"`
	Title  string `json:"title"`
	Body   string `json:"body"`
}

// team makes an owner with a team, a member and a viewer of it, and an outsider.
func team(e *servertest.Env) (path string, owner, member, viewer, outsider string) {
	e.CreateUser("owner@example.com", gatehouse.RoleMaintainer)
	owner = e.Login("owner@example.com")
	id := e.CreateTeam(owner, "Platform")
	for _, u := range []struct {
		email string
		role  gatehouse.TeamRole
	}{{"member@example.com", gatehouse.TeamMember}, {"viewer@example.com", gatehouse.TeamViewer}} {
		e.SetMember(owner, id, e.CreateUser(u.email), u.role)
	}
	e.CreateUser("outsider@example.com")
	return fmt.Sprintf("/api/v1/teams/%d/notes", id), owner, e.Login("member@example.com"), e.Login("viewer@example.com"), e.Login("outsider@example.com")
}

func TestNotesCRUD(t *testing.T) {
	servertest.ForEach(t, resources, func(t *testing.T, e *servertest.Env) {
		notes, owner, member, viewer, outsider := team(e)

		r := e.Do("POST", notes, member, map[string]any{"title": "Plan", "body": "ship it"}).Expect(t, http.StatusCreated, "")
		var n noteData
		r.Data(t, &n)
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("%s/%d", notes, n.ID) || n.Title != "Plan" || n.Body != "ship it" {
			t.Fatalf("created %+v at %q", n, loc)
		}
		etag := r.Header.Get("ETag")
		one := fmt.Sprintf("%s/%d", notes, n.ID)

		// Everyone in the team reads it, with the ETag it was created with; outsiders do not see it.
		for _, tok := range []string{owner, member, viewer} {
			if got := e.Do("GET", one, tok, nil).Expect(t, http.StatusOK, "").Header.Get("ETag"); got != etag {
				t.Errorf("GET ETag %q, want the creation's %q", got, etag)
			}
		}
		e.Do("GET", one, outsider, nil).Expect(t, http.StatusNotFound, "not_found")
		e.Do("GET", notes, outsider, nil).Expect(t, http.StatusNotFound, "not_found")
		e.Do("PATCH", one, viewer, map[string]any{"title": "x"}).Expect(t, http.StatusForbidden, "forbidden")
		e.Do("GET", notes+"/999999", owner, nil).Expect(t, http.StatusNotFound, "not_found")

		// PATCH with If-Match: the current ETag works once; the stale one is 412 and changes nothing.
		r = e.Do("PATCH", one, member, map[string]any{"body": "shipped"}, "If-Match", etag).Expect(t, http.StatusOK, "")
		r.Data(t, &n)
		if n.Title != "Plan" || n.Body != "shipped" || r.Header.Get("ETag") == etag {
			t.Fatalf("patched %+v, ETag %q (was %q)", n, r.Header.Get("ETag"), etag)
		}
		e.Do("PATCH", one, member, map[string]any{"title": "Lost update"}, "If-Match", etag).Expect(t, http.StatusPreconditionFailed, "precondition_failed")
		e.Do("DELETE", one, member, nil, "If-Match", etag).Expect(t, http.StatusPreconditionFailed, "precondition_failed")
		r = e.Do("GET", one, member, nil)
		if r.Data(t, &n); n.Title != "Plan" {
			t.Fatalf("a refused PATCH changed the note: %+v", n)
		}
		e.Do("DELETE", one, member, nil, "If-Match", r.Header.Get("ETag")).Expect(t, http.StatusOK, "")
		e.Do("GET", one, member, nil).Expect(t, http.StatusNotFound, "not_found")
	})
}

// Bad input is a 400 that names the field.
func TestNotesValidation(t *testing.T) {
	servertest.ForEach(t, resources, func(t *testing.T, e *servertest.Env) {
		notes, owner, _, _, _ := team(e)
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"body": "no title"}, "title"},
			{map[string]any{"title": "  "}, "title"},
			{map[string]any{"title": strings.Repeat("é", 201)}, "title"},
			{map[string]any{"title": "ok", "body": strings.Repeat("b", 20001)}, "body"},
			{map[string]any{"title": 7}, "title"},
			{map[string]any{"title": "ok", "colour": "red"}, "colour"},
		} {
			r := e.Do("POST", notes, owner, c.body).Expect(t, http.StatusBadRequest, "invalid")
			if r.Field(c.field) == "" {
				t.Errorf("POST %v: the error does not name %q: %s", c.body, c.field, r.Raw)
			}
		}
		r := e.Do("POST", notes, owner, map[string]any{"title": "ok"}).Expect(t, http.StatusCreated, "")
		var n noteData
		r.Data(t, &n)
		r = e.Do("PATCH", fmt.Sprintf("%s/%d", notes, n.ID), owner, map[string]any{"title": ""}).Expect(t, http.StatusBadRequest, "invalid")
		if r.Field("title") == "" {
			t.Errorf("PATCH with an empty title does not name the field: %s", r.Raw)
		}
	})
}

// Pages follow the cursor; the last page, even when exactly full, has no next_cursor.
func TestNotesPagination(t *testing.T) {
	servertest.ForEach(t, resources, func(t *testing.T, e *servertest.Env) {
		notes, owner, _, viewer, _ := team(e)
		for i := range 4 {
			e.Do("POST", notes, owner, map[string]any{"title": fmt.Sprintf("note %d", i)}).Expect(t, http.StatusCreated, "")
		}
		var titles []string
		cursor := ""
		for page := 0; ; page++ {
			path := notes + "?limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := e.Do("GET", path, viewer, nil).Expect(t, http.StatusOK, "")
			var got []noteData
			r.Data(t, &got)
			if len(got) != 2 {
				t.Fatalf("page %d has %d notes, want 2 (4 notes, 2 a page)", page, len(got))
			}
			for _, n := range got {
				titles = append(titles, n.Title)
			}
			if cursor = r.Body.Meta.NextCursor; cursor == "" {
				break
			}
		}
		if strings.Join(titles, ",") != "note 0,note 1,note 2,note 3" {
			t.Errorf("listed %v", titles)
		}
		if r := e.Do("GET", notes+"?limit=4", owner, nil).Expect(t, http.StatusOK, ""); r.Body.Meta.NextCursor != "" {
			t.Error("an exactly full single page has a next_cursor")
		}
		e.Do("GET", notes+"?colour=red", owner, nil).Expect(t, http.StatusBadRequest, "invalid")
	})
}

// Every cell of the notes actions' authorization matrix (global admin, maintainer, viewer, none ×
// team owner, admin, member, viewer, not a member × every set of token scopes) against the routes:
// members write, viewers read, outsiders get 404, global admins everything, and a token without
// the scope (a read-only token writing) gets 403 insufficient_scope.
func TestNotesAuthorizationMatrix(t *testing.T) {
	servertest.ForEach(t, resources, func(t *testing.T, e *servertest.Env) {
		newNote := func(f servertest.Fixture) string {
			r := e.Do("POST", fmt.Sprintf("/api/v1/teams/%d/notes", f.TeamID), f.OwnerToken, map[string]any{"title": e.Name("note")})
			var n noteData
			r.Expect(t, http.StatusCreated, "").Data(t, &n)
			return fmt.Sprintf("/api/v1/teams/%d/notes/%d", f.TeamID, n.ID)
		}
		shared := map[int64]string{} // a note per team for the requests that use nothing up
		sharedNote := func(f servertest.Fixture) string {
			if shared[f.TeamID] == "" {
				shared[f.TeamID] = newNote(f)
			}
			return shared[f.TeamID]
		}
		servertest.CheckMatrix(t, e, Notes(), map[authz.Action]servertest.Call{
			actList: func(f servertest.Fixture) servertest.Request {
				return servertest.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/teams/%d/notes", f.TeamID)}
			},
			actCreate: func(f servertest.Fixture) servertest.Request {
				return servertest.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/teams/%d/notes", f.TeamID), Body: map[string]any{"title": "t"}}
			},
			actRead: func(f servertest.Fixture) servertest.Request {
				return servertest.Request{Method: "GET", Path: sharedNote(f)}
			},
			actUpdate: func(f servertest.Fixture) servertest.Request {
				return servertest.Request{Method: "PATCH", Path: sharedNote(f), Body: map[string]any{"body": "b"}}
			},
			actDelete: func(f servertest.Fixture) servertest.Request {
				return servertest.Request{Method: "DELETE", Path: newNote(f)}
			},
		})
	})
}

// The notes appear in the server's OpenAPI document from their routes' Doc, with the scope
// their rules ask for (and every test's answers are checked against it by servertest).
func TestNotesInOpenAPIDocument(t *testing.T) {
	e := servertest.Start(t, "sqlite", resources...)
	r := e.Do("GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Summary  string                `json:"summary"`
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %v", r.Status, err)
	}
	op := doc.Paths["/api/v1/teams/{id}/notes"]["post"]
	if op.Summary != "Create a note" || len(op.Security) == 0 || !slices.Equal(op.Security[0]["bearerAuth"], []string{"write"}) {
		t.Errorf("POST /api/v1/teams/{id}/notes in the document: %+v", op)
	}
}
