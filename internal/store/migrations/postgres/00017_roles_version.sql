-- +goose Up
-- Bumped (on the admin row) at the start of every change that could leave no active admin:
-- demotion, deactivation or deletion of a user. Concurrent changes then conflict (a row lock on
-- PostgreSQL and MariaDB, a certification conflict and a retry on Galera, where SELECT ... FOR
-- UPDATE is node-local; SQLite serialises writers anyway), so the "at least one active admin"
-- check cannot be raced.
ALTER TABLE roles ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE roles DROP COLUMN version;
