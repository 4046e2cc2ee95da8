-- +goose Up
-- Not unique: accounts created before 00040 may already look alike, and must keep working.
CREATE INDEX users_email_skeleton_idx ON users (email_skeleton);

-- +goose Down
DROP INDEX users_email_skeleton_idx;
