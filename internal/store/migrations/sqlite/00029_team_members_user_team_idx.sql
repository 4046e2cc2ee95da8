-- +goose Up
-- The caller's teams (GET /api/v1/teams) are read from their memberships in team id order, after
-- a cursor: with (user_id, team_id) the engine reads exactly one page of the index in order,
-- with no sort. It replaces team_members_user_id_idx (dropped in 00030), of which it is a
-- superset, so that a membership change still updates one index on user_id, not two.
CREATE INDEX team_members_user_team_idx ON team_members (user_id, team_id);

-- +goose Down
DROP INDEX team_members_user_team_idx;
