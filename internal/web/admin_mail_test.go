package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// The console's outbox: messages without their bodies, filtered by status; a failed one is
// queued again with a button, once (a second press says it is not failed any more).
func TestAdminMail(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	s.createUser("bob@example.com", strongPassword, gatehouse.RoleMaintainer)
	ctx := context.Background()
	var ids []int64
	for i := range 2 {
		m := &gatehouse.OutboxMail{To: fmt.Sprintf("u%d@example.com", i), Subject: fmt.Sprintf("Reset %d", i), Text: "https://gatehouse.test/reset?token=SECRET"}
		if err := s.app.Store.EnqueueMail(ctx, m, s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if _, err := s.app.Store.DB().ExecContext(ctx, "UPDATE mail_outbox SET status = 'failed', last_error = 'smtp: 550 mailbox unavailable' WHERE id = "+strconv.FormatInt(ids[0], 10)); err != nil {
		t.Fatal(err)
	}
	retry := fmt.Sprintf("/admin/mail/%d/retry", ids[0])

	nb := s.browser()
	nb.login("bob@example.com", strongPassword, "/profile")
	nb.expect(nb.get("/admin/mail"), http.StatusNotFound, "")
	nb.expect(nb.post(retry, nil), http.StatusNotFound, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	all := b.expect(b.get("/admin/mail"), http.StatusOK, "")
	if strings.Contains(all.body, "SECRET") || strings.Count(all.body, "<strong>Reset ") != 2 {
		t.Fatalf("outbox page:\n%s", excerpt(all.body))
	}
	failed := b.expect(b.get("/admin/mail?status=failed"), http.StatusOK, "")
	if strings.Count(failed.body, "<strong>Reset ") != 1 || !strings.Contains(failed.body, `action="`+retry+`"`) ||
		!strings.Contains(failed.body, "mailbox unavailable") {
		t.Fatalf("failed mail:\n%s", excerpt(failed.body))
	}
	r := b.get("/admin/mail?status=lost")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="status-error"`) {
		t.Fatalf("bad status: %d\n%s", r.status, excerpt(r.body))
	}

	b.expect(b.post(retry, nil), http.StatusSeeOther, "/admin/mail?status=failed")
	if page := b.get("/admin/mail?status=failed").body; !strings.Contains(page, "is queued again") || strings.Contains(page, "<strong>Reset ") {
		t.Fatalf("after the retry:\n%s", excerpt(page))
	}
	b.expect(b.post(retry, nil), http.StatusSeeOther, "/admin/mail?status=failed")
	if page := b.get("/admin/mail").body; !strings.Contains(page, "Only a failed mail can be retried") {
		t.Fatalf("second retry:\n%s", excerpt(page))
	}
	b.expect(b.post("/admin/mail/999999/retry", nil), http.StatusNotFound, "")
}
