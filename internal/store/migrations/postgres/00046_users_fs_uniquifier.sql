-- +goose Up
-- The fs_uniquifier of an account imported from Flask-Security-Too (gatehouse import
-- flask-security): a reference to the source row, by which a second import run recognises the
-- accounts it created. NULL for accounts made in Gatehouse.
ALTER TABLE users ADD COLUMN fs_uniquifier VARCHAR(64) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN fs_uniquifier;
