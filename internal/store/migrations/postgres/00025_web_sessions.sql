-- +goose Up
-- Server-side sessions of the web pages (internal/web, through scs). token_hash is the SHA-256
-- of the cookie's token as scs hashes it, so a copy of this table signs nobody in. data holds
-- only the auth session id, the sign-in time, a pending two-factor challenge and flash
-- messages; the account itself is loaded from sessions/users on every request.
CREATE TABLE web_sessions (
    token_hash VARCHAR(64) PRIMARY KEY,
    data       BYTEA       NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
