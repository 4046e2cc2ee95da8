package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// ParsePage and IDPage refuse every malformed paging query with a 400 naming the parameter.
func TestParsePageRefusesBadQueries(t *testing.T) {
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for query, field := range map[string]string{
		"limit=0":                    "limit",
		"limit=101":                  "limit",
		"limit=-1":                   "limit",
		"limit=1e2":                  "limit",
		"limit=99999999999999999999": "limit",
		"limit=5&limit=100":          "limit",
		"cursor=!!":                  "cursor",
		"cursor=" + cursor("{"):      "cursor",
		"cursor=" + cursor(`"x"`):    "cursor", // valid JSON, but not an id
		"cursor=" + cursor("7") + "&cursor=" + cursor("9"): "cursor",
		"sort=id":  "sort",
		"%C3%A9=1": "é",
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/teams?"+query, nil)
		_, _, err := IDPage(r)
		var ge *gatehouse.Error
		if !errors.As(err, &ge) || ge.Code != gatehouse.EInvalid || ge.Fields[field] == "" {
			t.Errorf("IDPage(%s) = %v, want an invalid error naming %q", query, err, field)
		}
	}

	r := httptest.NewRequest(http.MethodGet, "/api/v1/teams?limit=7&cursor="+cursor("42"), nil)
	page, after, err := IDPage(r)
	if err != nil || page.Limit != 7 || after != 42 {
		t.Fatalf("IDPage = %+v, %d, %v; want limit 7 after 42", page, after, err)
	}
	if page, after, err = IDPage(httptest.NewRequest(http.MethodGet, "/api/v1/teams", nil)); err != nil || page.Limit != DefaultPageLimit || after != 0 {
		t.Fatalf("IDPage without a query = %+v, %d, %v", page, after, err)
	}
}

// CheckIfMatch lets a change through without the header, with *, or with the current tag
// anywhere in the list, and refuses any other tag with precondition_failed.
func TestCheckIfMatch(t *testing.T) {
	const current = `"abc"`
	for header, ok := range map[string]bool{
		"":           true,
		"*":          true,
		`"abc"`:      true,
		`"x", "abc"`: true,
		`"abd"`:      false,
		`abc`:        false,
		`"x" , "y"`:  false,
		"\"\u00e9\"": false,
	} {
		r := httptest.NewRequest(http.MethodPatch, "/api/v1/teams/1", nil)
		if header != "" {
			r.Header.Set("If-Match", header)
		}
		err := CheckIfMatch(r, current)
		var ge *gatehouse.Error
		switch {
		case ok && err != nil:
			t.Errorf("If-Match %q: %v, want accepted", header, err)
		case !ok && (!errors.As(err, &ge) || ge.Code != gatehouse.EPrecondition):
			t.Errorf("If-Match %q: %v, want precondition_failed", header, err)
		}
	}
}
