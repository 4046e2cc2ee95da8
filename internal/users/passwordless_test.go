package users_test

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
)

// An administrator may leave the password out only where accounts can sign in without one
// (sign-in by email): the account then has no password hash at all.
func TestCreateWithoutPassword(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	s := newService(st, &fakeAccounts{})
	_, err := s.Create(ctx, admin, users.NewUser{Email: "pat@example.com", Confirmed: true}, client)
	if gatehouse.ErrorFields(err)["password"] != "is required" {
		t.Fatalf("without password-less sign-in: %v", err)
	}

	s = newService(st, &fakeAccounts{passwordless: true})
	u, err := s.Create(ctx, admin, users.NewUser{Email: "pat@example.com", Confirmed: true}, client)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordSet() || u.PasswordHash != "" || u.PasswordScheme != "" {
		t.Fatalf("created with a password: %+v", u)
	}
	// A password given is still checked and hashed.
	u, err = s.Create(ctx, admin, users.NewUser{Email: "sam@example.com", Password: "a long enough passphrase", Confirmed: true}, client)
	if err != nil || !u.PasswordSet() {
		t.Fatalf("with a password: %v, %+v", err, u)
	}
}
