-- +goose Up
-- Pending second login steps: created when a password was right and a second factor is needed.
-- The challenge handed to the client is stored only as its SHA-256 hash; it is bound to the user
-- and their security stamp, single use (used_at), short-lived, and dies after a few wrong codes
-- (failures). It records what the password step asked for (scope, remember-me), the emailed code
-- (hash and expiry) and the WebAuthn ceremony's session data.
CREATE TABLE two_factor_challenges (
    id_hash          VARCHAR(64) PRIMARY KEY,
    user_id          BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stamp            VARCHAR(64) NOT NULL,
    scope            VARCHAR(64) NOT NULL,
    remember         BOOLEAN     NOT NULL DEFAULT FALSE,
    failures         INTEGER     NOT NULL DEFAULT 0,
    email_code_hash  VARCHAR(64) NULL,
    email_expires_at TIMESTAMPTZ NULL,
    email_sent_at    TIMESTAMPTZ NULL,
    webauthn_session TEXT        NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ NULL
);
CREATE INDEX two_factor_challenges_user_idx ON two_factor_challenges (user_id, expires_at);

-- +goose Down
DROP TABLE two_factor_challenges;
