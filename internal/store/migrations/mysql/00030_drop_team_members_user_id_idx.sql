-- +goose Up
-- Covered by team_members_user_team_idx (00029), which also serves the user_id foreign key.
DROP INDEX team_members_user_id_idx ON team_members;

-- +goose Down
CREATE INDEX team_members_user_id_idx ON team_members (user_id);
