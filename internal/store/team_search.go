package store

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// maxTeamSearchLen bounds the text a team search matches.
const maxTeamSearchLen = 200

// SearchTeams lists every team whose name contains the text (case-insensitively, matched
// literally: % and _ are not wildcards; "" matches all), by id after after, at most limit.
func (s *Store) SearchTeams(ctx context.Context, contains string, after int64, limit int) (out []*gatehouse.Team, err error) {
	defer wrapErr(&err, "store.SearchTeams(after=%d)", after)
	switch {
	case limit < 1 || limit > maxUserListLimit+1:
		return nil, gatehouse.FieldError("limit", "must be from 1 to 1000")
	case len(contains) > maxTeamSearchLen:
		return nil, gatehouse.FieldError("q", "must be at most 200 characters")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []teamRow
		sel := tx.NewSelect().Model(&rows).Where("t.id > ?", after).OrderExpr("t.id").Limit(int64(limit))
		if f := strings.ToLower(strings.TrimSpace(contains)); f != "" {
			sel = sel.Where("LOWER(t.name) LIKE ? ESCAPE '"+likeEscape+"'", "%"+likeLiteral(f)+"%")
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		out = make([]*gatehouse.Team, len(rows))
		for i := range rows {
			out[i] = rows[i].toDomain()
		}
		return nil
	})
	return out, err
}
