-- +goose Up
-- When the account last proved its password (or a factor) in the session: the sign-in, or a
-- later re-authentication. Access tokens carry it as auth_time; credential changes need it
-- within SECURITY_FRESHNESS. NULL in older sessions, read as created_at.
ALTER TABLE sessions ADD COLUMN auth_at DATETIME(6) NULL;

-- +goose Down
ALTER TABLE sessions DROP COLUMN auth_at;
