-- +goose Up
-- One-time tokens mailed for confirmation and password reset: a long link token and a short
-- code, both stored only as hashes, single use, expiring, and bound to the security stamp the
-- account had when they were issued (so any password change kills them).
CREATE TABLE action_tokens (
    token_hash VARCHAR(64) PRIMARY KEY,
    code_hash  VARCHAR(64) NOT NULL,
    purpose    VARCHAR(16) NOT NULL,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stamp      VARCHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ NULL
);
CREATE INDEX action_tokens_code_idx ON action_tokens (purpose, code_hash);
CREATE INDEX action_tokens_user_idx ON action_tokens (user_id);

-- +goose Down
DROP TABLE action_tokens;
