package auth_test

import (
	"errors"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// The one must-change-password / second-factor-setup gate of the API and the pages.
func TestGate(t *testing.T) {
	plain := &gatehouse.Principal{User: &gatehouse.User{ID: 1}}
	mustChange := &gatehouse.Principal{User: &gatehouse.User{ID: 2, MustChangePassword: true}}
	setup := &gatehouse.Principal{User: &gatehouse.User{ID: 3}, TwoFactorSetupRequired: true}
	both := &gatehouse.Principal{User: &gatehouse.User{ID: 4, MustChangePassword: true}, TwoFactorSetupRequired: true}
	for _, tc := range []struct {
		p    *gatehouse.Principal
		a    auth.Access
		want error
	}{
		{plain, auth.AccessAny, nil}, {plain, auth.AccessTwoFactorSetup, nil}, {plain, auth.AccessFull, nil},
		{mustChange, auth.AccessAny, nil},
		{mustChange, auth.AccessTwoFactorSetup, auth.ErrPasswordChangeRequired},
		{mustChange, auth.AccessFull, auth.ErrPasswordChangeRequired},
		{setup, auth.AccessAny, nil}, {setup, auth.AccessTwoFactorSetup, nil},
		{setup, auth.AccessFull, auth.ErrTwoFactorSetupRequired},
		// The password change comes first.
		{both, auth.AccessAny, nil},
		{both, auth.AccessTwoFactorSetup, auth.ErrPasswordChangeRequired},
		{both, auth.AccessFull, auth.ErrPasswordChangeRequired},
	} {
		if got := auth.Gate(tc.p, tc.a); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("Gate(user %d, %d) = %v, want %v", tc.p.User.ID, tc.a, got, tc.want)
		}
	}
	if gatehouse.ErrorCode(auth.Gate(nil, auth.AccessAny)) != gatehouse.EUnauthenticated {
		t.Error("Gate(nil) lets through")
	}
}
