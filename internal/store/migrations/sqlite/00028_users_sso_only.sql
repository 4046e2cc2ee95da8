-- +goose Up
-- An SSO-only account signs in only through its identity provider: password login is refused
-- (with the same answer as a wrong password). Accounts created just in time by an SSO login start
-- SSO-only; administrators can change the flag.
ALTER TABLE users ADD COLUMN sso_only BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE users DROP COLUMN sso_only;
