package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// v2Probe is a host's request type with identifiers and optional (PATCH) fields.
type v2Probe struct {
	ID       int64     `json:"id"`
	TeamID   *int64    `json:"team_id"`
	Count    int       `json:"count"`
	OwnerID  uint32    `json:"owner_id"`
	Name     *string   `json:"name"`
	Tags     *[]string `json:"tags"`
	Active   *bool     `json:"active"`
	Label    string    `json:"label"`
	Provider string    `json:"provider_id"`
}

// v2ProbeRoutes are host routes under /api/v1/ whose /api/v2/ twins the tests call.
func v2ProbeRoutes() []Route {
	echo := func(status int) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var req v2Probe
			if err := Decode(r, &req); err != nil {
				return err
			}
			return Respond(w, r, status, req)
		}
	}
	list := func(w http.ResponseWriter, r *http.Request) error {
		items := make([]map[string]any, 5)
		for i := range items {
			items[i] = map[string]any{"id": i + 1, "name": "item"}
		}
		return Respond(w, r, http.StatusOK, items)
	}
	return []Route{
		{Pattern: "POST /api/v1/probe", Handler: echo(http.StatusOK)},
		{Pattern: "PATCH /api/v1/probe", Handler: echo(http.StatusOK)},
		{Pattern: "POST /api/v1/probe/items", Handler: echo(http.StatusCreated)},
		{Pattern: "GET /api/v1/probe/items", Handler: list},
		{Pattern: "POST /api/v1/probe/created", Handler: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", "/api/v1/probe/items/9")
			return Respond(w, r, http.StatusCreated, map[string]any{"id": 9})
		}},
	}
}

func TestV2IdentifiersInRequests(t *testing.T) {
	ts := newTestServer(t, nil, WithRoutes(v2ProbeRoutes()...))
	tests := []struct {
		name, path, body string
		status           int
		want             string // in the response body
		field            string // the field named by a 400
	}{
		{name: "strings in v2", path: "/api/v2/probe", body: `{"id":"42","team_id":"7","owner_id":"3"}`, status: 200,
			want: `"id":"42","team_id":"7","count":0,"owner_id":"3"`},
		{name: "numbers in v2", path: "/api/v2/probe", body: `{"id":42,"team_id":7}`, status: 200, want: `"id":"42","team_id":"7"`},
		{name: "a string that is not a member id stays refused", path: "/api/v2/probe", body: `{"count":"5"}`, status: 400, field: "count"},
		{name: "not an integer", path: "/api/v2/probe", body: `{"id":"4x"}`, status: 400, field: "id"},
		{name: "not canonical", path: "/api/v2/probe", body: `{"id":"042"}`, status: 400, field: "id"},
		{name: "plus sign", path: "/api/v2/probe", body: `{"id":"+42"}`, status: 400, field: "id"},
		{name: "out of range", path: "/api/v2/probe", body: `{"owner_id":"4294967296"}`, status: 400, field: "owner_id"},
		{name: "string identifier member of a string field", path: "/api/v2/probe", body: `{"provider_id":"123"}`, status: 200,
			want: `"provider_id":"123"`},
		{name: "v1 keeps numbers only", path: "/api/v1/probe", body: `{"id":"42"}`, status: 400, field: "id"},
		{name: "v1 answers numbers", path: "/api/v1/probe", body: `{"id":42}`, status: 200, want: `"id":42,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.postJSON(t, tt.path, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			env := envelope(t, rec)
			if tt.want != "" && !strings.Contains(string(env.Data), tt.want) {
				t.Errorf("data = %s, want it to contain %s", env.Data, tt.want)
			}
			if tt.field != "" && (env.Error == nil || env.Error.Code != "invalid" || env.Error.Fields[tt.field] == "") {
				t.Errorf("error = %+v, want invalid naming %s", env.Error, tt.field)
			}
		})
	}
}

func TestV2MergePatch(t *testing.T) {
	ts := newTestServer(t, nil, WithRoutes(v2ProbeRoutes()...))
	patch := func(path, ct, body string) *wireEnvelope {
		rec := ts.serve(t, http.MethodPatch, path, body, "Content-Type", ct)
		env := envelope(t, rec)
		return &env
	}
	const mp = "application/merge-patch+json"
	// null removes: text becomes empty, a list empty; absent members stay absent (nil).
	env := patch("/api/v2/probe", mp, `{"name":null,"tags":null}`)
	if env.Error != nil || !strings.Contains(string(env.Data), `"name":"","tags":[],"active":null`) {
		t.Errorf("merge patch with nulls = %s %+v", env.Data, env.Error)
	}
	// v1 and v2's application/json keep v1's reading: null leaves the member as it is.
	for _, tc := range []struct{ path, ct string }{{"/api/v1/probe", "application/json"}, {"/api/v2/probe", "application/json"}} {
		if env := patch(tc.path, tc.ct, `{"name":null,"tags":null}`); !strings.Contains(string(env.Data), `"name":null,"tags":null`) {
			t.Errorf("%s %s = %s %+v", tc.path, tc.ct, env.Data, env.Error)
		}
	}
	// A flag cannot be removed.
	if env := patch("/api/v2/probe", mp+"; charset=utf-8", `{"active":null}`); env.Error == nil || env.Error.Fields["active"] == "" {
		t.Errorf("null flag = %s %+v", env.Data, env.Error)
	}
	// Merge patches are for PATCH, and only in v2.
	if rec := ts.serve(t, http.MethodPatch, "/api/v1/probe", `{}`, "Content-Type", mp); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("v1 merge patch = %d", rec.Code)
	}
	if rec := ts.serve(t, http.MethodPost, "/api/v2/probe", `{}`, "Content-Type", mp); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("v2 merge patch POST = %d", rec.Code)
	}
}

func TestV2Created(t *testing.T) {
	ts := newTestServer(t, nil, WithRoutes(v2ProbeRoutes()...))
	// Without a Location from the handler, v2 names the new item under the collection.
	rec := ts.postJSON(t, "/api/v2/probe/items", `{"id":"12"}`)
	if rec.Code != http.StatusCreated || rec.Header().Get("Location") != "/api/v2/probe/items/12" {
		t.Errorf("v2 201 = %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := ts.postJSON(t, "/api/v1/probe/items", `{"id":12}`); rec.Header().Get("Location") != "" {
		t.Errorf("v1 gained a Location: %q", rec.Header().Get("Location"))
	}
	// A handler's /api/v1/ Location is moved under /api/v2/.
	rec = ts.postJSON(t, "/api/v2/probe/created", `{}`)
	if got := rec.Header().Get("Location"); got != "/api/v2/probe/items/9" {
		t.Errorf("Location = %q", got)
	}
	if env := envelope(t, rec); string(env.Data) != `{"id":"9"}` || env.Meta.Version != 2 {
		t.Errorf("data = %s, meta = %+v", env.Data, env.Meta)
	}
}

func TestV2WholeListPaged(t *testing.T) {
	ts := newTestServer(t, nil, WithRoutes(v2ProbeRoutes()...))
	var got []string
	next := "/api/v2/probe/items?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		rec := ts.serve(t, http.MethodGet, next, "")
		env := envelope(t, rec)
		if rec.Code != 200 || env.Meta.Limit != 2 {
			t.Fatalf("%s = %d %s", next, rec.Code, rec.Body)
		}
		got = append(got, string(env.Data))
		next = ""
		if env.Meta.NextCursor != "" {
			next = "/api/v2/probe/items?limit=2&cursor=" + env.Meta.NextCursor
		}
	}
	want := []string{`[{"id":"1","name":"item"},{"id":"2","name":"item"}]`, `[{"id":"3","name":"item"},{"id":"4","name":"item"}]`, `[{"id":"5","name":"item"}]`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pages = %v, want %v", got, want)
	}
	// The default limit; v1 is untouched.
	if env := envelope(t, ts.serve(t, http.MethodGet, "/api/v2/probe/items", "")); env.Meta.Limit != 50 || env.Meta.NextCursor != "" {
		t.Errorf("default page meta = %+v", env.Meta)
	}
	if env := envelope(t, ts.serve(t, http.MethodGet, "/api/v1/probe/items?limit=2", "")); env.Meta.Limit != 0 || !strings.HasPrefix(string(env.Data), `[{"id":1,`) {
		t.Errorf("v1 list = %s %+v", env.Data, env.Meta)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!", "cursor=e30", "limit=1&limit=2"} {
		rec := ts.serve(t, http.MethodGet, "/api/v2/probe/items?"+q, "")
		if env := envelope(t, rec); rec.Code != 400 || env.Error.Code != "invalid" || len(env.Error.Fields) != 1 {
			t.Errorf("?%s = %d %s", q, rec.Code, rec.Body)
		}
	}
}

// A handler that fails after writing, or panics after writing, is answered as in v1: the late
// error does not add a second envelope, and a panic is a 500 envelope (nothing had gone out).
func TestV2LateFailures(t *testing.T) {
	ts := newTestServer(t, nil, WithRoutes(Route{Pattern: "GET /api/v1/panic-after-write", Handler: func(w http.ResponseWriter, r *http.Request) error {
		if err := Respond(w, r, http.StatusOK, map[string]int{"id": 1}); err != nil {
			return err
		}
		panic("after the answer")
	}}))
	rec := ts.serve(t, http.MethodGet, "/api/v2/fail-after-write", "")
	if env := envelope(t, rec); rec.Code != 200 || string(env.Data) != `"written"` {
		t.Errorf("late error = %d %s", rec.Code, rec.Body)
	}
	rec = ts.serve(t, http.MethodGet, "/api/v2/panic-after-write", "")
	if env := envelope(t, rec); rec.Code != 500 || env.Error == nil || env.Error.Code != "internal" {
		t.Errorf("late panic = %d %s", rec.Code, rec.Body)
	}
	rec = ts.serve(t, http.MethodGet, "/api/v2/panic", "")
	if env := envelope(t, rec); rec.Code != 500 || env.Error == nil || env.Meta.Version != 2 {
		t.Errorf("panic = %d %s", rec.Code, rec.Body)
	}
}

// Routes lists every /api/v1/ route's /api/v2/ twin, with its settings, after the routes given;
// a route registered under /api/v2/ itself is kept instead of the derived one.
func TestV2RoutesListed(t *testing.T) {
	own := Route{Pattern: "GET /api/v2/probe/items", Handler: func(w http.ResponseWriter, r *http.Request) error {
		return Respond(w, r, http.StatusOK, "own")
	}}
	srv := NewServer(testDeps(&syncBuffer{}), WithRoutes(v2ProbeRoutes()...), WithRoutes(own))
	served := map[string]bool{}
	for _, r := range srv.Routes() {
		served[r.Pattern] = true
	}
	for _, r := range srv.Routes() {
		if v2, ok := transport.V2Route(r); ok && !served[v2.Pattern] {
			t.Errorf("%s has no /api/v2/ twin", r.Pattern)
		}
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v2/probe/items", nil))
	if env := envelope(t, rec); string(env.Data) != `"own"` {
		t.Errorf("the host's own v2 route was replaced: %s", rec.Body)
	}
}

// A whole list's cursor names the last item shown: when an earlier item goes away between two
// pages, the next page still starts right after that item, skipping nothing.
func TestV2WholeListCursorFollowsItem(t *testing.T) {
	items := []map[string]any{{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}}
	ts := newTestServer(t, nil, WithRoutes(Route{Pattern: "GET /api/v1/probe/changing", Handler: func(w http.ResponseWriter, r *http.Request) error {
		return Respond(w, r, http.StatusOK, items)
	}}))
	env := envelope(t, ts.serve(t, http.MethodGet, "/api/v2/probe/changing?limit=2", ""))
	if string(env.Data) != `[{"id":"a"},{"id":"b"}]` || env.Meta.NextCursor == "" {
		t.Fatalf("first page = %s %+v", env.Data, env.Meta)
	}
	items = items[1:] // "a" is removed
	env = envelope(t, ts.serve(t, http.MethodGet, "/api/v2/probe/changing?limit=2&cursor="+env.Meta.NextCursor, ""))
	if string(env.Data) != `[{"id":"c"},{"id":"d"}]` || env.Meta.NextCursor != "" {
		t.Errorf("second page = %s %+v", env.Data, env.Meta)
	}
}

// A v2 request is labelled, in the metrics and the access log, with its /api/v2/ pattern: the
// table's pattern under the v2 prefix, so that the two versions' traffic is told apart.
func TestV2RouteLabel(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.serve(t, http.MethodPut, "/api/v2/things/42", "")
	if line := ts.logs.find(t, "http request"); line["route"] != "/api/v2/things/{id}" || line["path"] != "/api/v2/things/42" {
		t.Errorf("access log line = %v", line)
	}
	text := ts.serve(t, http.MethodGet, "/metrics", "").Body.String()
	if want := `gatehouse_http_requests_total{code="200",method="PUT",route="/api/v2/things/{id}"} 1`; !strings.Contains(text, want) {
		t.Errorf("metrics lack %s", want)
	}
}
