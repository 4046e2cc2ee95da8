-- +goose Up
-- When the account's lockout (SECURITY_LOCKOUT_AFTER failed sign-ins) ends. The lock itself is
-- the throttle row of the account's hashed address; this copy, written with the lockout and
-- cleared by an unlock or a password reset, lets the administration list and filter locked
-- accounts. NULL or past: not locked.
ALTER TABLE users ADD COLUMN locked_until DATETIME(6) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN locked_until;
