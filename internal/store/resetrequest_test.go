package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// RequestReset issues the token and queues the mail only for an active account, records the
// event in every case, and leaves nothing in the outbox for other addresses.
func TestRequestReset(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		u := &gatehouse.User{Email: "Known.Person@Example.com", PasswordHash: "x", PasswordScheme: "bcrypt", Active: true}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		req := func(email, tok string) store.ResetRequest {
			return store.ResetRequest{Email: email, TokenHash: tok, CodeHash: tok + "-code", ExpiresAt: time.Now().Add(time.Hour),
				Mail:  &gatehouse.OutboxMail{Subject: "Reset", Text: "text " + tok, HTML: "<p>" + tok + "</p>"},
				Audit: gatehouse.AuditEvent{Event: gatehouse.AuditResetRequested, Email: email, IP: "192.0.2.1"}}
		}
		if err := s.RequestReset(ctx, req("known.person@example.com", "tok-known")); err != nil {
			t.Fatal(err)
		}
		if err := s.RequestReset(ctx, req("nobody@example.com", "tok-unknown")); err != nil {
			t.Fatal(err)
		}
		got, err := s.ActionTokenUser(ctx, store.PurposeReset, "tok-known")
		if err != nil || got.ID != u.ID {
			t.Fatalf("token of the known address: %v %v", got, err)
		}
		if _, err := s.ActionTokenUser(ctx, store.PurposeReset, "tok-unknown"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("token for an unknown address: %v", err)
		}
		ms, err := s.ListMail(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].To != u.Email || ms[0].Text != "text tok-known" || ms[0].Status != gatehouse.MailPending {
			t.Fatalf("outbox = %+v", ms)
		}
		evs, err := s.AuditEvents(ctx, 0, gatehouse.AuditResetRequested, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 {
			t.Fatalf("events = %+v", evs)
		}
		for _, ev := range evs {
			known := ev.Email == "known.person@example.com"
			if known != (ev.SubjectID != nil && *ev.SubjectID == u.ID) || (!known && ev.SubjectID != nil) || ev.IP != "192.0.2.1" {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}
