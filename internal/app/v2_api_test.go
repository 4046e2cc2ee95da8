package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/rest"
)

// v2Env starts Gatehouse with usernames on, mail, and a host route under /api/v1/ that reads
// identifiers (its /api/v2/ twin is derived like every other).
func v2Env(t *testing.T, db config.DB) *env {
	cfg := usernameConfig(db)
	return startWith(t, cfg, true, app.Options{}, func(a *app.App) {
		a.AddRoutes(httpapi.Route{Pattern: "POST /api/v1/widgets", Auth: rest.Authenticated, Handler: func(w http.ResponseWriter, r *http.Request) error {
			var req struct {
				TeamID  int64  `json:"team_id"`
				OwnerID *int64 `json:"owner_id"`
				Name    string `json:"name"`
			}
			if err := rest.Decode(r, &req); err != nil {
				return err
			}
			return rest.Respond(w, r, http.StatusCreated, map[string]any{"id": 77, "team_id": req.TeamID, "owner_id": req.OwnerID, "name": req.Name})
		}})
	})
}

// doCT sends body with the content type (merge patches, malformed bodies) and decodes the
// envelope.
func (e *env) doCT(method, path, bearer, contentType, body string) *response {
	e.t.Helper()
	return e.doCTHeader(method, path, bearer, contentType, body, "", "")
}

// members decodes data into a map keeping numbers as json.Number, so that a string "7" and a
// number 7 stay apart.
func members(t *testing.T, r *response) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body.Data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("data is not an object: %v\n%s", err, r.Raw)
	}
	return m
}

// isIDString reports whether v is a decimal string, as v2 writes identifiers.
func isIDString(v any) bool {
	s, ok := v.(string)
	return ok && s != "" && strings.Trim(s, "0123456789") == ""
}

// TestV2Identifiers: every identifier member is a string in v2 responses and a number in v1's,
// and v2 accepts both in request bodies.
func TestV2Identifiers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := v2Env(t, db)
		e.createUser("root@example.com", strongPassword, "admin")
		root := e.login("root@example.com", strongPassword).AccessToken

		r := e.do("POST", "/api/v2/teams", root, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		team := members(t, r)
		if !isIDString(team["id"]) {
			t.Fatalf("v2 team id = %#v", team["id"])
		}
		tp := "/api/v2/teams/" + team["id"].(string)
		r = e.do("POST", tp+"/projects", root, map[string]string{"name": "Gateway"})
		e.expect(r, http.StatusCreated, "")
		if p := members(t, r); !isIDString(p["id"]) || p["team_id"] != team["id"] {
			t.Errorf("v2 project = %v", p)
		}
		me := members(t, e.do("GET", "/api/v2/me", root, nil))
		r = e.do("GET", tp+"/members/"+me["id"].(string), root, nil)
		e.expect(r, http.StatusOK, "")
		if m := members(t, r); m["user_id"] != me["id"] {
			t.Errorf("v2 member = %v, me = %v", m, me["id"])
		}
		r = e.do("POST", "/api/v2/api-keys", root, map[string]any{"name": "ci", "scopes": []string{"read"}})
		e.expect(r, http.StatusCreated, "")
		if k := members(t, r); !isIDString(k["id"]) || k["parent_key_id"] != nil {
			t.Errorf("v2 key = %v", k)
		}
		// The audit log nests identifiers (actor_id, subject_id) in its items.
		r = e.do("GET", "/api/v2/admin/audit?limit=5", root, nil)
		e.expect(r, http.StatusOK, "")
		if strings.Contains(string(r.Body.Data), `_id":1`) || strings.Contains(string(r.Body.Data), `"id":1`) || !strings.Contains(string(r.Body.Data), `"actor_id":"`) {
			t.Errorf("v2 audit items keep numeric identifiers: %s", r.Body.Data)
		}

		// An error message naming an endpoint names v2's.
		r = e.do("PATCH", "/api/v2/me", root, map[string]string{"email": "x@example.com"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if f := r.Body.Error.Fields["email"]; !strings.Contains(f, "POST /api/v2/me/email") {
			t.Errorf("v2 message names %q", f)
		}

		// v1 still answers numbers, for the same resource.
		r = e.do("GET", "/api/v1/teams/"+team["id"].(string), root, nil)
		if v := members(t, r)["id"]; fmt.Sprint(v) != team["id"] || isIDString(v) {
			t.Errorf("v1 team id = %#v", v)
		}

		// Requests: strings or numbers, into the host's integer fields.
		for _, body := range []string{`{"team_id":"12","owner_id":"5","name":"w"}`, `{"team_id":12,"owner_id":5,"name":"w"}`} {
			r = e.doCT("POST", "/api/v2/widgets", root, "application/json", body)
			e.expect(r, http.StatusCreated, "")
			if w := members(t, r); w["team_id"] != "12" || w["owner_id"] != "5" || w["id"] != "77" {
				t.Errorf("v2 widget from %s = %v", body, w)
			}
			if loc := r.Header.Get("Location"); loc != "/api/v2/widgets/77" {
				t.Errorf("v2 widget Location = %q", loc)
			}
		}
		r = e.doCT("POST", "/api/v1/widgets", root, "application/json", `{"team_id":"12"}`)
		e.expect(r, http.StatusBadRequest, "invalid")
		r = e.doCT("POST", "/api/v2/widgets", root, "application/json", `{"team_id":"twelve"}`)
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["team_id"] == "" {
			t.Errorf("bad identifier not named: %s", r.Raw)
		}
	})
}

// TestV2Lists: the lists v1 returns whole page in v2 like every list (meta.limit always,
// meta.next_cursor only when more follows); v1's answer is unchanged.
func TestV2Lists(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := v2Env(t, db)
		e.createUser("root@example.com", strongPassword, "admin")
		var root string
		for range 3 {
			root = e.login("root@example.com", strongPassword).AccessToken
		}
		var seen []string
		next := "/api/v2/auth/sessions?limit=2"
		for next != "" {
			r := e.do("GET", next, root, nil)
			e.expect(r, http.StatusOK, "")
			var page []struct {
				ID string `json:"id"`
			}
			r.data(t, &page)
			var meta struct {
				Meta map[string]any `json:"meta"`
			}
			_ = json.Unmarshal(r.Raw, &meta)
			if meta.Meta["limit"] != float64(2) || len(page) == 0 || len(page) > 2 {
				t.Fatalf("%s = %s", next, r.Raw)
			}
			for _, s := range page {
				seen = append(seen, s.ID)
			}
			next = ""
			if c := r.Body.Meta.NextCursor; c != "" {
				next = "/api/v2/auth/sessions?limit=2&cursor=" + c
			} else if _, ok := meta.Meta["next_cursor"]; ok {
				t.Errorf("empty next_cursor present on the last page: %s", r.Raw)
			}
		}
		if len(seen) != 3 || seen[0] == seen[1] || seen[1] == seen[2] {
			t.Errorf("sessions over the pages = %v", seen)
		}
		// v1: the whole list, no limit.
		r := e.do("GET", "/api/v1/auth/sessions?limit=2", root, nil)
		var all []any
		r.data(t, &all)
		if len(all) != 3 || strings.Contains(string(r.Raw), `"limit"`) {
			t.Errorf("v1 sessions = %s", r.Raw)
		}
		for _, path := range []string{"/api/v2/me/2fa/webauthn"} {
			r := e.do("GET", path, root, nil)
			e.expect(r, http.StatusOK, "")
			if !strings.Contains(string(r.Raw), `"limit":50`) || !strings.HasPrefix(string(r.Body.Data), "[") {
				t.Errorf("%s = %s", path, r.Raw)
			}
		}
		e.expect(e.do("GET", "/api/v2/auth/sessions?limit=0", root, nil), http.StatusBadRequest, "invalid")
		e.expect(e.do("GET", "/api/v2/auth/sessions?cursor=nonsense", root, nil), http.StatusBadRequest, "invalid")
	})
}

// TestV2Created: every 201 of v2 has a Location under /api/v2/, naming the new resource.
func TestV2Created(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := v2Env(t, db)
		e.createUser("root@example.com", strongPassword, "admin")
		e.createUser("member@example.com", strongPassword, "viewer")
		root := e.login("root@example.com", strongPassword).AccessToken
		created := func(path string, body any) map[string]any {
			t.Helper()
			r := e.do("POST", path, root, body)
			e.expect(r, http.StatusCreated, "")
			m := members(t, r)
			want := path + "/" + fmt.Sprint(m["id"])
			if loc := r.Header.Get("Location"); loc != want {
				t.Errorf("POST %s: Location = %q, want %q", path, loc, want)
			}
			// The Location answers.
			e.expect(e.do("GET", r.Header.Get("Location"), root, nil), http.StatusOK, "")
			return m
		}
		team := created("/api/v2/teams", map[string]string{"name": "Platform"})
		tp := "/api/v2/teams/" + team["id"].(string)
		created(tp+"/projects", map[string]string{"name": "Gateway"})
		created(tp+"/invitations", map[string]string{"email": "guest@example.com", "role": "member"})
		created("/api/v2/users", map[string]any{"email": "made@example.com", "password": strongPassword3})
		r := e.do("POST", "/api/v2/api-keys", root, map[string]any{"name": "ci", "scopes": []string{"read"}})
		e.expect(r, http.StatusCreated, "")
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/api/v2/api-keys/") {
			t.Errorf("API key Location = %q", loc)
		}
		member := fmt.Sprint(e.userID("member@example.com"))
		r = e.do("PUT", tp+"/members/"+member, root, map[string]string{"role": "member"})
		e.expect(r, http.StatusCreated, "")
		if loc := r.Header.Get("Location"); loc != tp+"/members/"+member {
			t.Errorf("member Location = %q", loc)
		}
	})
}

// TestV2MergePatch: PATCH of teams, projects and users accepts application/merge-patch+json,
// where null removes (RFC 7396); v1, and application/json in v2, keep null as "unchanged".
func TestV2MergePatch(t *testing.T) {
	const mp = "application/merge-patch+json"
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := v2Env(t, db)
		e.createUser("root@example.com", strongPassword, "admin")
		root := e.login("root@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v2/teams", root, map[string]string{"name": "Platform", "description": "the platform team"})
		e.expect(r, http.StatusCreated, "")
		tp := r.Header.Get("Location")

		// application/json: null leaves the description as it is, in v1 and v2.
		for _, path := range []string{tp, strings.Replace(tp, "/api/v2/", "/api/v1/", 1)} {
			r = e.doCT("PATCH", path, root, "application/json", `{"description":null}`)
			e.expect(r, http.StatusOK, "")
			if members(t, r)["description"] != "the platform team" {
				t.Errorf("%s with a JSON null: %s", path, r.Raw)
			}
		}
		// A merge patch: null clears it, other members are set, absent ones stay.
		r = e.doCT("PATCH", tp, root, mp, `{"description":null,"name":"Core"}`)
		e.expect(r, http.StatusOK, "")
		if m := members(t, r); m["description"] != "" || m["name"] != "Core" {
			t.Errorf("team after the merge patch = %v", m)
		}
		// The name cannot be removed: the validation of "" answers.
		r = e.doCT("PATCH", tp, root, mp+"; charset=utf-8", `{"name":null}`)
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["name"] == "" {
			t.Errorf("null name: %s", r.Raw)
		}
		// Not in v1.
		e.expect(e.doCT("PATCH", strings.Replace(tp, "/api/v2/", "/api/v1/", 1), root, mp, `{}`), http.StatusUnsupportedMediaType, "unsupported_media_type")
		// If-Match still applies.
		e.expect(e.doCTHeader("PATCH", tp, root, mp, `{"name":"X"}`, "If-Match", `"stale"`), http.StatusPreconditionFailed, "precondition_failed")

		// Projects.
		r = e.do("POST", tp+"/projects", root, map[string]string{"name": "Gateway", "description": "edge"})
		e.expect(r, http.StatusCreated, "")
		pp := r.Header.Get("Location")
		r = e.doCT("PATCH", pp, root, mp, `{"description":null}`)
		e.expect(r, http.StatusOK, "")
		if m := members(t, r); m["description"] != "" || m["name"] != "Gateway" {
			t.Errorf("project after the merge patch = %v", m)
		}

		// Users: null removes the username and the global roles; a flag cannot be removed.
		r = e.do("POST", "/api/v2/users", root, map[string]any{"email": "made@example.com", "username": "made", "password": strongPassword3, "roles": []string{"viewer"}})
		e.expect(r, http.StatusCreated, "")
		up := r.Header.Get("Location")
		r = e.doCT("PATCH", up, root, mp, `{"username":null,"roles":null}`)
		e.expect(r, http.StatusOK, "")
		if m := members(t, r); m["username"] != nil || fmt.Sprint(m["roles"]) != "[]" {
			t.Errorf("user after the merge patch = %v", m)
		}
		r = e.doCT("PATCH", up, root, mp, `{"active":null}`)
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["active"] == "" {
			t.Errorf("null flag: %s", r.Raw)
		}
		if m := members(t, e.do("GET", up, root, nil)); m["active"] != true {
			t.Errorf("user after the refused patch = %v", m)
		}
	})
}

// TestV2ErrorCodes: the same mistakes get the same status and error code in both versions.
func TestV2ErrorCodes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := v2Env(t, db)
		e.createUser("root@example.com", strongPassword, "admin")
		e.createUser("viewer@example.com", strongPassword, "viewer")
		root := e.login("root@example.com", strongPassword).AccessToken
		viewer := e.login("viewer@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", root, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		team := fmt.Sprint(members(t, r)["id"])
		cases := []struct {
			method, path, bearer, ct, body, header, value string
		}{
			{"POST", "/teams", root, "application/json", `{"name":""}`, "", ""},
			{"POST", "/teams", root, "application/json", `{"name":"x","nick":1}`, "", ""},
			{"POST", "/teams", root, "application/json", `{"name":`, "", ""},
			{"GET", "/me", "", "", "", "", ""},
			{"GET", "/users", viewer, "", "", "", ""},
			{"GET", "/teams/999999999", root, "", "", "", ""},
			{"GET", "/teams/abc", root, "", "", "", ""},
			{"GET", "/nowhere", root, "", "", "", ""},
			{"PUT", "/teams", root, "application/json", `{}`, "", ""},
			{"POST", "/users", root, "application/json", `{"email":"root@example.com","password":"` + strongPassword3 + `"}`, "", ""},
			{"PATCH", "/teams/" + team, root, "application/json", `{"name":"y"}`, "If-Match", `"stale"`},
			{"POST", "/auth/login", "", "application/json", `{"email":"` + strings.Repeat("a", 17<<10) + `"}`, "", ""},
			{"POST", "/teams", root, "text/plain", `name=x`, "", ""},
			{"POST", "/auth/login", "", "application/json", `{"email":"root@example.com","password":"wrong"}`, "", ""},
		}
		for _, c := range cases {
			var got [2]string
			for i, v := range []string{"/api/v1", "/api/v2"} {
				r := e.doCTHeader(c.method, v+c.path, c.bearer, c.ct, c.body, c.header, c.value)
				if r.Body.Meta.Version != i+1 {
					t.Errorf("%s %s%s: meta.version = %d", c.method, v, c.path, r.Body.Meta.Version)
				}
				fields, _ := json.Marshal(r.Body.Error)
				got[i] = fmt.Sprintf("%d %s %s", r.Status, r.code(), fields)
			}
			if got[0] != got[1] || got[0][0] != '4' {
				t.Errorf("%s %s: v1 %s, v2 %s", c.method, c.path, got[0], got[1])
			}
		}
	})
}

// doCTHeader is doCT with one more header; an empty bearer sends none, an empty content type
// no body.
func (e *env) doCTHeader(method, path, bearer, contentType, body, header, value string) *response {
	e.t.Helper()
	var rd io.Reader
	if contentType != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	return e.send(req)
}
