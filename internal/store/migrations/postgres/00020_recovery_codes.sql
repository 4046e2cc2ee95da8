-- +goose Up
-- One-time recovery codes, stored only as SHA-256 hashes; used_at marks a spent code (set by a
-- conditional UPDATE, so a code works once even when two requests race).
CREATE TABLE recovery_codes (
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  VARCHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
