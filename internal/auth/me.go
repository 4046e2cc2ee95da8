package auth

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Me returns the caller's own account (the principal, with its scopes and restrictions) when
// the caller may read it.
func (s *Service) Me(_ context.Context, p *gatehouse.Principal) (*gatehouse.Principal, error) {
	if err := rbac.Decide(p, rbac.ActUserReadSelf, ""); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateMe changes the caller's own account. Nothing in it is self-editable yet: roles, the
// active flag and confirmation belong to administrators, and a change of email waits for a flow
// that confirms the new address before it takes effect. The HTTP layer refuses every field (its
// verdict is invalid, answered only once the caller is known to be allowed to change its
// account at all), so that the endpoint's answers do not change when the first editable field
// arrives.
func (s *Service) UpdateMe(_ context.Context, p *gatehouse.Principal, invalid error) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUserUpdateSelf, ""); err != nil {
		return nil, err
	}
	if invalid != nil {
		return nil, invalid
	}
	return p.User, nil
}
