package store_test

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// Usernames: unique by their key (case and width do not matter), look-alikes refused with the
// same error, many accounts without one, set, changed and cleared by UpdateUser, found by
// UserByUsername; a registration whose username is taken writes the event and the mail to the
// address and no account.
func TestUsernames(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		mk := func(email, name string) (*gatehouse.User, error) {
			u := &gatehouse.User{Email: email, Username: name, Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
			return u, s.CreateUser(ctx, u)
		}
		alice, err := mk("alice@example.com", "Alice")
		if err != nil {
			t.Fatal(err)
		}
		// Many accounts without a username: NULLs do not collide in the unique index.
		for _, e := range []string{"n1@example.com", "n2@example.com", "n3@example.com"} {
			if _, err := mk(e, ""); err != nil {
				t.Fatalf("%s without a username: %v", e, err)
			}
		}
		for _, name := range []string{"alice", "ALICE", "ａｌｉｃｅ", "\u0430lice"} {
			if _, err := mk("other."+name+"@example.com", name); !store.IsUsernameTaken(err) || gatehouse.ErrorCode(err) != gatehouse.EConflict {
				t.Errorf("username %q next to Alice: %v, want username taken", name, err)
			}
		}
		for _, name := range []string{"alice", "ALICE", " Alice "} {
			got, err := s.UserByUsername(ctx, name)
			if err != nil || got.ID != alice.ID || got.Username != "Alice" {
				t.Errorf("UserByUsername(%q) = %+v, %v", name, got, err)
			}
		}
		if _, err := s.UserByUsername(ctx, "nobody"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("unknown username: %v", err)
		}
		if _, err := s.UserByUsername(ctx, "has space"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("a name without a key: %v", err)
		}

		bob, err := mk("bob@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		set := func(id int64, name string) error {
			_, _, err := s.UpdateUser(ctx, id, gatehouse.UserChange{Username: &name}, nil)
			return err
		}
		if err := set(bob.ID, "aLiCe"); !store.IsUsernameTaken(err) {
			t.Errorf("bob takes alice: %v", err)
		}
		if err := set(bob.ID, "Bobby"); err != nil {
			t.Fatal(err)
		}
		if err := set(alice.ID, "ALICE"); err != nil { // one's own name in another case
			t.Errorf("alice recases her name: %v", err)
		}
		if got, _ := s.UserByUsername(ctx, "alice"); got == nil || got.Username != "ALICE" {
			t.Errorf("after the recase: %+v", got)
		}
		if err := set(alice.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByUsername(ctx, "alice"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("cleared username still found: %v", err)
		}
		if err := set(bob.ID, "alice"); err != nil { // free again
			t.Errorf("a freed name: %v", err)
		}

		// Registration of a new address with a taken username.
		out, err := s.Register(ctx, store.RegisterRequest{
			User:              &gatehouse.User{Email: "carol@example.com", Username: "ALICE", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}},
			ConfirmMail:       &gatehouse.OutboxMail{Subject: "Confirm", Text: "confirm"},
			UsernameTakenMail: &gatehouse.OutboxMail{Subject: "Taken", Text: "choose another"},
			Audit:             gatehouse.AuditEvent{Event: gatehouse.AuditRegister, Email: "carol@example.com"},
		})
		if err != nil || out != store.RegisterUsernameTaken {
			t.Fatalf("register with a taken username: %v %v", out, err)
		}
		if _, err := s.UserByEmail(ctx, "carol@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Errorf("an account was created: %v", err)
		}
		ms, err := s.ListMail(ctx, "", 10)
		if err != nil || len(ms) != 1 || ms[0].To != "carol@example.com" || ms[0].Subject != "Taken" {
			t.Errorf("mails: %+v %v", ms, err)
		}
		evs, err := s.AuditEvents(ctx, 0, gatehouse.AuditRegister, 10)
		if err != nil || len(evs) != 1 || evs[0].Detail != store.DetailUsernameTaken || evs[0].SubjectID != nil {
			t.Errorf("events: %+v %v", evs, err)
		}
	})
}

// RecoverUsername mails the username of an active account that has one, and writes the event
// in every case; for any other address the mail is gone again in the same transaction.
func TestRecoverUsername(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		for _, u := range []*gatehouse.User{
			{Email: "Named@Example.com", Username: "named", Active: true},
			{Email: "plain@example.com", Active: true},
			{Email: "gone@example.com", Username: "gone", Active: false},
		} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for _, email := range []string{"named@example.com", "plain@example.com", "gone@example.com", "nobody@example.com"} {
			err := s.RecoverUsername(ctx, store.UsernameRecovery{Email: email,
				Render: func(u *gatehouse.User) (*gatehouse.OutboxMail, error) {
					return &gatehouse.OutboxMail{Subject: "Your username", Text: "it is " + u.Username}, nil
				},
				Audit: gatehouse.AuditEvent{Event: gatehouse.AuditUsernameRecovery, Email: email}})
			if err != nil {
				t.Fatalf("%s: %v", email, err)
			}
		}
		ms, err := s.ListMail(ctx, "", 10)
		if err != nil || len(ms) != 1 || ms[0].To != "Named@Example.com" || ms[0].Text != "it is named" {
			t.Errorf("mails: %+v %v", ms, err)
		}
		evs, err := s.AuditEvents(ctx, 0, gatehouse.AuditUsernameRecovery, 10)
		if err != nil || len(evs) != 4 {
			t.Fatalf("events: %+v %v", evs, err)
		}
		subjects := 0
		for _, ev := range evs {
			if ev.SubjectID != nil {
				subjects++
			}
		}
		if subjects != 3 {
			t.Errorf("events with a subject: %d, want 3 (every address with an account)", subjects)
		}
	})
}
