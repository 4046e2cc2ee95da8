package teams

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// SearchTeams lists every team whose name contains text, by id, for those who may list every
// team (teams.list_all: global admins). It returns up to one team more than the page's limit
// when more follow (see page).
func (s *Service) SearchTeams(ctx context.Context, p *gatehouse.Principal, text string, in Input[Page]) ([]*gatehouse.Team, error) {
	if err := rbac.Decide(p, rbac.ActTeamListAll, ""); err != nil {
		return nil, err
	}
	after, limit, err := page(in)
	if err != nil {
		return nil, err
	}
	return s.store.SearchTeams(ctx, text, after, limit)
}
