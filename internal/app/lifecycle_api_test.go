package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// v1Routes are the /api/v1/ routes of the route table, with their wildcards filled in.
func v1Routes() []struct{ method, path string } {
	var out []struct{ method, path string }
	for _, r := range transport.Routes() {
		if r.Chain == transport.API && strings.HasPrefix(r.Path(), transport.V1Prefix) {
			out = append(out, struct{ method, path string }{r.Method(), wildcard.ReplaceAllString(r.Path(), "1")})
		}
	}
	return out
}

// TestV1Lifecycle moves v1 along its lifecycle in the version table (httpapi.WithVersions, through
// app.Options) and walks every v1 route of the route table at each stage, signed in as an
// administrator so that the handlers run: once a deprecation is announced (security-only) and
// once deprecated, every v1 response carries Deprecation, a Sunset at least 12 months later and
// the successor Link to /api/v2/, whatever its status; retired, every route answers 410 gone
// with the envelope. v2 answers normally throughout, and meta.version is always the version
// that served the response.
func TestV1Lifecycle(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	released, deprecated, sunset := day(2026, time.November, 27), day(2027, time.December, 8), day(2028, time.December, 8)
	v2 := httpapi.Version{Major: 2, Status: httpapi.VersionCurrent, Released: day(2026, time.December, 8)}
	stages := []struct {
		name string
		v1   httpapi.Version
	}{
		{"security-only, deprecation announced", httpapi.Version{Major: 1, Status: httpapi.VersionSecurityOnly, Released: released, Deprecated: deprecated, Sunset: sunset}},
		{"deprecated", httpapi.Version{Major: 1, Status: httpapi.VersionDeprecated, Released: released, Deprecated: deprecated, Sunset: sunset}},
		{"retired", httpapi.Version{Major: 1, Status: httpapi.VersionRetired, Released: released, Deprecated: deprecated, Sunset: sunset}},
	}
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		for i, stage := range stages {
			t.Run(stage.name, func(t *testing.T) {
				// One database for the stages: each signs in as its own administrator.
				email := fmt.Sprintf("root%d@example.com", i)
				e := startWith(t, testConfig(db), false, app.Options{APIVersions: httpapi.Versions{stage.v1, v2}})
				e.createUser(email, strongPassword, "admin")
				// Signed in through v2: v1's sign-in is gone once retired.
				r := e.do("POST", "/api/v2/auth/login", "", map[string]string{"email": email, "password": strongPassword})
				e.expect(r, http.StatusOK, "")
				var tk tokens
				r.data(t, &tk)

				routes := append(v1Routes(), struct{ method, path string }{"GET", "/api/v1/no-such-route"})
				if len(routes) < 80 {
					t.Fatalf("only %d v1 routes in the table", len(routes))
				}
				for _, rt := range routes {
					var body any
					if rt.method != "GET" && rt.method != "DELETE" {
						body = map[string]any{}
					}
					resp := e.do(rt.method, rt.path, tk.AccessToken, body)
					where := rt.method + " " + rt.path
					if resp.Body.Meta.Version != 1 && (!openAPIDocument(rt.path) || resp.Status != http.StatusOK) {
						t.Errorf("%s: meta.version = %d, want 1", where, resp.Body.Meta.Version)
					}
					if stage.v1.Status == httpapi.VersionRetired {
						if resp.Status != http.StatusGone || resp.code() != "gone" {
							t.Errorf("%s: %d %q, want 410 gone: %s", where, resp.Status, resp.code(), resp.Raw)
						}
						continue
					}
					if resp.Status >= 500 {
						t.Errorf("%s: %d: %s", where, resp.Status, resp.Raw)
					}
					checkDeprecationHeaders(t, where, resp.Header, deprecated, sunset)
				}

				// v2 is the current version at every stage: no warnings, its own meta.version.
				for _, path := range []string{"/api/v2/me", "/api/v2/version", "/api/v2/no-such-route"} {
					resp := e.do("GET", path, tk.AccessToken, nil)
					if resp.Body.Meta.Version != 2 || resp.Header.Get("Deprecation") != "" || resp.Header.Get("Sunset") != "" || resp.Header.Get("Link") != "" {
						t.Errorf("%s: meta.version %d, headers %v", path, resp.Body.Meta.Version, resp.Header)
					}
				}
			})
		}
	})
}

// checkDeprecationHeaders checks the warning headers of a deprecated version's response: the
// deprecation date (RFC 9745), a sunset at least httpapi.MinDeprecationMonths later (RFC 8594)
// and the successor version.
func checkDeprecationHeaders(t *testing.T, where string, h http.Header, deprecated, sunset time.Time) {
	t.Helper()
	dep, err := strconv.ParseInt(strings.TrimPrefix(h.Get("Deprecation"), "@"), 10, 64)
	if err != nil || !strings.HasPrefix(h.Get("Deprecation"), "@") || dep != deprecated.Unix() {
		t.Errorf("%s: Deprecation = %q, want @%d", where, h.Get("Deprecation"), deprecated.Unix())
		return
	}
	sun, err := http.ParseTime(h.Get("Sunset"))
	if err != nil || !sun.Equal(sunset) {
		t.Errorf("%s: Sunset = %q, want %s", where, h.Get("Sunset"), sunset.Format(http.TimeFormat))
		return
	}
	if sun.Before(time.Unix(dep, 0).UTC().AddDate(0, httpapi.MinDeprecationMonths, 0)) {
		t.Errorf("%s: Sunset %s is less than %d months after the deprecation", where, sun, httpapi.MinDeprecationMonths)
	}
	if got, want := h.Values("Link"), fmt.Sprintf(`</api/v%d/>; rel="successor-version"`, 2); len(got) != 1 || got[0] != want {
		t.Errorf("%s: Link = %q, want %q", where, got, want)
	}
}

// TestV2MirrorsV1 walks every v1 route of the route table and sends the same request, without
// credentials, to the route and to its /api/v2/ twin: both answer with the same status and error
// code (the same authentication, body limit and validation), and each with its own meta.version.
func TestV2MirrorsV1(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		for _, rt := range v1Routes() {
			var body any
			if rt.method != "GET" && rt.method != "DELETE" {
				body = map[string]any{}
			}
			v1 := e.do(rt.method, rt.path, "", body)
			v2path := transport.V2Prefix + strings.TrimPrefix(rt.path, transport.V1Prefix)
			v2 := e.do(rt.method, v2path, "", body)
			if v1.Status != v2.Status || v1.code() != v2.code() || v1.Status == http.StatusNotFound && v1.code() == "not_found" && strings.Contains(string(v1.Raw), "no such resource") {
				t.Errorf("%s %s: v1 %d %q, v2 %d %q", rt.method, rt.path, v1.Status, v1.code(), v2.Status, v2.code())
			}
			if openAPIDocument(rt.path) { // the bare documents: each version answers its own
				if v1.Status != http.StatusOK || bytes.Equal(v1.Raw, v2.Raw) {
					t.Errorf("%s %s: v1 %d, v2 %d, the same document: %v", rt.method, rt.path, v1.Status, v2.Status, bytes.Equal(v1.Raw, v2.Raw))
				}
				continue
			}
			if v1.Body.Meta.Version != 1 || v2.Body.Meta.Version != 2 {
				t.Errorf("%s %s: meta.version %d and %d", rt.method, rt.path, v1.Body.Meta.Version, v2.Body.Meta.Version)
			}
		}
	})
}

// TestV2ReadsAsV1 sends every GET route of v1, signed in as an administrator who has one of
// everything, to both versions: the data differ only by the identifier rule (v1's data with
// each identifier member's integer turned into its decimal string equals v2's), which shows that
// the adapter changes what "What changed in v2" lists and nothing else.
func TestV2ReadsAsV1(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("root@example.com", strongPassword, "admin")
		root := e.login("root@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/teams", root, map[string]string{"name": "Platform"})
		e.expect(r, http.StatusCreated, "")
		var team struct {
			ID int64 `json:"id"`
		}
		r.data(t, &team)
		e.expect(e.do("POST", fmt.Sprintf("/api/v1/teams/%d/projects", team.ID), root, map[string]string{"name": "Gateway"}), http.StatusCreated, "")
		e.expect(e.do("POST", "/api/v1/api-keys", root, map[string]any{"name": "ci", "scopes": []string{"read"}}), http.StatusCreated, "")
		me := e.userID("root@example.com")
		ids := strings.NewReplacer("{id}", strconv.FormatInt(team.ID, 10), "{user_id}", strconv.FormatInt(me, 10))
		checked := 0
		for _, rt := range transport.Routes() {
			if rt.Chain != transport.API || rt.Method() != "GET" || !strings.HasPrefix(rt.Path(), transport.V1Prefix) || openAPIDocument(rt.Path()) {
				continue
			}
			path := wildcard.ReplaceAllString(ids.Replace(rt.Path()), "1")
			v1 := e.do("GET", path, root, nil)
			v2 := e.do("GET", transport.V2Prefix+strings.TrimPrefix(path, transport.V1Prefix), root, nil)
			if v1.Status != v2.Status || v1.code() != v2.code() {
				t.Errorf("GET %s: v1 %d %q, v2 %d %q", path, v1.Status, v1.code(), v2.Status, v2.code())
				continue
			}
			if v1.Status != http.StatusOK {
				continue
			}
			var d1, d2 any
			if json.Unmarshal(v1.Body.Data, &d1) != nil || json.Unmarshal(v2.Body.Data, &d2) != nil {
				t.Fatalf("GET %s: data not JSON", path)
			}
			stringifyIDMembers(d1, "")
			dropVolatile(d1)
			dropVolatile(d2)
			if !reflect.DeepEqual(d1, d2) {
				t.Errorf("GET %s: v2 data is not v1's with identifiers as strings\nv1 %s\nv2 %s", path, v1.Body.Data, v2.Body.Data)
			}
			checked++
		}
		if checked < 15 {
			t.Errorf("only %d GET routes answered 200", checked)
		}
	})
}

// stringifyIDMembers applies the v2 identifier rule to decoded JSON, in place.
func stringifyIDMembers(v any, _ string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if f, ok := val.(float64); ok && transport.IDMember(k) && f == float64(int64(f)) {
				x[k] = strconv.FormatInt(int64(f), 10)
				continue
			}
			stringifyIDMembers(val, k)
		}
	case []any:
		for _, item := range x {
			stringifyIDMembers(item, "")
		}
	}
}

// dropVolatile removes the members that change between two reads a moment apart (a session's
// last use is the request itself).
func dropVolatile(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "last_used_at")
		for _, val := range x {
			dropVolatile(val)
		}
	case []any:
		for _, item := range x {
			dropVolatile(item)
		}
	}
}
