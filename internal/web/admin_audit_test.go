package web_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// The console's audit log: filters by actor, subject, event and days, pages, and the export of
// the filtered set as JSON lines and CSV, across more events than one read of the export takes
// (it streams page after page); a spreadsheet formula in a field is defused in the CSV.
func TestAdminAuditLog(t *testing.T) {
	s := startSite(t, siteOptions{})
	root := s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	bob := s.createUser("bob@example.com", strongPassword, gatehouse.RoleViewer)
	ctx := context.Background()
	day := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	for i := range 1100 {
		ev := gatehouse.AuditEvent{Event: "probe", ActorID: &root.ID, SubjectID: &bob.ID, At: day.Add(time.Duration(i) * time.Second),
			Detail: fmt.Sprintf("probe %d", i)}
		if i == 0 {
			ev.Detail = "=HYPERLINK(\"http://evil.example\")"
		}
		if err := s.app.Store.RecordAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.app.Store.RecordAudit(ctx, gatehouse.AuditEvent{Event: "probe", SubjectID: &root.ID, At: day.AddDate(0, 0, 2)}); err != nil {
		t.Fatal(err)
	}

	nb := s.browser()
	nb.login("bob@example.com", strongPassword, "/profile")
	nb.expect(nb.get("/admin/audit"), http.StatusNotFound, "")
	nb.expect(nb.get("/admin/audit/export?format=csv"), http.StatusNotFound, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	page := b.expect(b.get(fmt.Sprintf("/admin/audit?event=probe&actor=%d&subject=%d&from=2026-02-10&to=2026-02-10", root.ID, bob.ID)), http.StatusOK, "")
	if n := strings.Count(page.body, "<strong>probe</strong>"); n != 50 || !strings.Contains(page.body, "probe 1099") || !strings.Contains(page.body, `rel="next"`) {
		t.Fatalf("first page of probes (%d):\n%s", n, excerpt(page.body))
	}
	// Two days later there is one event about root, by nobody.
	page = b.expect(b.get(fmt.Sprintf("/admin/audit?subject=%d&from=2026-02-12", root.ID)), http.StatusOK, "")
	if n := strings.Count(page.body, "<strong>probe</strong>"); n != 1 || strings.Contains(page.body, `rel="next"`) {
		t.Fatalf("events about root from the 12th: %d\n%s", n, excerpt(page.body))
	}
	for query, want := range map[string]string{"actor=x": "actor", "from=10/02/2026": "from", "from=2026-02-11&to=2026-02-10": "to",
		"colour=red": "colour", "cursor=zzz": "cursor"} {
		r := b.get("/admin/audit?" + query)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, want) || strings.Contains(r.body, "<strong>probe</strong>") {
			t.Fatalf("%s: %d\n%s", query, r.status, excerpt(r.body))
		}
	}

	filter := fmt.Sprintf("event=probe&actor=%d&from=2026-02-10&to=2026-02-10", root.ID)
	r := b.expect(b.get("/admin/audit/export?"+filter+"&format=jsonl"), http.StatusOK, "")
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/x-ndjson" || !strings.Contains(cd, `attachment; filename="audit-`) {
		t.Fatalf("JSON lines headers: %q, %q", ct, cd)
	}
	lines, last := 0, int64(1<<62)
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		var rec struct {
			ID      int64  `json:"id"`
			Event   string `json:"event"`
			ActorID *int64 `json:"actor_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Event != "probe" || rec.ActorID == nil || *rec.ActorID != root.ID || rec.ID >= last {
			t.Fatalf("line %d: %s (%v)", lines+1, sc.Text(), err)
		}
		last = rec.ID
		lines++
	}
	if lines != 1100 {
		t.Fatalf("%d JSON lines, want 1100", lines)
	}

	r = b.expect(b.get("/admin/audit/export?"+filter+"&format=csv"), http.StatusOK, "")
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 1101 || strings.Join(rows[0], ",") != "id,at,event,actor_id,subject_id,email,ip,user_agent,detail" {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	if got := rows[len(rows)-1][8]; got != `'=HYPERLINK("http://evil.example")` {
		t.Fatalf("the oldest event's detail in CSV is %q", got)
	}
	b.expect(b.get("/admin/audit/export?"+filter+"&format=xml"), http.StatusBadRequest, "")
}

// The page's export links carry its filters.
func TestAdminAuditExportLinks(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	page := b.expect(b.get("/admin/audit?subject=1&event=login_success&from=2026-01-01"), http.StatusOK, "").body
	for _, format := range []string{"jsonl", "csv"} {
		want := `href="/admin/audit/export?event=login_success&amp;format=` + format + `&amp;from=2026-01-01&amp;subject=1"`
		if !strings.Contains(page, want) {
			t.Fatalf("no %s export link with the filters (%s):\n%s", format, want, excerpt(page))
		}
	}
}
