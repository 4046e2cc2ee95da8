package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// Every GET route of the API that answers a list is named in docs/api.md's "Paginated lists"
// sentence when it pages (its answer has meta.limit) and in the "answer whole" sentence when it
// does not; docs/api.md said every collection pages. The exactly-full last page of each
// paginated list is checked by TestListsLastPageExactlyFull and TestTeamListsEndOnAFullPage.
func TestListsDocumentedAsTheyPage(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	sentence := func(start, end string) []string {
		i := strings.Index(doc, start)
		if i < 0 {
			t.Fatalf("docs/api.md lacks %q", start)
		}
		rest := doc[i:]
		rest = rest[:strings.Index(rest, end)]
		var out []string
		for _, m := range regexp.MustCompile("`GET (/api/[^`]+)`").FindAllStringSubmatch(rest, -1) {
			out = append(out, m[1])
		}
		return out
	}
	paged := sentence("Paginated lists:", ". ")
	whole := sentence("Lists that are short by nature", ". A test")

	e := start(t, testConfig(testdb.New(t, config.DBSQLite)), false)
	root := e.rootAdmin()
	r := e.do("POST", "/api/v1/teams", root, map[string]string{"name": "Platform"})
	e.expect(r, http.StatusCreated, "")
	var team teamData
	r.data(t, &team)
	fill := strings.NewReplacer("{id}", fmt.Sprint(team.ID), "{user_id}", fmt.Sprint(e.idOf("root@example.com")))

	var gotPaged, gotWhole []string
	for _, rt := range transport.Routes() {
		path := rt.Path()
		if rt.Method() != "GET" || !strings.HasPrefix(path, "/api/") || strings.HasSuffix(path, "}") || strings.Contains(path, "/openapi.") {
			continue // the OpenAPI document is not an envelope
		}
		r := e.do("GET", fill.Replace(path), root, nil)
		if r.Status != http.StatusOK {
			continue
		}
		var env struct {
			Data json.RawMessage `json:"data"`
			Meta map[string]any  `json:"meta"`
		}
		if err := json.Unmarshal(r.Raw, &env); err != nil || !strings.HasPrefix(strings.TrimSpace(string(env.Data)), "[") {
			continue // not an envelope with a list
		}
		if _, ok := env.Meta["limit"]; ok {
			gotPaged = append(gotPaged, path)
		} else {
			gotWhole = append(gotWhole, path)
		}
	}
	for _, s := range [][]string{paged, whole, gotPaged, gotWhole} {
		slices.Sort(s)
	}
	if !slices.Equal(paged, gotPaged) {
		t.Errorf("paginated lists: docs/api.md names %v, the API pages %v", paged, gotPaged)
	}
	if !slices.Equal(whole, gotWhole) {
		t.Errorf("whole lists: docs/api.md names %v, the API answers whole %v", whole, gotWhole)
	}
}
