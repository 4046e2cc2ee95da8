-- +goose Up
-- Covered by team_members_user_team_idx (00029).
DROP INDEX team_members_user_id_idx;

-- +goose Down
CREATE INDEX team_members_user_id_idx ON team_members (user_id);
