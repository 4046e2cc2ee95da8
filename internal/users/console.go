package users

import (
	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Console decides whether p may open the administration console at all: the decision of
// listing users, which only global admins with the admin scope pass. Each page and action of
// the console is then decided again by the method it calls, as for the API.
func (s *Service) Console(p *gatehouse.Principal) error {
	return rbac.Decide(p, rbac.ActUsersList, "")
}
