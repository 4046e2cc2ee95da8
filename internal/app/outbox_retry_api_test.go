package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// An administrator puts a failed mail back in the queue: due now, attempts and error cleared,
// audited. Only a failed one: a pending or sent mail is a 409, so a retry never sends twice;
// an unknown id is a 404, and only global admins may.
func TestOutboxRetry(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		e.createUser("maint@example.com", strongPassword, "maintainer")
		maint := e.login("maint@example.com", strongPassword).AccessToken
		ctx := context.Background()
		var ids []int64
		for i := range 2 {
			m := &gatehouse.OutboxMail{To: fmt.Sprintf("u%d@example.com", i), Subject: "message", Text: "body"}
			if err := e.app.Store.EnqueueMail(ctx, m, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		failed, pending := ids[0], ids[1]
		if _, err := e.app.Store.DB().ExecContext(ctx, "UPDATE mail_outbox SET status = 'failed', attempts = 8, last_error = 'smtp: 550' WHERE id = "+
			strconv.FormatInt(failed, 10)); err != nil {
			t.Fatal(err)
		}
		path := func(id int64) string { return fmt.Sprintf("/api/v1/admin/outbox/%d/retry", id) }

		e.expect(e.do("POST", path(failed), maint, nil), http.StatusForbidden, "forbidden")
		e.clock.Advance(time.Minute)
		r := e.do("POST", path(failed), root, nil)
		e.expect(r, http.StatusOK, "")
		var m struct {
			ID            int64     `json:"id"`
			Status        string    `json:"status"`
			Attempts      int       `json:"attempts"`
			LastError     string    `json:"last_error"`
			NextAttemptAt time.Time `json:"next_attempt_at"`
		}
		r.data(t, &m)
		if m.ID != failed || m.Status != "pending" || m.Attempts != 0 || m.LastError != "" || !m.NextAttemptAt.Equal(e.clock.Now()) {
			t.Fatalf("retried mail = %s", r.Raw)
		}
		// Again (it is pending now), or a mail that never failed: nothing happens.
		e.expect(e.do("POST", path(failed), root, nil), http.StatusConflict, "mail_not_failed")
		e.expect(e.do("POST", path(pending), root, nil), http.StatusConflict, "mail_not_failed")
		e.expect(e.do("POST", path(999999), root, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("POST", "/api/v1/admin/outbox/abc/retry", root, nil), http.StatusNotFound, "not_found")
		if evs := e.auditEvents(root, "event=mail_retried"); !slices.Equal(evs, []string{"mail_retried"}) {
			t.Fatalf("mail_retried events = %v", evs)
		}
	})
}
