-- +goose Up
-- The API key that created this key, when a key made it (keys may no longer create keys);
-- NULL when a signed-in session made it. Not a foreign key: keys are revoked, never deleted,
-- and the parent is information for the owner, not a constraint.
ALTER TABLE api_keys ADD COLUMN parent_key_id BIGINT NULL;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN parent_key_id;
