package store_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// Client-supplied text reaches the store as the client sent it: a User-Agent may hold any byte,
// and a caller may cut it in the middle of a character. Sessions and audit events with such text
// are stored (as valid UTF-8) on every engine; PostgreSQL would refuse the raw bytes.
func TestInvalidUTF8ClientText(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		u := mkUser(t, s, "ua@example.com", true)
		bad := "agent \xff\xfe " + strings.Repeat("é", 300)[:511] // invalid bytes, and a split character at the end
		now := time.Now().UTC()
		sess := &gatehouse.Session{ID: "utf8-sess", UserID: u.ID, Scope: "read", UserAgent: bad, IP: "10.0.0.1\xff", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, "utf8-refresh"); err != nil {
			t.Fatalf("CreateSession with invalid UTF-8: %v", err)
		}
		got, err := s.SessionByID(ctx, "utf8-sess")
		if err != nil || !utf8.ValidString(got.UserAgent) || !strings.HasPrefix(got.UserAgent, "agent \uFFFD") || len(got.UserAgent) > 512 {
			t.Fatalf("stored user agent %q, %v", got.UserAgent, err)
		}
		if err := s.RecordAudit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: &u.ID, UserAgent: bad, Detail: "x\xc3"}); err != nil {
			t.Fatalf("RecordAudit with invalid UTF-8: %v", err)
		}
		evs, err := s.AuditEvents(ctx, u.ID, gatehouse.AuditLoginFailure, 10)
		if err != nil || len(evs) != 1 || !utf8.ValidString(evs[0].UserAgent) || !utf8.ValidString(evs[0].Detail) {
			t.Fatalf("audit events %+v, %v", evs, err)
		}
	})
}
