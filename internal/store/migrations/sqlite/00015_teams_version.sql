-- +goose Up
-- Bumped at the start of every membership change: concurrent changes to one team then conflict
-- (a row lock on PostgreSQL and MariaDB, a certification conflict on Galera, where SELECT ...
-- FOR UPDATE is node-local), so the "at least one owner" check cannot be raced.
ALTER TABLE teams ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE teams DROP COLUMN version;
