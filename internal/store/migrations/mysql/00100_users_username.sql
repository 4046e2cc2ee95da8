-- +goose Up
-- The username of the account (SECURITY_USERNAME_ENABLE) as it is shown: what its owner typed,
-- trimmed and in SECURITY_USERNAME_NORMALIZE_FORM. NULL: the account has none. At most 64
-- characters (internal/username.MaxLength).
ALTER TABLE users ADD COLUMN username VARCHAR(255) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN username;
