-- +goose Up
-- The UTS #39 skeleton of username_norm (a SHA-256 hex digest, see internal/username.Skeleton):
-- a username whose skeleton another account has is refused like a taken one.
ALTER TABLE users ADD COLUMN username_skeleton CHAR(64) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN username_skeleton;
