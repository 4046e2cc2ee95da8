package auth

import "github.com/gatehousehq/gatehouse"

// Access is how far a route lets an account with a pending restriction go. The API's auth
// modes and the pages' gates both map to one of these, so the rule is written once here.
type Access int

const (
	// AccessAny lets every signed-in account through, even one that must change its password
	// first: the few routes that let it do so (its own account, the change, signing out).
	AccessAny Access = iota
	// AccessTwoFactorSetup also lets through an account that must set up a second factor
	// first (SECURITY_TWO_FACTOR_REQUIRED), but not one that must change its password: the
	// routes that enrol a factor.
	AccessTwoFactorSetup
	// AccessFull lets through only an account with neither restriction.
	AccessFull
)

// Gate says whether p may go through a route of level a: nil, ErrPasswordChangeRequired (the
// password change comes before anything else, second factor included) or
// ErrTwoFactorSetupRequired.
func Gate(p *gatehouse.Principal, a Access) error {
	if p == nil || p.User == nil {
		return gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")
	}
	if a > AccessAny && p.User.MustChangePassword {
		return ErrPasswordChangeRequired
	}
	if a > AccessTwoFactorSetup && p.TwoFactorSetupRequired {
		return ErrTwoFactorSetupRequired
	}
	return nil
}
