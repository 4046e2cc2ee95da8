-- +goose Up
-- Look-alike check of a new username; not unique, like users_email_skeleton_idx.
CREATE INDEX users_username_skeleton_idx ON users (username_skeleton);

-- +goose Down
DROP INDEX users_username_skeleton_idx;
