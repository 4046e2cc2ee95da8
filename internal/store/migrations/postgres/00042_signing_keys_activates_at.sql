-- +goose Up
-- When a key starts signing. `gatehouse keys rotate` publishes a new key in the JWKS at once but
-- lets it sign only from activates_at, so that relying parties caching the JWKS have learnt it
-- first. NULL (keys made before this column, and the first key) means created_at.
ALTER TABLE signing_keys ADD COLUMN activates_at TIMESTAMPTZ NULL;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN activates_at;
