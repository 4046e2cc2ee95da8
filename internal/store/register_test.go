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

// Register writes, in one transaction, the account, its confirmation token, the event and the
// confirmation mail for a new address; the event and the already-registered mail (and no
// account) for a taken one; and nothing for an address confusable with another account.
func TestRegisterOneTransaction(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		req := func(email, tok string) store.RegisterRequest {
			return store.RegisterRequest{
				User:      &gatehouse.User{Email: email, PasswordHash: "x", PasswordScheme: "bcrypt", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}},
				TokenHash: tok, CodeHash: tok + "-code", ExpiresAt: time.Now().Add(time.Hour),
				ConfirmMail:           &gatehouse.OutboxMail{Subject: "Confirm", Text: "confirm " + tok, HTML: "<p>" + tok + "</p>"},
				AlreadyRegisteredMail: &gatehouse.OutboxMail{Subject: "Already", Text: "already " + tok, HTML: "<p>already</p>"},
				Audit:                 gatehouse.AuditEvent{Event: gatehouse.AuditRegister, Email: email, IP: "192.0.2.1"},
			}
		}
		mails := func() []gatehouse.OutboxMail {
			t.Helper()
			ms, err := s.ListMail(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}
		events := func() []gatehouse.AuditEvent {
			t.Helper()
			evs, err := s.AuditEvents(ctx, 0, gatehouse.AuditRegister, 100)
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}

		// A new address.
		r := req("new.person@example.com", "tok-new")
		out, err := s.Register(ctx, r)
		if err != nil || out != store.RegisterCreated {
			t.Fatalf("new: %v %v", out, err)
		}
		u, err := s.UserByEmail(ctx, "new.person@example.com")
		if err != nil || u.ID == 0 || u.ID != r.User.ID || u.ConfirmedAt != nil || len(u.Roles) != 1 || u.Roles[0] != gatehouse.RoleViewer {
			t.Fatalf("new account: %+v (request user %+v) %v", u, r.User, err)
		}
		if got, err := s.ActionTokenUser(ctx, store.PurposeConfirm, "tok-new"); err != nil || got.ID != u.ID {
			t.Fatalf("confirm token: %v %v", got, err)
		}
		if ms := mails(); len(ms) != 1 || ms[0].To != "new.person@example.com" || ms[0].Text != "confirm tok-new" {
			t.Fatalf("outbox after new = %+v", ms)
		}
		if evs := events(); len(evs) != 1 || evs[0].SubjectID == nil || *evs[0].SubjectID != u.ID ||
			evs[0].ActorID == nil || *evs[0].ActorID != u.ID || evs[0].Detail != "" || evs[0].IP != "192.0.2.1" {
			t.Fatalf("events after new = %+v", evs)
		}

		// The same address again (another spelling): no account, no token, the other mail.
		out, err = s.Register(ctx, req("New.Person@Example.com", "tok-taken"))
		if err != nil || out != store.RegisterTaken {
			t.Fatalf("taken: %v %v", out, err)
		}
		if _, err := s.ActionTokenUser(ctx, store.PurposeConfirm, "tok-taken"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("token for a taken address: %v", err)
		}
		if ms := mails(); len(ms) != 2 || ms[0].Text != "already tok-taken" || ms[0].To != "New.Person@Example.com" {
			t.Fatalf("outbox after taken = %+v", ms)
		}
		evs := events()
		if len(evs) != 2 || evs[0].SubjectID == nil || *evs[0].SubjectID != u.ID || evs[0].ActorID != nil ||
			evs[0].Detail != store.DetailAlreadyRegistered {
			t.Fatalf("events after taken = %+v", evs)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 1 {
			t.Fatalf("users = %d %v", n, err)
		}

		// A look-alike of the account (Cyrillic "е"): nothing at all.
		out, err = s.Register(ctx, req("n\u0435w.person@example.com", "tok-confusable"))
		if err != nil || out != store.RegisterConfusable {
			t.Fatalf("confusable: %v %v", out, err)
		}
		if _, err := s.ActionTokenUser(ctx, store.PurposeConfirm, "tok-confusable"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("token for a confusable address: %v", err)
		}
		if ms := mails(); len(ms) != 2 {
			t.Fatalf("outbox after confusable = %+v", ms)
		}
		if evs := events(); len(evs) != 2 {
			t.Fatalf("events after confusable = %+v", evs)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 1 {
			t.Fatalf("users after confusable = %d %v", n, err)
		}
	})
}
