-- +goose Up
-- The key under which usernames are the same (PRECIS UsernameCaseMapped, see
-- internal/username.Key): unique (00103). NULL exactly when username is.
ALTER TABLE users ADD COLUMN username_norm VARCHAR(255) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN username_norm;
